// A kept plan (the plan cache) used across the steps of one job: the hpc profile binds $PMIX_SERVER_TMPDIR, which
// every srun step names anew (…/pmix.JOB.STEP), and joins pmix-$PMIX_NAMESPACE. The kept plan takes both from each
// launch (records launch-var and join-key), so a new step is a hit that binds its own directory and joins its own
// namespace; a value that would have been planned otherwise (another directory, a symlink, the home) goes to Node.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { sandbox, sandboxAsync, userTmpdir, userDirs, cleanEnv, cannotLaunch, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { cachedRun } = require('../lib/plan-cache-entry');

const why = cannotLaunch();
if (why) {
  t.plan(0, why);
  process.exit(0);
}

const base = userTmpdir('sbx-steps-');
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
const home = path.join(base, 'home');
const job = path.join(base, 'job');
const spool = path.join(base, 'spool');
const other = path.join(base, 'elsewhere');
const mk = userDirs;
for (const d of [home, job, spool, other]) mk(d);
const step = (n) => mk(path.join(spool, `pmix.7.${n}`));

/** One launch as an srun step would make it; with SANDBOX_NO_CACHE the same launch planned by Node. */
function launch(env, script, extra = {}) {
  return cachedRun(['--profile', 'hpc', '--', 'sh', '-c', script], { env: { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), ...env, ...extra }, cwd: job });
}
const uncached = (env, script) => launch(env, script, { SANDBOX_NO_CACHE: '1' });

const SEE = 'echo "$PMIX_SERVER_TMPDIR"; touch "$PMIX_SERVER_TMPDIR/mine" && echo writable; ls -d ' + spool + '/* 2>&1; grep -c " ' + spool + '" /proc/self/mountinfo';

t.test('each step is a hit that binds its own session directory, and only it', async (t) => {
  const first = launch({ PMIX_SERVER_TMPDIR: step(0), PMIX_NAMESPACE: 'slurm.pmix.7.0' }, SEE);
  t.equal(first.status, 0, first.stderr);
  t.notOk(first.hit, 'the first step plans');
  for (const n of [1, 2]) {
    const dir = step(n);
    const r = launch({ PMIX_SERVER_TMPDIR: dir + '/', PMIX_NAMESPACE: `slurm.pmix.7.${n}` }, SEE);
    t.equal(r.status, 0, r.stderr);
    t.ok(r.hit, `step ${n}: a hit (${r.cache})`);
    t.equal(r.stdout, `${dir}/\nwritable\n${dir}\n1\n`, `step ${n}: its own directory, writable; no other step's is there`);
    t.ok(fs.existsSync(path.join(dir, 'mine')), 'written on the host, in the step\'s directory');
    const n2 = uncached({ PMIX_SERVER_TMPDIR: dir + '/', PMIX_NAMESPACE: `slurm.pmix.7.${n}` }, SEE);
    t.same([n2.status, n2.stdout, n2.stderr], [r.status, r.stdout, r.stderr], `step ${n}: as Node plans it`);
  }
});

t.test('a hit joins the namespace of its own step', async (t) => {
  const rt = mk(path.join(base, 'runtime'));
  fs.chmodSync(rt, 0o700);
  const env = (n) => cleanEnv({ HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1', PMIX_SERVER_TMPDIR: step(n), PMIX_NAMESPACE: `slurm.pmix.7.${n}`, XDG_RUNTIME_DIR: rt });
  const member = (n) => {
    const child = sandboxAsync(['--profile', 'hpc', '--', 'sleep', '3'], { env: env(n), cwd: job });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    return { child, err: () => err, done: new Promise((r) => child.on('close', r)) };
  };
  const a = member(3);
  await a.done;
  const b = member(4);
  await new Promise((r) => setTimeout(r, 1500));
  const keys = fs.readdirSync(path.join(rt, 'sandbox', 'join')).filter((k) => k.startsWith('pmix-slurm'));
  await b.done;
  t.match(b.err(), /plan cache: hit/, 'the second step is a hit');
  t.same(keys, ['pmix-slurm.pmix.7.4'], 'while it runs, its join state is named by its own namespace');
  const unset = launch({ PMIX_SERVER_TMPDIR: step(5), XDG_RUNTIME_DIR: rt }, 'sleep 3');
  t.notOk(unset.hit, `no namespace: planned again (${unset.cache})`);
});

t.test('values that Node would plan otherwise are not taken from a kept plan', async (t) => {
  const link = path.join(spool, 'pmix.7.11');
  fs.symlinkSync(other, link);
  if (IS_ROOT) fs.lchownSync(link, TEST_UID, TEST_GID);
  const homeSibling = path.join(spool, 'home');
  const cases = [
    [mk(path.join(other, 'pmix.7.12')), /another directory/, 'in another directory'],
    [link, /symlink/, 'a symlink planted beside the steps\' directories'],
    [spool, /another directory/, 'the directory above the steps'],
  ];
  for (const [value, re, what] of cases) {
    launch({ PMIX_SERVER_TMPDIR: step(10), PMIX_NAMESPACE: 'n10' }, 'echo ran'); // kept for step 10
    const r = launch({ PMIX_SERVER_TMPDIR: value, PMIX_NAMESPACE: 'n10' }, 'echo ran');
    t.notOk(r.hit, `${what}: not a hit`);
    t.match(r.cache, re, `${what}: ${r.cache.split('\n')[0]}`);
    const n = uncached({ PMIX_SERVER_TMPDIR: value, PMIX_NAMESPACE: 'n10' }, 'echo ran');
    t.same([r.status, r.stdout, r.stderr], [n.status, n.stdout, n.stderr], `${what}: the same as Node's plan`);
  }
  // the home in the steps' directory: Node binds it read-only (with a note); the kept plan must not bind it writable
  fs.mkdirSync(homeSibling);
  if (IS_ROOT) fs.chownSync(homeSibling, TEST_UID, TEST_GID);
  const h = sandbox(['--profile', 'hpc', '--', 'sh', '-c', 'touch "$PMIX_SERVER_TMPDIR/x" 2>/dev/null && echo writable || echo read-only'], {
    env: cleanEnv({ HOME: homeSibling, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1', PMIX_SERVER_TMPDIR: homeSibling, PMIX_NAMESPACE: 'n10' }),
    cwd: job,
  });
  t.match(h.stdout, 'read-only', 'the home as the session directory: read-only, as planned by Node');
});

t.test('one command line in a job and outside it: a kept plan for each, both used', async (t) => {
  const inJob = { PMIX_SERVER_TMPDIR: step(20), PMIX_NAMESPACE: 'slurm.pmix.9.0' };
  const rounds = [inJob, {}, inJob, {}, inJob];
  const hits = rounds.map((env) => launch(env, 'echo "[${PMIX_NAMESPACE-none}]"'));
  t.same(hits.map((r) => r.stdout), ['[slurm.pmix.9.0]\n', '[none]\n', '[slurm.pmix.9.0]\n', '[none]\n', '[slurm.pmix.9.0]\n'], 'each launch runs as planned for it');
  t.same(hits.map((r) => r.hit), [false, false, true, true, true], `after one of each, both are hits (${hits.map((r) => r.cache).join(' / ')})`);
  const names = fs.readdirSync(path.join(home, '.cache', 'sandbox', 'plans')).filter((n) => !n.startsWith('.'));
  t.ok(names.some((n) => n.endsWith('.0')) && names.some((n) => n.endsWith('.1')), `two slots of one launch: ${names.join(' ')}`);
});
