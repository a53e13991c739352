'use strict';
// The launcher's own inputs, the pure parts (issue 12 items 4, 6, 10, 13): a read-write ${CWD} that is the
// home, bind sources from variables going through symlinks in writable places, the compiled-plans list, a
// compiled plan's -o inside its own writable binds, and what a compiled plan records of its bind sources.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const P = require(`${dist}/profile`);
const own = require(`${dist}/host/own-files`);
const compile = require(`${dist}/cli/compile`);
const { serializePlan } = require(`${dist}/native/serialize`);

const SHIPPED = path.join(__dirname, '../../profiles');

/** A context on an imaginary host: HOME /home/u, symlinks and writable directories as given. */
function ctxFor(t, { cwd = '/home/u/proj', env = {}, links = {}, writable = [], real = {}, user = {} } = {}) {
  const dir = t.testdir({ user });
  return {
    env: { HOME: '/home/u', ...env },
    cwd,
    uid: 1000,
    gid: 1000,
    exists: (p) => fs.existsSync(p),
    shippedDir: SHIPPED,
    userDir: path.join(dir, 'user'),
    dataDir: path.join(dir, 'data'),
    listDir: () => [],
    readLink: (p) => links[p] ?? null,
    realPath: (p) => real[p] ?? p,
    canWrite: (d) => writable.includes(d),
  };
}
const binds = (spec, src) => spec.mounts.filter((m) => m.op === 'bind' && m.src === src);

t.test('item 6: a read-write ${CWD} that is the home is bound read-only; above it, the home in it is', async (t) => {
  for (const name of ['default', 'build', 'hpc']) {
    const loaded = P.loadProfile(name, ctxFor(t, { cwd: '/home/u' }));
    const b = binds(loaded.spec, '/home/u');
    t.ok(b.length >= 1, `${name} from ~: the cwd is bound`);
    t.ok(b.every((m) => m.readOnly), `${name} from ~: read-only`);
    t.match(loaded.notes.join('\n'), /(default|hpc)\.json5:\d+:\d+: \/home\/u \(from "\$\{CWD\}"\) is the home directory: bound read-only/, `${name} from ~: says so`);

    const above = P.loadProfile(name, ctxFor(t, { cwd: '/home' }));
    const cwdBind = binds(above.spec, '/home');
    t.same(cwdBind.map((m) => m.readOnly), [false], `${name} from /home: the cwd stays writable`);
    const at = above.spec.mounts.indexOf(cwdBind[0]);
    t.match(above.spec.mounts[at + 1], { op: 'bind', src: '/home/u', dst: '/home/u', readOnly: true, noFollow: true }, `${name} from /home: the home in it read-only, right after it`);
    t.match(above.notes.join('\n'), /\/home \(from "\$\{CWD\}"\) holds the home directory: the home in it is bound read-only/, `${name} from /home: says so`);

    const proj = P.loadProfile(name, ctxFor(t, { cwd: '/home/u/proj' }));
    t.equal(binds(proj.spec, '/home/u/proj')[0].readOnly, false, `${name} from a project directory: read-write`);
    t.same(proj.notes, [], `${name} from a project directory: no note`);
  }
  // the home reached through a symlink (/home -> /data/home): compared by resolved paths
  const ctx = ctxFor(t, { cwd: '/data/home/u', real: { '/home/u': '/data/home/u' } });
  t.equal(binds(P.loadProfile('default', ctx).spec, '/data/home/u')[0].readOnly, true, 'the home by its resolved path');
  // a $SCRATCH above the home stays writable (the job's files), the home in it not
  const above = ctxFor(t, { cwd: '/home/u/proj', env: { HOME: '/scratch/u/h', SCRATCH: '/scratch/u' } });
  const hpc = P.loadProfile('hpc', above).spec;
  t.same(binds(hpc, '/scratch/u').map((m) => m.readOnly), [false], 'the $SCRATCH bind of hpc stays writable');
  t.ok(hpc.mounts.some((m) => m.op === 'bind' && m.src === '/scratch/u/h' && m.readOnly), 'the home under it read-only');
  // a $TMPDIR of the host's /tmp itself is never bound (hpc's /tmp is its own)
  const tmp = ctxFor(t, { cwd: '/home/u/proj', env: { HOME: '/tmp/h', TMPDIR: '/tmp' } });
  t.same(binds(P.loadProfile('hpc', tmp).spec, '/tmp'), [], 'TMPDIR=/tmp: no bind of the host\'s /tmp');
});

