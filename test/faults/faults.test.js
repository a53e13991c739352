// Faults, with nothing lost and nothing left behind: the monitor or the caller killed, a hundred sandboxes
// at once, signals and exit statuses passed through, a program that closes stdout or leaves a thousand
// zombies, and a read-write bind killed mid-write. Processes are found by a marker unique to this run in
// their argv (/proc/*/cmdline), so the test only ever looks at, and kills, what it started.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { sandbox, sandboxAsync, asUser, BASE, SANDBOX, TEST_UID, TEST_GID, IS_ROOT, userTmpdir, cleanEnv, cannotLaunch, ensureCheckoutReachable, have } = require('../lib/harness');

const why = cannotLaunch() ?? (!have('bash') && 'bash is missing');
if (why) {
  t.skip(`faults: ${why}`);
  process.exit(0);
}
const PY = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null;

const RUN = `sbxfault${process.pid}x${Date.now().toString(36)}`;
let serial = 0;
/** A marker for one test's processes: "exec -a MARKER" puts it in argv[0]. */
const marker = (what) => `${RUN}-${what}-${serial++}`;

/**
 * Pids whose argv[0] begins with the marker (only processes this test started carry it); with
 * anywhere, also those that carry it elsewhere in argv, such as the launcher's own command line.
 */
function pidsWith(text, anywhere = false) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    if (anywhere ? cmd.includes(text) : cmd.startsWith(text)) out.push(Number(p));
  }
  return out;
}

function state(pid) {
  try {
    return /\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'))[1];
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms, step = 20) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v || Date.now() > end) return v;
    await sleep(step);
  }
}

/** Kill what is left of this run's processes at the end, by pid and marker only. */
t.teardown(() => {
  for (const p of pidsWith(RUN, true)) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
});

const exited = (child) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
  child.on('exit', (code, signal) => resolve({ code, signal }));
});

/** Starts a sandbox whose program is a few sleeps named by the marker; resolves once they all run. */
async function sleepers(t, m, extra = [], n = 3) {
  const script = Array.from({ length: n - 1 }, (_, i) => `(exec -a ${m}-child${i} sleep 1000) &`).join(' ') + ` exec -a ${m}-main sleep 1000`;
  const child = sandboxAsync([...BASE, ...extra, '--', 'bash', '-c', script]);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const up = await until(() => pidsWith(m).length >= n, 15000);
  t.ok(up, `the ${n} processes of the program run (${stderr.trim()})`);
  return child;
}

t.test('kill -9 of the monitor takes the whole sandbox down', async (t) => {
  const m = marker('monitor');
  const child = await sleepers(t, m);
  const exe = fs.readlinkSync(`/proc/${child.pid}/exe`);
  t.match(exe, /sandbox-stage/, 'the pid the caller started is the monitor (the native stage)');
  process.kill(child.pid, 'SIGKILL');
  t.same(await exited(child), { code: null, signal: 'SIGKILL' });
  const gone = await until(() => pidsWith(m).length === 0, 5000);
  t.ok(gone, `no process of the sandbox is left: ${pidsWith(m).join(' ')}`);
});

t.test('the parent of sandbox dying takes the whole sandbox down', async (t) => {
  ensureCheckoutReachable();
  const m = marker('parent');
  const script = `env -u NODE_OPTIONS "$0" run ${BASE.join(' ')} -- bash -c 'exec -a ${m}-main sleep 1000' & wait`;
  const [cmd, argv] = asUser('sh', ['-c', script, SANDBOX]);
  const parent = spawn(cmd, argv, { cwd: os.tmpdir(), env: cleanEnv(), stdio: 'ignore' });
  t.ok(await until(() => pidsWith(m).length === 1, 15000), 'the program runs');
  process.kill(parent.pid, 'SIGKILL');
  await exited(parent);
  t.ok(await until(() => pidsWith(m).length === 0, 5000), `no process of the sandbox is left: ${pidsWith(m).join(' ')}`);
  t.same(pidsWith(m, true), [], 'nothing with the marker, not even the launcher');
});

