// Firefox ESR in the shipped `browser` profile, as the unprivileged test user: a screenshot of a page the
// test serves on 127.0.0.1, headless and then drawn on Xvfb through the X11 socket the profile binds; of the
// real home only ~/Downloads is visible. Keep a copy of what was seen with SANDBOX_TEST_SHOTS=DIR.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { servePage, sandboxRun, sandboxStart, startXvfb, killGroup } = require('./apps/run');
const { decodePng, decodeXwd, encodePng, colourShare, distinctColours } = require('./apps/image');

const why = cannotLaunch() || (have('firefox-esr') ? null : 'firefox-esr is not installed (Debian package firefox-esr)');
if (why) {
  t.skip(`browser with Firefox: ${why}`);
  process.exit(0);
}
const MAGENTA = [255, 0, 255];
const SHOTS = process.env.SANDBOX_TEST_SHOTS;

/** A real home with things the browser must not see, and a Downloads it shares; the data home for the persistent one. */
function homes() {
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  fs.writeFileSync(path.join(home, 'secret.txt'), 'not for the browser\n');
  for (const d of ['Downloads', 'Documents', '.ssh']) fs.mkdirSync(path.join(home, d), { mode: 0o755 });
  fs.writeFileSync(path.join(home, '.ssh', 'id_test'), 'key\n');
  if (IS_ROOT) for (const p of ['secret.txt', 'Downloads', 'Documents', '.ssh', '.ssh/id_test']) fs.chownSync(path.join(home, p), TEST_UID, TEST_GID);
  return { home, data, env: cleanEnv({ HOME: home, XDG_DATA_HOME: data }), cleanup: () => [home, data].forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

/** Firefox's profiles.ini in the persistent home: ~/.mozilla (older releases) or ~/.config/mozilla (XDG, newer). */
function firefoxProfileKept(data) {
  const home = path.join(data, 'sandbox/homes/browser');
  return ['.mozilla/firefox', '.config/mozilla/firefox'].some((d) => fs.existsSync(path.join(home, d, 'profiles.ini')));
}

function keep(name, image) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  fs.writeFileSync(path.join(SHOTS, name), encodePng(image));
}

/** What the sandbox printed before the browser: `ls -A $HOME`, then `ls -A` of its parent, split by "--". */
const LOOK = 'ls -A "$HOME"; echo --; ls -A "$(dirname "$HOME")"; echo --; cat "$HOME/secret.txt" 2>/dev/null || echo no-secret; echo --;';

function checkHome(t, stdout, { home, data }) {
  const [inHome, inParent, secret] = stdout.split('--\n');
  const seen = inHome.split('\n').filter(Boolean);
  t.ok(seen.includes('Downloads'), `~/Downloads is visible (home shows: ${seen.join(' ')})`);
  t.same(seen.filter((n) => ['secret.txt', 'Documents', '.ssh'].includes(n)), [], 'nothing else of the real home is visible');
  t.notOk(inParent.split('\n').includes(path.basename(data)), 'the host directory of the persistent home is not visible');
  t.equal(secret, 'no-secret\n', 'the real home\'s files cannot be read');
  t.ok(fs.existsSync(path.join(data, 'sandbox/homes/browser')), 'the persistent home was made under $XDG_DATA_HOME');
}

t.test('firefox-esr --headless --screenshot of a served page, in the browser profile', async (t) => {
  const page = await servePage();
  const h = homes();
  t.teardown(async () => { await page.close(); h.cleanup(); });
  const shot = path.join(h.home, 'Downloads', 'shot.png');
  const r = await sandboxRun(['--profile', 'browser', '--', 'sh', '-c', `${LOOK} exec firefox-esr --headless --screenshot "$1" "$2"`, 'sh', shot, page.url], { env: h.env, timeout: 60000 });
  t.comment(`firefox-esr --headless --screenshot took ${r.ms} ms`);
  t.notOk(r.timedOut, 'Firefox finished within 60 s');
  t.equal(r.status, 0, `Firefox exited 0 (${r.stderr.trim().split('\n').slice(-3).join(' | ')})`);
  checkHome(t, r.stdout, h);
  t.ok(firefoxProfileKept(h.data), 'Firefox kept its profile in the persistent home');
  t.ok(page.hits() >= 1, 'the page was fetched from 127.0.0.1');
  t.ok(fs.existsSync(shot), 'the screenshot landed in the real ~/Downloads');
  if (!fs.existsSync(shot)) return;
  const img = decodePng(fs.readFileSync(shot));
  keep('headless.png', img);
  t.ok(img.width >= 300 && img.height >= 300, `a page-sized image (${img.width}x${img.height})`);
  const share = colourShare(img, MAGENTA);
  t.ok(share > 0.2, `the page's magenta block is in it (${(share * 100).toFixed(1)}% of the pixels)`);
  t.ok(distinctColours(img) > 2, 'more than a block of colour: the text was drawn too');
});

t.test('firefox-esr on Xvfb through the X11 socket the browser profile binds', { skip: have('Xvfb') ? false : 'Xvfb is not installed (Debian package xvfb)' }, async (t) => {
  const page = await servePage();
  const h = homes();
  const fbdir = userTmpdir('sbx-fb-');
  const x = await startXvfb(fbdir);
  let browser = null;
  t.teardown(async () => {
    if (browser) await killGroup(browser.child);
    await x.stop();
    await page.close();
    h.cleanup();
    fs.rmSync(fbdir, { recursive: true, force: true });
  });
  const abstract = fs.readFileSync('/proc/net/unix', 'utf8').includes(`@${x.socket}`);
  t.ok(abstract, 'Xvfb listens on its abstract socket too, as X servers ship (the shared network can\'t reach it: the bound socket goes in under a number of its own)');
  const env = { ...h.env, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority };
  const started = Date.now();
  browser = sandboxStart(['--profile', 'browser', '--', 'sh', '-c', `${LOOK} echo "display=$DISPLAY"; ls -A /tmp/.X11-unix; exec firefox-esr --kiosk --new-instance "$1"`, 'sh', page.url], { env });
  // Firefox draws the page and keeps running: watch the frame buffer until the block shows, then end it.
  let img = null;
  let share = 0;
  while (Date.now() - started < 50000 && browser.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 500));
    img = decodeXwd(fs.readFileSync(x.framebuffer));
    share = colourShare(img, MAGENTA);
    if (share > 0.2) break;
  }
  const ms = Date.now() - started;
  t.comment(`the page showed on display :${x.display} after ${ms} ms`);
  t.equal(browser.child.exitCode, null, `Firefox was still running (${browser.out.stderr.trim().split('\n').slice(-3).join(' | ')})`);
  await new Promise((r) => setTimeout(r, 500));
  img = decodeXwd(fs.readFileSync(x.framebuffer));
  share = colourShare(img, MAGENTA);
  keep('xvfb.png', img);
  await killGroup(browser.child);
  checkHome(t, browser.out.stdout, h);
  t.ok(firefoxProfileKept(h.data), 'Firefox kept its profile in the persistent home');
  const rest = browser.out.stdout.split('--\n')[3] || '';
  const inside = (/^display=:(\d+)\n/.exec(rest) || [])[1];
  t.ok(inside && Number(inside) !== x.display, `DISPLAY is a number of the sandbox's own (:${inside}, the host's is :${x.display})`);
  t.match(rest, new RegExp(`^display=:${inside}\\nX${inside}\\n`), 'and only that display\'s socket is bound');
  t.ok(page.hits() >= 1, 'the page was fetched from 127.0.0.1');
  t.ok(share > 0.2, `the page's magenta block is on the X display (${(share * 100).toFixed(1)}% of the screen)`);
  t.ok(distinctColours(img) > 3, 'the screen is not blank');
});
