// The `sandbox run` command line, the plan builder and the wire form: pure, no privileges.
'use strict';
const t = require('tap');
const { parseRunArgs } = require('../../dist/lib/cli/run-options');
const { buildPlan, buildEnv, noHostFacts } = require('../../dist/lib/plan/build');
const { serializePlan } = require('../../dist/lib/native/serialize');
const { parseSize, parseMode } = require('../../dist/lib/plan/units');
const { SandboxError } = require('../../dist/lib/errors');

const caller = { uid: 1000, gid: 1000, cwd: '/home/u', env: { PATH: '/usr/bin', HOME: '/home/u', SECRET: 'x' } };
const none = { seccomp: null, cgroup: null };
/** The host as lib/host/plan-facts.ts would find it: here, /definitely/not/here is missing. */
const host = { ...noHostFacts(), sources: { '/definitely/not/here': 'ENOENT' } };

t.test('options in order, the first non-option starts the command', async (t) => {
  const r = parseRunArgs(['--ro-bind', '/', '/', '--tmpfs', '/tmp', 'firefox-esr', '--headless', '--bind', 'x'], '/');
  t.same(r.command, ['firefox-esr', '--headless', '--bind', 'x']);
  t.same(r.spec.mounts.map((m) => m.op), ['bind', 'tmpfs']);
  t.same(parseRunArgs(['--', '--weird'], '/').command, ['--weird']);
  t.same(parseRunArgs(['--hostname=box', 'true'], '/').spec.hostname, 'box');
});

t.test('--size and --perms apply to the next operation', async (t) => {
  const r = parseRunArgs(['--size', '64M', '--perms', '0700', '--tmpfs', '/a', '--tmpfs', '/b', 'true'], '/');
  t.same(r.spec.mounts.map((m) => [m.size, m.mode]), [[64 * 1024 * 1024, 0o700], [0, 0o755]]);
  t.throws(() => parseRunArgs(['--size', '1M', 'true'], '/'), /^--size must be followed by --tmpfs$/);
});

t.test('--perms and --size: once per operation, and only before one that takes them (bwrap\'s rules and words)', async (t) => {
  t.throws(() => parseRunArgs(['--perms', '0700', '--perms', '0700', '--tmpfs', '/a', 'true'], '/'), /^--perms given twice for the same action$/);
  t.throws(() => parseRunArgs(['--size', '1M', '--size', '2M', '--tmpfs', '/a', 'true'], '/'), /^--size given twice for the same action$/);
  t.throws(() => parseRunArgs(['--perms', '0700', '--bind', '/a', '/a', 'true'], '/'), /^--perms must be followed by an option that creates a file$/);
  t.throws(() => parseRunArgs(['--size', '1M', '--dir', '/a', 'true'], '/'), /^--size must be followed by --tmpfs$/);
  t.throws(() => parseRunArgs(['--perms', '0700', 'true'], '/'), /^--perms must be followed/);
  const r = parseRunArgs(['--perms', '0700', '--size', '1M', '--tmpfs', '/a', '--perms', '0640', '--file', '0', '/f', '--bind-data', '5', '/g', 'true'], '/');
  t.same(r.spec.mounts.map((m) => m.mode), [0o700, 0o640, 0o600], '--file 0 is the standard input; --bind-data is 0600 by default');
  t.same(r.spec.keepFds, [5], 'a standard descriptor is not listed as kept');
  t.equal(parseRunArgs(['--file', '4', '/f', 'true'], '/').spec.mounts[0].mode, 0o666);
});

t.test('relative sources resolve against the current directory; destinations must be absolute', async (t) => {
  const r = parseRunArgs(['--bind', 'data', '/data', 'true'], '/home/u');
  t.equal(r.spec.mounts[0].src, '/home/u/data');
  t.throws(() => parseRunArgs(['--bind', '/a', 'rel', 'true'], '/'), /--bind \/a rel: destination 'rel' must be an absolute path/);
  t.throws(() => parseRunArgs(['--tmpfs', '/a/../b', 'true'], '/'), /must not contain/);
  t.equal(parseRunArgs(['--tmpfs', '/a//b/', 'true'], '/').spec.mounts[0].dst, '/a/b');
});

t.test('bad input: one line, exit code 125', async (t) => {
  for (const [argv, msg] of [
    [['--frob'], /^--frob: unknown option/],
    [['--bind', '/a'], /^--bind: expects SRC DST$/],
    [['--uid', 'x', 'true'], /^--uid x: 'x' is not a uid$/],
    [['--perms', '999', '--tmpfs', '/a'], /not an octal mode/],
    [['--size', 'lots', '--tmpfs', '/a'], /not a size/],
    [['--cap-add', 'CAP_FLY', 'true'], /unknown capability/],
    [['--hostname', 'a b', 'true'], /hostname/],
    [['--bind-data', 'x', '/x', 'true'], /descriptor number/],
    [['--memory', '2X', 'true'], /not a size/],
    [['--limits', 'maybe', 'true'], /strict or best-effort/],
    [['--share-net=yes', 'true'], /takes no value/],
  ]) {
    const e = t.throws(() => parseRunArgs(argv, '/'));
    t.ok(e instanceof SandboxError, argv.join(' '));
    t.equal(e.exitCode, 125);
    t.match(e.message, msg);
    t.notMatch(e.message, /\n/);
  }
});

t.test('bubblewrap flags that are always on are accepted', async (t) => {
  t.same(parseRunArgs(['--unshare-all', '--unshare-user', '--die-with-parent', 'true'], '/').command, ['true']);
});

