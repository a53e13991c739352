'use strict';
// lib/cgroup on a fake cgroup tree: discovery, planning, leaf creation, stale leaves, systemd args.
const t = require('tap');
const cg = require('../../dist/lib/cgroup');
const { SandboxError } = require('../../dist/lib/errors');

const errno = (code, msg) => Object.assign(new Error(`${code}: ${msg}`), { code });

/** An in-memory cgroup2 tree that keeps the kernel's rules we depend on. */
function fakeTree({ mount = '/sys/fs/cgroup', rootControllers = ['cpu', 'memory', 'pids', 'io'], uid = 1000 } = {}) {
  const dirs = new Map(); // path → { owner, controllers, subtree, procs:Set, files:Map }
  const alive = new Set();
  const writes = [];
  const mk = (p, owner, controllers) => {
    const files = new Map();
    for (const c of controllers) {
      if (c === 'memory') { files.set('memory.max', 'max'); files.set('memory.swap.max', 'max'); }
      if (c === 'cpu') files.set('cpu.max', 'max 100000');
      if (c === 'pids') files.set('pids.max', 'max');
    }
    files.set('cgroup.kill', '');
    dirs.set(p, { owner, controllers: [...controllers], subtree: [], procs: new Set(), files, ownedFiles: owner === uid });
  };
  mk(mount, 0, rootControllers);
  const parentOf = (p) => p.slice(0, p.lastIndexOf('/'));
  const split = (p) => ({ dir: parentOf(p), name: p.slice(p.lastIndexOf('/') + 1) });
  const ops = {
    readFile(p) {
      const { dir, name } = split(p);
      const d = dirs.get(dir);
      if (!d) throw errno('ENOENT', 'no such file or directory');
      if (name === 'cgroup.controllers') return d.controllers.join(' ') + '\n';
      if (name === 'cgroup.subtree_control') return d.subtree.join(' ') + '\n';
      if (name === 'cgroup.procs') return [...d.procs].join('\n') + (d.procs.size ? '\n' : '');
      if (d.files.has(name)) return d.files.get(name);
      throw errno('ENOENT', 'no such file or directory');
    },
    writeFile(p, data) {
      writes.push([p, data]);
      const { dir, name } = split(p);
      const d = dirs.get(dir);
      if (!d) throw errno('ENOENT', 'no such file or directory');
      if (uid !== 0 && !(d.owner === uid && d.ownedFiles)) throw errno('EACCES', 'permission denied');
      if (name === 'cgroup.procs') {
        const pid = Number(data);
        if (!alive.has(pid)) throw errno('ESRCH', 'no such process');
        if (d.subtree.length && dir !== mount) throw errno('EBUSY', 'resource busy or locked');
        for (const x of dirs.values()) x.procs.delete(pid);
        d.procs.add(pid);
        return;
      }
      if (name === 'cgroup.subtree_control') {
        if (d.procs.size && dir !== mount) throw errno('EBUSY', 'resource busy or locked');
        for (const w of data.split(' ')) {
          const c = w.slice(1);
          if (!d.controllers.includes(c)) throw errno('ENOENT', 'no such file or directory');
          if (w[0] === '+' && !d.subtree.includes(c)) d.subtree.push(c);
        }
        return;
      }
      if (name === 'cgroup.kill') { for (const pid of d.procs) alive.delete(pid); d.procs.clear(); return; }
      if (!d.files.has(name)) throw errno('ENOENT', 'no such file or directory');
      d.files.set(name, data);
    },
    exists(p) {
      if (dirs.has(p)) return true;
      const { dir, name } = split(p);
      const d = dirs.get(dir);
      return !!d && (d.files.has(name) || ['cgroup.procs', 'cgroup.controllers', 'cgroup.subtree_control'].includes(name));
    },
    canWrite(p) {
      if (uid === 0) return true;
      const { dir } = split(p);
      const d = dirs.get(dir);
      return !!d && d.owner === uid && d.ownedFiles;
    },
    ownerUid(p) { return dirs.has(p) ? dirs.get(p).owner : null; },
    listDirs(p) {
      return [...dirs.keys()].filter((k) => parentOf(k) === p).map((k) => k.slice(p.length + 1));
    },
    mkdir(p) {
      if (dirs.has(p)) throw errno('EEXIST', 'file already exists');
      const parent = dirs.get(parentOf(p));
      if (!parent) throw errno('ENOENT', 'no such file or directory');
      if (uid !== 0 && parent.owner !== uid) throw errno('EACCES', 'permission denied');
      mk(p, uid, parent.subtree);
    },
    rmdir(p) {
      const d = dirs.get(p);
      if (!d) throw errno('ENOENT', 'no such file or directory');
      if (d.procs.size || ops.listDirs(p).length) throw errno('EBUSY', 'resource busy or locked');
      dirs.delete(p);
    },
    pidAlive: (pid) => alive.has(pid),
  };
  /** Add a cgroup below an existing one; `owner` as systemd would chown it. */
  const add = (p, owner, { enableInParent = true } = {}) => {
    const parent = dirs.get(parentOf(p));
    if (enableInParent) for (const c of parent.controllers) if (!parent.subtree.includes(c)) parent.subtree.push(c);
    mk(p, owner, parent.subtree);
    return dirs.get(p);
  };
  const spawnIn = (p, pid) => { alive.add(pid); dirs.get(p).procs.add(pid); };
  return { ops, dirs, add, spawnIn, alive, writes, mount };
}

