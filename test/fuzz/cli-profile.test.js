// Fuzzing the command line and the profile loader: random and mutated argv and profiles, in-process
// (main with a fake io, parseRunArgs, loadProfile, checkProfile) for thousands of cases and through the
// real bin/sandbox for a sample. Every outcome must be success, or exactly one stderr line beginning
// "sandbox: " with exit 125 (126/127 only for exec problems); never a stack trace, an internal error,
// a hang, or a program that ran although sandbox reported an error.
//   FUZZ_SEED=N      replay a run (the seed is printed at the start); FUZZ_SEED=random for a new one each run.
//                    Unset, the seed is fixed, so npm test (and CI) gives the same verdict for the same code:
//                    explore with FUZZ_SEED=random by hand, and fix what it finds with a test of its own.
//   FUZZ_CASES=N     in-process cases (default 3000); FUZZ_SPAWNS=N real launches (default 300)
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');
const { spawn } = require('child_process');
const { asUser, userTmpdir, cleanEnv, ensureCheckoutReachable, cannotLaunch, SANDBOX, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { prng, runArgv, globalArgv, profileSet } = require('./gen');

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'lib');
const FIXED_SEED = 20261207;
const SEED = process.env.FUZZ_SEED === 'random' ? (Date.now() ^ (process.pid << 16)) >>> 0
  : process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== '' ? Number(process.env.FUZZ_SEED) >>> 0 : FIXED_SEED;
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SPAWNS = Number(process.env.FUZZ_SPAWNS ?? 300);
const SPAWN_TIMEOUT = 20000;

