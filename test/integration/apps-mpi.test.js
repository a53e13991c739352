// Open MPI in the shipped `hpc` profile, as the unprivileged test user: mpicc builds a small MPI_Allreduce
// program in the current directory and `mpirun -np 2` runs it, both ranks inside one sandbox (so they
// share its pid namespace and /dev/shm, which Open MPI's shared-memory transport needs).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { sandboxRun } = require('./apps/run');

const missing = ['mpicc', 'mpirun'].filter((p) => !have(p));
const why = cannotLaunch() || (missing.length ? `${missing.join(' and ')} missing (Debian packages openmpi-bin, libopenmpi-dev)` : null);
if (why) {
  t.skip(`hpc with Open MPI: ${why}`);
  process.exit(0);
}

function project() {
  const dir = userTmpdir('sbx-mpi-');
  const home = userTmpdir('sbx-home-');
  fs.copyFileSync(path.join(__dirname, 'apps', 'allreduce.c'), path.join(dir, 'allreduce.c'));
  if (IS_ROOT) fs.chownSync(path.join(dir, 'allreduce.c'), TEST_UID, TEST_GID);
  return { dir, home, cleanup: () => [dir, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

const ranks = (out) => out.split('\n').filter((l) => l.startsWith('rank ')).sort();
const EXPECTED = ['rank 0 of 2: sum 3', 'rank 1 of 2: sum 3'];
// One core is enough for two ranks: without it Open MPI refuses more ranks than cores.
const NP2 = 'mpirun --oversubscribe -np 2';

t.test('hpc: mpicc and mpirun -np 2 of an MPI_Allreduce program', async (t) => {
  const p = project();
  t.teardown(p.cleanup);
  const r = await sandboxRun(['--profile', 'hpc', '--', 'sh', '-c', `mpicc -o allreduce allreduce.c && ${NP2} ./allreduce`], {
    cwd: p.dir, env: cleanEnv({ HOME: p.home }), timeout: 60000,
  });
  t.comment(`mpicc + mpirun -np 2 took ${r.ms} ms`);
  t.equal(r.status, 0, `exit 0 (${r.stderr.trim().split('\n').slice(-4).join(' | ')})`);
  t.same(ranks(r.stdout), EXPECTED, 'both ranks got the sum');
  t.ok(fs.existsSync(path.join(p.dir, 'allreduce')), 'the program was built in the current directory');
});

t.test('hpc: the job\'s OMPI_MCA_* settings reach mpirun; shared memory only, no remote launcher', async (t) => {
  const p = project();
  t.teardown(p.cleanup);
  // btl self,vader: the ranks can only talk through shared memory, so this fails unless /dev/shm and the
  // shared pid namespace work; plm isolated: mpirun starts local ranks without looking for ssh or rsh.
  const env = cleanEnv({ HOME: p.home, OMPI_MCA_btl: 'self,vader', OMPI_MCA_plm: 'isolated', OMPI_MCA_btl_base_verbose: '10' });
  const r = await sandboxRun(['--profile', 'hpc', '--', 'sh', '-c', `mpicc -o allreduce allreduce.c && ${NP2} ./allreduce`], {
    cwd: p.dir, env, timeout: 60000,
  });
  t.comment(`with btl self,vader and plm isolated: ${r.ms} ms`);
  t.equal(r.status, 0, `exit 0 (${r.stderr.trim().split('\n').slice(-4).join(' | ')})`);
  t.same(ranks(r.stdout), EXPECTED, 'both ranks got the sum');
  t.match(r.stdout + r.stderr, /Using vader btl/, 'the ranks talked through the shared-memory transport');
});
