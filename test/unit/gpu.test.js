// NVIDIA discovery (lib/host/gpu.ts) against a fake device tree and fake ld.so caches: binary caches built
// here in glibc's new format (alone and after an old-format table) and `ldconfig -p` text.
'use strict';
const t = require('tap');
const fs = require('fs');
const { discoverNvidia, nvidiaMounts, parseLdCache, parseLdconfigOutput, visibleDevices, NVIDIA_ROOTFS_DIR } = require('../../dist/lib/host/gpu');

const LIB = '/usr/lib/x86_64-linux-gnu';
/** A new-format ld.so cache: entries [name, path, flags]; optionally after an old-format table. */
function ldCache(entries, { oldPrefix = false } = {}) {
  const strings = [];
  let strOff = 48 + entries.length * 24;
  const offs = [];
  for (const [name, p] of entries) {
    const k = strOff; strings.push(Buffer.from(name + '\0')); strOff += name.length + 1;
    const v = strOff; strings.push(Buffer.from(p + '\0')); strOff += p.length + 1;
    offs.push([k, v]);
  }
  const head = Buffer.alloc(48);
  head.write('glibc-ld.so.cache1.1', 0, 'latin1');
  head.writeUInt32LE(entries.length, 20);
  head.writeUInt32LE(strings.reduce((n, b) => n + b.length, 0), 24);
  head[28] = 2; // little endian
  const table = Buffer.alloc(entries.length * 24);
  entries.forEach(([, , flags], i) => {
    table.writeInt32LE(flags ?? 0x0303, i * 24);
    table.writeUInt32LE(offs[i][0], i * 24 + 4);
    table.writeUInt32LE(offs[i][1], i * 24 + 8);
  });
  const neu = Buffer.concat([head, table, ...strings]);
  if (!oldPrefix) return neu;
  const old = Buffer.alloc(16 + 2 * 12); // two old entries, ignored
  old.write('ld.so-1.7.0', 0, 'latin1');
  old.writeUInt32LE(2, 12);
  return Buffer.concat([old, neu]);
}

/** A fake filesystem: a set of files, directories derived from them, and file contents. */
function fakeFs(files, contents = {}) {
  const set = new Set(files);
  return {
    exists: (f) => set.has(f) || [...set].some((x) => x.startsWith(f + '/')),
    readdir: (d) => {
      const names = [...set].filter((x) => x.startsWith(d + '/')).map((x) => x.slice(d.length + 1).split('/')[0]);
      return names.length ? [...new Set(names)] : null;
    },
    readFile: (f) => (f in contents ? contents[f] : null),
  };
}

const CACHE = [
  ['libcuda.so.1', `${LIB}/libcuda.so.1`],
  ['libcuda.so', `${LIB}/libcuda.so`],
  ['libcuda.so.1', '/usr/lib/i386-linux-gnu/libcuda.so.1', 0x0003],
  ['libnvidia-ml.so.1', `${LIB}/libnvidia-ml.so.1`],
  ['libnvidia-ptxjitcompiler.so.1', `${LIB}/libnvidia-ptxjitcompiler.so.1`],
  ['libnvidia-nvvm.so.4', `${LIB}/libnvidia-nvvm.so.4`],
  ['libEGL_nvidia.so.0', `${LIB}/libEGL_nvidia.so.0`],
  ['libnvidia-glcore.so.550.54.15', `${LIB}/libnvidia-glcore.so.550.54.15`],
  ['libnvidia-foo.so.1', `${LIB}/libnvidia-foo.so.1`],
  ['libc.so.6', `${LIB}/libc.so.6`],
  ['libcudart.so.12', `${LIB}/libcudart.so.12`],
];
const FILES = [
  '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia0', '/dev/nvidia1', '/dev/nvidia3', '/dev/null',
  '/dev/nvidia-caps/nvidia-cap1', '/dev/nvidia-caps/nvidia-cap2', '/run/nvidia-persistenced/socket',
  '/usr/bin/nvidia-smi', '/usr/bin/nvidia-cuda-mps-control', '/opt/nv/bin/nvidia-debugdump',
  ...CACHE.map(([, p]) => p),
];
const EXPECTED_LIBS = [
  `${LIB}/libcuda.so.1`, `${LIB}/libnvidia-ml.so.1`, `${LIB}/libnvidia-ptxjitcompiler.so.1`, `${LIB}/libnvidia-nvvm.so.4`,
  `${LIB}/libEGL_nvidia.so.0`, `${LIB}/libnvidia-glcore.so.550.54.15`,
];

