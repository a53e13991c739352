// Attacks through what the desktop and development profiles share with the host on purpose (issue 12,
// "what each profile shares"): the X display and the project directory's .git. Each runs as the
// unprivileged test user; test/attack/README.md ("What each profile shares") has the whole list.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { sandbox, cannotLaunch, cleanEnv, have, userTmpdir, asUser, IS_ROOT, TEST_UID, TEST_GID, ROOT } = require('../lib/harness');
const { startXvfb, killGroup, pickDisplay } = require('../integration/apps/run');
const { parseXauthority } = require('../../dist/lib/profile/xauth');

const why = cannotLaunch();
if (why) {
  t.skip(`shared-desktop attacks: ${why}`);
  process.exit(0);
}

const SHARED = path.join(__dirname, 'shared');
const LANDLOCK_ABI = Number((/^landlock_abi=(-?\d+)/m.exec(spawnSync(path.join(ROOT, 'native', 'build', 'sandbox-probe'), [], { encoding: 'utf8' }).stdout || '') || [])[1] ?? -1);
// without the Landlock scopes (ABI 6, Linux 6.12) a shared network reaches the host's abstract sockets: the known gap the README names
const NO_SCOPE = LANDLOCK_ABI < 6 && `known gap on this kernel: Landlock ABI ${LANDLOCK_ABI} has no scopes (Linux 6.12+)`;

function own(p) {
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

/** Lines "KEY VALUE" → { KEY: VALUE }. */
function parse(stdout) {
  const got = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) got[m[1]] = m[2];
  }
  return got;
}

