// A compiled plan runs in the directory it is launched from, as `sandbox run` would there: the profile's ${CWD} binds
// and its cwd take each launch's working directory (records launch-var, launch-op, launch-cwd), where nothing the plan
// decided depended on the directory it was compiled in. Where something would have been decided otherwise (the home,
// the shared /tmp, a compiled plan inside it), the launch is refused in one line.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, userDirs, cannotLaunch, asUser, ROOT, TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans and the launch's cwd: ${why}`);
  process.exit(0);
}
const EXEC = path.join(ROOT, 'native', 'build', 'sandbox-exec');

const base = userTmpdir('sbx-cwd-');
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
const home = path.join(base, 'home');
const mk = userDirs;
const p1 = path.join(base, 'job1');
const p2 = path.join(base, 'job2');
const plans = path.join(base, 'plans');
mk(home, path.join(home, 'proj'), p1, p2, path.join(p2, '.git'), plans, path.join(base, 'job3'));
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
const launch = (plan, cwd, args) => spawnSync(...asUser(EXEC, [plan, '--', ...args]), { cwd, env, encoding: 'utf8' });
const probe = ['sh', '-c', 'pwd; touch made-here && echo wrote; ls ../job1 >/dev/null 2>&1 && echo job1-visible; touch .git/hook 2>/dev/null && echo git-writable; true'];

for (const profile of ['default', 'hpc']) {
  t.test(`${profile}: compiled in one job's directory, launched in another's`, async (t) => {
    const plan = path.join(plans, `${profile}.plan`);
    const c = sandboxCli(['compile', '--profile', profile, '-o', plan], { cwd: p1, env });
    t.equal(c.status, 0, c.stderr);
    t.notMatch(c.stderr, /note: the plan runs in/, 'nothing planned depends on the directory');
    const a = launch(plan, p1, probe);
    t.equal(a.status, 0, a.stderr);
    t.match(a.stdout, `${p1}\nwrote\n`, 'in the compile directory: as compiled');
    const b = launch(plan, p2, probe);
    t.equal(b.status, 0, b.stderr);
    t.equal(b.stdout, `${p2}\nwrote\n`, 'in another: it starts there, writes there, does not see the first, and its .git (absent when compiled) is read-only');
    t.ok(fs.existsSync(path.join(p2, 'made-here')), 'the file is on the host, in the launch directory');
    const inHome = launch(plan, path.join(home, 'proj'), ['sh', '-c', 'pwd; touch x && echo wrote']);
    t.equal(inHome.status, 0, inHome.stderr);
    t.equal(inHome.stdout, `${path.join(home, 'proj')}\nwrote\n`, 'a project in the home: as in any directory');
    fs.rmSync(path.join(p2, 'made-here'), { force: true });
  });
}

t.test('launches the plan would have been made otherwise for are refused in one line', async (t) => {
  const plan = path.join(plans, 'refuse.plan');
  const c = sandboxCli(['compile', '--profile', 'default', '-o', plan], { cwd: p1, env });
  t.equal(c.status, 0, c.stderr);
  const cases = [
    [home, /the working directory .*home is .*home, which the plan \(made for .*job1\) does not allow for/, 'the home (sandbox run binds it read-only)'],
    [plans, /the working directory .*plans holds .*\.plan/, 'the directory of the plan itself (and of others compiled before)'],
    ['/tmp', /the working directory \/tmp is \/tmp/, "the host's shared /tmp"],
    ['/', /the working directory \/ is the whole file system/, 'the root'],
  ];
  for (const [dir, re, what] of cases) {
    const r = launch(plan, dir, ['sh', '-c', 'echo ran']);
    t.equal(r.status, 125, `${what}: exit 125`);
    t.equal(r.stdout, '', `${what}: nothing ran`);
    t.match(r.stderr, re, what);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
  }
  // a plan compiled later into a directory this one could be launched from: the list is read at each launch
  const later = path.join(base, 'job3', 'later.plan');
  const c2 = sandboxCli(['compile', '--profile', 'minimal', '-o', later], { cwd: p1, env });
  t.equal(c2.status, 0, c2.stderr);
  const r = launch(plan, path.join(base, 'job3'), ['sh', '-c', 'echo ran']);
  t.equal(r.status, 125, 'launched where a plan compiled since lies: refused');
  t.match(r.stderr, /holds the compiled plan .*later\.plan/);
});

t.test('sandbox run in the same directory plans the same binds the compiled plan takes there', async (t) => {
  const plan = path.join(plans, 'same.plan');
  t.equal(sandboxCli(['compile', '--profile', 'hpc', '-o', plan], { cwd: p1, env }).status, 0);
  const show = 'grep -E " (/tmp/sbx-cwd-[^ ]*) " /proc/self/mountinfo | awk \'{ print $5, $6 }\' | sed "s/,.*//" | sort';
  const compiled = launch(plan, p2, ['sh', '-c', show]);
  const run = sandboxCli(['run', '--profile', 'hpc', '--', 'sh', '-c', show], { cwd: p2, env });
  t.equal(compiled.status, 0, compiled.stderr);
  t.equal(run.status, 0, run.stderr);
  t.equal(compiled.stdout, run.stdout, 'the mounts under the test directory, and their options, are the same');
  t.match(compiled.stdout, `${p2} rw`);
  t.match(compiled.stdout, `${path.join(p2, '.git')} ro`);
});
