// Open MPI with one sandbox per rank, under a real one-node SLURM (test/hpc/slurm.js) and under mpirun:
//   srun --mpi=pmix -n 2 sandbox run --profile hpc ./mpi-check
//   mpirun -np 2 sandbox run --profile hpc ./mpi-check
//   mpirun --mca orte_fork_agent "sandbox run --profile hpc" -np 2 ./mpi-check   (sandbox as Open MPI's fork agent)
//   sandbox run --profile hpc -- mpirun -np 2 ./mpi-check   (the README's form: mpirun and its ranks in one sandbox)
//   sbatch job.sh, whose step is the srun line above
// mpi-check.c does an allreduce and a 1 MiB send and reply between ranks 0 and 1 (above every eager limit).
// Every launcher runs twice: with Open MPI's defaults (shared memory between ranks: needs the ranks to see
// each other's pids, and single-copy CMA needs them in one user namespace), and with the shared-memory
// transport off (TCP over the host network: what works with private pid namespaces per rank).
// Assertions the product can't meet yet are `todo` with the reason; the lead removes the todo with the fix.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { SANDBOX, userTmpdir, cannotLaunch, cleanEnv, asUser, ensureCheckoutReachable } = require('../lib/harness');
const { startSlurm, cannotStartSlurm, run } = require('./slurm');

const why = cannotLaunch() || cannotStartSlurm();
if (why) {
  t.skip(`per-rank sandboxes under SLURM and mpirun: ${why}`);
  process.exit(0);
}
ensureCheckoutReachable();

const RANK = (r) => new RegExp(`^rank ${r} of 2: sum 3, 1MiB ok, pid \\d+$`, 'm');
const PMIX_ERROR = /PMIX ERROR|PMIx_Init failed|pmix.*error/i;
// Open MPI wraps its help text: "...single_copy_mechanism CMA is\nnot available due to different user namespaces".
const CMA_WARNING = /CMA is\s+not\s+available|single.copy[\s\S]{0,80}not\s+available/i;
// Every rank is pid 2 in a pid namespace of its own; Open MPI's vader maps a peer's segment only when the
// peer's pid differs from its own, so it segfaults in mca_btl_vader_sendi.
// TCP between ranks: vader off, so private pid namespaces don't matter; everything else (PMIx over the
// host network, $PMIX_SERVER_TMPDIR writable, the job's private /tmp and /dev/shm) must already work.
const TCP = { OMPI_MCA_btl: '^vader' };

const dir = userTmpdir('sbx-hpc-');
const APP = path.join(dir, 'mpi-check');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.copyFileSync(path.join(__dirname, 'mpi-check.c'), path.join(dir, 'mpi-check.c'));
const cc = run('mpicc', ['-O1', '-o', APP, path.join(dir, 'mpi-check.c')], { timeout: 60000 });
if (cc.status !== 0) throw new Error(`mpicc failed: ${cc.stderr}`);
fs.chmodSync(APP, 0o755);

const HOME = userTmpdir('sbx-hpc-home-');
t.teardown(() => fs.rmSync(HOME, { recursive: true, force: true }));