t.test('item 6: literal paths and read-only binds are the profile\'s choice', async (t) => {
  const ctx = ctxFor(t, { cwd: '/home/u', user: { 'lit.json5': '{ extends: "minimal", filesystem: [{ bind: "/home" }, { "ro-bind": "${CWD}", dst: "/w" }] }' } });
  const loaded = P.loadProfile(path.join(ctx.userDir, 'lit.json5'), ctx);
  t.equal(binds(loaded.spec, '/home')[0].readOnly, false);
  t.equal(binds(loaded.spec, '/home/u')[0].readOnly, true);
  t.same(loaded.notes, []);
});

t.test('item 13: a variable\'s path through a symlink in a writable directory is refused', async (t) => {
  for (const v of ['TMPDIR', 'SCRATCH', 'PMIX_SERVER_TMPDIR']) {
    const ctx = ctxFor(t, { env: { [v]: '/tmp/X/sub' }, links: { '/tmp/X': '/home/u' }, writable: ['/tmp', '/home/u'], real: { '/tmp/X': '/home/u', '/tmp/X/sub': '/home/u/sub' } });
    t.throws(() => P.loadProfile('hpc', ctx), {
      name: 'SandboxError',
      message: new RegExp(`^.*hpc\\.json5:\\d+:\\d+: found /tmp/X/sub \\(from "\\$\\{${v}\\}"\\) going through the symlink /tmp/X -> /home/u in /tmp, which this user can write`),
    }, v);
  }
});

t.test('item 13: a symlink only root can replace is followed, and the bind takes the resolved path without following', async (t) => {
  const ctx = ctxFor(t, { env: { SCRATCH: '/scratch/u' }, links: { '/scratch': '/lustre/scratch' }, writable: ['/lustre/scratch/u'], real: { '/scratch': '/lustre/scratch', '/scratch/u': '/lustre/scratch/u' } });
  const spec = P.loadProfile('hpc', ctx).spec;
  const b = binds(spec, '/lustre/scratch/u');
  t.equal(b.length, 1);
  t.equal(b[0].dst, '/scratch/u', 'seen where the variable says');
  t.equal(b[0].noFollow, true, 'the stage refuses a symlink planted on the way since');
  t.equal(b[0].readOnly, false);
  // a literal path is not from a variable: no check, no resolving
  const lit = ctxFor(t, { links: { '/tmp': '/private/tmp' }, writable: ['/'], user: { 'l.json5': '{ extends: "minimal", filesystem: [{ bind: "/tmp" }] }' } });
  const m = binds(P.loadProfile(path.join(lit.userDir, 'l.json5'), lit).spec, '/tmp')[0];
  t.notOk(m.noFollow);
});

t.test('serialized: noFollow is the bind record\'s last field', async (t) => {
  const plan = { version: 1, namespaces: { net: true, pid: true }, uid: 1, gid: 1, hostname: 'h', cwd: '/', cwdFallback: true, newSession: false, dieWithParent: true, parentPid: 0, asPid1: false, landlockScopes: 0, landlockPaths: [], verbose: false, capabilities: [], keepFds: [], env: [], argv: ['true'], seccomp: null, cgroup: null, joinDir: null,
    mounts: [{ op: 'bind', src: '/a', dst: '/b', readOnly: true, devices: false, optional: true, origin: 'o', noFollow: true }] };
  t.match(serializePlan(plan).toString(), /4:bind,1:o,2:\/a,2:\/b,1:1,1:0,1:1,1:1,/);
});