const mountinfo = (mount = '/sys/fs/cgroup') => `29 23 0:26 / ${mount} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n`;
const USER_SVC = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service';

/** A systemd-like host: uid 1000 owns user@1000.service, the launcher (pid 4242) and a shell (pid 4000) are in it. */
function delegatedHost(opts = {}) {
  const tree = fakeTree(opts);
  tree.add('/sys/fs/cgroup/user.slice', 0);
  tree.add('/sys/fs/cgroup/user.slice/user-1000.slice', 0);
  tree.add(USER_SVC, 1000);
  tree.spawnIn(USER_SVC, 4000);
  tree.spawnIn(USER_SVC, 4242);
  const read = () => cg.readCgroupHost({
    ops: tree.ops, uid: 1000, pid: 4242, env: { PATH: '/usr/bin' },
    procSelfCgroup: `0::${[...tree.dirs.entries()].find(([, d]) => d.procs.has(4242))[0].slice('/sys/fs/cgroup'.length)}\n`,
    mountinfo: mountinfo(),
  });
  return { tree, read };
}

const FLAG = { memory: '--memory', memorySwap: '--memory-swap', cpus: '--cpus', pids: '--pids' };
/** Limits as the command line gives them: each value with its own option as origin. */
const limits = (l, mode) => {
  const out = {};
  for (const [k, v] of Object.entries(l)) out[k] = { value: v, origin: `${FLAG[k]} ${v}`, from: 'option' };
  if (mode) out.mode = { value: mode, origin: `--limits ${mode}`, from: 'option' };
  return out;
};
/** Limits as a profile gives them: one line each from line 3 of FILE, so every value has a position of its own. */
const inProfile = (file, l, mode) => {
  const out = {};
  let line = 3;
  for (const [k, v] of Object.entries(l)) out[k] = { value: v, origin: `${file}:${line++}:5`, from: 'profile' };
  if (mode) out.mode = { value: mode, origin: `${file}:${line}:5`, from: 'profile' };
  return out;
};

t.test('parsers', async (t) => {
  t.equal(cg.parseProcSelfCgroup('12:pids:/x\n0::/user.slice/a b\n'), '/user.slice/a b');
  t.equal(cg.parseProcSelfCgroup('0::/\n'), '/');
  t.equal(cg.parseProcSelfCgroup('4:memory:/x\n'), null);
  const hybrid = '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n' +
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n' +
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';
  t.same(cg.parseCgroup2Mounts(hybrid), [{ root: '/', mountPoint: '/sys/fs/cgroup/unified' }]);
  t.same(cg.parseCgroup2Mounts('1 2 0:3 /a\\040b /mnt/c\\040g rw - cgroup2 x rw\n'), [{ root: '/a b', mountPoint: '/mnt/c g' }]);
  t.equal(cg.cgroupDirUnder({ root: '/', mountPoint: '/sys/fs/cgroup' }, '/'), '/sys/fs/cgroup');
  t.equal(cg.cgroupDirUnder({ root: '/job', mountPoint: '/sys/fs/cgroup' }, '/job/step'), '/sys/fs/cgroup/step');
  t.equal(cg.cgroupDirUnder({ root: '/job', mountPoint: '/sys/fs/cgroup' }, '/other'), null);
  t.equal(cg.cpuMax(1.5), '150000 100000');
  t.equal(cg.cpuMax(0.2), '20000 100000');
  t.match(cg.newSandboxId(77), /^77-[0-9a-f]{8}$/);
  t.match(cg.leafNameFor(cg.newSandboxId(77)), cg.LEAF_PATTERN);
});

t.test('no limits: no cgroup', async (t) => {
  const { read } = delegatedHost();
  t.same(cg.planCgroup(null, '1-a', read()).plan, null);
  t.same(cg.planCgroup({ mode: { value: 'strict', origin: '--limits strict', from: 'option' } }, '1-a', read()).plan, null);
});

