// What the real-application tests share: a page server on 127.0.0.1, `sandbox run` awaited without
// blocking the event loop (the page server lives in the test process), and Xvfb started as the test user.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const { asUser, ensureCheckoutReachable, sandboxAsync, IS_ROOT, TEST_UID, TEST_GID } = require('../../lib/harness');

const PAGE = fs.readFileSync(path.join(__dirname, 'page.html'));

/** Serves page.html at / on 127.0.0.1 (a free port); resolves { url, hits: () => number, close }. */
function servePage() {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, hits: () => hits, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Kills a detached child's whole process group: TERM, then KILL after graceMs. Resolves when it exited. */
function killGroup(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone already */ }
    setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs).unref();
  });
}

/** `sandbox run ARGS` as the test user; resolves { status, signal, stdout, stderr, ms, timedOut }. */
function sandboxRun(args, { env, cwd, timeout = 60000 } = {}) {
  const started = Date.now();
  const child = sandboxAsync(args, { env, cwd, detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(child); }, timeout);
  return new Promise((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** Starts `sandbox run ARGS` as the test user in its own process group; returns the child and its output so far. */
function sandboxStart(args, { env, cwd } = {}) {
  const child = sandboxAsync(args, { env, cwd, detached: true });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  // from the start: a listener added after the sandbox ended would wait for good
  const closed = new Promise((resolve) => child.once('close', (status, signal) => resolve({ status, signal })));
  /** The end, or null after ms (the caller kills the group in its teardown). */
  const ended = (ms) => Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve(null), ms).unref())]);
  return { child, out, ended };
}

/**
 * Xvfb as the test user on a free display, listening as it ships: on its socket in /tmp/.X11-unix and on the
 * abstract @/tmp/.X11-unix/XN, as Xorg and Xwayland do (abstract: false adds -nolisten local, path only), with
 * access control: its -auth file holds one FamilyWild MIT-MAGIC-COOKIE-1, which fbdir/Xauthority holds too,
 * for the display it got (pass it as XAUTHORITY). The launcher gives a sandbox an untrusted cookie of its own and refuses a display
 * that lets this user in without one. -noreset: a server with no client left resets and forgets the untrusted
 * cookies it made (a desktop always has its window manager connected; this Xvfb may have nobody). Its frame buffer is kept as an XWD file in fbdir.
 * Resolves { display, socket, framebuffer, xauthority, stop }.
 */
/** The client authority file of each display startXvfb started (for xdotool.js, which gets a display). */
const authorityOf = new Map();

async function startXvfb(fbdir, { width = 1024, height = 768, abstract = true } = {}) {
  ensureCheckoutReachable();
  let madeSocketDir = false;
  // Xvfb run by a user cannot make the directory that holds every display's socket; the system makes it (root, 1777).
  if (!fs.existsSync('/tmp/.X11-unix') && IS_ROOT) {
    fs.mkdirSync('/tmp/.X11-unix');
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
    madeSocketDir = true;
  }
  const cookie = require('crypto').randomBytes(16);
  const serverAuth = path.join(fbdir, 'server.auth');
  const xauthority = path.join(fbdir, 'Xauthority');
  fs.writeFileSync(serverAuth, wildCookieFile(cookie, ''), { mode: 0o600 });
  if (IS_ROOT) fs.chownSync(serverAuth, TEST_UID, TEST_GID);
  const [cmd, argv] = asUser('Xvfb', [`:${pickDisplay()}`, '-displayfd', '1', '-noreset', '-auth', serverAuth, ...(abstract ? [] : ['-nolisten', 'local']), '-screen', '0', `${width}x${height}x24`, '-fbdir', fbdir]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { PATH: '/usr/bin:/bin' } });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const stop = async () => {
    await killGroup(child);
    if (madeSocketDir) try { fs.rmdirSync('/tmp/.X11-unix'); } catch { /* another display's socket is in it */ }
  };
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb gave no display number in 15 s: ${log.trim()}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) { clearTimeout(timer); resolve(Number(out.trim())); }
    });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`Xvfb exited (${code ?? sig}): ${log.trim()}`)); });
  }).catch(async (e) => { await stop(); throw e; });
  // the client's file names the display, as xauth writes it
  fs.writeFileSync(xauthority, wildCookieFile(cookie, String(display)), { mode: 0o600 });
  if (IS_ROOT) fs.chownSync(xauthority, TEST_UID, TEST_GID);
  authorityOf.set(display, xauthority);
  return { display, socket: `/tmp/.X11-unix/X${display}`, framebuffer: path.join(fbdir, 'Xvfb_screen0'), xauthority, log: () => log, stop };
}

/**
 * A display number no server holds, from a wide range: Xvfb's own -displayfd search takes no lock file, so two
 * tests starting servers at once both got :0 and the second took the first one's socket over. A named display
 * is locked (/tmp/.XN-lock), so a rare collision fails loudly instead.
 */
function pickDisplay() {
  for (;;) {
    const n = 100 + Math.floor(Math.random() * 800);
    if (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && !fs.existsSync(`/tmp/.X${n}-lock`) && !abstractXSocket(n)) return n;
  }
}

/** Does an abstract socket @/tmp/.X11-unix/XN exist in this network namespace (a server listening as servers ship)? */
function abstractXSocket(n) {
  return fs.readFileSync('/proc/net/unix', 'utf8').split('\n').some((l) => l.endsWith(` @/tmp/.X11-unix/X${n}`));
}

/** An authority file with one FamilyWild (any host) MIT-MAGIC-COOKIE-1 for display number (any: ''), in the Xauthority format. */
function wildCookieFile(cookie, number) {
  const field = (b) => { const n = Buffer.alloc(2); n.writeUInt16BE(b.length); return [n, b]; };
  const family = Buffer.alloc(2);
  family.writeUInt16BE(0xffff);
  return Buffer.concat([family, ...field(Buffer.alloc(0)), ...field(Buffer.from(number)), ...field(Buffer.from('MIT-MAGIC-COOKIE-1')), ...field(cookie)]);
}

module.exports = { servePage, sandboxRun, sandboxStart, startXvfb, killGroup, authorityOf, pickDisplay, abstractXSocket };
