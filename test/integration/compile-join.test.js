// A compiled plan keeps the profile's join (`namespaces.join: "pmix-${PMIX_NAMESPACE}"` in hpc): the key is resolved
// by the stage at each launch from the launch's environment (record join-key), so the ranks of one job share one set
// of namespaces as under `sandbox run`, and Open MPI's single-copy transfers (CMA) work between them.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync, spawn } = require('child_process');
const { sandboxCli, userTmpdir, cannotLaunch, asUser, have, cleanEnv, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans with a join: ${why}`);
  process.exit(0);
}

function project(profileText) {
  const dir = userTmpdir('sbx-cjoin-');
  const runtime = path.join(dir, 'run');
  fs.mkdirSync(runtime, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'p.json5'), profileText);
  if (IS_ROOT) spawnSync('chown', ['-R', `${TEST_UID}:${TEST_GID}`, dir]);
  return { dir, runtime, plan: path.join(dir, 'p.plan') };
}

const launchAsync = (plan, args, env) => {
  const [cmd, argv] = asUser(plan, ['--', ...args]);
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { env: { PATH: '/usr/bin:/bin', ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    c.on('close', (code) => resolve({ code, out, err }));
  });
};

t.test('the join key is the launch\'s: the same key joins, another or none does not', async (t) => {
  const p = project('{ extends: "minimal", namespaces: { join: "job-${JOBKEY}" } }\n');
  // compiled outside any job: JOBKEY unset then
  const c = sandboxCli(['compile', '--profile', path.join(p.dir, 'p.json5'), '-o', p.plan], { cwd: p.dir, env: cleanEnv({ HOME: p.dir }) });
  t.equal(c.status, 0, c.stderr);
  const ns = 'readlink /proc/self/ns/pid';
  const env = (key) => ({ XDG_RUNTIME_DIR: p.runtime, ...(key ? { JOBKEY: key } : {}) });
  const first = launchAsync(p.plan, ['sh', '-c', `${ns}; sleep 1.5`], env('a'));
  await new Promise((r) => setTimeout(r, 600));
  const same = await launchAsync(p.plan, ['sh', '-c', ns], env('a'));
  const other = await launchAsync(p.plan, ['sh', '-c', ns], env('b'));
  const none = await launchAsync(p.plan, ['sh', '-c', ns], env(null));
  const f = await first;
  for (const r of [f, same, other, none]) t.equal(r.code, 0, r.err);
  t.equal(same.out, f.out, 'JOBKEY=a again: the first member\'s pid namespace');
  t.not(other.out, f.out, 'JOBKEY=b: a namespace of its own');
  t.not(none.out, f.out, 'no JOBKEY: no joining');
  const bad = await launchAsync(p.plan, ['true'], env('x/y'));
  t.equal(bad.code, 125);
  t.match(bad.err, /^sandbox: .*p\.json5:\d+:\d+: found "job-x\/y", expected a join key/);
  t.equal(bad.err.split('\n').length, 2, 'one line');
});

t.test('hpc compiled: mpirun -np 2 PLAN -- ./app keeps single-copy shared memory', { skip: !(have('mpicc') && have('mpirun')) && 'mpicc or mpirun missing (Debian packages openmpi-bin, libopenmpi-dev)' }, async (t) => {
  const p = project('{}\n');
  const home = path.join(p.dir, 'home');
  const proj = path.join(p.dir, 'proj');
  fs.mkdirSync(home);
  fs.mkdirSync(proj);
  fs.copyFileSync(path.join(__dirname, 'apps', 'allreduce.c'), path.join(proj, 'allreduce.c'));
  if (IS_ROOT) spawnSync('chown', ['-R', `${TEST_UID}:${TEST_GID}`, p.dir]);
  const env = cleanEnv({ HOME: home });
  const [cc, ccArgs] = asUser('mpicc', ['-o', 'allreduce', 'allreduce.c']);
  t.equal(spawnSync(cc, ccArgs, { cwd: proj, env }).status, 0, 'mpicc');
  const plan = path.join(p.dir, 'job.plan');
  const c = sandboxCli(['compile', '--profile', 'hpc', '-o', plan], { cwd: proj, env });
  t.equal(c.status, 0, c.stderr);
  const [cmd, argv] = asUser('mpirun', ['--oversubscribe', '-np', '2', plan, '--', './allreduce']);
  const r = spawnSync(cmd, argv, { cwd: proj, env: { ...env, OMPI_MCA_btl: 'self,vader', OMPI_MCA_plm: 'isolated' }, encoding: 'utf8', timeout: 60000 });
  const all = r.stdout + r.stderr;
  t.equal(r.status, 0, all.split('\n').slice(-6).join(' | '));
  t.same(r.stdout.split('\n').filter((l) => l.startsWith('rank ')).sort(), ['rank 0 of 2: sum 3', 'rank 1 of 2: sum 3']);
  t.notMatch(all, /CMA is\s+not\s+available|single.copy[\s\S]{0,80}not\s+available/i, 'no "CMA is not available" warning');
});
