// Display and sound servers started as the test user for the desktop-apps tests: Xvfb with access
// control (a cookie keyed by the host's name, as display managers write it), headless weston, and
// PulseAudio with a null sink, each in a private runtime directory.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const { asUser, ensureCheckoutReachable, userTmpdir, killOnExit, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { killGroup, pickDisplay } = require('./apps/run');
const { encodeXauthority, FAMILY_LOCAL } = require('../../dist/lib/profile/xauth');

function chownUser(p) {
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

function startAsUser(cmd, args, env) {
  ensureCheckoutReachable();
  const [c, argv] = asUser(cmd, args);
  const child = killOnExit(spawn(c, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env }));
  const log = { text: '' };
  child.stdout.on('data', (d) => { log.text += d; });
  child.stderr.on('data', (d) => { log.text += d; });
  return { child, log };
}

async function waitFor(cond, ms, what, log) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not appear in ${ms} ms: ${log ? log.text.trim().split('\n').slice(-5).join(' | ') : ''}`);
}

/** A cookie for a server started with -auth: its file (keyed for display 0, as servers read it) and, once the
 * display is known, the clients' authority file in dir, keyed by the host's name as display managers do. */
function serverCookie(dir) {
  const cookie = crypto.randomBytes(16);
  const host = Buffer.from(os.hostname());
  const entry = (number) => ({ family: FAMILY_LOCAL, address: host, number, name: 'MIT-MAGIC-COOKIE-1', data: cookie });
  const serverAuth = path.join(dir, 'server.auth');
  fs.writeFileSync(serverAuth, encodeXauthority([entry('0')]), { mode: 0o600 });
  chownUser(serverAuth);
  const clientAuthority = (display) => {
    const xauthority = path.join(dir, 'Xauthority');
    fs.writeFileSync(xauthority, encodeXauthority([entry(String(display))]), { mode: 0o600 });
    chownUser(xauthority);
    return xauthority;
  };
  return { cookie, serverAuth, clientAuthority };
}

/** The display number an X server started with -displayfd 1 prints on a line of its own (its log also holds
 * stderr, e.g. Xwayland's "Failed to initialize glamor"). */
function displayNumber(name, child, log) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} gave no display number in 15 s: ${log.text.trim()}`)), 15000);
    const check = () => { const m = /(?:^|\n)(\d+)\n/.exec(log.text); if (m) { clearTimeout(timer); resolve(Number(m[1])); } };
    child.stdout.on('data', check);
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${name} exited (${code ?? sig}): ${log.text.trim()}`)); });
  });
}

/**
 * Xvfb with access control: its -auth file holds one MIT-MAGIC-COOKIE-1 keyed by the host's name, and the
 * client authority file (dir/Xauthority) holds the same cookie for the display it got, keyed the same way.
 * Listens as it ships (the path socket and the abstract @/tmp/.X11-unix/XN; abstract: false adds -nolisten local); -noreset keeps the untrusted cookies the launcher asks for while no client is connected. Resolves { display, socket, framebuffer, xauthority, cookie, stop }.
 */
async function startXvfbWithCookie(dir, { width = 1024, height = 768, abstract = true, display: wanted = null } = {}) {
  const { cookie, serverAuth, clientAuthority } = serverCookie(dir);
  if (!fs.existsSync('/tmp/.X11-unix') && IS_ROOT) {
    fs.mkdirSync('/tmp/.X11-unix');
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
  }
  const fbdir = path.join(dir, 'fb');
  fs.mkdirSync(fbdir);
  chownUser(fbdir);
  const { child, log } = startAsUser('Xvfb', [`:${wanted ?? pickDisplay()}`, '-displayfd', '1', '-noreset', '-auth', serverAuth, ...(abstract ? [] : ['-nolisten', 'local']), '-screen', '0', `${width}x${height}x24`, '-fbdir', fbdir], { PATH: '/usr/bin:/bin' });
  const stop = () => killGroup(child);
  const display = await displayNumber('Xvfb', child, log).catch(async (e) => { await stop(); throw e; });
  const xauthority = clientAuthority(display);
  return { display, socket: `/tmp/.X11-unix/X${display}`, framebuffer: path.join(fbdir, 'Xvfb_screen0'), xauthority, cookie, log, stop };
}

/**
 * Xwayland as a Wayland desktop runs it for X clients: a client of headless weston (in runtime), rootful at the
 * output's size, with a cookie as GNOME's mutter gives it (-auth), listening as it ships on the path and the
 * abstract socket. Resolves { display, socket, xauthority, cookie, screenshot(dir), stop }; screenshot takes
 * weston's output (weston-screenshooter) into dir and resolves the PNG's path, or null.
 */
async function startXwayland(dir, runtime, { width = 1024, height = 768 } = {}) {
  const w = await startWeston(runtime, { width, height });
  const { cookie, serverAuth, clientAuthority } = serverCookie(dir);
  const wenv = { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: runtime, WAYLAND_DISPLAY: w.socket };
  const { child, log } = startAsUser('Xwayland', [`:${pickDisplay()}`, '-displayfd', '1', '-noreset', '-auth', serverAuth], wenv); // Debian 12's Xwayland (22.1) has no -geometry: rootful at the output's size
  const stop = async () => { await killGroup(child); await w.stop(); };
  const display = await displayNumber('Xwayland', child, log).catch(async (e) => { await stop(); throw e; });
  const xauthority = clientAuthority(display);
  const screenshot = (shots) => {
    const r = runAsUser('sh', ['-c', 'cd "$1" && weston-screenshooter >/dev/null 2>&1; ls -t "$1" | head -1', 'sh', shots], wenv);
    const f = (r.stdout || '').trim();
    return f ? path.join(shots, f) : null;
  };
  return { display, socket: `/tmp/.X11-unix/X${display}`, xauthority, cookie, log, screenshot, stop, runtime, wayland: w.socket };
}

/**
 * `weston --xwayland` as it ships: weston listens on a display of its own choosing (path and abstract socket)
 * and starts Xwayland on the first client. Resolves { display, weston, stop }; the display's access control is
 * whatever this weston gives it.
 */
async function startWestonXwayland(runtime, { width = 1024, height = 768 } = {}) {
  const { child, log } = startAsUser('weston', ['--backend=headless-backend.so', '--use-pixman', '--xwayland', `--width=${width}`, `--height=${height}`, '--socket=wayland-1', '--idle-time=0', '--no-config'], { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: runtime, HOME: runtime });
  const stop = () => killGroup(child);
  try {
    await waitFor(() => /xserver listening on display :\d+/.test(log.text) || child.exitCode !== null, 15000, 'weston\'s X display', log);
    if (child.exitCode !== null) throw new Error(`weston exited ${child.exitCode}: ${log.text.trim().split('\n').slice(-5).join(' | ')}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { display: Number(/xserver listening on display :(\d+)/.exec(log.text)[1]), log, stop };
}

