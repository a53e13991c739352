// Attacks on the paths a compiled plan takes from each launch (records launch-var, launch-guard, launch-op,
// launch-cwd; native/compiled.c apply_launch_vars, native/launch-paths.c). The attacker is the program in the
// sandbox: whatever it can write in its working directory it may rewrite, so a launch must never bind writable a
// directory that holds a plan file the user will run outside any sandbox, nor anything `sandbox run` would not.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, cannotLaunch, asUser, ROOT, TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans and the launch's paths: ${why}`);
  process.exit(0);
}
const EXEC = path.join(ROOT, 'native', 'build', 'sandbox-exec');

const base = userTmpdir('sbx-lp-');
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
const home = path.join(base, 'home');
const mk = (...dirs) => {
  for (const d of dirs) {
    fs.mkdirSync(d, { recursive: true });
    if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
  }
};
const job1 = path.join(base, 'job1');
const plans = path.join(base, 'plans');
mk(home, job1, plans);
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
const launch = (plan, cwd, args) => spawnSync(...asUser(EXEC, [plan, '--', ...args]), { cwd, env, encoding: 'utf8' });
const asUserSh = (script, cwd) => spawnSync(...asUser('sh', ['-c', script]), { cwd, env, encoding: 'utf8' });
// the program's attack: rewrite every file in its working directory it can (a plan there is then the attacker's)
const rewrite = ['sh', '-c', 'for f in *; do [ -f "$f" ] && printf x >> "$f" && echo "rewrote $f"; done; true'];

for (const how of ['moved', 'hard-linked', 'symlinked', 'hard-linked-elsewhere']) {
  t.test(`a plan ${how} into the directory it is launched from is not bound writable`, async (t) => {
    const dir = path.join(base, `dir-${how}`);
    mk(dir);
    const plan = path.join(plans, `${how}.plan`);
    const c = sandboxCli(['compile', '--profile', 'default', '-o', plan], { cwd: job1, env });
    t.equal(c.status, 0, c.stderr);
    const there = path.join(dir, 'p.plan');
    const cmd = { moved: `mv "${plan}" "${there}"`, 'hard-linked': `ln "${plan}" "${there}"`, symlinked: `ln -s "${plan}" "${there}"`, 'hard-linked-elsewhere': `ln "${plan}" "${there}"` }[how];
    const m = asUserSh(cmd, base);
    t.equal(m.status, 0, m.stderr);
    const before = fs.readFileSync(there);
    // a symlink in the directory: the program could replace the link itself; another name elsewhere: run by that one
    const run = how === 'hard-linked-elsewhere' ? plan : there;
    const r = launch(run, dir, how === 'symlinked' ? ['sh', '-c', 'rm -f p.plan && echo rewrote p.plan; true'] : rewrite);
    t.notMatch(r.stdout, /rewrote p\.plan/, 'the program could not rewrite the plan it was started by');
    t.same(fs.readFileSync(there), before, 'the plan file is unchanged');
    t.ok(fs.lstatSync(there).isSymbolicLink() === (how === 'symlinked'), 'the name in the directory is as it was');
    if (r.status !== 0) {
      t.equal(r.status, 125, 'refused: exit 125');
      t.equal(r.stderr.trim().split('\n').length, 1, 'in one line');
      t.match(r.stderr, /\.plan/, 'naming the plan');
    }
  });
}
