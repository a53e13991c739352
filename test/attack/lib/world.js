// The world the escape attempts run in: a test user's home with a secret in it, a persistent data dir, a
// read-write project directory, the probes (C ones compiled here), a process and an abstract socket
// outside the sandbox, and the ways to start a probe in a profile (plain, under a pty, with extra options).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { SANDBOX, ROOT, TEST_UID, TEST_GID, IS_ROOT, asUser, sandboxCli, userTmpdir, cleanEnv, ensureCheckoutReachable } = require('../../lib/harness');

const PROBES = path.join(__dirname, '..', 'probes');

function own(p, mode) {
  if (mode !== undefined) fs.chmodSync(p, mode);
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

function mkdir(p, mode = 0o755) {
  fs.mkdirSync(p, { recursive: true });
  own(p, mode);
  return p;
}

/** Compiles every probes/*.c into dir (two at a time: the machine has two cores). */
async function compileProbes(dir) {
  const sources = fs.readdirSync(PROBES).filter((f) => f.endsWith('.c'));
  const queue = [...sources];
  const failures = [];
  const worker = async () => {
    for (let src; (src = queue.shift());) {
      const out = path.join(dir, src.slice(0, -2));
      await new Promise((resolve) => {
        const cc = spawn('cc', ['-O1', '-Wall', '-I', PROBES, '-o', out, path.join(PROBES, src)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        cc.stderr.on('data', (d) => { err += d; });
        cc.on('exit', (code) => { if (code !== 0) failures.push(`${src}: ${err}`); resolve(); });
      });
    }
  };
  await Promise.all([worker(), worker()]);
  if (failures.length) throw new Error(`probes did not compile:\n${failures.join('\n')}`);
}

/** Lines "KEY VALUE..." → { KEY: "VALUE..." }. */
function parse(stdout) {
  const got = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) ?(.*)$/.exec(line);
    if (m) got[m[1]] = m[2];
  }
  return got;
}

async function makeWorld() {
  ensureCheckoutReachable();
  const base = userTmpdir('sbx-attack-');
  const w = { base };
  w.home = mkdir(path.join(base, 'home'), 0o700);
  w.data = mkdir(path.join(base, 'data'));
  w.work = mkdir(path.join(base, 'work'));
  w.victim = mkdir(path.join(base, 'victim'));
  w.probes = mkdir(path.join(base, 'probes'));
  mkdir(path.join(w.home, 'Downloads'));
  mkdir(path.join(w.home, 'secret-dir'));
  w.token = `TOPSECRET-${crypto.randomBytes(6).toString('hex')}`;
  w.secret = path.join(w.home, 'secret.txt');
  fs.writeFileSync(w.secret, `${w.token}\n`);
  own(w.secret, 0o600);
  fs.writeFileSync(path.join(w.home, 'secret-dir', 'key'), `${w.token}\n`);
  // the user's own profiles, which a sandbox must not be able to rewrite
  w.profiles = mkdir(path.join(w.home, '.config', 'sandbox', 'profiles'));
  mkdir(path.join(w.home, '.config'));
  mkdir(path.join(w.home, '.config', 'sandbox'));
  for (const [name, parent] of [['homerw-default', 'default'], ['homerw-browser', 'browser']]) {
    const f = path.join(w.profiles, `${name}.json5`);
    fs.writeFileSync(f, `// a home shared read-write: sandbox's own configuration inside it must still be read-only\n{ extends: "${parent}", home: { base: "host", readOnly: false } }\n`);
    own(f, 0o644);
  }
  for (const f of fs.readdirSync(PROBES).filter((f) => !f.endsWith('.c') && !f.endsWith('.h'))) {
    fs.copyFileSync(path.join(PROBES, f), path.join(w.probes, f));
    own(path.join(w.probes, f), f.endsWith('.sh') ? 0o755 : 0o644);
  }
  await compileProbes(w.probes);
  for (const f of fs.readdirSync(w.probes)) own(path.join(w.probes, f));
  // a setuid-root program, bound in read-only from a root-owned directory
  w.suid = path.join(base, 'suid');
  fs.mkdirSync(w.suid, { mode: 0o755 });
  fs.chmodSync(w.suid, 0o755);
  fs.copyFileSync(path.join(w.probes, 'setuid_id'), path.join(w.suid, 'setuid_id'));
  fs.chmodSync(path.join(w.suid, 'setuid_id'), 0o4755);
  w.env = cleanEnv({ HOME: w.home, XDG_DATA_HOME: w.data });
  w.stageHash = hashFile(path.join(ROOT, 'native', 'build', 'sandbox-stage'));
  w.children = [];
  return w;
}

function hashFile(p) {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** A process outside any sandbox, as the same user: its pid, and whether it is still alive and not stopped. */
function startOutside(w, argv) {
  const [cmd, args] = asUser(argv[0], argv.slice(1));
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], env: w.env });
  w.children.push(child);
  return child;
}

