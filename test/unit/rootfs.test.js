// --rootfs planning (lib/plan/rootfs.ts) against a fake image and host: which profile operations survive,
// how missing mount points are prepared without writing into the image, and the NVIDIA driver's libraries.
'use strict';
const t = require('tap');
const { applyRootfs, profileForRootfs, isImageSystemPath, imageHasDir } = require('../../dist/lib/plan/rootfs');
const { emptySpec } = require('../../dist/lib/plan/spec');
const { NVIDIA_ROOTFS_DIR } = require('../../dist/lib/host/gpu');

const IMG = '/img';
/** entries: path -> 'dir' | 'file' | '->target' (symlink); contents for files. */
function fakeHost(entries, contents = {}, extra = {}) {
  const kind = (p) => { const e = entries[p]; return e === undefined ? null : e.startsWith('->') ? 'symlink' : e; };
  let nextFd = 100;
  const fds = {};
  return {
    lstat: (p) => (kind(p) ? { kind: kind(p), mode: 0o755 } : null),
    isDir: (p) => kind(p) === 'dir' || p.startsWith('/host/'),
    readdir: (p) => Object.keys(entries).filter((k) => k.startsWith(p + '/') && !k.slice(p.length + 1).includes('/')).map((k) => k.slice(p.length + 1)).sort(),
    readlink: (p) => (kind(p) === 'symlink' ? entries[p].slice(2) : null),
    readFile: (p) => (contents[p] !== undefined ? Buffer.from(contents[p]) : null),
    dataFd: (name, bytes) => { fds[nextFd] = bytes.toString(); return nextFd++; },
    nvidia: { devices: ['/dev/nvidiactl', '/dev/nvidia0'], libraries: ['/usr/lib/x86_64-linux-gnu/libcuda.so.1'], binaries: ['/usr/bin/nvidia-smi'], sockets: [], selected: null },
    uid: 1000, gid: 1000, env: { PATH: '/usr/bin:/bin' },
    fds,
    ...extra,
  };
}
const image = {
  '/img': 'dir', '/img/bin': 'dir', '/img/etc': 'dir', '/img/etc/passwd': 'file', '/img/etc/group': 'file', '/img/etc/resolv.conf': 'file',
  '/img/home': 'dir', '/img/usr': 'dir', '/img/usr/lib': 'dir', '/img/usr/lib/libc.so.6': 'file', '/img/lib': '->usr/lib',
  '/img/var': 'dir', '/img/var/run': '->/run',
};
const hostFiles = {
  '/img/etc/passwd': 'root:x:0:0::/root:/bin/sh\n', '/img/etc/group': 'root:x:0:\n',
  '/etc/passwd': 'root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n', '/etc/group': 'alice:x:1000:\n',
  '/etc/resolv.conf': 'nameserver 192.0.2.1\n',
};
const req = { dir: IMG, writable: false, origin: '--rootfs /img' };
const show = (m) => m.op === 'bind' ? `bind ${m.src} ${m.dst}${m.readOnly ? ' ro' : ''}` : m.op === 'symlink' ? `symlink ${m.target} ${m.dst}` : `${m.op} ${m.op === 'chmod' ? m.path : m.dst}`;

t.test('the profile\'s system operations are dropped, the rest kept', async (t) => {
  t.ok(isImageSystemPath('/usr/lib')); t.ok(isImageSystemPath('/etc/passwd')); t.notOk(isImageSystemPath('/home/alice')); t.notOk(isImageSystemPath('/usrx'));
  const s = emptySpec();
  s.mounts = [
    { op: 'bind', src: '/usr', dst: '/usr', readOnly: true, devices: false, optional: false, origin: 'p:1' },
    { op: 'symlink', target: 'usr/bin', dst: '/bin', origin: 'p:2' },
    { op: 'bind', src: '/etc/passwd', dst: '/etc/passwd', readOnly: true, devices: false, optional: false, origin: 'p:3' },
    { op: 'tmpfs', dst: '/tmp', size: 0, mode: 0o1777, origin: 'p:4' },
    { op: 'bind', src: '/scratch', dst: '/scratch', readOnly: false, devices: false, optional: true, origin: 'p:5' },
  ];
  t.same(profileForRootfs(s).mounts.map(show), ['tmpfs /tmp', 'bind /scratch /scratch']);
});