t.test('delegated caller cgroup: plan, then leaf created beside a launcher leaf', async (t) => {
  const { tree, read } = delegatedHost();
  const host = read();
  t.equal(host.own.path, USER_SVC);
  t.ok(host.own.canWriteProcs && host.own.canWriteSubtreeControl);
  const d = cg.planCgroup(limits({ memory: 64 * 2 ** 20, cpus: 1.5, pids: 32 }), '4242-abc', host);
  t.same(d.warnings, []);
  t.same(d.plan, { leaf: `${USER_SVC}/sandbox-4242-abc`, memoryLabel: '--memory 64M', pidsLabel: '--pids 32' });
  t.equal(d.setup.moveCallerTo, 'sandbox-launcher');
  t.same(d.setup.writes, [
    { file: 'memory.max', value: String(64 * 2 ** 20), optional: false },
    { file: 'memory.swap.max', value: '0', optional: true },
    { file: 'cpu.max', value: '150000 100000', optional: false },
    { file: 'pids.max', value: '32', optional: false },
  ]);
  t.match(d.explain.join('\n'), /holds processes \(2\)/);
  const plan = cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 4242 });
  t.same(plan, d.plan);
  const svc = tree.dirs.get(USER_SVC);
  t.equal(svc.procs.size, 0, 'caller cgroup emptied');
  t.same([...tree.dirs.get(`${USER_SVC}/sandbox-launcher`).procs].sort(), [4000, 4242]);
  t.same(svc.subtree.sort(), ['cpu', 'memory', 'pids']);
  const leaf = tree.dirs.get(`${USER_SVC}/sandbox-4242-abc`);
  t.equal(leaf.files.get('memory.max'), String(64 * 2 ** 20));
  t.equal(leaf.files.get('memory.swap.max'), '0');
  t.equal(leaf.files.get('cpu.max'), '150000 100000');
  t.equal(leaf.files.get('pids.max'), '32');

  // The next run starts in sandbox-launcher: the leaf goes beside it again, nothing nests.
  const host2 = read();
  t.equal(host2.own.path, `${USER_SVC}/sandbox-launcher`);
  const d2 = cg.planCgroup(limits({ pids: 8 }), '4242-def', host2);
  t.equal(d2.plan.leaf, `${USER_SVC}/sandbox-4242-def`);
  t.equal(d2.setup.moveCallerTo, null);
  cg.createCgroupLeaf(d2.setup, { ops: tree.ops, pid: 4242 });
  t.ok(tree.dirs.has(`${USER_SVC}/sandbox-4242-def`), 'two sandboxes get separate leaves');
});

t.test('--memory-swap and best-effort without swap accounting', async (t) => {
  const { tree, read } = delegatedHost();
  const d = cg.planCgroup(limits({ memory: 2 ** 30, memorySwap: 2 ** 29 }), '4242-s', read());
  t.same(d.setup.writes.map((w) => [w.file, w.value, w.optional]), [['memory.max', String(2 ** 30), false], ['memory.swap.max', String(2 ** 29), false]]);
  // A kernel without memory.swap.max: the default 0 is skipped, an explicit one is an error naming the file.
  const dflt = cg.planCgroup(limits({ memory: 2 ** 30 }), '4242-t', read());
  const orig = tree.ops.mkdir;
  tree.ops.mkdir = (p) => { orig(p); tree.dirs.get(p).files.delete('memory.swap.max'); };
  cg.createCgroupLeaf(dflt.setup, { ops: tree.ops, pid: 4242 });
  t.throws(() => cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 4242 }),
    { message: `write ${USER_SVC}/sandbox-4242-s/memory.swap.max: No such file or directory` });
  t.notOk(tree.dirs.has(`${USER_SVC}/sandbox-4242-s`), 'a failed leaf is removed');
});

t.test('hybrid host like the build machines: strict fails with one line, best-effort warns once', async (t) => {
  const tree = fakeTree({ mount: '/sys/fs/cgroup/unified', rootControllers: [] });
  const host = cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 5, env: { PATH: '/nowhere' }, procSelfCgroup: '0::/\n',
    mountinfo: mountinfo('/sys/fs/cgroup/unified') });
  t.throws(() => cg.planCgroup(limits({ memory: 2 ** 31 }), '5-a', host), {
    name: 'SandboxError',
    message: '--memory: no delegated cgroup v2 subtree for uid 1000 (host has cgroup v2 at /sys/fs/cgroup/unified with no memory controller); run under a systemd user session, ask your admin to delegate one, or use --limits=best-effort',
  });
  const be = cg.planCgroup(limits({ memory: 2 ** 31, pids: 5 }, 'best-effort'), '5-a', host);
  t.equal(be.plan, null);
  t.equal(be.warnings.length, 1);
  t.match(be.warnings[0], /^--memory, --pids: no delegated cgroup v2 subtree for uid 1000 \(host has cgroup v2 at \/sys\/fs\/cgroup\/unified with no memory, pids controllers\); running without limits/);
  t.notMatch(be.warnings[0], /\n/);
});

t.test('cgroup v1 only, and a root-owned job cgroup (SLURM)', async (t) => {
  const v1 = cg.readCgroupHost({ ops: fakeTree().ops, uid: 1000, pid: 5, env: {}, procSelfCgroup: '4:memory:/x\n', mountinfo: '' });
  t.throws(() => cg.planCgroup(limits({ pids: 3 }), '5-a', v1), /^--pids: no delegated cgroup v2 subtree for uid 1000 \(host has no cgroup v2 hierarchy, only cgroup v1\)/);
  const tree = fakeTree();
  tree.add('/sys/fs/cgroup/system.slice', 0);
  tree.add('/sys/fs/cgroup/system.slice/slurmstepd.scope', 0);
  tree.add('/sys/fs/cgroup/system.slice/slurmstepd.scope/job_12', 0);
  tree.spawnIn('/sys/fs/cgroup/system.slice/slurmstepd.scope/job_12', 5);
  const host = cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 5, env: { PATH: '/usr/bin' },
    procSelfCgroup: '0::/system.slice/slurmstepd.scope/job_12\n', mountinfo: mountinfo() });
  const msg = (() => { try { cg.planCgroup(inProfile('hpc.json5', { cpus: 2 }), '5-a', host); } catch (e) { return e.message; } })();
  t.match(msg, /^hpc\.json5:3:5: limits\.cpus: no delegated cgroup v2 subtree for uid 1000 \(\/sys\/fs\/cgroup\/system\.slice\/slurmstepd\.scope\/job_12 is owned by uid 0 and is not writable; busctl not found in \/usr\/local\/bin, \/usr\/bin, /);
  t.match(cg.describeCgroupHost(host).join('\n'), /owner uid 0, not writable/);
});