/** A home and data directory for the test user. */
function homes() {
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  return { home, data, cleanup: () => [home, data].forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

const x11Why = !have('Xvfb') ? 'Xvfb is not installed (Debian package xvfb)'
  : !have('xev') ? 'xev is not installed (Debian package x11-utils)'
  : !have('cc') ? 'cc is missing'
  : !fs.existsSync('/usr/include/X11/Xlib.h') ? 'the Xlib headers are missing (Debian package libx11-dev)'
  : !have('xauth') ? 'xauth is not installed (Debian package xauth)'
  : false;

/** Compiles shared/x11_session.c into dir (readable by the test user); returns the binary's path. */
function buildX11Probe(dir) {
  const out = path.join(dir, 'x11_session');
  const r = spawnSync('cc', ['-O1', '-Wall', '-o', out, path.join(SHARED, 'x11_session.c'), '-lX11'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`x11_session.c did not compile: ${r.stderr}`);
  fs.chmodSync(out, 0o755);
  return out;
}

/** A window outside any sandbox, named victim-terminal, as the test user with the display's own cookie. */
async function victimWindow(x) {
  const [cmd, argv] = asUser('xev', ['-name', 'victim-terminal']);
  const child = spawn(cmd, argv, { env: { PATH: '/usr/bin:/bin', DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const end = Date.now() + 10000;
  while (!out.includes('MapNotify') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return { child, events: () => out };
}

t.test('x11: a sandboxed client gets an untrusted cookie: no typing into other windows, no reading them, no XTEST/RECORD/XInput', { skip: x11Why }, async (t) => {
  const dir = userTmpdir('sbx-x11-');
  const fbdir = path.join(dir, 'fb');
  fs.mkdirSync(fbdir);
  own(fbdir);
  const x = await startXvfb(fbdir, { width: 320, height: 240 });
  const h = homes();
  const victim = await victimWindow(x);
  t.teardown(async () => {
    await killGroup(victim.child);
    await x.stop();
    h.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const probe = buildX11Probe(dir);
  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });

  // The probe itself, outside with the user's cookie: what a trusted client (the old behaviour) can do.
  const [c, a] = asUser(probe, ['victim-terminal']);
  const hr = spawnSync(c, a, { env, encoding: 'utf8', timeout: 20000 });
  const host = parse(hr.stdout);
  if (host.open !== 'ok') t.comment(`the probe outside: ${hr.stderr.trim()} (display :${x.display})`);
  t.same(host, { open: 'ok', 'find-window': 'ok', 'read-screen': 'ok', 'read-window': 'ok', 'send-key': 'ok', 'set-focus': 'ok', 'grab-keyboard': 'ok', xtest: 'ok', record: 'ok', xinput: 'ok' },
    'control: a client with the user\'s own cookie owns the session (types into any window, reads every pixel)');

  for (const profile of ['desktop', 'browser']) {
    const before = (victim.events().match(/KeyPress/g) || []).length;
    const r = sandbox(['--profile', profile, '--ro-bind', probe, '/attack/x11_session', '--', '/attack/x11_session', 'victim-terminal'], { env, timeout: 30000 });
    const got = parse(r.stdout);
    t.same(got, {
      open: 'ok',
      // an untrusted client still sees the window tree and the names in it
      'find-window': 'ok',
      'read-screen': 'refused',
      'read-window': 'refused',
      'send-key': 'refused',
      'set-focus': 'refused',
      // the grab succeeds but the server sends an untrusted client no key events (checked below by hand: a
      // trusted grab reads what the user types, an untrusted one reads nothing)
      'grab-keyboard': 'ok',
      xtest: 'refused',
      record: 'refused',
      xinput: 'refused',
    }, `${profile}: the sandboxed client is untrusted (${r.stderr.trim().split('\n').slice(-1)[0] || 'no errors'})`);
    t.equal((victim.events().match(/KeyPress/g) || []).length, before, `${profile}: no key reached the window outside`);
  }

  // Without the cookie it was given, a sandboxed program is not let in at all (the server has access control).
  const r = sandbox(['--profile', 'desktop', '--ro-bind', probe, '/attack/x11_session', '--', 'sh', '-c', 'XAUTHORITY=/dev/null exec /attack/x11_session victim-terminal; echo "exit $?"'], { env, timeout: 30000 });
  t.match(r.stdout, /^open refused\n/, 'with no cookie the connection is refused');
  const b64 = sandbox(['--profile', 'desktop', '--', 'sh', '-c', 'base64 -w0 "$XAUTHORITY"'], { env }).stdout;
  const user = parseXauthority(fs.readFileSync(x.xauthority)).map((e) => e.data.toString('hex'));
  const given = parseXauthority(Buffer.from(b64, 'base64')).map((e) => e.data.toString('hex'));
  t.equal(given.length, 1, 'the sandbox holds one cookie');
  t.notOk(user.includes(given[0]), 'and it is not the user\'s');
});

t.test('x11: with the host network shared, the display is reachable only through the bound socket, with the untrusted cookie', { skip: x11Why || (fs.existsSync('/usr/bin/python3') ? false : 'python3 is missing') }, async (t) => {
  const dir = userTmpdir('sbx-x11-');
  const fbdir = path.join(dir, 'fb');
  fs.mkdirSync(fbdir);
  own(fbdir);
  // as X servers ship: the path socket and the abstract @/tmp/.X11-unix/XN
  const x = await startXvfb(fbdir, { width: 320, height: 240 });
  const h = homes();
  t.teardown(async () => { await x.stop(); h.cleanup(); fs.rmSync(dir, { recursive: true, force: true }); });
  const probe = path.join(SHARED, 'unix_connect.py');
  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });
  const real = `/tmp/.X11-unix/X${x.display}`;
  const [c, a] = asUser('/usr/bin/python3', [probe, `@${real}`, real]);
  t.same(parse(spawnSync(c, a, { encoding: 'utf8' }).stdout), { [`@${real}`]: 'ok', [real]: 'ok' }, 'control: outside, both of the server\'s sockets answer');

  for (const [profile, extra] of [['browser', []], ['chromium', []], ['desktop', ['--share-net']], ['image', ['--share-net']]]) {
    const script = [
      'n=${DISPLAY#:}; n=${n%.*}; echo "inside $n"',
      `/usr/bin/python3 /attack/unix_connect.py @${real} ${real} @/tmp/.X11-unix/X$n /tmp/.X11-unix/X$n`,
      `DISPLAY=:${x.display} xdpyinfo >/dev/null 2>&1; echo "host-number $?"`,
      'XAUTHORITY=/dev/null xdpyinfo >/dev/null 2>&1; echo "no-cookie $?"',
      'xdpyinfo >/dev/null 2>&1; echo "given $?"',
    ].join('; ');
    const r = sandbox(['--profile', profile, ...extra, '--ro-bind', probe, '/attack/unix_connect.py', '--', 'sh', '-c', script], { env, timeout: 30000 });
    const got = parse(r.stdout);
    const n = got.inside;
    t.ok(n && Number(n) !== x.display, `${profile}: the display is :${n} inside, not the host's :${x.display} (${r.stderr.trim().split('\n').slice(-1)[0] || 'no errors'})`);
    // the Landlock abstract-unix scope: the host's abstract socket is out of reach from a shared network
    t.equal(got[`@${real}`], 'EPERM', `${profile}: the host display's abstract socket is refused`, { todo: NO_SCOPE });
    delete got[`@${real}`];
    t.same(got, {
      inside: n,
      [real]: 'ENOENT',
      // nothing answers to the sandbox's own number there, so libxcb goes on to the path
      [`@/tmp/.X11-unix/X${n}`]: 'ECONNREFUSED',
      [`/tmp/.X11-unix/X${n}`]: 'ok',
      'host-number': '1',
      'no-cookie': '1',
      given: '0',
    }, `${profile}: the host's abstract socket refused, its path absent; the bound socket answers, only with the cookie given`);
  }
});

t.test('x11: a display that lets the user in without a cookie is not given (optional) or refused (required)', { skip: x11Why }, async (t) => {
  const dir = userTmpdir('sbx-x11-');
  const fbdir = path.join(dir, 'fb');
  fs.mkdirSync(fbdir);
  own(fbdir);
  // Xvfb without -auth: every local client of this user is let in, trusted, whatever cookie it shows, so an
  // untrusted cookie would protect nothing (a hostile program connects without it). As with
  // `xhost +si:localuser:$USER`, which some desktops set.
  const [cmd, argv] = asUser('Xvfb', [`:${pickDisplay()}`, '-displayfd', '1', '-noreset', '-screen', '0', '320x240x24']);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { PATH: '/usr/bin:/bin' } });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb gave no display number in 15 s')), 15000);
    child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) { clearTimeout(timer); resolve(Number(out.trim())); } });
  });
  const h = homes();
  const user = path.join(h.home, '.config', 'sandbox', 'profiles');
  fs.mkdirSync(user, { recursive: true });
  fs.writeFileSync(path.join(user, 'needs-x.json5'), '{ extends: "desktop", sockets: { x11: true } }\n');
  for (const d of [path.join(h.home, '.config'), path.join(h.home, '.config', 'sandbox'), user, path.join(user, 'needs-x.json5')]) own(d);
  t.teardown(async () => { await killGroup(child); h.cleanup(); fs.rmSync(dir, { recursive: true, force: true }); });
  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data, DISPLAY: `:${display}` });

  // (DISPLAY itself is kept by desktop's env.keep; with no socket and no shared network it leads nowhere)
  const r = sandbox(['--profile', 'desktop', '--', 'sh', '-c', 'ls /tmp/.X11-unix 2>&1 | head -1; xdpyinfo >/dev/null 2>&1; echo "xdpyinfo $?"'], { env });
  t.equal(r.status, 0, 'desktop (x11 optional) runs');
  t.match(r.stdout, /No such file or directory\nxdpyinfo 1\n$/, `without the display: no socket, no connection (${r.stdout.trim()})`);
  // with the host network, DISPLAY (kept) leads libxcb to the server's abstract socket, which the Landlock scope refuses
  const rn = sandbox(['--profile', 'browser', '--', 'sh', '-c', 'ls /tmp/.X11-unix 2>&1 | head -1; xdpyinfo >/dev/null 2>&1; echo "xdpyinfo $?"'], { env });
  t.match(rn.stdout, /No such file or directory\nxdpyinfo 1\n$/, `browser, host network: no socket, no connection through the abstract one either (${rn.stdout.trim()})`, { todo: NO_SCOPE });
  const req = sandbox(['--profile', 'needs-x', '--', 'true'], { env });
  t.equal(req.status, 125, 'a profile that requires x11 is refused');
  const lines = req.stderr.trim().split('\n');
  t.equal(lines.length, 1, 'one line on stderr');
  t.match(lines[0], /needs-x\.json5:1:\d+: found no X11 display socket a sandbox can be given safely \(the X server :\d+ lets this user's programs in without a cookie/, `it names the profile entry and why (${lines[0]})`);
});

