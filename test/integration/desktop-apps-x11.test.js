// X11 with access control: Xvfb that accepts only a cookie keyed by the host's name (as a display
// manager writes it). The sandbox has a hostname of its own, so that cookie would not match inside;
// the profile build asks the server for an untrusted cookie (test/attack/shared-desktop.test.js has what
// that refuses) and passes it as a FamilyWild copy for this display only, and Firefox in `browser` draws a
// served page on the display through the bound socket (frame-buffer pixel check).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { servePage, sandboxRun, sandboxStart, killGroup } = require('./apps/run');
const { decodeXwd, colourShare, distinctColours } = require('./apps/image');
const { startXvfbWithCookie, runAsUser } = require('./desktop-servers');
const { parseXauthority, FAMILY_WILD } = require('../../dist/lib/profile/xauth');

const why = cannotLaunch() || (have('Xvfb') ? null : 'Xvfb is not installed (Debian package xvfb)') || (have('xdpyinfo') ? null : 'xdpyinfo is not installed (Debian package x11-utils)');
if (why) {
  t.skip(`X11 with a cookie: ${why}`);
  process.exit(0);
}
const MAGENTA = [255, 0, 255];

function home() {
  const h = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  fs.mkdirSync(path.join(h, 'Downloads'));
  if (IS_ROOT) fs.chownSync(path.join(h, 'Downloads'), TEST_UID, TEST_GID);
  return { home: h, data, cleanup: () => [h, data].forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

t.test('the X server refuses clients without the cookie; the sandbox gets a FamilyWild copy that works', async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir);
  const h = home();
  t.teardown(async () => { await x.stop(); h.cleanup(); fs.rmSync(dir, { recursive: true, force: true }); });
  const empty = path.join(dir, 'none');
  fs.writeFileSync(empty, '');
  const base = { PATH: '/usr/bin:/bin', DISPLAY: `:${x.display}` };
  t.not(runAsUser('xdpyinfo', [], { ...base, XAUTHORITY: empty }).status, 0, 'on the host, a client without the cookie is refused');
  t.equal(runAsUser('xdpyinfo', [], { ...base, XAUTHORITY: x.xauthority }).status, 0, 'on the host, the hostname-keyed cookie works');

  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });
  const r = await sandboxRun(['--profile', 'desktop', '--', 'sh', '-c', 'echo "XAUTHORITY=$XAUTHORITY"; hostname; base64 -w0 "$XAUTHORITY"; echo; xdpyinfo >/dev/null && echo x-ok; echo "$DISPLAY"'], { env, timeout: 20000 });
  const [auth, hostname, b64, ok, display] = r.stdout.split('\n');
  t.equal(auth, 'XAUTHORITY=/run/sandbox/Xauthority', 'XAUTHORITY points at the copy');
  t.not(hostname, require('os').hostname(), `the sandbox has its own hostname (${hostname})`);
  const entries = parseXauthority(Buffer.from(b64 || '', 'base64'));
  t.same(entries.map((e) => [e.family, e.number, e.name, e.data.equals(x.cookie)]), [[FAMILY_WILD, (display || '').slice(1), 'MIT-MAGIC-COOKIE-1', false]], `the copy holds one FamilyWild cookie for the display number the sandbox sees (${display}), not the user\'s own (an untrusted one the server made for the sandbox)`);
  t.equal(ok, 'x-ok', `xdpyinfo connects from inside (${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);

  // The original file bound in, as a profile without the copy would leave it: the host name doesn't match inside.
  const r2 = await sandboxRun(['--profile', 'desktop', '--ro-bind', x.xauthority, '/run/host-xauth', '--setenv', 'XAUTHORITY', '/run/host-xauth', '--', 'xdpyinfo'], { env, timeout: 20000 });
  t.not(r2.status, 0, 'the hostname-keyed cookie itself is refused inside (the sandbox\'s hostname differs)');
});

t.test('firefox-esr in browser draws a served page on the cookie-protected display', { skip: have('firefox-esr') ? false : 'firefox-esr is not installed' }, async (t) => {
  const dir = userTmpdir('sbx-x-');
  const x = await startXvfbWithCookie(dir);
  const page = await servePage();
  const h = home();
  let browser = null;
  t.teardown(async () => {
    if (browser) await killGroup(browser.child);
    await x.stop();
    await page.close();
    h.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.ok(fs.readFileSync('/proc/net/unix', 'utf8').includes(`@${x.socket}`), 'the display listens on its abstract socket too, as servers ship');
  const env = cleanEnv({ HOME: h.home, XDG_DATA_HOME: h.data, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority });
  const started = Date.now();
  browser = sandboxStart(['--profile', 'browser', '--', 'firefox-esr', '--kiosk', '--new-instance', page.url], { env });
  let share = 0;
  let img = null;
  while (Date.now() - started < 50000 && browser.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 500));
    img = decodeXwd(fs.readFileSync(x.framebuffer));
    share = colourShare(img, MAGENTA);
    if (share > 0.2) break;
  }
  t.comment(`the page showed on the cookie-protected display :${x.display} after ${Date.now() - started} ms`);
  t.equal(browser.child.exitCode, null, `Firefox was still running (${browser.out.stderr.trim().split('\n').slice(-3).join(' | ')})`);
  t.ok(page.hits() >= 1, 'the page was fetched');
  t.ok(share > 0.2, `the page's magenta block is on the display (${(share * 100).toFixed(1)}%)`);
  t.ok(img && distinctColours(img) > 3, 'the screen is not blank');
});