t.test('delegated without a controller: strict names it, best-effort enforces the rest', async (t) => {
  const tree = fakeTree();
  tree.add('/sys/fs/cgroup/user.slice', 0);
  const p = tree.dirs.get('/sys/fs/cgroup/user.slice');
  p.subtree = ['memory', 'pids']; // cpu not delegated
  tree.add(`/sys/fs/cgroup/user.slice/u`, 1000, { enableInParent: false });
  tree.spawnIn('/sys/fs/cgroup/user.slice/u', 9);
  const host = cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 9, env: {}, procSelfCgroup: '0::/user.slice/u\n', mountinfo: mountinfo() });
  t.throws(() => cg.planCgroup(limits({ cpus: 1, pids: 4 }), '9-a', host), /^--cpus: \/sys\/fs\/cgroup\/user\.slice\/u lacks the cpu controller/);
  const be = cg.planCgroup(limits({ cpus: 1, pids: 4 }, 'best-effort'), '9-a', host);
  t.same(be.setup.writes.map((w) => w.file), ['pids.max']);
  t.equal(be.warnings.length, 1);
  t.match(be.warnings[0], /running without --cpus$/);
});

t.test('stale leaves of dead monitors are killed and removed; live ones kept', async (t) => {
  const { tree, read } = delegatedHost();
  const host0 = read();
  cg.createCgroupLeaf(cg.planCgroup(limits({ pids: 4 }), '4242-live', host0).setup, { ops: tree.ops, pid: 4242 });
  tree.add(`${USER_SVC}/sandbox-777-dead`, 1000, { enableInParent: false });
  tree.spawnIn(`${USER_SVC}/sandbox-777-dead`, 778); // a straggler; its monitor 777 is gone
  tree.add(`${USER_SVC}/not-ours`, 1000, { enableInParent: false });
  const host = read();
  t.same(host.ownParent.staleLeaves, ['sandbox-777-dead']);
  const d = cg.planCgroup(limits({ pids: 4 }), '4242-new', host);
  t.same(d.setup.staleLeaves, [`${USER_SVC}/sandbox-777-dead`]);
  cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 4242 });
  t.notOk(tree.dirs.has(`${USER_SVC}/sandbox-777-dead`));
  t.notOk(tree.alive.has(778), 'straggler killed through cgroup.kill');
  t.ok(tree.dirs.has(`${USER_SVC}/sandbox-4242-live`));
  t.ok(tree.dirs.has(`${USER_SVC}/not-ours`));
});

t.test('every write names its file', async (t) => {
  const ops = { writeFile() { throw errno('EACCES', 'permission denied'); } };
  t.throws(() => cg.writeCgroupFile(ops, '/sys/fs/cgroup/x/memory.max', '1'),
    new SandboxError('write /sys/fs/cgroup/x/memory.max: Permission denied'));
  const busy = { writeFile() { throw errno('EBUSY', 'resource busy or locked'); } };
  t.throws(() => cg.writeCgroupFile(busy, '/c/cgroup.subtree_control', '+memory'), { message: 'write /c/cgroup.subtree_control: Device or resource busy' });
});

t.test('limits are validated', async (t) => {
  const { read } = delegatedHost();
  t.throws(() => cg.planCgroup(limits({ cpus: 0.001 }), '1-a', read()), /^--cpus: must be a number of CPUs from 0\.01/);
  t.throws(() => cg.planCgroup(limits({ pids: 0 }), '1-a', read()), /^--pids: must be a number of processes from 1/);
  t.throws(() => cg.planCgroup(inProfile('p.json5', { memory: -1 }), '1-a', read()), /^p\.json5:3:5: limits\.memory: must be a size above 0/);
});

t.test('profile origin labels', async (t) => {
  const { read } = delegatedHost();
  const d = cg.planCgroup(inProfile('app.json5', { memory: 2 ** 31, pids: 10 }), '1-a', read());
  t.equal(d.plan.memoryLabel, 'limits.memory 2G (app.json5:3:5)');
  t.equal(d.plan.pidsLabel, 'limits.pids 10 (app.json5:4:5)', 'each limit keeps its own position');
  const mixed = cg.planCgroup({ ...inProfile('app.json5', { memory: 2 ** 31 }), ...limits({ pids: 100 }) }, '1-b', read());
  t.equal(mixed.plan.memoryLabel, 'limits.memory 2G (app.json5:3:5)');
  t.equal(mixed.plan.pidsLabel, '--pids 100');
});

