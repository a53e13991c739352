// sandbox compile / sandbox-exec: a plan written once and launched with no Node, its inputs checked each time.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, cannotLaunch, asUser, ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans: ${why}`);
  process.exit(0);
}
const EXEC = path.join(ROOT, 'native', 'build', 'sandbox-exec');
const launch = (plan, args, env) => {
  const [cmd, argv] = asUser(EXEC, [plan, '--', ...args]);
  // a bare environment with the job's variables (sandbox-exec is the C stage alone: no Node is run)
  return spawnSync(cmd, argv, { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });
};

t.test('compile once, launch many times without Node; the environment comes from each launch', async (t) => {
  const dir = userTmpdir();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'input.txt'), 'forty-two\n');
  const prof = path.join(dir, 'job.json5');
  fs.writeFileSync(prof, '{ extends: "minimal", env: { keep: ["JOB_*"], set: { STAGE: "compiled" } } }\n');
  spawnSync('chown', ['-R', '65534:65534', dir]);
  const plan = path.join(dir, 'job.plan');
  const c = sandboxCli(['compile', '--profile', prof, '--ro-bind', data, '/data', '-o', plan], { cwd: dir });
  t.equal(c.status, 0, c.stderr);
  t.match(c.stderr, /^sandbox: wrote .*job\.plan/);
  t.match(fs.readFileSync(plan, 'latin1'), /^#!.*\/native\/build\/sandbox-exec\n12:sandbox-plan,1:2,/);
  for (const id of ['1', '2']) {
    const r = launch(plan, ['sh', '-c', 'echo "$JOB_ID $STAGE ${SECRET-unset}"; cat /data/input.txt; grep -c . /proc/self/uid_map'], { JOB_ID: id, SECRET: 'x' });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${id} compiled unset\nforty-two\n1\n`, `launch ${id}: its own JOB_ID, the plan's STAGE, nothing else of the host`);
  }
  const direct = spawnSync(...asUser(plan, ['--', 'true']), { encoding: 'utf8' });
  t.equal(direct.status, 0, 'the plan file runs by itself (#! line)');
  const none = launch(plan, [], {});
  t.equal(none.status, 125);
});

t.test('a compiled plan refuses to run when its inputs changed', async (t) => {
  const dir = userTmpdir();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const prof = path.join(dir, 'p.json5');
  fs.writeFileSync(prof, '{ extends: "minimal" }\n');
  spawnSync('chown', ['-R', '65534:65534', dir]);
  const plan = path.join(dir, 'p.plan');
  t.equal(sandboxCli(['compile', '--profile', prof, '--bind', data, '/data', '-o', plan], { cwd: dir }).status, 0);
  t.equal(launch(plan, ['true'], {}).status, 0);
  fs.writeFileSync(prof, '{ extends: "minimal", hostname: "changed" }\n');
  const edited = launch(plan, ['true'], {});
  t.equal(edited.status, 125);
  t.equal(edited.stderr, `sandbox: ${plan}: ${prof} changed since the plan was compiled (run sandbox compile again)\n`);
  t.equal(sandboxCli(['compile', '--profile', prof, '--bind', data, '/data', '-o', plan], { cwd: dir }).status, 0);
  fs.rmdirSync(data);
  const gone = launch(plan, ['true'], {});
  t.equal(gone.status, 125);
  t.equal(gone.stderr, `sandbox: ${plan}: ${data} is gone since the plan was compiled\n`);
});

t.test('what compile refuses', async (t) => {
  const dir = userTmpdir();
  const noOut = sandboxCli(['compile', '--no-profile', '--', 'true'], { cwd: dir });
  t.equal(noOut.status, 125);
  t.match(noOut.stderr, /^sandbox: -o FILE is missing/);
  const limits = sandboxCli(['compile', '--no-profile', '--pids', '10', '-o', path.join(dir, 'x'), '--', 'true'], { cwd: dir });
  t.equal(limits.status, 125);
  t.match(limits.stderr, /can't be compiled into a plan yet/);
  const bad = launch(path.join(dir, 'nope.plan'), ['true'], {});
  t.equal(bad.status, 125);
  t.match(bad.stderr, /^sandbox: .*nope\.plan: No such file or directory\n$/);
});

t.test('a compiled plan reads its environment patterns as sandbox run does: [ is itself, ? one character', async (t) => {
  const dir = userTmpdir();
  const plan = path.join(dir, 'env.plan');
  const c = sandboxCli(['compile', '--no-profile', '--ro-bind', '/', '/', '--unsetenv', 'A[B]', '--unsetenv', 'V?', '-o', plan], { cwd: dir });
  t.equal(c.status, 0, c.stderr);
  const r = launch(plan, ['env', '-0'], { AB: 'kept', 'A[B]': 'gone', VX: 'gone', 'Vé': 'gone', VXY: 'kept' });
  t.equal(r.status, 0, r.stderr);
  // (tap adds its _TAPJS_ variables to every child's environment)
  const names = r.stdout.split('\0').filter(Boolean).map((l) => l.slice(0, l.indexOf('='))).filter((n) => !n.startsWith('_TAPJS_')).sort();
  t.same(names, ['AB', 'PATH', 'VXY']);
});