t.test('the parent bin/sandbox started under, gone before the launcher runs: nothing starts', async (t) => {
  // bin/sandbox is a shell script that execs the launcher; it names the parent it started under in SANDBOX_PPID_<its
  // pid>, and the launcher (the same process) exits 125 when its parent is another by then (it was reparented)
  const launcher = require('path').join(require('../lib/harness').ROOT, 'native', 'build', 'sandbox');
  const m = marker('orphan');
  const [cmd, argv] = asUser('sh', ['-c', `export SANDBOX_PPID_$$=1; exec "$0" run ${BASE.join(' ')} -- bash -c 'exec -a ${m} true'`, launcher]);
  const r = require('child_process').spawnSync(cmd, argv, { cwd: os.tmpdir(), env: cleanEnv(), encoding: 'utf8' });
  t.equal(r.status, 125, 'refused: the parent it started under (here made up) is not its parent now');
  const [cmd2, argv2] = asUser('sh', ['-c', `export SANDBOX_PPID_1=$$; exec "$0" run ${BASE.join(' ')} -- echo ran`, launcher]);
  const r2 = require('child_process').spawnSync(cmd2, argv2, { cwd: os.tmpdir(), env: cleanEnv(), encoding: 'utf8' });
  t.equal(r2.stdout, 'ran\n', `a value for another pid is not this launch's (${r2.stderr.trim()})`);
});

t.test('--die-with-parent is on by default: a parent killed while sandbox starts leaves nothing', async (t) => {
  // The parent dies at random points of the launch; whatever happened, nothing may remain.
  const m = marker('early');
  for (let i = 0; i < 8; i++) {
    const script = `env -u NODE_OPTIONS "$0" run ${BASE.join(' ')} -- bash -c 'exec -a ${m}-${i} sleep 1000' & wait`;
    const [cmd, argv] = asUser('sh', ['-c', script, SANDBOX]);
    const parent = spawn(cmd, argv, { cwd: os.tmpdir(), env: cleanEnv(), stdio: 'ignore' });
    await sleep(20 + i * 25);
    process.kill(parent.pid, 'SIGKILL');
    await exited(parent);
  }
  const left = (await until(() => pidsWith(m).length === 0, 3000)) ? [] : pidsWith(m);
  // The launcher (native/launch.c) arms PR_SET_PDEATHSIG before Node starts and the stage checks the parent it saw,
  // so a parent that dies during start-up takes everything down (this test found it leaving orphans before).

  t.same(left, [], 'no program is left');
  for (const p of left) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Everything on the host that a sandbox could leave behind. Other test files run at the same time and
 * make scratch directories (the harness's /tmp/sbx-XXXXXX) and mounts under them: those are left out.
 */
const othersScratch = /^sbx-[A-Za-z-]*-?[A-Za-z0-9]{6}$/;
function hostTraces(dirs, own) {
  const list = (d) => { try { return fs.readdirSync(d).filter((n) => d !== os.tmpdir() || !othersScratch.test(n) || own.includes(path.join(d, n))).sort(); } catch { return []; } };
  const foreign = (mp) => mp.startsWith(`${os.tmpdir()}/sbx-`) && !own.some((o) => mp === o || mp.startsWith(`${o}/`));
  const cg = spawnSync('find', ['/sys/fs/cgroup', '-xdev', '-mindepth', '1', '-maxdepth', '6', '-type', 'd'], { encoding: 'utf8' });
  return {
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l && !foreign(l.split(' ')[4])).map((l) => l.split(' ').slice(3, 10).join(' ')).sort(),
    ...Object.fromEntries(dirs.map((d) => [d, list(d)])),
    cgroups: (cg.stdout || '').split('\n').filter(Boolean).filter((d) => !d.includes('/process_api/')).sort(),
  };
}

t.test('100 sandboxes started at once all succeed and leave nothing behind', async (t) => {
  const runtime = userTmpdir('sbx-runtime-');
  const home = userTmpdir('sbx-home-');
  const tmp = userTmpdir('sbx-tmpdir-');
  t.teardown(() => { for (const d of [runtime, home, tmp]) fs.rmSync(d, { recursive: true, force: true }); });
  // The launches get TMPDIR, HOME and XDG_RUNTIME_DIR of their own, so whatever sandbox itself writes on the
  // host lands there; the shared /tmp and /dev/shm are not watched (other suites, MPI among them, write there
  // as the same user while this runs), and the sandboxes can't write either (a tmpfs /tmp and a private /dev).
  const watched = [tmp, runtime, home, '/run/user'];
  const before = hostTraces(watched, [runtime, home, tmp]);
  const m = marker('hundred');
  const N = 100;
  const t0 = Date.now();
  const runs = await Promise.all(Array.from({ length: N }, (_, i) => new Promise((resolve) => {
    // Half with the default profile, which does the most (home, /tmp, the current directory).
    const args = i % 2 ? [...BASE, '--', 'bash', '-c', `exec -a ${m}-${i} sh -c 'echo ok-$0' ${m}-${i}`] : ['--', 'bash', '-c', `exec -a ${m}-${i} sh -c 'echo ok-$0' ${m}-${i}`];
    const child = sandboxAsync(args, { env: cleanEnv({ HOME: home, XDG_RUNTIME_DIR: runtime, TMPDIR: tmp }), cwd: home });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ i, code, signal, out, err }); });
  })));
  const failed = runs.filter((r) => r.code !== 0 || r.out.trim() !== `ok-${m}-${r.i}`);
  t.same(failed.map((r) => `${r.i}: ${r.code ?? r.signal} ${r.err.trim()}`), [], `all ${N} exit 0 with their output (${Date.now() - t0} ms)`);
  t.ok(await until(() => pidsWith(m, true).length === 0, 5000), 'no process is left');
  const after = hostTraces(watched, [runtime, home, tmp]);
  t.same(after.mounts, before.mounts, 'the host mount table is unchanged');
  // the registry of running sandboxes stays (every later plan hides it: see lib/running/registry.ts), empty; the plan
  // cache keeps plans on purpose (README, The plan cache): $XDG_RUNTIME_DIR/sandbox/{running,plans} and nothing else
  for (const d of watched) t.same(after[d].filter((n) => d !== runtime || n !== 'sandbox'), before[d], `nothing new in ${d}`);
  t.same(fs.readdirSync(path.join(runtime, 'sandbox')).filter((n) => n !== 'plans'), ['running'], 'only the registry and the plan cache in the runtime directory');
  t.same(fs.readdirSync(path.join(runtime, 'sandbox', 'running')), [], 'no entry of a sandbox left in the registry');
  t.same(after.cgroups, before.cgroups, 'no cgroup is left');
});