t.test('a profile\'s limits keep their value, origin and mode under limit flags', async (t) => {
  const fs = require('node:fs');
  const path = require('node:path');
  const P = require('../../dist/lib/profile');
  const { parseRunArgs } = require('../../dist/lib/cli/run-options');
  const { mergeSpecs } = require('../../dist/lib/plan/spec');
  const dir = t.testdir({ shipped: { 'app.json5': '{\n  limits: {\n    pids: 100,\n    mode: "best-effort",\n  },\n}\n' }, user: {} });
  const ctx = { env: { HOME: '/home/u' }, cwd: '/', uid: 1000, gid: 1000, exists: fs.existsSync, shippedDir: path.join(dir, 'shipped'),
    userDir: path.join(dir, 'user'), dataDir: path.join(dir, 'data'), listDir: () => [], readLink: () => null };
  const file = path.join(dir, 'shipped', 'app.json5');
  const profile = P.loadProfile('app', ctx).spec;
  // What `sandbox run --profile app --memory 1G` merges (lib/cli/run.ts: the command line on top).
  const spec = mergeSpecs(profile, parseRunArgs(['--memory', '1G', 'true'], '/').spec);
  t.same(spec.limits.mode, { value: 'best-effort', origin: `${file}:4:11`, from: 'profile' }, 'the profile\'s mode survives a limit flag');
  t.same(spec.limits.pids, { value: 100, origin: `${file}:3:11`, from: 'profile' });
  t.same(spec.limits.memory, { value: 2 ** 30, origin: '--memory 1G', from: 'option' });

  const { read } = delegatedHost();
  const d = cg.planCgroup(spec.limits, '1-a', read());
  t.equal(d.plan.pidsLabel, `limits.pids 100 (${file}:3:11)`, 'pids is reported as the profile\'s, not as --pids');
  t.equal(d.plan.memoryLabel, '--memory 1G');

  const hybrid = cg.readCgroupHost({ ops: fakeTree({ mount: '/sys/fs/cgroup/unified', rootControllers: [] }).ops, uid: 1000, pid: 5,
    env: { PATH: '/nowhere' }, procSelfCgroup: '0::/\n', mountinfo: mountinfo('/sys/fs/cgroup/unified') });
  const be = cg.planCgroup(spec.limits, '5-a', hybrid);
  t.equal(be.plan, null, 'best-effort: runs without limits instead of failing');
  t.match(be.warnings[0], new RegExp(`^${file.replace(/[.]/g, '\\.')}:3:11: --memory, limits\\.pids: no delegated cgroup v2 subtree`));

  // The same limit given as an option is reported as the option.
  const cli = parseRunArgs(['--pids', '100', 'true'], '/').spec;
  t.equal(cg.planCgroup(mergeSpecs(profile, cli).limits, '1-b', read()).plan.pidsLabel, '--pids 100');
  t.throws(() => cg.planCgroup(mergeSpecs(profile, parseRunArgs(['--limits', 'strict', '--pids', '100', 'true'], '/').spec).limits, '5-b', hybrid),
    /^--pids: no delegated cgroup v2 subtree/, 'an explicit --limits strict wins over the profile\'s mode');
});

/**
 * A fake busctl: StartTransientUnit moves the scope's pid into a new scope under app.slice (as the
 * user manager does when it runs the start job), the unit's Job property shows the job `jobPolls` times.
 */
function fakeBusctl(tree, { from, pid, units = {}, jobPolls = 1, state = 'active', refuse = null } = {}) {
  const calls = [];
  let polls = 0;
  const run = (file, args) => {
    calls.push([file, ...args]);
    const verb = args[1];
    if (verb === 'call' && args[5] === 'StartTransientUnit') {
      if (refuse) { const r = refuse(args); if (r) throw Object.assign(new Error('Command failed'), { stderr: Buffer.from(`${r}\n`) }); }
      const scope = `/sys/fs/cgroup/user.slice/user@1000.service/app.slice/${args[7]}`;
      if (!tree.dirs.has('/sys/fs/cgroup/user.slice/user@1000.service/app.slice')) tree.add('/sys/fs/cgroup/user.slice/user@1000.service/app.slice', 1000);
      tree.add(scope, 1000);
      tree.dirs.get(from).procs.delete(pid);
      tree.dirs.get(scope).procs.add(pid);
      return 'o "/org/freedesktop/systemd1/job/77"\n';
    }
    if (verb === 'call' && args[5] === 'GetUnitByPID') {
      const u = units[args[7]];
      if (!u) throw Object.assign(new Error('Command failed'), { stderr: Buffer.from(`Call failed: PID ${args[7]} does not belong to any loaded unit.\n`) });
      return `o "${cg.unitObjectPath(u.unit)}"\n`;
    }
    if (verb === 'get-property' && args.at(-1) === 'Delegate') {
      const u = Object.values(units).find((x) => cg.unitObjectPath(x.unit) === args[3]);
      return `b ${u && u.delegate ? 'true' : 'false'}\n`;
    }
    if (verb === 'get-property' && args.at(-2) === 'Job') {
      polls++;
      return polls <= jobPolls ? `(uo) 77 "/org/freedesktop/systemd1/job/77"\ns "inactive"\n` : `(uo) 0 "/"\ns "${state}"\n`;
    }
    throw new Error(`unexpected busctl ${args.join(' ')}`);
  };
  return { run, calls };
}