t.comment(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${CASES} in-process cases, ${SPAWNS} launches`);

/**
 * Findings the lead knows about, reported as todo instead of failing npm test until fixed.
 * Each entry: a pattern over the problem text, and what it is.
 */
const deep = (p) => /(\[|\{a:|\[\{b:){200}/.test(JSON.stringify(p.input));
// Findings of this fuzzer, all fixed since (deep nesting, a huge env.keep glob, json5's console warnings for
// U+2028/U+2029, the whole help on stderr for a missing command): a problem here is a new one.
const KNOWN = [];
/** The one warning sandbox gives besides an error: limits asked for in best-effort mode that can't apply here. */
const WARNING = /^sandbox: (.*running without limits \(--limits=best-effort\)|Only the last --chdir option will take effect)$/;
// what sandbox says before it starts the program (a note, the profile it chose) is not part of an error
const NOTE = /^sandbox: (note: |using profile )/;

// ---- the places the fuzzer writes: a scratch tree the test user owns ----
const work = userTmpdir('sbx-fuzz-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const dirs = {};
for (const d of ['home', 'config', 'data', 'runtime', 'cwd', 'spawn-config', 'spawn-home', 'profiles']) {
  dirs[d] = path.join(work, d);
  fs.mkdirSync(dirs[d], { recursive: true, mode: 0o755 });
  if (IS_ROOT) fs.chownSync(dirs[d], TEST_UID, TEST_GID);
}
const userProfiles = path.join(dirs.config, 'sandbox', 'profiles');
fs.mkdirSync(userProfiles, { recursive: true });

// ---- in-process: the modules of dist/lib, with the launch replaced by a sentinel ----
const LAUNCH = Symbol('launch');
let launches = 0;
{
  const handoff = require.resolve(path.join(DIST, 'native', 'handoff.js'));
  const fake = new Module(handoff, module);
  fake.filename = handoff;
  fake.loaded = true;
  fake.exports = {
    execStage: (buf, fds) => {
      if (!Buffer.isBuffer(buf) || !Array.isArray(fds)) throw new Error('execStage called with a bad plan');
      launches++;
      throw LAUNCH;
    },
  };
  require.cache[handoff] = fake;
}
const { SandboxError } = require(path.join(DIST, 'errors.js'));
const { main } = require(path.join(DIST, 'cli', 'main.js'));
const { parseRunArgs } = require(path.join(DIST, 'cli', 'run-options.js'));
const P = require(path.join(DIST, 'profile'));

// ASCII only: a U+2028 in a TAP line breaks the stream the runner reads.
const show = (v) => {
  const s = JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > 400 ? `${s.slice(0, 400)}... (${s.length} chars)` : s;
};

/** Problems found, by signature, with the first input that showed each. */
const problems = new Map();
function record(problem, input, output) {
  // Paths, numbers and quoted values vary from case to case; the shape of the problem doesn't.
  const sig = problem.replace(/'[^']*'|"[^"]*"|\/[^\s:]*|\d+/g, '_').slice(0, 200);
  const p = problems.get(sig);
  if (p) p.count++;
  else problems.set(sig, { problem, input, output, count: 1 });
}

/** Runs fn(io) as lib/cli's entry would and returns a problem, or null when the outcome is allowed. */
function judge(fn) {
  const out = [];
  const err = [];
  const io = { out: (s) => out.push(String(s)), err: (s) => err.push(String(s)) };
  let code;
  let thrown;
  // A library that prints on its own (console.warn, a stray write) would add lines to the real stderr.
  const saved = { warn: console.warn, error: console.error, log: console.log, info: console.info, write: process.stderr.write };
  const stray = (...a) => { err.push(a.map(String).join(' ')); return true; };
  console.warn = console.error = console.log = console.info = stray;
  process.stderr.write = stray;
  // CPU time, not wall-clock time: a loaded machine (CI runs test files side by side) must not fail a case
  const t0 = process.cpuUsage();
  try {
    code = fn(io);
  } catch (e) {
    thrown = e;
  } finally {
    Object.assign(console, { warn: saved.warn, error: saved.error, log: saved.log, info: saved.info });
    process.stderr.write = saved.write;
  }
  const used = process.cpuUsage(t0);
  const ms = (used.user + used.system) / 1000;
  if (thrown === LAUNCH) code = 0;
  else if (thrown instanceof SandboxError) {
    err.push(`sandbox: ${thrown.message}`);
    code = thrown.exitCode;
  } else if (thrown !== undefined) {
    return { problem: `threw ${thrown && thrown.name}: ${thrown && thrown.message}`, output: String(thrown && thrown.stack).split('\n').slice(0, 6).join('\n') };
  }
  const stderr = err.join('\n');
  const lines = stderr.split('\n').filter((l) => l !== '' && !WARNING.test(l));
  const output = { code, stderr: stderr.slice(0, 600) };
  if (/internal error/.test(stderr)) return { problem: 'internal error', output };
  if (/\n\s+at /.test(stderr)) return { problem: 'stack trace on stderr', output };
  if (ms > 3000) return { problem: `took ${Math.round(ms)} ms of CPU time`, output };
  if (code === 0 || code === undefined || typeof code === 'object') {
    if (lines.some((l) => !l.startsWith('sandbox: '))) return { problem: 'stray output on stderr', output };
    return null;
  }
  // 127 before the hand-off: the command exists on the host but the plan hides it (lib/plan/hidden.ts)
  const hidden = code === 127 && lines.length >= 1 && / exists on the host but is not visible in this sandbox; /.test(lines[lines.length - 1]);
  if (code !== 125 && !hidden) return { problem: `exit ${code} (expected 0, 125, or 127 for a hidden command)`, output };
  if (hidden) return lines.every((l) => l.startsWith('sandbox: ')) ? null : { problem: 'stray output on stderr with exit 127', output };
  if (lines.length !== 1) return { problem: `${lines.length} lines on stderr with exit 125`, output };
  if (!lines[0].startsWith('sandbox: ')) return { problem: 'the error line does not begin "sandbox: "', output };
  return null;
}

function writeProfiles(dir, files) {
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.json5`), text);
}

