// Wayland under headless weston (run as the test user in a private 0700 XDG_RUNTIME_DIR): wayland-info
// through the socket `desktop` binds, refused without that socket entry, and Firefox ESR with
// MOZ_ENABLE_WAYLAND=1 in `browser` drawing a served page (weston-screenshooter, pixel check).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { servePage, sandboxRun, sandboxStart, killGroup } = require('./apps/run');
const { decodePng, colourShare } = require('./apps/image');
const { startWeston, runtimeDir, runAsUser } = require('./desktop-servers');

const why = cannotLaunch() || (have('weston') ? null : 'weston is not installed (Debian package weston)') || (have('wayland-info') ? null : 'wayland-info is not installed (Debian package wayland-utils)');
if (why) {
  t.skip(`Wayland: ${why}`);
  process.exit(0);
}
const MAGENTA = [255, 0, 255];

async function setup(t) {
  const rt = runtimeDir('sbx-rt-');
  const w = await startWeston(rt);
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  t.teardown(async () => { await w.stop(); [rt, home, data].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  return { rt, w, home, data, env: cleanEnv({ HOME: home, XDG_DATA_HOME: data, XDG_RUNTIME_DIR: rt, WAYLAND_DISPLAY: w.socket }) };
}

t.test('wayland-info through the bound socket, and not without the socket entry', async (t) => {
  const s = await setup(t);
  const r = await sandboxRun(['--profile', 'desktop', '--', 'sh', '-c', 'ls -A "$XDG_RUNTIME_DIR"; wayland-info'], { env: s.env, timeout: 20000 });
  t.equal(r.status, 0, `wayland-info exited 0 (${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.match(r.stdout, /wl_compositor/, 'it lists the compositor\'s globals');
  t.equal(r.stdout.split('\n')[0], s.w.socket, 'only the Wayland socket is in the runtime directory');
  const prof = path.join(s.home, 'no-wayland.json5');
  fs.writeFileSync(prof, '{ extends: "desktop", sockets: { wayland: false } }\n');
  if (IS_ROOT) fs.chownSync(prof, TEST_UID, TEST_GID);
  const r2 = await sandboxRun(['--profile', prof, '--', 'wayland-info'], { env: s.env, timeout: 20000 });
  t.not(r2.status, 0, `without the socket entry wayland-info fails (${r2.stderr.trim().split('\n').slice(-1)[0]})`);
});

t.test('firefox-esr with MOZ_ENABLE_WAYLAND=1 in browser draws a served page', { skip: have('firefox-esr') ? (have('weston-screenshooter') ? false : 'weston-screenshooter is missing (Debian package weston)') : 'firefox-esr is not installed' }, async (t) => {
  const s = await setup(t);
  const page = await servePage();
  const shots = userTmpdir('sbx-shots-');
  let browser = null;
  t.teardown(async () => { if (browser) await killGroup(browser.child); await page.close(); fs.rmSync(shots, { recursive: true, force: true }); });
  const started = Date.now();
  browser = sandboxStart(['--profile', 'browser', '--', 'firefox-esr', '--kiosk', '--new-instance', page.url], { env: { ...s.env, MOZ_ENABLE_WAYLAND: '1' } });
  let share = 0;
  let n = 0;
  while (Date.now() - started < 45000 && browser.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 1000));
    if (page.hits() < 1) continue;
    const [c, a] = ['sh', ['-c', 'cd "$1" && weston-screenshooter >/dev/null 2>&1; ls -t "$1" | head -1', 'sh', shots]];
    const r = runAsUser(c, a, { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: s.rt, WAYLAND_DISPLAY: s.w.socket });
    const f = (r.stdout || '').trim();
    if (!f) continue;
    n++;
    share = colourShare(decodePng(fs.readFileSync(path.join(shots, f))), MAGENTA);
    fs.rmSync(path.join(shots, f));
    if (share > 0.2) break;
  }
  t.comment(`the page showed on weston after ${Date.now() - started} ms (${n} screenshots)`);
  t.equal(browser.child.exitCode, null, `Firefox was still running (${browser.out.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.ok(page.hits() >= 1, 'the page was fetched');
  t.ok(share > 0.2, `the page's magenta block is on the Wayland output (${(share * 100).toFixed(1)}%)`);
});
