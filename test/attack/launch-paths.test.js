// Attacks on the paths a compiled plan takes from each launch (records launch-var, launch-guard, launch-op,
// launch-cwd; native/compiled.c apply_launch_vars, native/launch-paths.c). The attacker is the program in the
// sandbox: whatever it can write in its working directory it may rewrite, so a launch must never bind writable a
// directory that holds a plan file the user will run outside any sandbox, nor anything `sandbox run` would not.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, userDirs, cannotLaunch, asUser, ROOT, TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans and the launch's paths: ${why}`);
  process.exit(0);
}
const EXEC = path.join(ROOT, 'native', 'build', 'sandbox-exec');

const base = userTmpdir('sbx-lp-');
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
const home = path.join(base, 'home');
const mk = userDirs;
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

// The plan cache: a kept hpc plan takes $PMIX_SERVER_TMPDIR from each launch (a sibling of the planned directory).
// A sibling that holds a plan compiled after the entry was kept must not be bound writable by the kept plan where
// Node (SANDBOX_NO_CACHE=1) would have protected it.
t.test('kept plan: a step directory holding a plan compiled after the entry was kept', async (t) => {
  const { cachedRun } = require('../lib/plan-cache-entry');
  const spool = path.join(base, 'spool');
  const job = path.join(base, 'job');
  mk(spool, job);
  const step = (n) => {
    const d = path.join(spool, `pmix.7.${n}`);
    mk(d);
    return d;
  };
  const cacheEnv = { ...env, XDG_CACHE_HOME: path.join(home, '.cache') };
  const run = (dir, extra = {}) => cachedRun(['--profile', 'hpc', '--', 'sh', '-c', 'for f in "$PMIX_SERVER_TMPDIR"/*; do printf x >> "$f" 2>/dev/null && echo "rewrote ${f##*/}"; done; true'], { env: { ...cacheEnv, PMIX_SERVER_TMPDIR: dir, PMIX_NAMESPACE: 'n30', ...extra }, cwd: job });
  run(step(30));
  const again = run(step(30));
  t.ok(again.hit, `kept (${again.cache})`);
  const later = path.join(step(31), 'later.plan');
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', later], { cwd: job, env: cacheEnv });
  t.equal(c.status, 0, c.stderr);
  const before = fs.readFileSync(later);
  const r = run(step(31));
  t.notMatch(r.stdout, /rewrote later\.plan/, `the kept plan did not let the program rewrite it (${r.cache})`);
  t.same(fs.readFileSync(later), before, 'the plan compiled later is unchanged');
  const n = run(step(31), { SANDBOX_NO_CACHE: '1' });
  t.same([r.status, r.stdout], [n.status, n.stdout], 'as Node plans it');
});

// A sandbox whose cwd holds the directory of a compiled plan sees the plan covered read-only, but may rename the
// directory holding it. The user's next launch there no longer finds the plan where the list says it is, so nothing
// covers it: its program writes its own plan over it and renames the directory back. The user then ran the attacker's
// plan outside any sandbox; now the list records each plan's digest and sandbox-exec refuses other bytes.
for (const how of ['sandbox run', 'compiled plan']) {
  t.test(`${how}: a listed plan moved aside by one sandbox and rewritten by the next is not run`, async (t) => {
    const proj = path.join(base, `proj-${how.replace(' ', '-')}`);
    const plansDir = path.join(proj, 'plans');
    mk(proj, plansDir);
    const victim = path.join(plansDir, 'victim.plan');
    const c = sandboxCli(['compile', '--profile', 'minimal', '-o', victim, '--', 'echo', 'victim-ran'], { cwd: job1, env });
    t.equal(c.status, 0, c.stderr);
    // the attacker's plan: any plan file will do (here one compiled elsewhere, then copied where the program sees it)
    const evil = path.join(plans, `evil-${how.replace(' ', '-')}.plan`);
    const e = sandboxCli(['compile', '--no-profile', '--ro-bind', '/', '/', '-o', evil, '--', 'sh', '-c', 'echo attacker-ran'], { cwd: job1, env });
    t.equal(e.status, 0, e.stderr);
    fs.copyFileSync(evil, path.join(proj, 'evil.bytes'));
    let driver = null;
    if (how === 'compiled plan') {
      driver = path.join(plans, `driver-${how.replace(' ', '-')}.plan`);
      const d = sandboxCli(['compile', '--profile', 'default', '-o', driver], { cwd: proj, env });
      t.equal(d.status, 0, d.stderr);
    }
    const inSandbox = (script) => (driver ? launch(driver, proj, ['sh', '-c', script]) : sandboxCli(['run', '--profile', 'default', '--', 'sh', '-c', script], { cwd: proj, env }));
    const a = inSandbox('cat evil.bytes > plans/victim.plan 2>/dev/null && echo A-wrote; mv plans aside && echo moved; true');
    t.notMatch(a.stdout, /A-wrote/, 'the first sandbox can not write the plan');
    const b = inSandbox('[ -f aside/victim.plan ] && cat evil.bytes > aside/victim.plan && echo B-wrote; [ -d aside ] && mv aside plans; true');
    t.comment(`first sandbox: ${a.stdout.trim() || '-'}; next: ${b.stdout.trim() || '-'}`);
    if (!fs.existsSync(victim)) asUserSh(`mv "${path.join(proj, 'aside')}" "${plansDir}"`, base);
    const v = launch(victim, job1, []);
    t.notMatch(v.stdout, /attacker-ran/, 'the attacker\'s plan did not run');
    if (v.stdout !== 'victim-ran\n') {
      t.equal(v.status, 125, 'the rewritten plan is refused: exit 125');
      t.equal(v.stderr.trim().split('\n').length, 1, 'in one line');
      t.match(v.stderr, /victim\.plan: changed since sandbox compile wrote it/, 'naming the plan');
    }
  });
}