/** A user manager answers: busctl in /usr/bin, its private socket, the user bus. */
function withUserManager(tree) {
  const origExists = tree.ops.exists;
  tree.ops.exists = (p) => p === '/usr/bin/busctl' || p === '/run/user/1000/systemd/private' || p === '/run/user/1000/bus' || origExists(p);
}
const SD_ENV = { PATH: '/usr/bin', XDG_RUNTIME_DIR: '/run/user/1000' };

t.test('systemd: unit object paths, the scope request, busctl replies', async (t) => {
  t.equal(cg.unitObjectPath('sandbox-5-a.scope'), '/org/freedesktop/systemd1/unit/sandbox_2d5_2da_2escope');
  t.equal(cg.unitObjectPath('1x.service'), '/org/freedesktop/systemd1/unit/_31x_2eservice');
  t.equal(cg.unitNameOfPath('/org/freedesktop/systemd1/unit/vte_2dspawn_2dab_2escope'), 'vte-spawn-ab.scope');
  t.equal(cg.unitNameOfPath(cg.unitObjectPath('app-org.gnome.Terminal@1.service')), 'app-org.gnome.Terminal@1.service');
  t.same(cg.transientScopeArgs('sandbox-5-a.scope', [5], 'sandbox 5-a'), [
    '--user', 'call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager',
    'StartTransientUnit', 'ssa(sv)a(sa(sv))', 'sandbox-5-a.scope', 'fail',
    '5', 'Description', 's', 'sandbox 5-a', 'PIDs', 'au', '1', '5', 'Delegate', 'b', 'true', 'CollectMode', 's', 'inactive-or-failed',
    'OOMPolicy', 's', 'continue',
    '0',
  ]);
  t.notOk(cg.transientScopeArgs('sandbox-5-a.scope', [5], 'x', { oomPolicy: false }).includes('OOMPolicy'));
  t.throws(() => cg.transientScopeArgs('bad name', [1], 'x'), /invalid scope unit name/);
  t.same(cg.parseBusctlReply('(uo) 0 "/"\ns "active"\n'), ['0', '/', 's', 'active']);
  t.same(cg.parseBusctlReply('s "a \\"b\\""'), ['a "b"']);
});

t.test('systemd: from a login session scope, a transient scope with Delegate=yes holds the leaf', async (t) => {
  // A login session scope (root-owned) with a user manager that answers: the scope is created and used.
  const tree = fakeTree();
  tree.add('/sys/fs/cgroup/user.slice', 0);
  tree.add('/sys/fs/cgroup/user.slice/session-3.scope', 0);
  tree.add('/sys/fs/cgroup/user.slice/user@1000.service', 1000);
  tree.spawnIn('/sys/fs/cgroup/user.slice/session-3.scope', 5);
  tree.dirs.get('/sys/fs/cgroup/user.slice').ownedFiles = false;
  withUserManager(tree);
  const where = () => [...tree.dirs.entries()].find(([, d]) => d.procs.has(5))[0].slice('/sys/fs/cgroup'.length);
  const bus = fakeBusctl(tree, { from: '/sys/fs/cgroup/user.slice/session-3.scope', pid: 5, jobPolls: 2 });
  const read = (ask = true) => cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 5, env: SD_ENV,
    procSelfCgroup: `0::${where()}\n`, mountinfo: mountinfo(), unitOfPid: (p) => (ask ? cg.queryUnitOfPid(p, bus.run) : null) });
  const host = read();
  t.ok(host.systemd.available);
  t.equal(host.ownUnit, null, 'the manager is not asked about a cgroup the user cannot write');
  const d = cg.planCgroup(limits({ memory: 2 ** 30 }), '5-a', host);
  t.equal(d.setup.via, 'systemd-scope');
  t.equal(d.setup.scopeUnit, 'sandbox-5-a.scope');
  t.match(d.explain[0], /asking the systemd user manager for scope sandbox-5-a\.scope with Delegate=yes/);
  const scope = '/sys/fs/cgroup/user.slice/user@1000.service/app.slice/sandbox-5-a.scope';
  const plan = cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 5, run: bus.run, rereadHost: () => read(false) });
  t.same(bus.calls.map((c) => c[2] === 'call' ? c[6] : c.at(-1)), ['StartTransientUnit', 'ActiveState', 'ActiveState', 'ActiveState'],
    'the start job is waited for until it left the unit');
  t.equal(plan.leaf, `${scope}/sandbox-5-a`);
  t.same([...tree.dirs.get(`${scope}/monitor`).procs], [5], 'the monitor sits beside the leaf in the scope');
  t.equal(tree.dirs.get(`${scope}/sandbox-5-a`).files.get('memory.max'), String(2 ** 30));
});

