// Chromium (Debian's package) in the `chromium` profile with its own sandbox: a headless screenshot of a
// served page, renderers in nested namespaces under Chromium's seccomp filter (Seccomp: 2), and the
// `browser` profile (base filter unloosened) refusing it, as Chromium says, with "No usable sandbox".
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { servePage, sandboxRun } = require('./apps/run');
const { decodePng, colourShare } = require('./apps/image');

const why = cannotLaunch() || (have('chromium') ? null : 'chromium is not installed (Debian package chromium)');
if (why) {
  t.skip(`chromium profile: ${why}`);
  process.exit(0);
}
const FLAGS = ['--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MAGENTA = [255, 0, 255];

function homes() {
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  fs.mkdirSync(path.join(home, 'Downloads'));
  fs.writeFileSync(path.join(home, 'secret.txt'), 'not for the browser\n');
  if (IS_ROOT) for (const p of ['Downloads', 'secret.txt']) fs.chownSync(path.join(home, p), TEST_UID, TEST_GID);
  return { home, data, env: cleanEnv({ HOME: home, XDG_DATA_HOME: data }), cleanup: () => [home, data].forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

t.test('chromium --headless --screenshot in the chromium profile, its own sandbox on', async (t) => {
  const page = await servePage();
  const h = homes();
  t.teardown(async () => { await page.close(); h.cleanup(); });
  const shot = path.join(h.home, 'Downloads', 'shot.png');
  const r = await sandboxRun(['--profile', 'chromium', '--', 'sh', '-c', 'test -e "$HOME/secret.txt" && echo secret-visible; exec chromium "$@"', 'sh',
    ...FLAGS, '--user-data-dir=/tmp/ud', '--window-size=800,600', `--screenshot=${shot}`, page.url], { env: h.env, timeout: 60000 });
  t.comment(`chromium --headless --screenshot took ${r.ms} ms`);
  t.equal(r.status, 0, `Chromium exited 0 (${r.stderr.split('\n').filter((l) => !/dbus|^$/.test(l)).slice(-3).join(' | ')})`);
  t.notMatch(r.stdout, /secret-visible/, 'the real home is not visible');
  t.notMatch(r.stderr, /No usable sandbox/, 'Chromium found its sandbox usable');
  t.ok(page.hits() >= 1, 'the page was fetched');
  t.ok(fs.existsSync(shot), 'the screenshot landed in ~/Downloads');
  if (!fs.existsSync(shot)) return;
  const img = decodePng(fs.readFileSync(shot));
  t.equal(`${img.width}x${img.height}`, '800x600', 'the window size asked for');
  const share = colourShare(img, MAGENTA);
  t.ok(share > 0.2, `the page's magenta block is in it (${(share * 100).toFixed(1)}%)`);
  t.ok(fs.existsSync(path.join(h.data, 'sandbox/homes/chromium')), 'the persistent home is the chromium profile\'s own');
});

t.test('the renderers run in nested namespaces under seccomp mode 2', async (t) => {
  const page = await servePage();
  const h = homes();
  t.teardown(async () => { await page.close(); h.cleanup(); });
  const script = path.join(__dirname, 'chromium-renderers.sh');
  const r = await sandboxRun(['--profile', 'chromium', '--ro-bind', script, '/run/renderers.sh', '--', 'sh', '/run/renderers.sh', page.url], { env: h.env, timeout: 60000 });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('renderer '));
  t.comment(lines.join('\n'));
  t.ok(lines.length >= 1, `renderer processes were found (${lines.length}; ${r.stderr.split('\n').filter((l) => !/dbus|^$/.test(l)).slice(-2).join(' | ')})`);
  const filters = (l) => Number((/Seccomp_filters:\s+(\d+)/.exec(l) || [])[1]);
  const shell = r.stdout.split('\n').find((l) => l.startsWith('shell ')) || '';
  t.comment(shell);
  for (const l of lines) {
    t.match(l, /Seccomp:\s+2\b/, 'a renderer runs under a seccomp filter (mode 2)');
    // mode 2 alone would also be the sandbox's own filter, which every process inside inherits
    t.ok(filters(l) > filters(shell), `Chromium stacked its own filter on the sandbox's (${filters(l)} filters, the sandbox's shell has ${filters(shell)})`);
    const nspid = (/NSpid:\s+([\d ]+?)\s+Seccomp/.exec(l) || [])[1] || '';
    t.ok(nspid.split(/\s+/).length >= 3, `a renderer is in a pid namespace of its own inside the sandbox's (NSpid ${nspid})`);
  }
});

t.test('without the loosened item (the browser profile), Chromium refuses to start', async (t) => {
  const h = homes();
  t.teardown(() => h.cleanup());
  const r = await sandboxRun(['--profile', 'browser', '--', 'chromium', ...FLAGS, '--user-data-dir=/tmp/ud', '--screenshot=/tmp/x.png', 'about:blank'], { env: h.env, timeout: 30000 });
  t.not(r.status, 0, 'Chromium exits with an error');
  t.match(r.stderr, /No usable sandbox/, 'it says its sandbox is unusable (nested user namespaces are refused by the base filter)');
});
