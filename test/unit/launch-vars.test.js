// lib/plan/launch-vars.ts: which paths a kept or compiled plan may take from each launch, and the join policy that
// stays the same whatever the launch's value.
'use strict';
const t = require('tap');
const { launchRecords, relation } = require('../../dist/lib/plan/launch-vars');
const { joinPolicy } = require('../../dist/lib/plan/build');

const bind = (src, extra = {}) => ({ op: 'bind', src, dst: src, readOnly: false, devices: false, optional: false, origin: 'p.json5:1:1', ...extra });
const mark = (name, value) => ({ launchVar: { name, value, dst: true } });
const plan = (mounts, extra = {}) => ({
  version: 2, namespaces: { net: true, pid: true }, uid: 1000, gid: 1000, hostname: 'sandbox', cwd: '/', cwdFallback: false, mounts, env: [],
  argv: ['true'], capabilities: [], newSession: false, terminalNode: false, dieWithParent: true, parentPid: 0, asPid1: false, landlockScopes: 3,
  landlockPaths: [], verbose: false, keepFds: [], seccomp: null, cgroup: null, joinDir: null, joinPolicy: null, ...extra,
});
const facts = (extra = {}) => ({ realDir: (p) => p, homes: ['/home/u'], own: ['/home/u/.config/sandbox', '/tmp/sandbox-1000'], ...extra });

t.test('relation', async (t) => {
  t.same(['/a/b', '/a', '/a/b', '/ab'].map((x, i) => relation(x, ['/a/b', '/a/b', '/a', '/a'][i])), ['e', 'a', 'b', 'd']);
  t.equal(relation('/x', '/'), 'b');
});

t.test('a ${CWD} bind and cwd become launch records with their guards', async (t) => {
  const p = plan([bind('/usr', { readOnly: true }), bind('/w/job', mark('CWD', '/w/job')), bind('/w/job/.git', { readOnly: true, optional: true, ...mark('CWD', '/w/job') })], { cwd: '/w/job' });
  const { records, kept } = launchRecords(p, ['CWD'], { name: 'CWD', value: '/w/job' }, facts({ planFile: '/p/job.plan', compiledList: '/home/u/.config/sandbox/compiled-plans' }));
  t.same(kept, []);
  t.same(records.vars, [{ origin: 'p.json5:1:1', name: 'CWD', planned: '/w/job' }]);
  t.same(records.ops, [{ name: 'CWD', index: 1, dst: true }, { name: 'CWD', index: 2, dst: true }]);
  t.equal(records.cwd, 'CWD');
  const g = Object.fromEntries(records.guards.map((x) => [x.path, x.relation]));
  t.same(g, { '/': 'n', '/tmp': 'n', '/var/tmp': 'n', '/dev/shm': 'n', '/home/u': 'n', '/home/u/.config/sandbox': 'd', '/tmp/sandbox-1000': 'd', '/p/job.plan': 'd', '/home/u/.config/sandbox/compiled-plans': 'L' });
});

t.test('the plan keeps its value where something planned depended on it', async (t) => {
  const cwd = (value, mounts, f = facts()) => launchRecords(plan(mounts, { cwd: value }), ['CWD'], { name: 'CWD', value }, f).kept.map((k) => k.why);
  t.match(cwd('/w/job', [bind('/w/job', mark('CWD', '/w/job')), bind('/w/job/data', { readOnly: true })]), [/\/w\/job\/data is planned inside \/w\/job/], 'a literal bind inside');
  t.match(cwd('/home/u', [bind('/home/u', { readOnly: true, ...mark('CWD', '/home/u') })]), [/it is \/home\/u/], 'the home');
  t.match(cwd('/home', [bind('/home', mark('CWD', '/home'))]), [/it holds \/home\/u/], 'above the home');
  t.match(cwd('/tmp/sandbox-1000/x', [bind('/tmp/sandbox-1000/x', mark('CWD', '/tmp/sandbox-1000/x'))]), [/inside \/tmp\/sandbox-1000, sandbox's own/], 'in the state');
  t.match(cwd('/w/l', [bind('/w/l', mark('CWD', '/w/l'))], facts({ realDir: () => '/elsewhere' })), [/not a directory with no symlink/], 'a symlink');
  t.match(cwd('/w/job', [bind('/w/job', mark('CWD', '/w/job'))].concat([{ op: 'tmpfs', dst: '/w/job/.cache', size: 0, mode: 0o755, origin: 'x' }])), [/\.cache is planned inside/], 'a cover made inside');
  const env = launchRecords(plan([bind('/w/job', mark('CWD', '/w/job'))], { env: ['OUT=/w/job/out'] }), ['CWD'], null, facts()).kept;
  t.match(env[0].why, /the environment names it \(OUT\)/);
  // the cwd alone (no bind from it): where the program starts, nothing else
  const alone = launchRecords(plan([bind('/usr', { readOnly: true })], { cwd: '/w/job', cwdFallback: true }), ['CWD'], { name: 'CWD', value: '/w/job' }, facts());
  t.same([alone.kept, alone.records.cwd, alone.records.guards], [[], 'CWD', []]);
  // names not asked for stay as planned, silently
  t.same(launchRecords(plan([bind('/w/job', mark('CWD', '/w/job'))]), ['PMIX_SERVER_TMPDIR'], null, facts()).records.vars, []);
});

t.test('join policy: the same mounts digest whatever the value, which is a word of its own', async (t) => {
  const at = (dir) => joinPolicy(plan([bind('/usr', { readOnly: true }), bind(dir, { launchVar: { name: 'PMIX_SERVER_TMPDIR', value: dir, dst: true } })]));
  const [a, b] = [at('/s/pmix.1.0'), at('/s/pmix.1.1')];
  const digest = (p) => / mounts=(\S+)/.exec(p)[1];
  t.equal(digest(a), digest(b));
  t.match(a, / launch-PMIX_SERVER_TMPDIR=%2Fs%2Fpmix\.1\.0$/);
  t.match(b, / launch-PMIX_SERVER_TMPDIR=%2Fs%2Fpmix\.1\.1$/);
  t.not(digest(joinPolicy(plan([bind('/usr', { readOnly: true }), bind('/s/other')]))), digest(a), 'a bind not from the variable is in the digest');
});