t.test('systemd: a terminal\'s scope the user owns but systemd manages is left alone', async (t) => {
  const tree = fakeTree();
  const svc = '/sys/fs/cgroup/user.slice/user@1000.service';
  const term = `${svc}/app.slice/vte-spawn-1.scope`;
  tree.add('/sys/fs/cgroup/user.slice', 0);
  tree.add(svc, 1000);
  tree.add(`${svc}/app.slice`, 1000);
  tree.add(term, 1000);
  tree.spawnIn(term, 4000); // the shell
  tree.spawnIn(term, 4242); // the launcher
  withUserManager(tree);
  const where = () => [...tree.dirs.entries()].find(([, d]) => d.procs.has(4242))[0].slice('/sys/fs/cgroup'.length);
  const units = { 4242: { unit: 'vte-spawn-1.scope', delegate: false } };
  const bus = fakeBusctl(tree, { from: term, pid: 4242, units });
  const read = () => cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 4242, env: SD_ENV,
    procSelfCgroup: `0::${where()}\n`, mountinfo: mountinfo(), unitOfPid: (p) => cg.queryUnitOfPid(p, bus.run) });
  const host = read();
  t.same(host.ownUnit, { unit: 'vte-spawn-1.scope', delegate: false });
  const d = cg.planCgroup(limits({ pids: 20 }), '4242-b', host);
  t.equal(d.setup.via, 'systemd-scope');
  t.match(d.explain[0], /^caller's cgroup .*vte-spawn-1\.scope belongs to vte-spawn-1\.scope, which the systemd user manager manages \(no Delegate=yes\): nothing is made there; asking the systemd user manager for scope sandbox-4242-b\.scope/);
  const plan = cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 4242, run: bus.run, rereadHost: read });
  t.equal(plan.leaf, `${svc}/app.slice/sandbox-4242-b.scope/sandbox-4242-b`);
  t.same(tree.ops.listDirs(term), [], 'nothing made in the terminal\'s scope');
  t.same([...tree.dirs.get(term).procs], [4000], 'the shell stays where systemd put it');
  t.same(tree.dirs.get(term).subtree, [], 'no controller enabled there');
  t.notOk(tree.writes.some(([p]) => p.startsWith(`${term}/`)), 'no write in the terminal\'s scope');

  // A scope with Delegate=yes (systemd-run --user --scope -p Delegate=yes): used as it is.
  const t2 = fakeTree();
  const own = `${svc}/app.slice/run-r1.scope`;
  t2.add('/sys/fs/cgroup/user.slice', 0);
  t2.add(svc, 1000);
  t2.add(`${svc}/app.slice`, 1000);
  t2.add(own, 1000);
  t2.spawnIn(own, 4242);
  withUserManager(t2);
  const bus2 = fakeBusctl(t2, { from: own, pid: 4242, units: { 4242: { unit: 'run-r1.scope', delegate: true } } });
  const host2 = cg.readCgroupHost({ ops: t2.ops, uid: 1000, pid: 4242, env: SD_ENV,
    procSelfCgroup: `0::${own.slice(14)}\n`, mountinfo: mountinfo(), unitOfPid: (p) => cg.queryUnitOfPid(p, bus2.run) });
  t.same(host2.ownUnit, { unit: 'run-r1.scope', delegate: true });
  const d2 = cg.planCgroup(limits({ pids: 20 }), '4242-c', host2);
  t.equal(d2.setup.via, 'delegated');
  t.equal(d2.setup.base, own);
  t.match(d2.explain[0], /\(run-r1\.scope has Delegate=yes\)/);
});

t.test('systemd: a cgroup delegated by hand (no unit of the user manager) is used as before', async (t) => {
  const { tree } = delegatedHost();
  withUserManager(tree);
  const bus = fakeBusctl(tree, { from: USER_SVC, pid: 4242, units: {} });
  const host = cg.readCgroupHost({ ops: tree.ops, uid: 1000, pid: 4242, env: SD_ENV, procSelfCgroup: `0::${USER_SVC.slice(14)}\n`,
    mountinfo: mountinfo(), unitOfPid: (p) => cg.queryUnitOfPid(p, bus.run) });
  t.equal(host.ownUnit, null);
  const d = cg.planCgroup(limits({ memory: 2 ** 30 }), '4242-d', host);
  t.equal(d.setup.via, 'delegated');
  t.equal(d.setup.base, USER_SVC);
});