t.test('exit statuses 0-255 pass through unchanged', async (t) => {
  const all = process.env.FAULTS_ALL_CODES ? Array.from({ length: 256 }, (_, i) => i) : null;
  const codes = all ?? [...new Set([0, 1, 2, 3, 7, 42, 63, 64, 100, 124, 125, 126, 127, 128, 129, 130, 137, 143, 200, 250, 253, 254, 255, 256 - 1, Math.floor(Math.random() * 256)])];
  // One sandbox runs a loop over many codes (each a child of a shell inside), and a few real sandboxes
  // exit with a code themselves: the loop shows the kernel's side, the sandboxes the launcher's.
  const loop = sandbox([...BASE, '--', 'bash', '-c', 'for c in $(seq 0 255); do bash -c "exit $c"; echo -n "$? "; done']);
  t.equal(loop.stdout.trim(), Array.from({ length: 256 }, (_, i) => i).join(' '), 'inside: a loop over 0-255 sees each code');
  const results = await Promise.all(codes.map((c) => new Promise((resolve) => {
    const child = sandboxAsync([...BASE, '--', 'sh', '-c', `exit ${c}`]);
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ c, code, err }));
  })));
  for (const r of results) t.equal(r.code, r.c, `exit ${r.c} → ${r.code} ${r.err.trim()}`);
});

t.test('killed by a signal: exit 128+N', async (t) => {
  const sigs = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGXCPU: 24, SIGSYS: 31 };
  const results = await Promise.all(Object.entries(sigs).map(([name, n]) => new Promise((resolve) => {
    // sh, not bash: bash -c ignores SIGQUIT sent to itself
    const child = sandboxAsync([...BASE, '--', 'sh', '-c', `kill -${n} $$; sleep 5`]);
    child.on('close', (code) => resolve({ name, n, code }));
  })));
  for (const r of results) t.equal(r.code, 128 + r.n, `${r.name} → ${128 + r.n}`);
});

t.test('SIGINT, SIGTERM, SIGHUP and SIGUSR1 sent to sandbox reach the program', async (t) => {
  for (const [sig, n] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1], ['SIGUSR1', 10]]) {
    // Default action: the program dies of the signal, the sandbox reports 128+N.
    const m = marker(`sig${n}`);
    const child = await sleepers(t, m, [], 2);
    process.kill(child.pid, sig);
    const r = await exited(child);
    t.equal(r.code, 128 + n, `${sig}: the program died of it, status ${128 + n}`);
    t.ok(await until(() => pidsWith(m).length === 0, 5000), `${sig}: nothing is left`);
    // A program that handles it: its own exit status comes back.
    const m2 = marker(`trap${n}`);
    const trapper = sandboxAsync([...BASE, '--', 'bash', '-c', `trap 'exit 42' ${sig.slice(3)}; exec -a ${m2} sleep 1000 & wait; exit 3`]);
    // bash waits in "wait"; the signal interrupts it and runs the trap.
    const program = await until(() => pidsWith(m2).length === 1, 15000);
    t.ok(program, 'the trapping program runs');
    await sleep(100);
    process.kill(trapper.pid, sig);
    const r2 = await exited(trapper);
    t.equal(r2.code, 42, `${sig}: the program's trap ran, its status 42 came back`);
    for (const p of pidsWith(m2)) process.kill(p, 'SIGKILL'); // the orphaned sleep died with the namespace; this only guards
  }
});

