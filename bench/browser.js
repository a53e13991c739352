// Driver for bench/browser.sh (see there). Every round gets a fresh home (and, for sandbox, a fresh
// XDG_DATA_HOME, where the browser profile keeps its private home), so each Firefox starts on a new
// profile alike. Variants are interleaved round by round; medians are reported.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');
const { startXvfbWithCookie, startXwayland, startWeston, runtimeDir, runAsUser } = require('../test/integration/desktop-servers');
const { decodePng, colourShare } = require('../test/integration/apps/image');
const { killGroup } = require('../test/integration/apps/run');

const ROOT = path.resolve(__dirname, '..');
const S = path.join(ROOT, 'bin/sandbox');
const [launchRounds, frameRounds] = [Number(process.argv[2] || 30), Number(process.argv[3] || 5)];
const USER = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const have = (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0;

function tmp(prefix, uid) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o700);
  if (uid) fs.chownSync(d, uid, uid);
  return d;
}

/** A fresh home, runtime and data dir; env -i plus these (as the user, or as root for firejail). */
function setup(asRoot, extra = {}) {
  const uid = asRoot ? 0 : 65534;
  const dirs = { HOME: tmp('sbx-bh-home-', uid), XDG_RUNTIME_DIR: tmp('sbx-bh-run-', uid), XDG_DATA_HOME: tmp('sbx-bh-data-', uid) };
  return { env: { PATH: '/usr/bin:/bin', ...dirs, ...extra }, cleanup: () => Object.values(dirs).forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

/** The command lines of each variant, given the program to run in it and the environment. */
function variants(bus) {
  const bwrapArgs = (env) => ['--unshare-all', '--share-net', '--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin',
    '--ro-bind', '/etc', '/etc', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', env.HOME, env.HOME,
    '--bind', env.XDG_RUNTIME_DIR, env.XDG_RUNTIME_DIR, ...(env.XAUTHORITY ? ['--ro-bind', env.XAUTHORITY, env.XAUTHORITY] : []),
    ...(env.DISPLAY ? ['--ro-bind', `/tmp/.X11-unix/X${env.DISPLAY.slice(1)}`, `/tmp/.X11-unix/X${env.DISPLAY.slice(1)}`] : [])];
  return {
    bare: { root: false, argv: (prog) => [...USER, 'env', '-i', ...prog.envv, ...prog.argv] },
    sandbox: { root: false, argv: (prog) => [...USER, 'env', '-i', ...prog.envv, S, 'run', '--profile', 'browser', '--', ...prog.argv] },
    bwrap: { root: false, argv: (prog) => [...USER, 'env', '-i', ...prog.envv, 'bwrap', ...bwrapArgs(prog.env), ...prog.argv] },
    firejail: { root: true, argv: (prog) => ['env', '-i', ...prog.envv, `DBUS_SESSION_BUS_ADDRESS=${bus}`, 'firejail', '--quiet', '--profile=firefox', ...prog.argv] },
  };
}
const envv = (env) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

function timeOnce(argv, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return ms;
}

/** Fraction of a grid of samples of the Xvfb frame buffer (XWD, 32 bpp) that is the page's colour. */
function share(file, [r, g, b]) {
  let buf;
  try { buf = fs.readFileSync(file); } catch { return 0; }
  const f = (i) => buf.readUInt32BE(i * 4);
  const [hs, w, h, order, lineBytes, nc] = [f(0), f(4), f(5), f(7), f(12), f(19)];
  const [rm, gm, bm] = [f(14), f(15), f(16)];
  const sh = (m) => 31 - Math.clz32(m & -m);
  const start = hs + nc * 12;
  let hit = 0;
  let n = 0;
  for (let y = 4; y < h; y += 16) {
    for (let x = 4; x < w; x += 16) {
      const p = start + y * lineBytes + x * 4;
      if (p + 4 > buf.length) continue;
      const v = order ? buf.readUInt32BE(p) : buf.readUInt32LE(p);
      n++;
      if (Math.abs(((v & rm) >>> sh(rm)) - r) < 8 && Math.abs(((v & gm) >>> sh(gm)) - g) < 8 && Math.abs(((v & bm) >>> sh(bm)) - b) < 8) hit++;
    }
  }
  return n ? hit / n : 0;
}

/** look() resolves the share of the screen that is the page's colour; want: the share that counts as drawn. */
async function firstFrame(argv, look, want, limitMs = 30000) {
  const t0 = Date.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: os.tmpdir(), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  try {
    while (Date.now() - t0 < limitMs) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before a frame: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      if (look() > want) return Date.now() - t0;
      await sleep(20);
    }
    throw new Error(`no frame in ${limitMs} ms: ${err.trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    await killGroup(child, 3000);
  }
}

const COLOUR = [0, 160, 80];
const PAGE = '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;background:#00a050"></body></html>';

async function main() {
  for (const p of ['Xvfb', 'firefox-esr', 'dbus-daemon']) if (!have(p)) throw new Error(`${p} is not installed`);
  // a variant or a server whose program is missing is left out, and the report says so
  const missing = [];
  const names = ['bare', 'bwrap', 'sandbox', 'firejail'].filter((n) => n === 'bare' || n === 'sandbox' || have(n) || (missing.push(`${n} (not installed, Debian package ${n === 'bwrap' ? 'bubblewrap' : n})`), false));
  const servers = [
    { name: 'Xvfb', note: 'Xvfb as it ships (path and abstract socket), 1024x768, its frame buffer (XWD) polled every 20 ms, page colour on >60% of the screen (the kiosk window covers ~80% without a window manager)' },
  ];
  if (have('Xwayland') && have('weston') && have('weston-screenshooter')) {
    servers.push({ name: 'Xwayland', note: 'Xwayland rootful on headless weston, 1024x768, with a cookie (-auth), path and abstract socket; weston-screenshooter polled back to back (each shot takes tens of ms, so the resolution is coarser), page colour on >30% of the output (the X root window is a toplevel under weston\'s desktop shell, its panel and decorations included)' });
  } else {
    missing.push('Xwayland (needs the Debian packages xwayland and weston)');
  }
  if (have('weston') && have('weston-screenshooter')) {
    servers.push({ name: 'weston', note: 'headless weston (Wayland, MOZ_ENABLE_WAYLAND=1, WAYLAND_DISPLAY its socket\'s path), 1024x768; weston-screenshooter polled back to back (each shot takes tens of ms, so the resolution is coarser), page colour on >30% of the output (weston\'s desktop shell, its panel included)' });
  } else {
    missing.push('weston (Debian package weston)');
  }
  // firejail's firefox profile filters the session bus through its proxy: give it a bus (as root, like firejail here).
  const busDir = tmp('sbx-bh-bus-', 0);
  const bus = `unix:path=${busDir}/bus`;
  const dbus = spawn('dbus-daemon', ['--session', '--nofork', `--address=${bus}`], { stdio: 'ignore' });
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;

  let x = null;
  const xdir = tmp('sbx-bh-x-', 65534);
  fs.chmodSync(xdir, 0o755);
  try {
    for (let i = 0; i < 50 && !fs.existsSync(`${busDir}/bus`); i++) await sleep(50);
    const V = variants(bus);
    const fj = names.includes('firejail') ? `firejail ${spawnSync('firejail', ['--version']).stdout.toString().split('\n')[0]} as root, ` : '';
    console.log(`${os.cpus().length} CPUs, kernel ${os.release()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${fj}the others as uid 65534, env -i + HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME`);
    if (missing.length) console.log(`left out: ${missing.join('; ')}`);

    const launch = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = -1; i < launchRounds; i++) { // round -1 warms caches, not counted
      for (let j = 0; j < names.length; j++) {
        const n = names[(i + 1 + j) % names.length];
        const s = setup(V[n].root);
        try {
          const ms = timeOnce(V[n].argv({ env: s.env, envv: envv(s.env), argv: ['true'] }), os.tmpdir());
          if (i >= 0) launch[n].push(ms);
        } finally { s.cleanup(); }
      }
    }
    console.log(`\nlaunch of \`true\`, median of ${launchRounds} rounds:`);
    for (const n of names) console.log(`  ${n.padEnd(9)} ${median(launch[n]).toFixed(1).padStart(7)} ms  (${n === 'bare' ? 'true itself' : n === 'sandbox' ? 'sandbox run --profile browser -- true' : n === 'firejail' ? 'firejail --profile=firefox true, as root' : 'bwrap, a browser-like setup'})`);

    const rootAuth = path.join(busDir, 'Xauthority');
    for (const srv of servers) {
      const frames = Object.fromEntries(names.map((n) => [n, []]));
      for (let i = 0; i < frameRounds; i++) {
        for (let j = 0; j < names.length; j++) {
          const n = names[(i + j) % names.length];
          // a fresh server for every run: a blank screen, and no run can inherit a dying server
          if (x) await x.stop();
          x = null;
          const xd = fs.mkdtempSync(path.join(xdir, 'x-'));
          fs.chmodSync(xd, 0o755);
          fs.chownSync(xd, 65534, 65534);
          let look;
          let want;
          // each shot of weston's output (Xwayland's window on it, or Firefox's own), as the user weston runs as
          const screenshots = (shots, env) => () => {
            const r = runAsUser('sh', ['-c', 'cd "$1" && weston-screenshooter >/dev/null 2>&1; ls -t "$1" | head -1', 'sh', shots], env);
            const f = (r.stdout || '').trim();
            if (!f) return 0;
            const img = decodePng(fs.readFileSync(path.join(shots, f)));
            fs.rmSync(path.join(shots, f), { force: true });
            return colourShare(img, COLOUR);
          };
          let display;
          if (srv.name === 'Xvfb') {
            x = await startXvfbWithCookie(xd);
            look = () => share(x.framebuffer, COLOUR);
            want = 0.6;
          } else if (srv.name === 'Xwayland') {
            const rt = runtimeDir('sbx-bh-xwrt-');
            const shots = fs.mkdtempSync(path.join(xd, 'shots-'));
            fs.chownSync(shots, 65534, 65534);
            const xw = await startXwayland(xd, rt);
            x = { ...xw, stop: async () => { await xw.stop(); fs.rmSync(rt, { recursive: true, force: true }); } };
            look = screenshots(shots, { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: rt, WAYLAND_DISPLAY: 'wayland-1' });
            want = 0.3;
          } else {
            const rt = runtimeDir('sbx-bh-wrt-');
            const shots = fs.mkdtempSync(path.join(xd, 'shots-'));
            fs.chownSync(shots, 65534, 65534);
            const w = await startWeston(rt);
            x = { stop: async () => { await w.stop(); fs.rmSync(rt, { recursive: true, force: true }); } };
            look = screenshots(shots, { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: rt, WAYLAND_DISPLAY: w.socket });
            want = 0.3;
            display = { WAYLAND_DISPLAY: w.path, MOZ_ENABLE_WAYLAND: '1' };
          }
          if (!display) {
            fs.copyFileSync(x.xauthority, rootAuth);
            fs.chownSync(rootAuth, 0, 0);
            // Firefox as root refuses an XAUTHORITY owned by another user: firejail gets a root-owned copy
            display = { DISPLAY: `:${x.display}`, XAUTHORITY: V[n].root ? rootAuth : x.xauthority };
          }
          const s = setup(V[n].root, display);
          try {
            const ms = await firstFrame(V[n].argv({ env: s.env, envv: envv(s.env), argv: ['firefox-esr', '--kiosk', '--new-instance', url] }), look, want);
            frames[n].push(ms);
          } catch (e) {
            console.log(`  ${srv.name} round ${i} ${n}: ${e.message}`);
          } finally { s.cleanup(); }
        }
      }
      console.log(`\nfirst frame of firefox-esr --kiosk --new-instance (fresh profile) on ${srv.note}:`);
      for (const n of names) console.log(`  ${n.padEnd(9)} median ${frames[n].length ? median(frames[n]).toFixed(0).padStart(6) : '     -'} ms of ${frames[n].length} (${frames[n].map((m) => m.toFixed(0)).join(', ')})`);
    }
  } finally {
    if (x) await x.stop();
    server.close();
    dbus.kill('SIGTERM');
    for (const d of [busDir, xdir]) fs.rmSync(d, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(`browser bench: ${e.message}`);
  process.exitCode = 1;
});