t.test('item 10 and 4: sandbox\'s own state', async (t) => {
  t.equal(own.sandboxConfigDir({ HOME: '/home/u' }), '/home/u/.config/sandbox');
  t.equal(own.sandboxConfigDir({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }), '/cfg/sandbox');
  t.equal(own.sandboxConfigDir({ HOME: '/home/u', XDG_CONFIG_HOME: 'rel' }), '/home/u/.config/sandbox', 'a relative XDG_CONFIG_HOME is ignored');
  t.same(own.parseCompiledPlans([
    '{"plan":"/a/job.plan","rw":["/a","rel"]}', '{"plan":"relative"}', 'not json', '{"plan":"/a/job.plan","rw":[]}', '{"plan":"/b/../c.plan"}', '',
  ].join('\n')), [{ plan: '/a/job.plan', rw: [] }, { plan: '/c.plan', rw: [] }]);
  const m = (src, readOnly) => ({ op: 'bind', src, dst: src, readOnly, devices: false, optional: false, origin: `o ${src}` });
  t.equal(own.writableBindShowing([m('/home/u', false)], '/home/u/.config/sandbox').src, '/home/u');
  t.equal(own.writableBindShowing([m('/home/u', true)], '/home/u/.config/sandbox'), null);
  t.equal(own.writableBindShowing([m('/home/u/proj', false)], '/home/u/.config/sandbox'), null);

  const home = t.testdir({ '.config': {} });
  const dir = path.join(home, '.config', 'sandbox');
  own.ensureConfigDir([m('/elsewhere', false)], dir);
  t.notOk(fs.existsSync(dir), 'not made when no writable bind shows it');
  own.ensureConfigDir([m(path.join(home, '.config'), false)], dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'made, mode 0700, when a writable bind shows where it goes');
  // ~/.config linked into a dotfiles checkout: a bind of the checkout shows where the directory goes
  const dots = t.testdir({ home: {}, dotfiles: { config: {} } });
  fs.symlinkSync(path.join(dots, 'dotfiles', 'config'), path.join(dots, 'home', '.config'));
  const linked = path.join(dots, 'home', '.config', 'sandbox');
  own.ensureConfigDir([m(path.join(dots, 'dotfiles', 'config'), false)], linked);
  t.ok(fs.statSync(path.join(dots, 'dotfiles', 'config', 'sandbox')).isDirectory(), 'made when the bind shows it through a symlink');
  t.equal(own.resolvedPath(path.join(dots, 'home', '.config', 'not', 'yet')), path.join(fs.realpathSync(dots), 'dotfiles', 'config', 'not', 'yet'), 'missing parts appended to the resolved part');

  const env = { HOME: home };
  const uid = process.getuid();
  own.recordCompiledPlan(env, '/x/a.plan', uid);
  const b = path.join(home, 'b.plan');
  fs.writeFileSync(b, '');
  own.recordCompiledPlan(env, b, uid, ['/w']);
  t.same(own.readCompiledPlans(env), [{ plan: b, rw: ['/w'] }], 'plans that are gone leave the list');
  own.recordCompiledPlan(env, b, uid, [home]);
  t.same(own.readCompiledPlans(env), [{ plan: b, rw: [home] }], 'each plan once, as compiled last');
  t.same(own.listedPlanShowing(own.readCompiledPlans(env), path.join(home, 'c.plan')), { plan: b, dir: home }, 'another plan binds where c.plan would go');
  t.equal(own.listedPlanShowing(own.readCompiledPlans(env), b), null, 'a plan recompiled in place');
  t.equal(own.listedPlanShowing(own.readCompiledPlans(env), '/elsewhere/c.plan'), null);
  t.equal(fs.statSync(own.compiledPlansList(env)).mode & 0o777, 0o600);
  t.throws(() => own.recordCompiledPlan(env, '/y.plan', uid + 1), /owned by uid \d+, not by you/);
  fs.chmodSync(dir, 0o777);
  t.throws(() => own.recordCompiledPlan(env, '/y.plan', uid), /writable by others \(mode 777\)/);
});

t.test('item 4: -o inside the plan\'s own writable binds is refused', async (t) => {
  const m = (src, readOnly) => ({ op: 'bind', src, dst: src, readOnly, devices: false, optional: false, origin: `--bind ${src}` });
  const plan = { mounts: [m('/home/u/proj', false), m('/home/u', true)] };
  const id = (p) => p;
  t.throws(() => compile.checkOutputOutsideBinds(plan, '/home/u/proj/job.plan', '-o job.plan', id),
    { message: '-o job.plan: /home/u/proj/job.plan is inside /home/u/proj, which the plan binds read-write (--bind /home/u/proj): the program could rewrite its own plan; write it elsewhere' });
  t.doesNotThrow(() => compile.checkOutputOutsideBinds(plan, '/home/u/plans/job.plan', '-o x', id), 'under a read-only bind');
  // compared by resolved paths: -o through a symlink into the bound directory
  t.throws(() => compile.checkOutputOutsideBinds(plan, '/link/job.plan', '-o /link/job.plan', (p) => (p === '/link' ? '/home/u/proj' : p)), /is inside \/home\/u\/proj/);
  const r = compile.resolvedBinds({ mounts: [m('/scratch/u', false), { op: 'tmpfs', dst: '/tmp', size: 0, mode: 0o1777, origin: 'x' }] }, (p) => p.replace('/scratch', '/lustre'));
  t.same(r.mounts[0], { ...m('/scratch/u', false), src: '/lustre/u', noFollow: true });
  t.same(r.mounts[1].op, 'tmpfs');
  const cover = { ...m('/home/u/.config/sandbox', true), optional: true };
  t.equal(compile.resolvedBinds({ mounts: [cover] }, id, '/home/u/.config/sandbox').mounts[0].optional, false, 'the cover over the configuration must be there at each launch');
});

