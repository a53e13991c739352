// X11 on servers as they ship (issue 13): Xvfb with its defaults and Xwayland listen on an abstract socket
// @/tmp/.X11-unix/XN as well as on the path. With the host network shared, the Landlock scope refuses the
// abstract connect (EPERM) and libxcb then gives up instead of trying the path, so the launcher binds the
// host's socket under a display number of the sandbox's own that nothing answers to (:99 unless the host
// has that one) and re-keys the untrusted cookie for it. Here: xdpyinfo in every profile with the x11 socket,
// network shared and not, on Xvfb as shipped, on Xvfb -nolisten local, on Xwayland, and on `weston
// --xwayland`; the DISPLAY forms Xlib takes; a host whose own display is :99; Firefox drawing a served page.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { userTmpdir, cannotLaunch, cleanEnv, have, ROOT } = require('../lib/harness');
const { servePage, sandboxRun, sandboxStart, killGroup, abstractXSocket } = require('./apps/run');
const { decodeXwd, decodePng, colourShare, distinctColours } = require('./apps/image');
const { startXvfbWithCookie, startXwayland, startWestonXwayland, startAsUser, runtimeDir, runAsUser, waitFor } = require('./desktop-servers');
const { parseXauthority, FAMILY_WILD } = require('../../dist/lib/profile/xauth');

const why = cannotLaunch() || (have('Xvfb') ? null : 'Xvfb is not installed (Debian package xvfb)') || (have('xdpyinfo') ? null : 'xdpyinfo is not installed (Debian package x11-utils)');
if (why) {
  t.skip(`X11 servers as shipped: ${why}`);
  process.exit(0);
}
const MAGENTA = [255, 0, 255];
const LANDLOCK_ABI = Number((/^landlock_abi=(-?\d+)/m.exec(spawnSync(path.join(ROOT, 'native', 'build', 'sandbox-probe'), [], { encoding: 'utf8' }).stdout || '') || [])[1] ?? -1);
const PROFILES = ['desktop', 'browser', 'chromium', 'pdf', 'image', 'editor', 'notify'];
const xwaylandWhy = !have('Xwayland') ? 'Xwayland is not installed (Debian package xwayland)'
  : !have('weston') ? 'weston is not installed (Debian package weston)'
  : false;