t.test('in-process: argv, subcommands and profiles', async (t) => {
  const saved = { cwd: process.cwd(), env: { ...process.env } };
  t.teardown(() => {
    process.chdir(saved.cwd);
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  });
  Object.assign(process.env, { HOME: dirs.home, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, XDG_RUNTIME_DIR: dirs.runtime });
  delete process.env.DEBUG;
  process.chdir(dirs.cwd);
  const root = prng(SEED);
  const counts = { run: 0, parse: 0, global: 0, load: 0, check: 0, 'run-profile': 0, 'profile-cmd': 0, ok: 0, error: 0 };
  const errorsBefore = () => problems.size;
  void errorsBefore;
  const t0 = Date.now();
  for (let i = 0; i < CASES; i++) {
    const r = root.fork();
    const kind = r.int(20);
    let input;
    let fn;
    if (kind < 6) {
      const argv = runArgv(r);
      input = { case: i, main: ['run', ...argv] };
      counts.run++;
      fn = (io) => main(['run', ...argv], io);
    } else if (kind < 8) {
      const argv = runArgv(r);
      input = { case: i, parseRunArgs: argv };
      counts.parse++;
      fn = () => { parseRunArgs(argv, dirs.cwd); return 0; };
    } else if (kind < 10) {
      writeProfiles(userProfiles, profileSet(r).files);
      const argv = globalArgv(r, ['p0', 'p1', path.join(userProfiles, 'p0.json5'), './p0.json5']);
      input = argv.length ? { case: i, main: argv } : `main([]) case ${i}`;
      counts.global++;
      fn = (io) => main(argv, io);
    } else {
      const set = profileSet(r);
      writeProfiles(userProfiles, set.files);
      const ref = r.pick(['p0', path.join(userProfiles, 'p0.json5')]);
      const how = r.pick(['load', 'load', 'check', 'run-profile', 'profile-cmd']);
      input = { case: i, how, ref, files: set.files };
      counts[how]++;
      if (how === 'load') fn = () => { P.loadProfile(ref, P.hostProfileContext('/usr/bin/true')); return 0; };
      else if (how === 'check') fn = () => { P.checkProfile(ref, P.hostProfileContext()); return 0; };
      else if (how === 'run-profile') {
        const extra = runArgv(r, ['true']);
        input.argv = extra;
        fn = (io) => main(['run', '--profile', ref, ...extra], io);
      } else fn = (io) => main(['profile', r.pick(['check', 'show']), ref], io);
    }
    const bad = judge(fn);
    if (bad) record(bad.problem, input, bad.output);
    else counts.ok++;
  }
  t.comment(`in-process: ${CASES} cases in ${Date.now() - t0} ms; ${launches} reached the launch; ${JSON.stringify(counts)}`);
  if (CASES >= 100) t.ok(launches > 0, 'some generated command lines are valid enough to reach the launch');
  report(t, 'in-process');
});

/** Checks the problems recorded so far: known ones as todo, anything else fails with its input. */
function report(t, where) {
  t.comment(`${where}: ${problems.size} distinct problems`);
  for (const [sig, p] of problems) {
    const known = KNOWN.find((k) => k.test(p));
    const msg = `${where}: ${show(p.problem).slice(1, -1)} (${p.count} cases; seed ${SEED}) input ${show(p.input)} output ${show(p.output)}`;
    if (process.env.FUZZ_DUMP) fs.appendFileSync(process.env.FUZZ_DUMP, `${JSON.stringify({ where, ...p, known: known ? known.why : null })}\n`);
    if (known) t.fail(msg, { todo: known.why });
    else t.fail(msg);
    problems.delete(sig);
  }
  t.pass(`${where}: no other problems`);
}

// ---- the real bin/sandbox, as the unprivileged test user ----