t.test('systemd: detection and failures are one line', async (t) => {
  const tree = fakeTree();
  const origExists = tree.ops.exists;
  // busctl only in a directory of PATH the user can write: not used
  tree.ops.exists = (p) => p === '/home/u/bin/busctl' || p === '/run/user/1000/systemd/private' || origExists(p);
  let sd = cg.detectSystemdUserManager(tree.ops, { PATH: '/home/u/bin', XDG_RUNTIME_DIR: '/run/user/1000', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' }, 1000);
  t.equal(sd.available, false);
  t.match(sd.reason, /busctl not found in \/usr\/local\/bin, \/usr\/bin, \/bin/);
  // a session bus without a user manager (dbus-launch): no
  tree.ops.exists = (p) => p === '/usr/bin/busctl' || origExists(p);
  sd = cg.detectSystemdUserManager(tree.ops, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/dbus-x' }, 1000);
  t.equal(sd.available, false);
  t.match(sd.reason, /\/run\/user\/1000\/systemd\/private missing/);
  // the manager's socket but no bus to reach it with busctl
  tree.ops.exists = (p) => p === '/usr/bin/busctl' || p === '/run/user/1000/systemd/private' || origExists(p);
  sd = cg.detectSystemdUserManager(tree.ops, { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000);
  t.equal(sd.available, false);
  t.match(sd.reason, /no user bus/);
  withUserManager(tree);
  sd = cg.detectSystemdUserManager(tree.ops, { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000);
  t.equal(sd.available, true);

  const failing = () => { throw Object.assign(new Error('x'), { stderr: Buffer.from('Call failed: Access denied\n') }); };
  t.throws(() => cg.startTransientScope('sandbox-1-b.scope', [1], failing),
    { message: 'systemd user manager: StartTransientUnit sandbox-1-b.scope: Call failed: Access denied' });
  // systemd 252 knows no OOMPolicy for scopes: asked again without it
  const t2 = fakeTree();
  t2.add('/sys/fs/cgroup/user.slice', 0);
  t2.add('/sys/fs/cgroup/user.slice/user@1000.service', 1000);
  t2.add('/sys/fs/cgroup/user.slice/s.scope', 0);
  t2.spawnIn('/sys/fs/cgroup/user.slice/s.scope', 1);
  const old = fakeBusctl(t2, { from: '/sys/fs/cgroup/user.slice/s.scope', pid: 1,
    refuse: (args) => args.includes('OOMPolicy') && 'Call failed: Cannot set property OOMPolicy, or unknown property.' });
  cg.startTransientScope('sandbox-1-c.scope', [1], old.run);
  t.equal(old.calls.filter((c) => c[6] === 'StartTransientUnit').length, 2);
  // a start job that ends with the scope failed
  const t3 = fakeTree();
  t3.add('/sys/fs/cgroup/user.slice', 0);
  t3.add('/sys/fs/cgroup/user.slice/user@1000.service', 1000);
  t3.add('/sys/fs/cgroup/user.slice/s.scope', 0);
  t3.spawnIn('/sys/fs/cgroup/user.slice/s.scope', 1);
  const bad = fakeBusctl(t3, { from: '/sys/fs/cgroup/user.slice/s.scope', pid: 1, state: 'failed' });
  t.throws(() => cg.startTransientScope('sandbox-1-d.scope', [1], bad.run),
    { message: 'systemd user manager: StartTransientUnit sandbox-1-d.scope: the scope is failed after its start job' });
  // a job that never finishes
  const t4 = fakeTree();
  t4.add('/sys/fs/cgroup/user.slice', 0);
  t4.add('/sys/fs/cgroup/user.slice/user@1000.service', 1000);
  t4.add('/sys/fs/cgroup/user.slice/s.scope', 0);
  t4.spawnIn('/sys/fs/cgroup/user.slice/s.scope', 1);
  const slow = fakeBusctl(t4, { from: '/sys/fs/cgroup/user.slice/s.scope', pid: 1, jobPolls: 1e9 });
  t.throws(() => cg.startTransientScope('sandbox-1-e.scope', [1], { run: slow.run, timeoutMs: 50 }),
    /StartTransientUnit sandbox-1-e\.scope: start job \/org\/freedesktop\/systemd1\/job\/77 still running after 50 ms/);
  // the manager's other answers are one line too
  t.throws(() => cg.queryUnitOfPid(9, () => { throw Object.assign(new Error('x'), { stderr: 'Failed to connect to bus: No such file or directory\n' }); }),
    { message: 'systemd user manager: GetUnitByPID 9: Failed to connect to bus: No such file or directory' });
});

t.test('describeCgroupHost', async (t) => {
  const { read } = delegatedHost();
  const text = cg.describeCgroupHost(read()).join('\n');
  t.match(text, /cgroup v2 mounted at \/sys\/fs\/cgroup, controllers: cpu memory pids io/);
  t.match(text, /caller \(uid 1000\) is in cgroup \/user\.slice\/user-1000\.slice\/user@1000\.service/);
  t.match(text, /would use \/sys\/fs\/cgroup\/user\.slice\/user-1000\.slice\/user@1000\.service/);
});

t.test('a process born in the base meanwhile is moved and the controllers enabled anyway', async (t) => {
  const { tree, read } = delegatedHost();
  const d = cg.planCgroup(limits({ pids: 4 }), '4242-r', read());
  const orig = tree.ops.writeFile;
  let raced = false;
  tree.ops.writeFile = (p, data) => {
    if (!raced && p.endsWith('/user@1000.service/cgroup.subtree_control')) { raced = true; tree.spawnIn(USER_SVC, 5000); }
    return orig(p, data);
  };
  cg.createCgroupLeaf(d.setup, { ops: tree.ops, pid: 4242 });
  t.ok(raced);
  t.ok(tree.dirs.get(`${USER_SVC}/sandbox-launcher`).procs.has(5000));
  t.ok(tree.dirs.has(`${USER_SVC}/sandbox-4242-r`));
});