/** A home, a data directory and a session bus (notify's filtered bus needs one) for the test user. */
async function session(t) {
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  const rt = runtimeDir('sbx-busrt-');
  const bus = startAsUser('dbus-daemon', ['--session', '--nofork', `--address=unix:path=${rt}/bus`], { PATH: '/usr/bin:/bin' });
  t.teardown(async () => { await killGroup(bus.child); [home, data, rt].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  await waitFor(() => fs.existsSync(`${rt}/bus`) || bus.child.exitCode !== null, 10000, 'the session bus', bus.log);
  return { HOME: home, XDG_DATA_HOME: data, DBUS_SESSION_BUS_ADDRESS: `unix:path=${rt}/bus` };
}

/** The display line of xdpyinfo, the DISPLAY and the socket directory inside, under profile with net. */
async function probe(env, profile, net) {
  const r = await sandboxRun(['--profile', profile, net, '--', 'sh', '-c', 'echo "$DISPLAY"; ls -A /tmp/.X11-unix | tr "\\n" " "; echo; xdpyinfo | grep "^name of display"'], { env, timeout: 30000 });
  const [display, sockets, name] = r.stdout.split('\n');
  return { status: r.status, display, sockets: sockets.trim(), name: (name || '').replace(/^name of display:\s+/, ''), err: r.stderr.trim().split('\n').slice(-2).join(' | ') };
}

/** xdpyinfo in every profile with the x11 socket, network shared and not, on display x. */
async function everyProfile(t, x, label) {
  const s = await session(t);
  const env = cleanEnv({ ...s, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });
  for (const profile of PROFILES) {
    for (const net of ['--share-net', '--unshare-net']) {
      const p = await probe(env, profile, net);
      t.equal(p.status, 0, `${label}, ${profile} ${net}: xdpyinfo connects (${p.err || 'no errors'})`);
      const n = Number((/^:(\d+)$/.exec(p.display) || [])[1]);
      t.ok(n && n !== x.display, `${label}, ${profile} ${net}: a display number of the sandbox's own (${p.display}, the host's is :${x.display})`);
      t.equal(p.sockets, `X${n}`, `${label}, ${profile} ${net}: only that socket in /tmp/.X11-unix`);
      t.equal(p.name, p.display, `${label}, ${profile} ${net}: xdpyinfo talked to it`);
      t.notOk(abstractXSocket(n), `${label}: no abstract socket of the host's answers to :${n}`);
    }
  }
}

t.test('Xvfb as it ships (path and abstract socket): every profile with x11, network shared or not', async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir);
  t.teardown(async () => { await x.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  t.ok(abstractXSocket(x.display), `Xvfb listens on @/tmp/.X11-unix/X${x.display} too, as servers ship`);
  await everyProfile(t, x, 'Xvfb');
});

t.test('Xvfb -nolisten local (path socket only): every profile with x11, network shared or not', async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir, { abstract: false });
  t.teardown(async () => { await x.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  t.notOk(abstractXSocket(x.display), 'no abstract socket');
  await everyProfile(t, x, 'Xvfb -nolisten local');
});

t.test('Xwayland (rootful on weston, with a cookie): no SECURITY extension, so every profile leaves X11 out and says so', { skip: xwaylandWhy }, async (t) => {
  // Xwayland (Debian 12's 22.1, as GNOME's and KDE's) has no SECURITY extension: it can't give an untrusted
  // connection, and the user's own cookie would let the program type into and read every other X window
  const dir = userTmpdir('sbx-x-');
  const rt = runtimeDir('sbx-xwrt-');
  const x = await startXwayland(dir, rt);
  t.teardown(async () => { await x.stop(); [dir, rt].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  t.ok(abstractXSocket(x.display), `Xwayland listens on @/tmp/.X11-unix/X${x.display} too`);
  const s = await session(t);
  const env = cleanEnv({ ...s, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });
  for (const profile of PROFILES) {
    for (const net of ['--share-net', '--unshare-net']) {
      const r = await sandboxRun(['--profile', profile, net, '--', 'sh', '-c', 'echo "display=$DISPLAY"; ls -A /tmp/.X11-unix 2>/dev/null | wc -l; xdpyinfo >/dev/null 2>&1; echo "xdpyinfo $?"'], { env, timeout: 30000 });
      t.equal(r.status, 0, `Xwayland, ${profile} ${net}: runs without the display (${r.stderr.trim().split('\n').slice(-1)[0] || ''})`);
      t.match(r.stdout, /^display=\n0\nxdpyinfo 1\n$/, `Xwayland, ${profile} ${net}: no DISPLAY, no X socket, no way to the display`, { todo: net === '--share-net' && LANDLOCK_ABI < 6 && `Landlock ABI ${LANDLOCK_ABI} has no scopes` });
      t.match(r.stderr, new RegExp(`note: [^\\n]*: X11 left out: the X server :${x.display} has no SECURITY extension`), `Xwayland, ${profile} ${net}: a note says why`);
    }
  }
  // a profile that requires the display gets one line and exit 125
  const home = env.HOME;
  fs.mkdirSync(path.join(home, '.config', 'sandbox', 'profiles'), { recursive: true });
  fs.writeFileSync(path.join(home, '.config', 'sandbox', 'profiles', 'needs-x.json5'), '{ extends: "desktop", sockets: { x11: true } }');
  if (process.getuid() === 0) for (const d of ['.config', '.config/sandbox', '.config/sandbox/profiles', '.config/sandbox/profiles/needs-x.json5']) fs.chownSync(path.join(home, d), 65534, 65534);
  const req = await sandboxRun(['--profile', 'needs-x', '--', 'true'], { env, timeout: 30000 });
  t.equal(req.status, 125, 'x11: true on Xwayland: exit 125');
  t.match(req.stderr, /^sandbox: [^\n]*needs-x\.json5:1:\d+: found no X11 display socket a sandbox can be given safely \(the X server :\d+ has no SECURITY extension[^\n]*\n$/, `one line naming the entry (${req.stderr.trim()})`);
});

t.test('weston --xwayland as it ships: the display is given with an untrusted cookie, or refused in one line', { skip: xwaylandWhy }, async (t) => {
  const rt = runtimeDir('sbx-wxrt-');
  const w = await startWestonXwayland(rt);
  const s = await session(t);
  t.teardown(async () => { await w.stop(); fs.rmSync(rt, { recursive: true, force: true }); });
  const empty = path.join(rt, 'no-cookie');
  fs.writeFileSync(empty, '');
  // whether this weston's Xwayland lets the user in without any cookie decides what the launcher may do
  const open = runAsUser('xdpyinfo', [], { PATH: '/usr/bin:/bin', DISPLAY: `:${w.display}`, XAUTHORITY: empty }).status === 0;
  const env = cleanEnv({ ...s, DISPLAY: `:${w.display}`, XAUTHORITY: empty });
  const r = await sandboxRun(['--profile', 'browser', '--', 'sh', '-c', 'echo "$DISPLAY"; xdpyinfo >/dev/null 2>&1; echo "xdpyinfo $?"'], { env, timeout: 30000 });
  t.comment(`weston's Xwayland on :${w.display} ${open ? 'lets any local client of the user in' : 'has access control'}`);
  if (open) {
    // browser's x11 is optional: the display is left out, and the host's abstract socket is out of reach
    t.equal(r.status, 0, 'browser runs without the display');
    // (DISPLAY is kept; its abstract socket is what the Landlock scope refuses, on kernels that have it)
    t.match(r.stdout, /xdpyinfo 1\n$/, `no way to the display from inside (${r.stdout.trim()})`, { todo: LANDLOCK_ABI < 6 && `Landlock ABI ${LANDLOCK_ABI} has no scopes: the shared network reaches the abstract socket` });
  } else {
    t.match(r.stdout, /^:\d+\nxdpyinfo 0\n$/, `xdpyinfo connects (${r.stderr.trim()})`);
  }
});

t.test('DISPLAY forms Xlib takes for the local socket, with a screen number, keep working', async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir);
  const s = await session(t);
  t.teardown(async () => { await x.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  const n = x.display;
  for (const [form, screen] of [[`unix:${n}`, ''], [`:${n}.0`, '.0'], [`unix:${n}.0`, '.0'], [`unix/:${n}`, '']]) {
    const env = cleanEnv({ ...s, DISPLAY: form, XAUTHORITY: x.xauthority });
    const p = await probe(env, 'browser', '--share-net');
    t.equal(p.status, 0, `DISPLAY=${form}: xdpyinfo connects (${p.err || 'no errors'})`);
    t.match(p.display, new RegExp(`^:\\d+${screen.replace('.', '\\.')}$`), `DISPLAY=${form} is ${p.display} inside, the screen kept`);
  }
  // the cookie the sandbox holds names the display number it sees
  const env = cleanEnv({ ...s, DISPLAY: `:${n}`, XAUTHORITY: x.xauthority });
  const r = await sandboxRun(['--profile', 'browser', '--', 'sh', '-c', 'echo "$DISPLAY"; base64 -w0 "$XAUTHORITY"'], { env, timeout: 30000 });
  const [display, b64] = r.stdout.split('\n');
  const entries = parseXauthority(Buffer.from(b64 || '', 'base64'));
  t.same(entries.map((e) => [e.family, e.number]), [[FAMILY_WILD, display.slice(1)]], `one FamilyWild cookie, for ${display}`);
  t.notOk(entries.some((e) => e.data.equals(x.cookie)), 'an untrusted one, not the user\'s');
});

t.test('a host whose own display is :99 (xvfb-run\'s): the sandbox gets another number', async (t) => {
  if (fs.existsSync('/tmp/.X11-unix/X99') || fs.existsSync('/tmp/.X99-lock') || abstractXSocket(99)) {
    t.skip('display :99 is in use on this host');
    return;
  }
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir, { display: 99 });
  const s = await session(t);
  t.teardown(async () => { await x.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  const env = cleanEnv({ ...s, DISPLAY: ':99', XAUTHORITY: x.xauthority });
  for (const net of ['--share-net', '--unshare-net']) {
    const p = await probe(env, 'browser', net);
    t.equal(p.status, 0, `${net}: xdpyinfo connects (${p.err || 'no errors'})`);
    t.not(p.display, ':99', `${net}: not :99 inside (${p.display}), whose abstract socket the host has`);
    t.equal(p.name, p.display, `${net}: xdpyinfo talked to ${p.display}`);
  }
});

/** Firefox in browser on display x until the page's magenta shows (look() gives the screen's image, or null). */
async function firefoxDraws(t, x, look, label, extraEnv = {}) {
  const page = await servePage();
  const s = await session(t);
  let browser = null;
  t.teardown(async () => { if (browser) await killGroup(browser.child); await page.close(); });
  const env = cleanEnv({ ...s, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority, ...extraEnv });
  const started = Date.now();
  browser = sandboxStart(['--profile', 'browser', '--', 'firefox-esr', '--kiosk', '--new-instance', page.url], { env });
  let share = 0;
  let img = null;
  while (Date.now() - started < 60000 && browser.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 1000));
    if (page.hits() < 1) continue;
    img = look() || img;
    share = img ? colourShare(img, MAGENTA) : 0;
    if (share > 0.2) break;
  }
  t.comment(`${label}: the page showed on :${x.display} after ${Date.now() - started} ms`);
  t.equal(browser.child.exitCode, null, `${label}: Firefox was still running (${browser.out.stderr.trim().split('\n').slice(-3).join(' | ')})`);
  t.ok(page.hits() >= 1, `${label}: the page was fetched`);
  t.ok(share > 0.2, `${label}: the page's magenta block is on the display (${(share * 100).toFixed(1)}%)`);
  t.ok(img && distinctColours(img) > 3, `${label}: the screen is not blank`);
}

t.test('firefox-esr in browser draws a served page on Xvfb -nolisten local', { skip: have('firefox-esr') ? false : 'firefox-esr is not installed' }, async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir, { abstract: false });
  t.teardown(async () => { await x.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  await firefoxDraws(t, x, () => { try { return decodeXwd(fs.readFileSync(x.framebuffer)); } catch { return null; } }, 'Xvfb -nolisten local');
});

t.test('firefox-esr in browser draws a served page on the Wayland desktop that runs Xwayland', { skip: xwaylandWhy || (have('firefox-esr') ? (have('weston-screenshooter') ? false : 'weston-screenshooter is missing (Debian package weston)') : 'firefox-esr is not installed') }, async (t) => {
  // X11 is left out there (no SECURITY extension), so Firefox draws through the Wayland socket, as on such desktops
  const dir = userTmpdir('sbx-x-');
  const rt = runtimeDir('sbx-xwrt-');
  const shots = userTmpdir('sbx-shots-');
  const x = await startXwayland(dir, rt);
  t.teardown(async () => { await x.stop(); [dir, rt, shots].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  await firefoxDraws(t, x, () => { const f = x.screenshot(shots); return f ? decodePng(fs.readFileSync(f)) : null; }, 'Xwayland desktop (Wayland)', { XDG_RUNTIME_DIR: x.runtime, WAYLAND_DISPLAY: x.wayland, MOZ_ENABLE_WAYLAND: '1' });
});
