// Test harness: runs `sandbox` as an unprivileged user (uid 65534 through setpriv when the tests run as
// root), and makes sure that user can reach the checkout wherever it was cloned.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const SANDBOX = path.join(ROOT, 'bin', 'sandbox');
const TEST_UID = 65534;
const TEST_GID = 65534;
const IS_ROOT = process.getuid() === 0;
/** Who the sandboxes run as: the test user when the tests run as root, else the user running them. */
const RUN_UID = IS_ROOT ? TEST_UID : process.getuid();
const RUN_GID = IS_ROOT ? TEST_GID : process.getgid();
const RUN_USER = IS_ROOT ? (spawnSync('id', ['-un', String(TEST_UID)], { encoding: 'utf8' }).stdout || '').trim() || String(TEST_UID) : os.userInfo().username;
/** Enough of the host for ordinary programs: the whole root read-only, a fresh /dev and /proc. */
const BASE = ['--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];

/** The command line that runs cmd as the unprivileged test user. */
function asUser(cmd, args) {
  // tap's process-info hook puts an --import into NODE_OPTIONS of every child; the launcher must not load it
  const clean = ['-u', 'NODE_OPTIONS', cmd, ...args];
  if (!IS_ROOT) return ['env', clean];
  return ['setpriv', ['--reuid', String(TEST_UID), '--regid', String(TEST_GID), '--clear-groups', 'env', ...clean]];
}

let reachChecked = false;
/** The test user must traverse every parent of the checkout: add o+x where it's missing (root only). */
function ensureCheckoutReachable() {
  if (reachChecked || !IS_ROOT) return;
  reachChecked = true;
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    if (!(st.mode & 0o001)) {
      fs.chmodSync(dir, st.mode | 0o001);
      process.stderr.write(`# harness: added o+x to ${dir} so uid ${TEST_UID} can reach the checkout\n`);
    }
    if (dir === '/') break;
  }
}

const scratch = [];
/** Removes dir and what is in it, making the test user's read-only directories writable first (never through a
 *  symlink: lstat decides). Best effort: a scratch directory never fails a test. */
function removeScratch(dir) {
  try { fs.rmSync(dir, { recursive: true, force: true }); return; } catch { /* read-only directories inside */ }
  const open = (d) => {
    let st;
    try { st = fs.lstatSync(d); } catch { return; }
    if (!st.isDirectory()) return;
    try { fs.chmodSync(d, (st.mode & 0o7777) | 0o700); } catch { return; }
    for (const e of fs.readdirSync(d)) open(path.join(d, e));
  };
  open(dir);
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* left for the machine's tmp cleaner */ }
}
const detached = new Set();
/** A child started in a process group of its own (detached: servers, sandboxes left running): killed with its group
 * when this test file's process ends first, as it does when tap times the file out without running its teardowns. */
function killOnExit(child) {
  detached.add(child);
  child.once('exit', () => detached.delete(child));
  return child;
}
function killDetached() {
  for (const c of detached) {
    try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  detached.clear();
}
process.on('exit', () => {
  killDetached();
  for (const d of scratch) removeScratch(d);
});
// tap's timeout: SIGALRM, then SIGKILL from the runner half a second later, with no 'exit' in between
process.on('SIGALRM', killDetached);

/** A scratch directory owned by the test user, removed when the test file's process ends. */
function userTmpdir(prefix = 'sbx-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(d);
  fs.chmodSync(d, 0o755);
  if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
  return d;
}

/** Directories (with their parents) made for the test user, as userTmpdir's; returns the last. */
function userDirs(...dirs) {
  for (const d of dirs) {
    fs.mkdirSync(d, { recursive: true });
    if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
  }
  return dirs[dirs.length - 1];
}

let home = null;
/** The test user's home for this test file, and the working directory of its launches unless a test names one: a
 * scratch directory of its own. HOME=/tmp shared ~/.config (the compiled plans' list), the PulseAudio cookie and the
 * rest with every other user of the machine: run by an ordinary user after a run as root, compiling a plan failed on
 * /tmp/.config, which uid 65534 had made. */
function testHome() {
  if (!home) home = userTmpdir('sbx-home-');
  return home;
}

function cleanEnv(extra = {}) {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: testHome(), LANG: 'C.UTF-8', ...extra };
}

/** Run `sandbox run ARGS` as the test user; returns {status, signal, stdout, stderr}. */
function sandbox(args, opts = {}) {
  return sandboxCli(['run', ...args], opts);
}

/** Run `sandbox ARGS` (any subcommand) as the test user. */
function sandboxCli(args, opts = {}) {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, args);
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd ?? testHome(),
    env: opts.env ?? cleanEnv(),
    input: opts.input,
    stdio: opts.stdio,
    timeout: opts.timeout ?? 30000,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return r;
}

/** Start `sandbox run ARGS` as the test user without waiting. */
function sandboxAsync(args, opts = {}) {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, ['run', ...args]);
  const child = spawn(cmd, argv, { cwd: opts.cwd ?? testHome(), env: opts.env ?? cleanEnv(), stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'], detached: opts.detached });
  return opts.detached ? killOnExit(child) : child;
}

/** Why sandboxes can't run here, or null when they can. */
function cannotLaunch() {
  if (!fs.existsSync(path.join(ROOT, 'native', 'build', 'sandbox-stage'))) return 'the C stage is not built (npm install)';
  if (IS_ROOT && spawnSync('which', ['setpriv']).status !== 0) return 'setpriv is missing (util-linux)';
  const [cmd, argv] = asUser('unshare', ['-Ur', 'true']);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) return `unprivileged user namespaces are not available: ${(r.stderr || '').trim()}`;
  return null;
}

function have(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).status === 0;
}

module.exports = { ROOT, SANDBOX, BASE, sandboxCli, TEST_UID, TEST_GID, RUN_UID, RUN_GID, RUN_USER, IS_ROOT, asUser, sandbox, sandboxAsync, userTmpdir, userDirs, testHome, killOnExit, cleanEnv, cannotLaunch, have, ensureCheckoutReachable };
