// profile -> spec -> plan with no machine under it: the profile read through a made-up context, the host's facts
// (bind sources, sandbox's own files and state, open descriptors, devices, an image for --rootfs) made up as data,
// and every filesystem call of this process trapped while the plan is built, so a plan step that reads the host
// itself fails here.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', '..', 'dist', 'lib');
const P = require(`${dist}/profile`);
const { buildPlan, noHostFacts } = require(`${dist}/plan/build`);
const { applyRootfs, profileForRootfs } = require(`${dist}/plan/rootfs`);
const { mergeSpecs, emptySpec } = require(`${dist}/plan/spec`);
const { deviceSetMounts } = require(`${dist}/plan/devices`);

const SHIPPED = path.resolve(__dirname, '..', '..', 'profiles');
const texts = Object.fromEntries(fs.readdirSync(SHIPPED).map((n) => [path.join(SHIPPED, n), fs.readFileSync(path.join(SHIPPED, n), 'utf8')]));

/** Runs fn with every synchronous fs call that reads or writes the host throwing; lists the calls tried. */
function withoutFilesystem(fn) {
  const tried = [];
  const names = Object.keys(fs).filter((k) => /Sync$/.test(k) && typeof fs[k] === 'function');
  const saved = Object.fromEntries(names.map((k) => [k, fs[k]]));
  for (const k of names) fs[k] = (...a) => { tried.push(`${k} ${a[0]}`); throw Object.assign(new Error(`${k} trapped`), { code: 'EACCES' }); };
  try {
    return { value: fn(), tried };
  } finally {
    Object.assign(fs, saved);
  }
}