/** A 0700 runtime directory owned by the test user (XDG_RUNTIME_DIR for weston and PulseAudio). */
function runtimeDir(prefix) {
  const d = userTmpdir(prefix);
  fs.chmodSync(d, 0o700);
  return d;
}

/** Headless weston as the test user, socket wayland-1 in runtime; screenshots allowed (--debug). */
async function startWeston(runtime, { width = 1024, height = 768 } = {}) {
  const socket = 'wayland-1';
  const { child, log } = startAsUser('weston', ['--backend=headless-backend.so', '--use-pixman', '--debug', `--width=${width}`, `--height=${height}`, `--socket=${socket}`, '--idle-time=0', '--no-config'], { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: runtime, HOME: runtime });
  const stop = () => killGroup(child);
  try {
    await waitFor(() => fs.existsSync(path.join(runtime, socket)) || child.exitCode !== null, 15000, 'the weston socket', log);
    if (child.exitCode !== null) throw new Error(`weston exited ${child.exitCode}: ${log.text.trim().split('\n').slice(-5).join(' | ')}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { socket, path: path.join(runtime, socket), log, stop };
}

/** PulseAudio as the test user with a null sink `sbx` and only the native unix socket, in runtime/pulse. */
async function startPulse(runtime) {
  const env = { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: runtime, HOME: runtime };
  const { child, log } = startAsUser('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1', '--disallow-exit', '-n', '--use-pid-file=no', '--system=no',
    '--load=module-native-protocol-unix', '--load=module-null-sink sink_name=sbx rate=44100 channels=1', '--load=module-always-sink', '-v'], env);
  const stop = () => killGroup(child);
  const sock = path.join(runtime, 'pulse', 'native');
  try {
    await waitFor(() => fs.existsSync(sock) || child.exitCode !== null, 15000, 'the PulseAudio socket', log);
    if (child.exitCode !== null) throw new Error(`pulseaudio exited ${child.exitCode}: ${log.text.trim().split('\n').slice(-5).join(' | ')}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { socket: sock, env, log, stop };
}

/** A program run as the test user to completion. */
function runAsUser(cmd, args, env, timeout = 20000) {
  const [c, argv] = asUser(cmd, args);
  return spawnSync(c, argv, { env, timeout, encoding: 'utf8' });
}

module.exports = { startXvfbWithCookie, startXwayland, startWestonXwayland, startWeston, startPulse, runtimeDir, runAsUser, startAsUser, waitFor, chownUser };