/** mpirun as the test user, outside SLURM; resolves to {status, stdout, stderr, ms}. */
function mpirun(env) {
  const timeout = 90000;
  const [cmd, argv] = asUser('mpirun', ['--oversubscribe', '-np', '2', SANDBOX, 'run', '--profile', 'hpc', APP]);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, argv, { cwd: dir, env: cleanEnv({ HOME, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

let slurm = null;
t.before(async () => {
  slurm = await startSlurm(t);
});

const srun = (env) => slurm.userAsync('srun', ['--mpi=pmix', '-n', '2', SANDBOX, 'run', '--profile', 'hpc', APP], { cwd: dir, env: { HOME, ...env }, timeout: 90000 });

async function sbatch(env, name) {
  const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v}'\n`).join('');
  const script = path.join(dir, `${name}.sh`);
  const out = path.join(dir, `${name}.out`);
  fs.writeFileSync(script, `#!/bin/sh\n${exports}exec srun --mpi=pmix -n 2 ${SANDBOX} run --profile hpc ${APP}\n`, { mode: 0o755 });
  const sub = slurm.user('sbatch', ['--parsable', '-n', '2', '-J', name, '-o', out, script], { cwd: dir, env: { HOME }, timeout: 20000 });
  if (sub.status !== 0) return { status: -1, stdout: '', stderr: `sbatch failed: ${sub.stderr}`, ms: 0 };
  const id = sub.stdout.trim().split(';')[0];
  const done = await slurm.waitJob(id, 90000);
  let text = '';
  try {
    text = fs.readFileSync(out, 'utf8');
  } catch {}
  // sbatch's output file holds both streams: the rank lines and any errors.
  return { status: done.state === 'COMPLETED' && done.exit === '0:0' ? 0 : 1, stdout: text, stderr: '', ms: done.ms, state: `${done.state} ${done.exit}` };
}

/** mpirun with sandbox as Open MPI's fork agent: every process mpirun forks (ranks, spawned ones) is sandboxed. */
function mpirunAgent(env) {
  return userRun(['mpirun', '--oversubscribe', '--mca', 'orte_fork_agent', `${SANDBOX} run --profile hpc`, '-np', '2', APP], env);
}

function userRun(argv, env, timeout = 90000) {
  const [cmd, args] = asUser(argv[0], argv.slice(1));
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: dir, env: cleanEnv({ HOME, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The README's form: mpirun in the sandbox, so whatever the ranks spawn stays there too. */
function mpirunInside(env) {
  return userRun([SANDBOX, 'run', '--profile', 'hpc', '--', 'mpirun', '--oversubscribe', '-np', '2', APP], env);
}

const LAUNCHERS = { srun, mpirun, 'mpirun (fork agent)': mpirunAgent, 'mpirun (inside the sandbox)': mpirunInside, sbatch };
const last = (s) => s.trim().split('\n').slice(-6).join(' | ');

for (const [name, launch] of Object.entries(LAUNCHERS)) {
  t.test(`${name}: sandboxed ranks, Open MPI's defaults (shared memory)`, async (t) => {
    const r = await launch({}, `${name}-shm`);
    const all = r.stdout + r.stderr;
    const crash = /mca_btl_vader_sendi/.test(all) ? '; segfault in mca_btl_vader_sendi' : '';
    t.comment(`${name}, defaults: exit ${r.status ?? r.signal}${r.state ? ` (${r.state})` : ''} in ${r.ms} ms${crash}; CMA warning: ${CMA_WARNING.test(all) ? 'yes' : 'no'}`);
    t.notMatch(all, PMIX_ERROR, 'no PMIx error');
    t.test('MPI is correct over shared memory (hpc shares the pid namespace)', async (t) => {
      t.equal(r.status, 0, `exit 0 (${last(all)})`);
      t.match(r.stdout, RANK(0), 'rank 0: allreduce and 1 MiB round trip');
      t.match(r.stdout, RANK(1), 'rank 1: allreduce and 1 MiB round trip');
    });
    t.test('single-copy shared memory is kept (the ranks of a step join one user namespace)', async (t) => {
      t.equal(r.status, 0, 'the job ran');
      t.notMatch(all, CMA_WARNING, 'no "CMA is not available" warning');
      // Landlock confines ptrace and process_vm_readv to one domain: joined ranks go without the scopes for this
      t.notMatch(all, /Read -1, expected \d+, errno = 1/, 'no single-copy read refused (EPERM)');
    });
  });

  t.test(`${name}: sandboxed ranks, TCP between ranks (btl ^vader)`, async (t) => {
    const r = await launch(TCP, `${name}-tcp`);
    const all = r.stdout + r.stderr;
    t.comment(`${name}, btl ^vader: exit ${r.status}${r.state ? ` (${r.state})` : ''} in ${r.ms} ms`);
    t.equal(r.status, 0, `exit 0 (${last(all)})`);
    t.match(r.stdout, RANK(0), 'rank 0: allreduce and 1 MiB round trip');
    t.match(r.stdout, RANK(1), 'rank 1: allreduce and 1 MiB round trip');
    t.notMatch(all, PMIX_ERROR, 'no PMIx error: the PMIx server on 127.0.0.1 and $PMIX_SERVER_TMPDIR are reachable');
  });
}

t.test('srun: the PMIx server directory is writable inside a rank', async (t) => {
  const r = await slurm.userAsync('srun', ['-n', '1', SANDBOX, 'run', '--profile', 'hpc', '--', 'sh', '-c',
    'test -n "$PMIX_SERVER_TMPDIR" && touch "$PMIX_SERVER_TMPDIR/.sbx-probe" && rm "$PMIX_SERVER_TMPDIR/.sbx-probe" && echo writable'],
  { cwd: dir, env: { HOME }, timeout: 30000 });
  t.equal(r.stdout.trim(), 'writable', `PMIX_SERVER_TMPDIR bound read-write (${last(r.stderr)})`);
});

t.test('srun --mpi=pmi2: the descriptor named by $PMI_FD stays open inside', async (t) => {
  // Debian's Open MPI doesn't speak PMI-2, but MPICH, Intel MPI and MVAPICH do: srun hands them an inherited
  // socket and names it in PMI_FD. The stage closes every descriptor not in the plan's keepFds.
  const bare = await slurm.userAsync('srun', ['--mpi=pmi2', '-n', '1', 'sh', '-c', 'test -e /proc/self/fd/$PMI_FD && echo "open $PMI_FD"'],
    { cwd: dir, env: { HOME }, timeout: 30000 });
  if (!/^open \d+/.test(bare.stdout)) {
    t.skip(`srun --mpi=pmi2 gives no PMI_FD here (${last(bare.stdout + bare.stderr)})`);
    return;
  }
  const r = await slurm.userAsync('srun', ['--mpi=pmi2', '-n', '1', SANDBOX, 'run', '--profile', 'hpc', '--', 'sh', '-c',
    'test -e /proc/self/fd/$PMI_FD && echo "open $PMI_FD" || echo "closed $PMI_FD"'], { cwd: dir, env: { HOME }, timeout: 30000 });
  t.comment(`outside: ${bare.stdout.trim()}; inside: ${r.stdout.trim()}`);
  t.match(r.stdout, /^open \d+/, 'the PMI-2 socket is inherited (the plan keeps the descriptor $PMI_FD names)');
});

t.test('hpc: seccomp lets process_vm_readv through (single-copy CMA)', { skip: !require('../lib/harness').have('python3') && 'python3 missing' }, async (t) => {
  fs.copyFileSync(path.join(__dirname, 'process-vm.py'), path.join(dir, 'process-vm.py'));
  fs.chmodSync(path.join(dir, 'process-vm.py'), 0o644);
  const r = await slurm.userAsync(SANDBOX, ['run', '--profile', 'hpc', '--', 'python3', 'process-vm.py'], { cwd: dir, env: { HOME }, timeout: 30000 });
  t.match(r.stdout, /process_vm_readv 5 b'hello'/, `read its own memory (${last(r.stdout + r.stderr)})`);
});

t.test('isolation inside a step: unbound host paths invisible, home and sandbox\'s own files read-only', async (t) => {
  // a host directory the hpc profile doesn't bind (under /srv, which no profile shows)
  const secretDir = fs.mkdtempSync('/srv/sbx-hpc-secret-');
  fs.writeFileSync(path.join(secretDir, 'secret'), 'host secret\n');
  fs.chmodSync(secretDir, 0o755);
  t.teardown(() => fs.rmSync(secretDir, { recursive: true, force: true }));
  const root = path.resolve(__dirname, '..', '..');
  const probe = [
    `cat ${secretDir}/secret 2>&1 | head -1`,
    'touch "$HOME/sbx-probe" 2>&1 | head -1',
    `touch ${root}/profiles/sbx-probe 2>&1 | head -1`,
    'echo step-ran',
  ].join('; ');
  const r = await slurm.userAsync('srun', ['--mpi=pmix', '-n', '1', SANDBOX, 'run', '--profile', 'hpc', '--', 'sh', '-c', probe],
    { cwd: dir, env: { HOME }, timeout: 30000 });
  t.match(r.stdout, /step-ran/, last(r.stdout + r.stderr));
  t.match(r.stdout, /secret: No such file or directory/, 'a host path the profile does not bind is not there');
  t.match(r.stdout, /sbx-probe.*Read-only file system/, 'the home is read-only');
  t.match(r.stdout, new RegExp(`${root.replace(/[/.]/g, '\\$&')}/profiles/sbx-probe.*(Read-only file system|Permission denied|No such file)`), 'sandbox\'s own files can\'t be written');
  t.notOk(fs.existsSync(path.join(HOME, 'sbx-probe')));
  t.notOk(fs.existsSync(path.join(root, 'profiles', 'sbx-probe')));
});

t.test('srun: MPI_Comm_spawn from a rank starts nothing outside the sandbox', async (t) => {
  const spawnApp = path.join(dir, 'spawn-check');
  const cc2 = run('mpicc', ['-O1', '-o', spawnApp, path.join(__dirname, 'spawn-check.c')], { timeout: 60000 });
  t.equal(cc2.status, 0, `mpicc spawn-check.c (${cc2.stderr.trim()})`);
  fs.chmodSync(spawnApp, 0o755);
  const secretDir = fs.mkdtempSync('/srv/sbx-hpc-spawn-');
  fs.writeFileSync(path.join(secretDir, 'host-file'), 'x\n');
  fs.chmodSync(secretDir, 0o755);
  t.teardown(() => fs.rmSync(secretDir, { recursive: true, force: true }));
  const r = await slurm.userAsync('srun', ['--mpi=pmix', '-n', '1', SANDBOX, 'run', '--profile', 'hpc', spawnApp, path.join(secretDir, 'host-file')],
    { cwd: dir, env: { HOME }, timeout: 60000 });
  const all = r.stdout + r.stderr;
  t.comment(`srun + MPI_Comm_spawn: exit ${r.status} in ${r.ms} ms: ${last(all)}`);
  t.match(r.stdout, /^parent: uid_map lines \d+ \[[^\]]*\], Seccomp 2, probe absent$/m, 'the rank ran sandboxed');
  t.notMatch(r.stdout, /^child: .*Seccomp 0/m, 'no spawned process outside the seccomp filter');
  t.notMatch(r.stdout, /^child: .*probe visible/m, 'no spawned process that sees the host file');
  t.match(r.stdout, /^parent: spawn refused/m, 'SLURM\'s PMIx server refuses the spawn');
});

t.test('srun: a rank\'s view of /tmp and /dev/shm is the job\'s own; the PMIx directory is bound', async (t) => {
  const r = await slurm.userAsync('srun', ['--mpi=pmix', '-n', '1', SANDBOX, 'run', '--profile', 'hpc', '--', 'sh', '-c',
    `env | grep -E "^(PMIX_SERVER_TMPDIR|PMIX_SYSTEM_TMPDIR|TMPDIR)=" | sort | tr "\\n" " "; echo; echo "tmp: $(ls -A /tmp | tr "\\n" " ")"; echo "shm: $(ls -A /dev/shm | tr "\\n" " ")"; echo "slurm dir: $(ls -A ${slurm.dir} | tr "\\n" " ")"; test -d "$PMIX_SERVER_TMPDIR" && echo pmix-dir-there`],
  { cwd: dir, env: { HOME }, timeout: 30000 });
  t.comment(`inside an srun step: ${r.stdout.trim().replace(/\n/g, ' | ')}`);
  t.match(r.stdout, /pmix-dir-there/, `$PMIX_SERVER_TMPDIR is there (${last(r.stderr)})`);
  t.match(r.stdout, /(^|\s)TMPDIR=\/tmp\s/, 'SLURM sets TMPDIR=/tmp (so hpc must not bind $TMPDIR whole)');
  // this test's SLURM lives in the host's /tmp; inside, only the path to the PMIx directory in its spool is there
  t.match(r.stdout, /^slurm dir: spool\s*$/m, 'of the SLURM directory in the host\'s /tmp, only the spool path (no slurm.conf, no munge)');
  t.match(r.stdout, /^shm: \s*$/m, '/dev/shm is empty: the job\'s own, not the host\'s');
});

t.test('srun steps of one allocation: after the first, a step launches from the kept plan, with its own PMIx directory', async (t) => {
  // each step names its own PMIx namespace and session directory; the kept plan takes both from the launch
  const script = path.join(dir, 'steps.sh');
  const probe = `${SANDBOX} run --profile hpc -- sh -c 'touch "$PMIX_SERVER_TMPDIR/.sbx-step" && echo "step dir $PMIX_SERVER_TMPDIR writable"'`;
  fs.writeFileSync(script, `#!/bin/sh\nexport SANDBOX_CACHE_DEBUG=1\nfor i in 1 2 3; do srun -n 1 ${probe} 2>&1; done\n`, { mode: 0o755 });
  const r = await slurm.userAsync('salloc', ['-n', '1', script], { cwd: dir, env: { HOME }, timeout: 90000 });
  const out = r.stdout + r.stderr;
  t.comment(out.split('\n').filter((l) => /plan cache|step dir/.test(l)).join(' | '));
  const dirs = [...out.matchAll(/^step dir (\S+) writable$/gm)].map((m) => m[1]);
  t.equal(dirs.length, 3, 'three steps ran, each could write its PMIx directory');
  t.equal(new Set(dirs).size, 3, 'each step its own directory');
  t.equal((out.match(/plan cache: hit /g) ?? []).length, 2, 'the second and third steps were hits');
});