t.test('item 13: a compiled plan records device, inode and the boot of each bind source', async (t) => {
  const recs = [];
  compile.compiledRecords({ envClear: false, envKeep: [], envUnset: [], files: [], bootId: 'b00t',
    paths: [{ path: '/d', dir: true, optional: false, dev: 2049n, ino: 77n }, { path: '/gone', dir: false, optional: true }] })({ record: (...r) => recs.push(r) });
  t.same(recs.filter((r) => r[0].startsWith('input-')), [
    ['input-path', '/d', true, false], ['input-path', '/gone', false, true], ['input-boot', 'b00t'], ['input-node', '/d', 2049n, 77n],
  ]);
  const dir = t.testdir({ d: {} });
  const st = fs.statSync(path.join(dir, 'd'), { bigint: true });
  const x = compile.compiledExtras({ env: { clear: false, keep: [], unset: [] } }, { mounts: [{ op: 'bind', src: path.join(dir, 'd'), dst: '/d', readOnly: false, devices: false, optional: false, origin: 'o' }] }, []);
  t.same(x.paths, [{ path: path.join(dir, 'd'), dir: true, optional: false, dev: st.dev, ino: st.ino }]);
  if (fs.existsSync('/proc/sys/kernel/random/boot_id')) t.equal(x.bootId, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  t.ok(os.EOL);
});

t.test('item 14, the same for busctl: a busctl planted in a PATH directory is never the one run', async (t) => {
  const { detectSystemdUserManager } = require(`${dist}/cgroup/host`);
  const { SYSTEM_PROGRAM_DIRS } = require(`${dist}/host/system-program`);
  const dir = t.testdir({ bin: { busctl: '#!/bin/sh\n' } });
  const planted = path.join(dir, 'bin', 'busctl');
  const seen = [];
  const ops = { exists: (p) => { seen.push(p); return p === planted; } };
  t.same(detectSystemdUserManager(ops, { PATH: `./bin:bin:${path.join(dir, 'bin')}`, XDG_RUNTIME_DIR: dir }),
    { available: false, reason: `busctl not found in ${SYSTEM_PROGRAM_DIRS.join(', ')}` }, 'only the system directories are looked in');
  t.notOk(seen.includes(planted), 'the PATH directory is not even looked at');
});

t.test('item 14, the same for sandbox doctor: unshare from the system directories only', async (t) => {
  const { realHostReader } = require(`${dist}/host/reader`);
  const { systemProgram } = require(`${dist}/host/system-program`);
  const dir = t.testdir({ bin: { unshare: '#!/bin/sh\n' } });
  fs.chmodSync(path.join(dir, 'bin', 'unshare'), 0o755);
  const cwd = process.cwd();
  const saved = process.env.PATH;
  process.chdir(dir);
  try {
    for (const p of ['./bin:bin', `./bin:${path.join(dir, 'bin')}`]) {
      process.env.PATH = p;
      t.equal(realHostReader().which('unshare'), systemProgram('unshare'), `PATH=${p}: the system's unshare (or none), never the planted one`);
    }
  } finally {
    process.env.PATH = saved;
    process.chdir(cwd);
  }
});

t.test('item 13, the same for persistent homes: a symlink planted as homes/NAME is refused', async (t) => {
  const prof = { 'p.json5': '{ extends: "minimal", home: "persist" }' };
  const ok = ctxFor(t, { user: prof, real: { '/data/sandbox/homes/p': '/real/data/sandbox/homes/p' } });
  ok.dataDir = '/data';
  const m = P.loadProfile(path.join(ok.userDir, 'p.json5'), ok).spec.mounts.find((x) => x.dst === '/home/u');
  t.same([m.src, m.noFollow, m.readOnly], ['/real/data/sandbox/homes/p', true, false], 'bound by its resolved path, without following');
  for (const planted of ['/data/sandbox', '/data/sandbox/homes', '/data/sandbox/homes/p']) {
    const bad = ctxFor(t, { user: prof, links: { [planted]: '/home/u' } });
    bad.dataDir = '/data';
    t.throws(() => P.loadProfile(path.join(bad.userDir, 'p.json5'), bad), { message: new RegExp(`p\\.json5:1:\\d+: found ${planted} a symlink \\(to /home/u\\), expected a directory for the persistent home`) }, planted);
  }
});