function spawnSandbox(args, cwd) {
  return new Promise((resolve) => {
    const [cmd, argv] = asUser(SANDBOX, args);
    let child;
    try {
      child = spawn(cmd, argv, { cwd, env: cleanEnv({ HOME: dirs['spawn-home'], XDG_CONFIG_HOME: dirs['spawn-config'], XDG_RUNTIME_DIR: dirs.runtime }), stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, error: e.message, stdout: '', stderr: '' });
      return;
    }
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let hung = false;
    const timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, SPAWN_TIMEOUT);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: null, error: e.message, stdout: '', stderr: '' }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, hung, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// What the kernel refuses to pass in argv: NUL bytes, single strings over 128 KiB, and more than a
// quarter of the stack limit in all (kept under 1 MB here).
function forExec(argv) {
  let room = 1 << 20;
  return argv.map((a) => {
    // Cut by bytes (a cut character becomes U+FFFD, still valid UTF-8).
    const s = Buffer.from(a.replace(/\0/g, '')).subarray(0, Math.max(0, Math.min(100000, room))).toString('utf8');
    room -= Buffer.byteLength(s) + 1;
    return s;
  });
}

/** Options that read data from a descriptor until its end: on fd 1 or 2 that is the test's own output socket,
 * which ends only when the launch does (bubblewrap waits there too), so such a launch waits for good. */
const READS_FD = new Set(['--file', '--bind-data', '--ro-bind-data']);
const readsOutput = (argv) => argv.some((a, i) => READS_FD.has(a) && (argv[i + 1] === '1' || argv[i + 1] === '2'));

function judgeSpawn(res, { marker, printPlan, args }) {
  const out = { code: res.code, signal: res.signal, stderr: res.stderr.slice(0, 600), stdout: res.stdout.slice(0, 200) };
  if (res.error) return { problem: `spawn failed: ${res.error}`, output: out };
  if (res.hung && readsOutput(args)) return null;
  if (res.hung) return { problem: `no exit within ${SPAWN_TIMEOUT} ms`, output: out };
  const lines = res.stderr.split('\n').filter((l) => l !== '' && !WARNING.test(l) && !NOTE.test(l));
  if (/internal error/.test(res.stderr)) return { problem: 'internal error', output: out };
  if (/\n\s+at |^\s+at /m.test(res.stderr)) return { problem: 'stack trace on stderr', output: out };
  const ran = marker && res.stdout.includes(marker);
  if (res.code === 125) {
    if (lines.length !== 1) return { problem: `${lines.length} lines on stderr with exit 125`, output: out };
    if (!lines[0].startsWith('sandbox: ')) return { problem: 'the error line does not begin "sandbox: "', output: out };
    if (ran) return { problem: 'the program ran although sandbox failed with 125', output: out };
    return null;
  }
  if (printPlan && res.code !== 0) return { problem: `--print-plan exit ${res.code} (expected 0 or 125)`, output: out };
  if (res.code === null) return { problem: `killed by ${res.signal}`, output: out };
  if (res.code === 126 || res.code === 127) {
    if (ran) return { problem: `the program ran and sandbox reported ${res.code}`, output: out };
    if (lines.some((l) => l.startsWith('sandbox: ')) && lines.length !== 1) return { problem: `${lines.length} lines on stderr with exit ${res.code}`, output: out };
  }
  return null;
}

const why = cannotLaunch();
t.test('bin/sandbox: argv, profiles and subcommands', { skip: why ? `launching sandboxes: ${why}` : false }, async (t) => {
  ensureCheckoutReachable();
  const root = prng(SEED ^ 0x5eed);
  const counts = { 'print-plan': 0, launch: 0, 'profile-launch': 0, global: 0, exit: {} };
  const jobs = [];
  for (let i = 0; i < SPAWNS; i++) {
    const r = root.fork();
    const kind = r.int(10);
    const marker = `SBX-FUZZ-RAN-${SEED}-${i}`;
    const cmd = ['sh', '-c', `echo ${marker}`];
    let args;
    let printPlan = false;
    let cwd = dirs.cwd;
    if (kind < 3) {
      args = ['run', '--print-plan', ...runArgv(r, cmd)];
      printPlan = true;
      counts['print-plan']++;
    } else if (kind < 6) {
      const base = r.pick([[], ['--no-profile', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'], ['--profile', 'minimal']]);
      args = ['run', ...base, ...runArgv(r, cmd)];
      counts.launch++;
    } else if (kind < 9) {
      const dir = path.join(dirs.profiles, String(i));
      fs.mkdirSync(dir);
      writeProfiles(dir, profileSet(r).files);
      printPlan = r.chance(0.3);
      args = ['run', '--profile', r.pick([path.join(dir, 'p0.json5'), './p0.json5']), ...(printPlan ? ['--print-plan'] : []), '--', ...cmd];
      cwd = dir;
      counts['profile-launch']++;
    } else {
      const dir = path.join(dirs.profiles, String(i));
      fs.mkdirSync(dir);
      writeProfiles(dir, profileSet(r).files);
      args = globalArgv(r, [path.join(dir, 'p0.json5'), './p1.json5']);
      cwd = dir;
      counts.global++;
    }
    jobs.push({ i, args: forExec(args), marker, printPlan, cwd });
  }
  const t0 = Date.now();
  const concurrency = Math.max(2, Math.min(4, os.cpus().length));
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const res = await spawnSandbox(job.args, job.cwd);
      counts.exit[res.code] = (counts.exit[res.code] ?? 0) + 1;
      const bad = judgeSpawn(res, job);
      if (bad) record(bad.problem, { case: job.i, argv: job.args, cwd: job.cwd, files: job.cwd !== dirs.cwd ? readDir(job.cwd) : undefined }, bad.output);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  t.comment(`bin/sandbox: ${jobs.length} launches in ${Date.now() - t0} ms; ${JSON.stringify(counts)}`);
  if (SPAWNS >= 50) {
    t.ok((counts.exit[0] ?? 0) > 0, 'some launches succeed');
    t.ok((counts.exit[125] ?? 0) > 0, 'some launches are refused');
  }
  report(t, 'bin/sandbox');
});

function readDir(dir) {
  const o = {};
  for (const f of fs.readdirSync(dir)) o[f] = fs.readFileSync(path.join(dir, f), 'utf8').slice(0, 2000);
  return o;
}