/** A compute node: two GPUs, the job asks for the second; a home, a scratch directory, PMI_FD open. */
const node = {
  paths: ['/home/alice', '/home/alice/proj', '/scratch/alice', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia0', '/dev/nvidia1', '/opt', '/etc/slurm'],
  dev: ['null', 'nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm'],
  env: { HOME: '/home/alice', PATH: '/usr/bin:/bin', SCRATCH: '/scratch/alice', CUDA_VISIBLE_DEVICES: '1', PMI_FD: '7', XDG_RUNTIME_DIR: '/run/user/1000' },
};
const ctx = {
  env: node.env,
  cwd: '/home/alice/proj',
  uid: 1000,
  gid: 1000,
  programPath: '/usr/bin/true',
  exists: (p) => node.paths.includes(p) || p in texts || p.startsWith('/usr') || p === '/bin' || p === '/etc/passwd',
  shippedDir: SHIPPED,
  userDir: '/home/alice/.config/sandbox/profiles',
  dataDir: '/home/alice/.local/share',
  readFile: (p) => { if (texts[p] === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return texts[p]; },
  listDir: (p) => (p === '/dev' ? node.dev : p === SHIPPED ? Object.keys(texts).map((f) => path.basename(f)) : []),
  readLink: () => null,
  readBytes: () => null,
  realPath: (p) => p,
  canWrite: () => true,
  abstractSockets: () => [],
  dataFd: () => { throw new Error('no descriptor is made for this profile'); },
};
const caller = { uid: 1000, gid: 1000, cwd: '/home/alice/proj', env: node.env, parentPid: 1 };
const extras = { seccomp: null, cgroup: null };

/** The facts lib/host/plan-facts.ts would gather on that node. */
function facts(over = {}) {
  return {
    ...noHostFacts(),
    sources: { '/scratch/alice': null, '/home/alice': null, '/home/alice/proj': null, '/home/alice/proj/.git': 'ENOENT', '/opt': null },
    realSources: { '/home/alice/proj': '/home/alice/proj', '/scratch/alice': '/scratch/alice' },
    stateDirs: { '/tmp/sandbox-1000': null, '/run/user/1000/sandbox': { isDir: true, uid: 1000 } },
    openFds: [7],
    ...over,
  };
}

// loaded once beforehand: the profile module reads its build-time cache of the shipped profiles on first use
P.loadProfile('hpc', ctx);

t.test('the hpc profile becomes a plan on a made-up GPU node without touching the filesystem', async (t) => {
  const { value: plan, tried } = withoutFilesystem(() => buildPlan(P.loadProfile('hpc', ctx).spec, ['true'], caller, extras, facts()));
  t.same(tried, [], 'no filesystem call');
  const binds = plan.mounts.filter((m) => m.op === 'bind').map((m) => m.src);
  t.ok(binds.includes('/dev/nvidia1') && !binds.includes('/dev/nvidia0'), 'only the GPU CUDA_VISIBLE_DEVICES selects');
  t.ok(binds.includes('/dev/nvidiactl'), 'and the control node');
  t.ok(plan.env.includes('CUDA_VISIBLE_DEVICES=0'), 'renumbered from 0 inside');
  t.notOk(binds.includes('/home/alice/proj/.git'), 'an optional source the facts say is missing is dropped');
  t.ok(binds.includes('/scratch/alice'), 'a source the facts say is there is kept');
  t.same(plan.keepFds, [7], 'PMI_FD is passed on because the facts say 7 is open');
  t.equal(plan.cwd, '/home/alice/proj');
  t.equal(plan.uid, 1000);
});

t.test('each fact decides what it should', async (t) => {
  const spec = emptySpec();
  const bind = (src, dst, o = {}) => ({ op: 'bind', src, dst, readOnly: false, devices: false, optional: false, origin: `--bind ${src} ${dst}`, ...o });
  spec.mounts = [bind('/data', '/data'), bind('/home/alice', '/home/alice')];
  spec.env.set.PMI_FD = '9';
  const run = (f) => withoutFilesystem(() => buildPlan(spec, ['true'], caller, extras, f));

  t.throws(() => run(facts({ sources: { '/data': 'EACCES' } })).value, { message: '--bind /data /data: Permission denied' }, 'a source the facts say is unreadable: the option at fault, in words');
  const { value: p, tried } = run(facts({ sources: { '/data': null }, protectedPaths: ['/srv/dotfiles/sandbox'], realSources: { '/home/alice': '/srv/dotfiles' }, openFds: [] }));
  t.same(tried, []);
  t.same(p.keepFds, [], 'PMI_FD names a descriptor the facts say is closed: not kept');
  const ro = p.mounts.filter((m) => m.op === 'bind' && m.readOnly).map((m) => [m.src, m.dst]);
  t.same(ro, [['/srv/dotfiles/sandbox', '/home/alice/sandbox']], 'the home resolves (facts) into a tree holding sandbox\'s own files: bound read-only again where it shows');

  const state = (st) => run(facts({ sources: {}, stateDirs: { '/tmp/sandbox-1000': st }, realSources: {} })).value.mounts.filter((m) => m.origin.includes('own state')).map((m) => `${m.op} ${m.dst}`);
  const slash = { ...spec, mounts: [bind('/', '/')] };
  const runSlash = (st) => withoutFilesystem(() => buildPlan(slash, ['true'], caller, extras, facts({ sources: {}, realSources: {}, stateDirs: { '/tmp/sandbox-1000': st } }))).value.mounts.filter((m) => m.origin.includes('own state')).map((m) => `${m.op} ${m.dst}`);
  t.same(state(null), [], 'no bind shows /tmp: nothing to hide');
  t.same(runSlash(null), ['dir /tmp/sandbox-1000', 'tmpfs /tmp/sandbox-1000', 'remount-ro /tmp/sandbox-1000'], 'missing state dir under a writable /: made, then covered');
  t.same(runSlash({ isDir: true, uid: 1000 }), ['tmpfs /tmp/sandbox-1000', 'remount-ro /tmp/sandbox-1000'], 'the caller\'s own: covered');
  t.same(runSlash({ isDir: true, uid: 0 }), [], 'someone else\'s directory: left alone');
});

t.test('sandbox\'s state directories include every place a later launch may keep plans', async (t) => {
  const { ownStateDirs } = require(`${dist}/plan/build`);
  t.same(ownStateDirs({ uid: 1000, gid: 1000, cwd: '/', env: { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000' } }),
    ['/tmp/sandbox-1000', '/run/user/1000/sandbox', '/home/alice/.cache/sandbox'], 'without XDG_CACHE_HOME: the XDG default, which a launch setting it would use');
  t.same(ownStateDirs({ uid: 1000, gid: 1000, cwd: '/', env: { HOME: '/home/alice', XDG_CACHE_HOME: '/scratch/alice/cache/' } }),
    ['/tmp/sandbox-1000', '/scratch/alice/cache/sandbox', '/home/alice/.cache/sandbox']);
  t.same(ownStateDirs({ uid: 1000, gid: 1000, cwd: '/', env: { HOME: '/home/alice', XDG_CACHE_HOME: '/home/alice/.cache' } }),
    ['/tmp/sandbox-1000', '/home/alice/.cache/sandbox'], 'once each');
  t.same(ownStateDirs({ uid: 1000, gid: 1000, cwd: '/', env: { XDG_CACHE_HOME: 'relative' } }), ['/tmp/sandbox-1000'], 'relative paths are no cache (cacheBase)');
});

t.test('device sets from a made-up /dev', async (t) => {
  const probe = (dev, env = {}) => ({ exists: (p) => dev.includes(p.replace('/dev/', '')), listDir: (p) => (p === '/dev' ? dev : []), env });
  const { value: r, tried } = withoutFilesystem(() => deviceSetMounts('video', true, '--device video', probe(['video0', 'media1', 'sda']), 'hint'));
  t.same(tried, []);
  t.same(r.mounts.map((m) => m.src), ['/dev/media1', '/dev/video0']);
  t.throws(() => deviceSetMounts('nvidia', true, '--device nvidia', probe(['null']), 'use --device-try nvidia'), /^--device nvidia: found none of .* on this host, expected them for device set "nvidia"; use --device-try nvidia$/);
});

t.test('--rootfs from a made-up image: descriptors come from the DataFd passed in', async (t) => {
  const image = { '/img': 'dir', '/img/bin': 'dir', '/img/etc': 'dir', '/img/etc/passwd': 'file' };
  const made = [];
  const host = {
    lstat: (p) => (image[p] ? { kind: image[p], mode: 0o755 } : null),
    isDir: (p) => image[p] === 'dir' || p === '/home/alice/proj',
    readdir: (p) => Object.keys(image).filter((k) => k.startsWith(p + '/') && !k.slice(p.length + 1).includes('/')).map((k) => k.slice(p.length + 1)),
    readlink: () => null,
    readFile: (p) => (p === '/etc/passwd' ? Buffer.from('alice:x:1000:1000::/home/alice:/bin/sh\n') : null),
    dataFd: (name, bytes) => { made.push([name, bytes.toString()]); return 100 + made.length; },
    nvidia: null,
    uid: 1000, gid: 1000, env: node.env,
  };
  const spec = mergeSpecs(profileForRootfs(emptySpec()), { ...emptySpec(), mounts: [{ op: 'bind', src: '/home/alice/proj', dst: '/home/alice/proj', readOnly: false, devices: false, optional: false, origin: 'cwd' }] });
  const { value: out, tried } = withoutFilesystem(() => applyRootfs(spec, { dir: '/img', writable: false, origin: '--rootfs /img' }, host));
  t.same(tried, []);
  t.same(made.map(([n]) => n), ['sandbox-rootfs-etc-passwd'], 'one descriptor: the caller\'s passwd line for the image');
  t.match(made[0][1], /^alice:x:1000:/);
  t.same(out.keepFds, [101]);
  t.ok(out.mounts.some((m) => m.op === 'dir' && m.dst === '/home/alice/proj'), 'the mount point is made in the sandbox\'s own root');
});