function aliveAndRunning(pid) {
  try {
    const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1];
    return state === 'S' || state === 'R';
  } catch {
    return false;
  }
}

/** `sandbox run --profile P --ro-bind PROBES /attack EXTRA -- ARGV` from the project directory. */
function inProfile(w, profile, argv, { extra = [], stdio, cwd, sandboxBin, env } = {}) {
  const args = ['run', '--profile', profile, '--ro-bind', w.probes, '/attack', ...extra, '--', ...argv];
  if (!sandboxBin) return sandboxCli(args, { cwd: cwd ?? w.work, env: env ?? w.env, stdio, timeout: 30000 });
  const [cmd, argv2] = asUser(sandboxBin, args);
  const r = spawnSync(cmd, argv2, { cwd: cwd ?? w.work, env: w.env, encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return r;
}

/** The same, with the sandbox's terminal being a pty whose other side a python process outside holds. */
function underPty(w, profile, argv) {
  const outer = [
    'import pty, os, sys',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    os.execvp(sys.argv[1], sys.argv[1:])',
    'out = b""',
    'while True:',
    '    try: d = os.read(fd, 4096)',
    '    except OSError: break',
    '    if not d: break',
    '    out += d',
    '_, status = os.waitpid(pid, 0)',
    'sys.stdout.write(out.decode(errors="replace").replace("\\r\\n", "\\n"))',
    'sys.exit(os.waitstatus_to_exitcode(status))',
  ].join('\n');
  const [cmd, args] = asUser('python3', ['-c', outer, SANDBOX, 'run', '--profile', profile, '--ro-bind', w.probes, '/attack', '--', ...argv]);
  const r = spawnSync(cmd, args, { cwd: w.work, env: w.env, encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return r;
}

/** A copy of this checkout that the test user owns, so that only the sandbox keeps it from being written. */
function checkoutCopy(w) {
  const copy = path.join(w.base, 'checkout');
  fs.mkdirSync(copy);
  for (const p of ['bin', 'dist', 'lib', 'profiles', 'schema', 'package.json']) fs.cpSync(path.join(ROOT, p), path.join(copy, p), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(copy, 'native', 'build'), { recursive: true });
  for (const bin of ['sandbox', 'sandbox-stage']) {
    fs.copyFileSync(path.join(ROOT, 'native', 'build', bin), path.join(copy, 'native', 'build', bin));
    fs.chmodSync(path.join(copy, 'native', 'build', bin), 0o755);
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  if (IS_ROOT) execFileSync('chown', ['-R', '-h', `${TEST_UID}:${TEST_GID}`, copy]);
  return copy;
}

function cleanup(w) {
  for (const undo of w.cleanups || []) undo();
  for (const c of w.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(w.base, { recursive: true, force: true });
}

module.exports = { mkdir, makeWorld, parse, inProfile, underPty, startOutside, aliveAndRunning, checkoutCopy, hashFile, cleanup, os };