t.test('a working directory the image lacks keeps its binds, even under a system path, and gets a mount point', async (t) => {
  const host = fakeHost(image, hostFiles);
  t.ok(imageHasDir(IMG, '/usr/lib', host.lstat));
  t.notOk(imageHasDir(IMG, '/var/tmp/work', host.lstat));
  t.notOk(imageHasDir(IMG, '/lib', host.lstat), 'a symlink in the image is not its directory');
  t.ok(imageHasDir(IMG, '/', host.lstat));
  const s = emptySpec();
  s.cwd = '/var/tmp/work';
  s.mounts = [
    { op: 'bind', src: '/usr', dst: '/usr', readOnly: true, devices: false, optional: false, origin: 'p:1' },
    { op: 'bind', src: '/var/tmp/work', dst: '/var/tmp/work', readOnly: false, devices: false, optional: false, origin: 'p:2' },
    { op: 'bind', src: '/var/tmp/work/.git', dst: '/var/tmp/work/.git', readOnly: true, devices: false, optional: true, origin: 'p:3' },
    { op: 'bind', src: '/var/lib/x', dst: '/var/lib/x', readOnly: true, devices: false, optional: false, origin: 'p:4' },
  ];
  t.same(profileForRootfs(s).mounts.map(show), [], 'without the cwd, all of them are the image\'s places');
  const kept = profileForRootfs(s, '/var/tmp/work');
  t.same(kept.mounts.map(show), ['bind /var/tmp/work /var/tmp/work', 'bind /var/tmp/work/.git /var/tmp/work/.git ro']);
  t.same(profileForRootfs(s, '/').mounts.map(show), [], 'a cwd of / keeps nothing more');
  const out = applyRootfs(kept, req, fakeHost(image, hostFiles, { isDir: (p) => p.startsWith('/var/tmp/work') }));
  const ops = out.mounts.map(show);
  // The image's /var is splayed (nothing written into it); /var/tmp and /var/tmp/work are made in that tmpfs.
  t.ok(ops.indexOf('tmpfs /var') >= 0 && ops.indexOf('tmpfs /var') < ops.indexOf('dir /var/tmp'));
  t.ok(ops.indexOf('dir /var/tmp/work') < ops.indexOf('remount-ro /var'));
  t.ok(ops.indexOf('remount-ro /var') < ops.indexOf('bind /var/tmp/work /var/tmp/work'));
});