t.test('a project\'s .git is read-only in default, build and hpc: no core.fsmonitor or hook for the host\'s next git status', { skip: have('git') ? false : 'git is missing' }, async (t) => {
  const h = homes();
  const proj = userTmpdir('sbx-proj-');
  t.teardown(() => { h.cleanup(); fs.rmSync(proj, { recursive: true, force: true }); });
  const [c, a] = asUser('git', ['init', '-q', proj]);
  t.equal(spawnSync(c, a, { encoding: 'utf8' }).status, 0, 'git init as the test user');
  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data });
  const planted = path.join(proj, 'PLANTED');
  const script = [
    `git config core.fsmonitor "touch ${planted}; false" 2>/dev/null; echo "config $?"`,
    'echo x 2>/dev/null > .git/hooks/post-checkout; echo "hook $?"',
    'mv .git .git-old 2>/dev/null; echo "rename $?"',
    'mkdir -p sub/.git 2>/dev/null; echo "nested $?"',
    'echo built > out.o; echo "write-project $?"',
  ].join('; ');
  for (const profile of ['default', 'build', 'hpc']) {
    const r = sandbox(['--profile', profile, '--', 'sh', '-c', script], { env, cwd: proj });
    t.same(parse(r.stdout), { config: '255', hook: '2', rename: '1', nested: '0', 'write-project': '0' },
      `${profile}: .git/config and hooks can't be written, .git can't be moved aside; the rest of the project can (${r.stderr.trim().split('\n')[0] || ''})`);
    fs.rmSync(path.join(proj, 'sub'), { recursive: true, force: true });
  }
  const [gc, ga] = asUser('git', ['-C', proj, 'status', '--short']);
  spawnSync(gc, ga, { encoding: 'utf8' });
  t.notOk(fs.existsSync(planted), 'the host\'s git status ran nothing planted');
  t.notOk(fs.existsSync(path.join(proj, '.git-old')), '.git is where it was');
});
