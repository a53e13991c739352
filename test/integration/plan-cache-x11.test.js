// The plan cache and the X display (issue 16, "the X display and its cookie"): a launch given the display gets an
// untrusted cookie made for it by Node, so it is never kept, and each launch follows DISPLAY and the cookie in
// XAUTHORITY; a launch whose DISPLAY names no server is kept, and the next one follows a server started since.
// The servers are private Xvfbs as hosts ship them (listening on the path and the abstract socket), on display
// numbers of their own, with access control (a cookie). `--profile browser` shares the display through desktop.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { cannotLaunch, have, userTmpdir } = require('../lib/harness');
const { cachedRun } = require('../lib/plan-cache-entry');

const why = cannotLaunch()
  || (!have('Xvfb') && 'Xvfb is not installed (Debian package xvfb)')
  || (!have('xauth') && 'xauth is not installed (Debian package xauth)')
  || (!have('xdpyinfo') && 'xdpyinfo is not installed (Debian package x11-utils)');
if (why) {
  t.skip(`plan cache and X11: ${why}`);
  process.exit(0);
}
const { startXvfbWithCookie } = require('./desktop-servers');
const { pickDisplay } = require('./apps/run');
const { parseXauthority } = require('../../dist/lib/profile/xauth');

/** What the program inside sees: its DISPLAY and XAUTHORITY, the screen it reaches (or "none"), its cookie in hex. */
const PROBE = [
  'echo "display=$DISPLAY"',
  'echo "xauthority=$XAUTHORITY"',
  'd=$(xdpyinfo 2>/dev/null | sed -n "s/^ *dimensions: *\\([0-9x]*\\) pixels.*/\\1/p"); echo "screen=${d:-none}"',
  'echo "cookie=$(test -r "$XAUTHORITY" && od -An -tx1 -v "$XAUTHORITY" | tr -d " \\n")"',
].join('; ');

function seen(r) {
  const out = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  // the authority file's cookie data, not its framing
  out.cookie = out.cookie ? parseXauthority(Buffer.from(out.cookie, 'hex')).map((e) => e.data.toString('hex')).join(',') : '';
  return out;
}

function homes() {
  const home = userTmpdir('sbx-cache-x11-');
  return { home, env: { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') } };
}

t.test('a launch given the display is never kept; the next one follows DISPLAY and the cookie in XAUTHORITY', async (t) => {
  const h = homes();
  const dirA = userTmpdir('sbx-x11-a-');
  const dirB = userTmpdir('sbx-x11-b-');
  const A = await startXvfbWithCookie(dirA, { width: 320, height: 240 });
  const B = await startXvfbWithCookie(dirB, { width: 640, height: 480 });
  t.teardown(async () => {
    await A.stop();
    await B.stop();
    for (const d of [h.home, dirA, dirB]) fs.rmSync(d, { recursive: true, force: true });
  });
  const args = ['--profile', 'browser', '--', 'sh', '-c', PROBE];
  const run = (display, xauthority) => cachedRun(args, { env: { ...h.env, DISPLAY: `:${display}`, XAUTHORITY: xauthority }, cwd: h.home });

  const a1 = run(A.display, A.xauthority);
  const a2 = run(A.display, A.xauthority);
  for (const [n, r] of [['first', a1], ['second', a2]]) {
    t.equal(r.status, 0, r.stderr);
    t.notOk(r.hit || r.kept, `${n} launch on :${A.display}: not kept (${r.cache})`);
    t.match(r.cache, /not kept: file contents made at each launch \(e\.g\. the X11 cookie\)/, `${n}: the cache says why`);
    t.equal(seen(r).screen, '320x240', `${n}: reaches :${A.display}`);
  }
  t.notOk([a1, a2].map((r) => seen(r).cookie).includes(A.cookie.toString('hex')), 'never the user\'s own cookie');
  t.not(seen(a1).cookie, seen(a2).cookie, 'each launch its own untrusted cookie');

  // DISPLAY and XAUTHORITY both changed: the other server
  const b = run(B.display, B.xauthority);
  t.notOk(b.hit, b.cache);
  t.equal(seen(b).screen, '640x480', `DISPLAY=:${B.display}: reaches that server (${b.stderr.trim()})`);
  t.equal(seen(b).display, seen(a1).display, 'under the sandbox\'s own display number');

  // only XAUTHORITY changed, to a file whose cookie that server doesn't take: the display is left out, and said
  const wrong = run(B.display, A.xauthority);
  t.notOk(wrong.hit || wrong.kept, wrong.cache);
  t.equal(seen(wrong).screen, 'none');
  t.equal(seen(wrong).display, '', 'DISPLAY unset inside');
  t.match(wrong.stderr, /X11 left out: the X server :\d+ gave no untrusted cookie/);

  // the same file, its cookie rewritten in place (same path, same size): followed both ways
  const good = fs.readFileSync(B.xauthority);
  const bad = Buffer.from(good);
  bad[bad.length - 1] ^= 0xff;
  fs.writeFileSync(B.xauthority, bad);
  const rewritten = run(B.display, B.xauthority);
  t.equal(seen(rewritten).screen, 'none', 'a cookie the server refuses: no display');
  fs.writeFileSync(B.xauthority, good);
  const restored = run(B.display, B.xauthority);
  t.notOk(restored.hit, restored.cache);
  t.equal(seen(restored).screen, '640x480', 'the cookie put back: the display again');
});

t.test('a launch whose DISPLAY names no server is kept; the next one follows a server started on that display, and its end', async (t) => {
  const h = homes();
  const dir = userTmpdir('sbx-x11-c-');
  const n = pickDisplay();
  let server = null;
  t.teardown(async () => {
    if (server) await server.stop();
    for (const d of [h.home, dir]) fs.rmSync(d, { recursive: true, force: true });
  });
  const args = ['--profile', 'browser', '--', 'sh', '-c', PROBE];
  const run = (extra = {}) => cachedRun(args, { env: { ...h.env, DISPLAY: `:${n}`, XAUTHORITY: path.join(dir, 'Xauthority'), ...extra }, cwd: h.home });

  const first = run();
  t.ok(first.kept, `no server on :${n}: kept (${first.cache})`);
  const hit = run();
  t.ok(hit.hit, hit.cache);
  const plain = run({ SANDBOX_NO_CACHE: '1' });
  for (const r of [first, hit]) {
    t.equal(r.status, plain.status);
    t.equal(r.stdout, plain.stdout, 'what the program sees is what it sees without the cache');
    t.equal(r.stderr, plain.stderr);
  }
  t.equal(seen(hit).screen, 'none');

  server = await startXvfbWithCookie(dir, { width: 400, height: 300, display: n });
  const up = run();
  t.notOk(up.hit, `the server's socket appeared: not a hit (${up.cache})`);
  t.match(up.cache, new RegExp(`miss: /tmp/\\.X11-unix/X${n} changed`));
  t.equal(seen(up).screen, '400x300', `reaches the server now on :${n} (${up.stderr.trim()})`);
  t.match(up.cache, /not kept: file contents made at each launch/);

  await server.stop();
  server = null;
  const down = run();
  t.equal(seen(down).screen, 'none', 'the server gone: no display');
  t.equal(down.stdout, plain.stdout);
  t.ok(down.hit, `and the plan kept while there was none fits again (${down.cache})`);
});