t.test('read-only: top level bound back, missing mount points made in splayed tmpfs, image untouched', async (t) => {
  const host = fakeHost(image, hostFiles);
  const s = emptySpec();
  s.mounts = [
    { op: 'tmpfs', dst: '/home/alice', size: 0, mode: 0o700, origin: 'home' },
    { op: 'bind', src: '/host/proj', dst: '/work/proj', readOnly: false, devices: false, optional: false, origin: 'cwd' },
    { op: 'bind', src: '/host/sock', dst: '/var/run/x.sock', readOnly: false, devices: false, optional: false, origin: 'sock' },
  ];
  host.isDir = (p) => p === '/host/proj' || (image[p] === 'dir');
  const out = applyRootfs(s, req, host);
  const ops = out.mounts.map(show);
  // the top level, from the image
  for (const o of ['bind /img/bin /bin ro', 'bind /img/etc /etc ro', 'bind /img/usr /usr ro', 'symlink usr/lib /lib']) t.ok(ops.includes(o), o);
  t.notOk(ops.includes('bind /img/home /home ro'), '/home is splayed, not bound whole');
  t.notOk(ops.includes('bind /img/var /var ro'), '/var too');
  // splays: /home (for alice) and /var (its run symlink replaced by a directory); none for /work (on the root tmpfs)
  t.ok(ops.indexOf('tmpfs /home') >= 0 && ops.indexOf('tmpfs /var') >= 0);
  t.notOk(ops.some((o) => o.startsWith('symlink /run /var/run')), 'the symlink on the way is replaced');
  for (const d of ['dir /home/alice', 'dir /work', 'dir /work/proj', 'dir /var/run']) t.ok(ops.includes(d), d);
  t.ok(ops.includes('data /var/run/x.sock'), 'a file mount point is created empty');
  const firstRo = ops.findIndex((o) => o.startsWith('remount-ro'));
  t.ok(firstRo > ops.indexOf('data /var/run/x.sock') && firstRo > ops.indexOf('dir /work/proj'), 'mount points before the remounts');
  t.ok(ops.includes('remount-ro /home') && ops.includes('remount-ro /var'));
  t.ok(ops.indexOf('tmpfs /home/alice') > ops.lastIndexOf('remount-ro /var'), 'the spec\'s own operations after');
  t.same(ops.filter((o) => o.startsWith('proc') || o.startsWith('dev ') || o === 'tmpfs /tmp'), ['proc /proc', 'dev /dev', 'tmpfs /tmp']);
  // identity files: the caller added to the image's passwd and group; the host's resolv.conf
  const data = out.mounts.filter((m) => m.op === 'data' && m.mount);
  t.same(data.map((m) => [m.dst, host.fds[m.fd]]), [
    ['/etc/passwd', 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nalice:x:1000:\n'],
    ['/etc/resolv.conf', 'nameserver 192.0.2.1\n'],
  ]);
  t.ok(data.every((m) => m.readOnly && out.keepFds.includes(m.fd)));
  t.notOk(ops.some((o) => o.startsWith('tmpfs /etc')), '/etc has its files: bound over, not splayed');
});

t.test('read-only: operations that would write into the image are refused', async (t) => {
  const s = emptySpec();
  s.mounts = [{ op: 'symlink', target: 'x', dst: '/usr/y', origin: '--symlink x /usr/y' }];
  t.throws(() => applyRootfs(s, req, fakeHost(image, hostFiles)), /^--symlink x \/usr\/y: \/usr\/y would be written inside the read-only image/);
  s.mounts = [{ op: 'tmpfs', dst: '/scratch', size: 0, mode: 0o755, origin: 't' }, { op: 'symlink', target: 'x', dst: '/scratch/y', origin: 's' }];
  t.doesNotThrow(() => applyRootfs(s, req, fakeHost(image, hostFiles)), 'under a tmpfs it is fine');
});

t.test('writable: the image bound on /, nothing splayed', async (t) => {
  const out = applyRootfs(emptySpec(), { ...req, writable: true }, fakeHost(image, hostFiles));
  t.same(show(out.mounts[0]), 'bind /img /');
  t.notOk(out.mounts.some((m) => m.op === 'remount-ro' || m.op === 'dir'));
});

t.test('nvidia: the driver libraries and tools under /usr/lib/sandbox-nvidia, on the search paths', async (t) => {
  const s = emptySpec();
  s.devices = ['nvidia'];
  s.mounts = [{ op: 'bind', src: '/dev/nvidiactl', dst: '/dev/nvidiactl', readOnly: false, devices: true, optional: true, origin: '--device nvidia' }];
  const out = applyRootfs(s, req, fakeHost(image, hostFiles));
  const ops = out.mounts.map(show);
  t.ok(ops.includes('tmpfs /usr/lib'), '/usr/lib is splayed for the mount point');
  t.ok(ops.includes('bind /img/usr/lib/libc.so.6 /usr/lib/libc.so.6 ro'), 'with the image\'s entries bound back');
  t.ok(ops.indexOf(`dir ${NVIDIA_ROOTFS_DIR}`) < ops.indexOf('remount-ro /usr/lib'));
  t.ok(ops.indexOf(`tmpfs ${NVIDIA_ROOTFS_DIR}`) > ops.indexOf('remount-ro /usr/lib'));
  t.ok(ops.includes(`bind /usr/lib/x86_64-linux-gnu/libcuda.so.1 ${NVIDIA_ROOTFS_DIR}/libcuda.so.1 ro`));
  t.ok(ops.includes(`bind /usr/bin/nvidia-smi ${NVIDIA_ROOTFS_DIR}/bin/nvidia-smi ro`));
  t.ok(ops.includes('bind /dev/nvidiactl /dev/nvidiactl'), 'the device nodes from the device set stay');
  t.equal(out.env.set.LD_LIBRARY_PATH, NVIDIA_ROOTFS_DIR);
  t.equal(out.env.set.PATH, `/usr/bin:/bin:${NVIDIA_ROOTFS_DIR}/bin`);
});

t.test('not a directory', async (t) => {
  t.throws(() => applyRootfs(emptySpec(), { ...req, dir: '/nope' }, fakeHost(image)), /^--rootfs \/img: \/nope is not a directory$/);
});