t.test('the binary ld.so cache, alone and after an old-format table', async (t) => {
  for (const oldPrefix of [false, true]) {
    const e = parseLdCache(ldCache(CACHE, { oldPrefix }));
    t.equal(e.length, CACHE.length, `all entries (old prefix: ${oldPrefix})`);
    t.same(e[0], { name: 'libcuda.so.1', path: `${LIB}/libcuda.so.1`, flags: 0x0303 });
    t.same(e[2].flags, 0x0003);
  }
  t.throws(() => parseLdCache(Buffer.from('not a cache at all, really not')), /not an ld.so cache/);
  const trunc = ldCache(CACHE).subarray(0, 100);
  t.throws(() => parseLdCache(trunc, '/x/cache'), /\/x\/cache: 11 entries don't fit/);
});

t.test("this host's own /etc/ld.so.cache parses and agrees with ldconfig -p", { skip: !fs.existsSync('/etc/ld.so.cache') && 'no /etc/ld.so.cache' }, async (t) => {
  const entries = parseLdCache(fs.readFileSync('/etc/ld.so.cache'));
  t.ok(entries.length > 10, `${entries.length} entries`);
  t.ok(entries.some((e) => /^libc\.so\.6$/.test(e.name) && e.path.startsWith('/')), 'libc.so.6 is there');
  const r = require('child_process').spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  if (r.status === 0) {
    const text = parseLdconfigOutput(r.stdout);
    t.equal(text.length, entries.length, 'as many entries as ldconfig -p prints');
    t.same(new Set(text.map((e) => e.path)), new Set(entries.map((e) => e.path)), 'the same paths');
  }
});

t.test('ldconfig -p output', async (t) => {
  const text = `3 libs found in cache \`/etc/ld.so.cache'
\tlibcuda.so.1 (libc6,x86-64) => ${LIB}/libcuda.so.1
\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1
\tlibnvidia-ml.so.1 (libc6,x86-64, OS ABI: Linux 3.2.0) => ${LIB}/libnvidia-ml.so.1
`;
  const e = parseLdconfigOutput(text);
  t.same(e.map((x) => [x.name, x.flags]), [['libcuda.so.1', 0x0303], ['libcuda.so.1', 0x0003], ['libnvidia-ml.so.1', 0x0303]]);
  const found = discoverNvidia({ fs: fakeFs(FILES), env: {}, arch: 'x64', ldconfigOutput: text });
  t.same(found.libraries, [`${LIB}/libcuda.so.1`, `${LIB}/libnvidia-ml.so.1`]);
});

t.test('discovery on a fake device tree', async (t) => {
  const f = fakeFs(FILES, { '/etc/ld.so.cache': ldCache(CACHE) });
  const found = discoverNvidia({ fs: f, env: { PATH: '/opt/nv/bin:/usr/bin' }, arch: 'x64' });
  t.same(found.devices, [
    '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia0', '/dev/nvidia1', '/dev/nvidia3',
    '/dev/nvidia-caps/nvidia-cap1', '/dev/nvidia-caps/nvidia-cap2',
  ], 'control nodes that exist, the GPUs in order, the MIG capabilities; no nvidia-modeset (missing)');
  t.same(found.sockets, ['/run/nvidia-persistenced/socket']);
  t.same(found.libraries, EXPECTED_LIBS, '64-bit driver sonames only: no i386 copy, no dev link, no CUDA runtime, no unknown libnvidia-*');
  t.same(found.binaries, ['/usr/bin/nvidia-smi', '/opt/nv/bin/nvidia-debugdump', '/usr/bin/nvidia-cuda-mps-control'], 'tools on PATH');
  t.equal(found.selected, null);

  const arm = discoverNvidia({ fs: f, env: {}, arch: 'arm64' });
  t.same(arm.libraries, [], 'arm64 takes no x86-64 entries');

  const none = discoverNvidia({ fs: fakeFs(['/dev/null', '/usr/bin/true']), env: {}, arch: 'x64' });
  t.same(none, { devices: [], libraries: [], binaries: [], sockets: [], selected: null }, 'no driver: nothing found');
});

t.test('CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES', async (t) => {
  t.equal(visibleDevices({}), null);
  t.equal(visibleDevices({ CUDA_VISIBLE_DEVICES: 'all' }), null);
  t.same(visibleDevices({ CUDA_VISIBLE_DEVICES: '' }), []);
  t.same(visibleDevices({ NVIDIA_VISIBLE_DEVICES: 'none' }), []);
  t.same(visibleDevices({ NVIDIA_VISIBLE_DEVICES: 'void' }), []);
  t.same(visibleDevices({ CUDA_VISIBLE_DEVICES: '3, 1,3' }), [3, 1]);
  t.same(visibleDevices({ CUDA_VISIBLE_DEVICES: '1', NVIDIA_VISIBLE_DEVICES: '0' }), [0], 'NVIDIA_VISIBLE_DEVICES wins');
  t.equal(visibleDevices({ CUDA_VISIBLE_DEVICES: 'GPU-8f6e2a1c-0000' }), null, 'UUIDs: all devices, CUDA applies the variable');

  const f = fakeFs(FILES, { '/etc/ld.so.cache': ldCache(CACHE) });
  const sel = discoverNvidia({ fs: f, env: { CUDA_VISIBLE_DEVICES: '1,3,7' }, arch: 'x64' });
  t.same(sel.devices.filter((d) => /nvidia\d/.test(d)), ['/dev/nvidia1', '/dev/nvidia3'], 'only the selected GPUs that exist');
  t.ok(sel.devices.includes('/dev/nvidiactl'), 'control nodes stay');
  const m = nvidiaMounts(sel, false, { CUDA_VISIBLE_DEVICES: '1,3,7' });
  t.equal(m.env.CUDA_VISIBLE_DEVICES, '0,1', 'renumbered to what the driver shows inside');
  const none = discoverNvidia({ fs: f, env: { NVIDIA_VISIBLE_DEVICES: 'none' }, arch: 'x64' });
  t.same(none.devices.filter((d) => /nvidia\d/.test(d)), [], 'none: no GPU node');
});

t.test('mounts on the host and for a rootfs', async (t) => {
  const f = fakeFs(FILES, { '/etc/ld.so.cache': ldCache(CACHE) });
  const found = discoverNvidia({ fs: f, env: {}, arch: 'x64' });
  const host = nvidiaMounts(found, false, { LD_LIBRARY_PATH: '/x' });
  t.ok(host.mounts.every((m) => m.op === 'bind'), 'binds only');
  t.same(host.mounts.filter((m) => m.devices).map((m) => m.src), found.devices, 'device nodes as dev-binds');
  t.ok(host.mounts.filter((m) => m.devices).every((m) => m.src === m.dst && !m.readOnly));
  t.same(host.mounts.filter((m) => !m.devices).map((m) => m.dst), ['/run/nvidia-persistenced/socket']);
  t.same(host.env, {}, 'the host /usr already has the libraries');

  const img = nvidiaMounts(found, true, { LD_LIBRARY_PATH: '/x', PATH: '/usr/bin:/bin' });
  const libs = img.mounts.filter((m) => m.op === 'bind' && m.dst.startsWith(NVIDIA_ROOTFS_DIR + '/lib'));
  t.same(libs.map((m) => [m.src, m.dst, m.readOnly]), EXPECTED_LIBS.map((p) => [p, `${NVIDIA_ROOTFS_DIR}/${p.split('/').pop()}`, true]));
  t.same(img.mounts.find((m) => m.op === 'tmpfs').dst, NVIDIA_ROOTFS_DIR, 'a tmpfs of our own under the image');
  t.same(img.mounts.at(-1), { op: 'remount-ro', dst: NVIDIA_ROOTFS_DIR, origin: 'devices: nvidia' });
  t.ok(img.mounts.some((m) => m.dst === `${NVIDIA_ROOTFS_DIR}/bin/nvidia-smi` && m.readOnly));
  t.equal(img.env.LD_LIBRARY_PATH, `${NVIDIA_ROOTFS_DIR}:/x`);
  t.equal(img.env.PATH, `/usr/bin:/bin:${NVIDIA_ROOTFS_DIR}/bin`);
});