t.test('environment: kept, unset, set, cleared with a keep-list', async (t) => {
  t.same(buildEnv({ clear: false, keep: [], set: { A: '1' }, unset: ['SECRET'] }, caller.env).sort(), ['A=1', 'HOME=/home/u', 'PATH=/usr/bin']);
  t.same(buildEnv({ clear: true, keep: ['H*'], set: {}, unset: [] }, caller.env).sort(), ['HOME=/home/u', 'PATH=/usr/local/bin:/usr/bin:/bin']);
});

t.test('plan defaults: own ids, hostname sandbox, terminal shared, die with parent, cwd fallback', async (t) => {
  const p = buildPlan(parseRunArgs(['--tmpfs', '/home/u', 'true'], '/').spec, ['true'], caller, none, host);
  t.equal(p.uid, 1000);
  t.equal(p.hostname, 'sandbox');
  t.equal(p.cwd, '/home/u', 'the caller\'s directory is under a mount of the plan');
  t.ok(p.cwdFallback);
  t.ok(!p.newSession && p.dieWithParent && !p.asPid1 && p.namespaces.net, 'shares the terminal (TIOCSTI is filtered), dies with its parent');
  const hidden = buildPlan(parseRunArgs(['--tmpfs', '/tmp', 'true'], '/').spec, ['true'], caller, none, host);
  t.equal(hidden.cwd, '/');
  t.throws(() => buildPlan(parseRunArgs([], '/').spec, [], caller, none, host), /no command given/);
  t.throws(() => buildPlan(parseRunArgs(['--bind', '/definitely/not/here', '/x'], '/').spec, ['true'], caller, none, host), /^--bind \/definitely\/not\/here \/x: No such file or directory$/);
  t.equal(buildPlan(parseRunArgs(['--bind-try', '/definitely/not/here', '/x'], '/').spec, ['true'], caller, none, host).mounts.length, 0);
});

t.test('the wire form: tokens and records as native/PLAN.md says', async (t) => {
  const p = buildPlan(parseRunArgs(['--ro-bind', '/', '/', '--size', '1K', '--tmpfs', '/t', '--cap-add', 'CAP_NET_ADMIN', '--uid', '0', 'echo', 'a,b:c'], '/').spec, ['echo', 'a,b:c'], caller, none, host);
  const b = serializePlan(p).toString('utf8');
  t.match(b, /^12:sandbox-plan,1:2,/);
  t.match(b, /4:bind,13:--ro-bind \/ \/,1:\/,1:\/,1:1,1:0,1:0,1:0,/);
  t.match(b, /5:tmpfs,\d+:--tmpfs \/t,2:\/t,4:1024,3:493,/);
  t.match(b, /3:cap,2:12,/);
  t.match(b, /4:argv,5:a,b:c,/);
  t.match(b, /3:end,$/);
});

t.test('units', async (t) => {
  t.equal(parseSize('512M'), 512 * 1024 ** 2);
  t.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  t.equal(parseSize('4096'), 4096);
  t.equal(parseSize('-1'), undefined);
  t.equal(parseMode('0755'), 0o755);
  t.equal(parseMode('1777'), 0o1777);
  t.equal(parseMode('8'), undefined);
});

t.test('sandbox\'s own files are bound read-only again wherever a writable bind shows them', async (t) => {
  const { protectOwnFiles } = require('../../dist/lib/plan/build');
  const own = ['/opt/sandbox', '/home/u/.config/sandbox'];
  const bind = (src, dst, readOnly = false) => ({ op: 'bind', src, dst, readOnly, devices: false, optional: false, origin: 'x' });
  const added = (mounts) => protectOwnFiles(mounts, own, (p) => p).slice(mounts.length).map((m) => [m.src, m.dst, m.readOnly]);
  t.same(added([bind('/home/u', '/home/u')]), [['/home/u/.config/sandbox', '/home/u/.config/sandbox', true]], 'home bound read-write');
  t.same(added([bind('/opt/sandbox', '/opt/sandbox')]), [['/opt/sandbox', '/opt/sandbox', true]], 'run from its own checkout with cwd bound');
  t.same(added([bind('/', '/')]), [['/opt/sandbox', '/opt/sandbox', true], ['/home/u/.config/sandbox', '/home/u/.config/sandbox', true]]);
  t.same(added([bind('/home/u', '/data')]), [['/home/u/.config/sandbox', '/data/.config/sandbox', true]], 'bound elsewhere');
  t.same(added([bind('/home/u', '/home/u', true)]), [], 'already read-only');
  t.same(added([bind('/home/u', '/home/u'), { op: 'tmpfs', dst: '/home/u/.config', size: 0, mode: 0o755, origin: 'y' }]), [], 'hidden by a later tmpfs: nothing to re-expose');
});

t.test('--clearenv drops what an earlier --setenv set; a second --chdir warns (bwrap\'s rules)', async (t) => {
  const r = parseRunArgs(['--setenv', 'A', '1', '--clearenv', '--setenv', 'B', '2', '--chdir', '/a', '--chdir', '/b', 'true'], '/');
  t.same(r.spec.env.set, { B: '2' });
  t.equal(r.spec.env.clear, true);
  t.equal(r.spec.cwd, '/b');
  t.same(r.warnings, ['Only the last --chdir option will take effect']);
});

t.test('an environment pattern of any length is matched, without a RegExp V8 finds too large', async (t) => {
  const { buildEnv } = require('../../dist/lib/plan/build');
  const long = 'x/'.repeat(200000);
  const env = buildEnv({ clear: false, keep: [], set: {}, unset: [long, 'A*?'] }, { [long]: '1', AB: '2', A: '3', KEEP: '4' });
  t.same(env.filter((e) => !e.startsWith('PATH=')), ['A=3', 'KEEP=4'], 'the long name and A?* (AB) unset; A (no character for ?) kept');
});