// The list of compiled plans is JSON lines read by a small C parser (native/launch-paths.c): names with a quote, a
// backslash, a newline or bytes above 0x7f must be read as Node wrote them, both for the guard and for the digest.
t.test('odd names in the list: a plan in a directory named with " \\ newline and UTF-8 is found', async (t) => {
  const odd = path.join(base, 'odd "q" \\ b\nline é');
  mk(odd);
  // the driver first: the odd plan, compiled after it, is found by reading the list at launch (guard L)
  const plan = path.join(plans, 'odd-driver.plan');
  const d = sandboxCli(['compile', '--profile', 'default', '-o', plan], { cwd: job1, env });
  t.equal(d.status, 0, d.stderr);
  const inOdd = path.join(odd, 'p.plan');
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', inOdd, '--', 'echo', 'odd-ran'], { cwd: job1, env });
  t.equal(c.status, 0, c.stderr);
  const r = launch(plan, odd, rewrite);
  t.equal(r.status, 125, `refused where it holds the listed plan (${r.stderr.trim()})`);
  t.match(r.stderr, /holds the compiled plan/);
  const ok = launch(inOdd, job1, []);
  t.equal(ok.stdout, 'odd-ran\n', `its digest is found and matches (${ok.stderr.trim()})`);
  fs.appendFileSync(inOdd, ' ');
  const changed = launch(inOdd, job1, []);
  t.equal(changed.status, 125, 'changed: refused');
  t.match(changed.stderr, /changed since sandbox compile wrote it/);
});

// The same without a launch variable: a plan moved into one of its own read-write binds (the directory it was compiled
// in, or a --bind), launched where it was planned. sandbox compile refuses -o there; a move since is no better.
for (const how of ['the compile directory', 'a literal --bind']) {
  t.test(`a plan moved into ${how}, which it binds read-write, is not run`, async (t) => {
    const dir = path.join(base, `own-${how.replace(/\W+/g, '-')}`);
    const cwd = how === 'the compile directory' ? dir : job1;
    mk(dir);
    const plan = path.join(plans, `own-${how.replace(/\W+/g, '-')}.plan`);
    const extra = how === 'a literal --bind' ? ['--bind', dir, dir] : [];
    const c = sandboxCli(['compile', '--profile', 'default', ...extra, '-o', plan], { cwd, env });
    t.equal(c.status, 0, c.stderr);
    const there = path.join(dir, 'p.plan');
    t.equal(asUserSh(`mv "${plan}" "${there}"`, base).status, 0);
    const before = fs.readFileSync(there);
    const r = launch(there, cwd, ['sh', '-c', `printf x >> "${there}" && echo rewrote; true`]);
    t.notMatch(r.stdout, /rewrote/, 'the program could not rewrite the plan');
    t.same(fs.readFileSync(there), before, 'unchanged');
    t.equal(r.status, 125, 'refused: exit 125');
    t.equal(r.stderr.trim().split('\n').length, 1, 'in one line');
    t.match(r.stderr, /p\.plan is inside .*binds read-write/, r.stderr.trim());
  });
}

// A working directory that is gone (removed by a program in a sandbox while the user's shell sits in it), or longer
// than PATH_MAX: the launch has no value for ${CWD}; it is refused in one line, nothing runs.
t.test('a deleted working directory: refused in one line', async (t) => {
  const plan = path.join(plans, 'gone.plan');
  const c = sandboxCli(['compile', '--profile', 'default', '-o', plan], { cwd: job1, env });
  t.equal(c.status, 0, c.stderr);
  const gone = path.join(base, 'gone');
  mk(gone);
  const r = spawnSync(...asUser('sh', ['-c', `cd "${gone}" && rmdir "${gone}" && exec "$0" "$1" -- sh -c 'echo ran; pwd'`, EXEC, plan]), { env, encoding: 'utf8' });
  t.equal(r.stdout, '', 'nothing ran');
  t.equal(r.status, 125, 'exit 125');
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr.trim()}`);
});