t.test('a program that closes stdout, or all of 0-2, is handled', async (t) => {
  const t0 = Date.now();
  const r = sandbox([...BASE, '--', 'sh', '-c', 'exec >&-; sleep 0.1; echo x >&2'], { timeout: 10000 });
  t.equal(r.status, 0);
  t.equal(r.stderr, 'x\n');
  t.equal(r.stdout, '');
  const all = sandbox([...BASE, '--', 'sh', '-c', 'exec <&- >&- 2>&-; sleep 0.1; exit 7'], { timeout: 10000 });
  t.equal(all.status, 7, 'stdin, stdout and stderr closed: the status still comes back');
  // The reader goes away first: the program gets EPIPE/SIGPIPE, the sandbox ends.
  const child = sandboxAsync([...BASE, '--', 'sh', '-c', 'while :; do echo y; done']);
  child.stdout.once('data', () => child.stdout.destroy());
  const e = await exited(child);
  t.equal(e.code, 128 + 13, 'a closed pipe: the program dies of SIGPIPE, status 141');
  t.ok(Date.now() - t0 < 10000, `prompt (${Date.now() - t0} ms)`);
});

t.test('1,000 zombies are reaped by init, and a parent that leaves them exits promptly', { skip: !PY && '/usr/bin/python3 is missing' }, async (t) => {
  const forker = 'import os\nfor i in range(1000):\n    if os.fork() == 0:\n        os._exit(0)\nos._exit(0)';
  // The forker's parent exits without waiting: its 1,000 children become init's, which must reap them.
  const script = `${PY} -c "$0"; sleep 0.5; z=0; for s in /proc/[0-9]*/stat; do read -r l < $s 2>/dev/null || continue; case "\${l##*) }" in Z*) z=$((z+1));; esac; done; echo "zombies=$z"; ls -d /proc/[0-9]* | wc -l`;
  const t0 = Date.now();
  const r = sandbox([...BASE, '--', 'bash', '-c', script, forker], { timeout: 30000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^zombies=0\n/, 'no zombie left inside');
  t.ok(Number(r.stdout.split('\n')[1]) < 10, `only a few processes remain (${r.stdout.split('\n')[1]})`);
  // The program itself leaves the zombies and exits: the sandbox ends at once with its status.
  const t1 = Date.now();
  const direct = sandbox([...BASE, '--', PY, '-c', forker.replace(/os\._exit\(0\)$/, 'os._exit(5)')], { timeout: 30000 });
  t.equal(direct.status, 5, direct.stderr);
  t.ok(Date.now() - t1 < 10000, `prompt (${Date.now() - t1} ms; ${t1 - t0} ms for the first)`);
});

t.test('a read-write bind keeps every synced record when the sandbox is killed mid-write', { skip: !PY && '/usr/bin/python3 is missing' }, async (t) => {
  const dir = userTmpdir('sbx-write-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writer = [
    'import os, sys',
    'fd = os.open(sys.argv[1] + "/log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)',
    'i = 0',
    'while True:',
    '    os.write(fd, ("%08d " % i + "x" * (i % 997) + "\\n").encode())',
    '    os.fsync(fd)',
    '    os.write(1, b"%d\\n" % i)',
    '    i += 1',
  ].join('\n');
  const child = sandboxAsync([...BASE, '--bind', dir, dir, '--', PY, '-c', writer, dir]);
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  t.ok(await until(() => out.split('\n').length > 200, 15000), `the writer runs ${err.trim()}`);
  await sleep(300);
  process.kill(child.pid, 'SIGKILL');
  await exited(child);
  const synced = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  const last = synced[synced.length - 1];
  t.ok(last > 100, `the writer synced ${last + 1} records before the kill`);
  const text = fs.readFileSync(path.join(dir, 'log'), 'latin1');
  let expect = '';
  for (let i = 0; i <= last; i++) expect += `${String(i).padStart(8, '0')} ${'x'.repeat(i % 997)}\n`;
  t.ok(text.startsWith(expect), `every record up to ${last} is in the file, intact`);
  const rest = text.slice(expect.length);
  const next = `${String(last + 1).padStart(8, '0')} ${'x'.repeat((last + 1) % 997)}\n`;
  t.ok(rest === '' || rest === next || next.startsWith(rest) || rest.startsWith(next), `after them at most the record being written (${rest.length} bytes)`);
  if (IS_ROOT) t.equal(fs.statSync(path.join(dir, 'log')).uid, TEST_UID, 'the file belongs to the user on the host');
  void TEST_GID;
});
