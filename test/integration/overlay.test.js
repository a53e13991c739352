// Overlays (--overlay-src with --overlay, --tmp-overlay, --ro-overlay; --rootfs IMG --tmp-overlay /): overlayfs
// mounted in the sandbox's user namespace, as bwrap(1) describes them. Needs Linux 5.11+.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { sandbox, sandboxCli, userTmpdir, cannotLaunch } = require('../lib/harness');

const [major, minor] = os.release().split('.').map(Number);
const why = cannotLaunch() || ((major < 5 || (major === 5 && minor < 11)) && `Linux ${os.release()} has no overlayfs in user namespaces (5.11+)`);
if (why) {
  t.skip(`overlays: ${why}`);
  process.exit(0);
}

const ROOT_RO = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'];
const lines = (s) => s.trim().split('\n').filter(Boolean);

function layers() {
  const dir = userTmpdir();
  const mk = (name, files) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
    if (process.getuid() === 0) for (const e of [d, ...Object.keys(files).map((f) => path.join(d, f))]) fs.chownSync(e, fs.statSync(dir).uid, fs.statSync(dir).gid);
    return d;
  };
  return { dir, bottom: mk('bottom', { a: 'bottom a\n', shared: 'from bottom\n' }), top: mk('top', { b: 'top b\n', shared: 'from top\n' }), up: mk('up', {}), work: mk('work', {}) };
}

t.test('--tmp-overlay: the union of the layers, the last given on top, writes thrown away', async (t) => {
  const l = layers();
  const r = sandboxCli(['bwrap', ...ROOT_RO, '--overlay-src', l.bottom, '--overlay-src', l.top, '--tmp-overlay', '/mnt', '--',
    'sh', '-c', 'cat /mnt/a /mnt/b /mnt/shared; echo new > /mnt/new && cat /mnt/new; rm /mnt/a && echo removed']);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['bottom a', 'top b', 'from top', 'new', 'removed']);
  t.same(fs.readdirSync(l.bottom).sort(), ['a', 'shared'], 'the layers are untouched');
  t.same(fs.readdirSync(l.top).sort(), ['b', 'shared']);
});

t.test('--overlay RWSRC WORKDIR: writes go to RWSRC', async (t) => {
  const l = layers();
  const r = sandbox(['--no-profile', ...ROOT_RO, '--overlay-src', l.bottom, '--overlay', l.up, l.work, '/mnt', '--', 'sh', '-c', 'echo kept > /mnt/kept; cat /mnt/a']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'bottom a\n');
  t.equal(fs.readFileSync(path.join(l.up, 'kept'), 'utf8'), 'kept\n', 'in sandbox run too');
  t.same(fs.readdirSync(l.bottom).sort(), ['a', 'shared']);
});

t.test('--ro-overlay: read-only, two layers at least', async (t) => {
  const l = layers();
  const r = sandboxCli(['bwrap', ...ROOT_RO, '--overlay-src', l.bottom, '--overlay-src', l.top, '--ro-overlay', '/mnt', '--', 'sh', '-c', 'cat /mnt/shared; touch /mnt/x 2>&1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stdout, /^from top\n.*Read-only file system/s);
  const one = sandboxCli(['bwrap', ...ROOT_RO, '--overlay-src', l.bottom, '--ro-overlay', '/mnt', 'true']);
  t.equal(one.status, 125);
  t.equal(one.stderr, 'bwrap: --ro-overlay requires at least two --overlay-src\n');
  const dangling = sandboxCli(['bwrap', ...ROOT_RO, '--overlay-src', l.bottom, '--tmpfs', '/mnt', 'true']);
  t.match(dangling.stderr, /^bwrap: --overlay-src must be followed by/);
  const missing = sandboxCli(['bwrap', ...ROOT_RO, '--overlay-src', '/no/such', '--tmp-overlay', '/mnt', 'true']);
  t.equal(missing.stderr, 'bwrap: Can\'t find source path /no/such: No such file or directory\n');
});

t.test('--rootfs IMG --tmp-overlay /: a writable, throw-away root over a read-only image', { skip: !fs.existsSync('/bin/busybox') && 'busybox is missing' }, async (t) => {
  const d = fs.mkdtempSync('/tmp/sbx-overlay-root-');
  fs.chmodSync(d, 0o755);
  for (const sub of ['bin', 'etc']) fs.mkdirSync(path.join(d, sub));
  fs.copyFileSync('/bin/busybox', path.join(d, 'bin', 'busybox'));
  fs.chmodSync(path.join(d, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'cat', 'echo', 'ls', 'rm', 'grep']) fs.symlinkSync('busybox', path.join(d, 'bin', a));
  fs.writeFileSync(path.join(d, 'etc', 'os-release'), 'ID=tiny\n');
  // an image the user unpacked: theirs (overlayfs lets nobody write a directory whose owner the sandbox doesn't map)
  const { TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');
  if (IS_ROOT) for (const p of [d, ...['bin', 'etc', 'bin/busybox', 'etc/os-release'].map((x) => path.join(d, x))]) fs.chownSync(p, TEST_UID, TEST_GID);
  const before = fs.readdirSync(d).sort();
  const r = sandbox(['--no-profile', '--rootfs', d, '--tmp-overlay', '/', '--', '/bin/sh', '-c',
    'echo made > /made-here && cat /made-here; rm /etc/os-release && echo removed; grep -c " / / .* - overlay " /proc/self/mountinfo']);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['made', 'removed', '1']);
  t.same(fs.readdirSync(d).sort(), before, 'the image is as it was');
  t.ok(fs.existsSync(path.join(d, 'etc', 'os-release')));
  fs.rmSync(d, { recursive: true, force: true });
});

t.test('a profile says the same: { overlay: "/", lower: [IMAGE] } as its first entry', { skip: !fs.existsSync('/bin/busybox') && 'busybox is missing' }, async (t) => {
  const { TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');
  const d = fs.mkdtempSync('/tmp/sbx-overlay-profile-');
  fs.chmodSync(d, 0o755);
  const img = path.join(d, 'image');
  for (const sub of ['', 'bin', 'etc', 'proc', 'dev']) fs.mkdirSync(path.join(img, sub), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(img, 'bin', 'busybox'));
  fs.chmodSync(path.join(img, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'cat', 'ls']) fs.symlinkSync('busybox', path.join(img, 'bin', a));
  fs.writeFileSync(path.join(img, 'etc', 'os-release'), 'ID=tiny\n');
  const profile = path.join(d, 'tiny.json5');
  fs.writeFileSync(profile, `{\n  description: "a busybox image under a throw-away overlay",\n  filesystem: [\n    { overlay: "/", lower: ["${img}"] },\n    { proc: "/proc" },\n    { dev: "/dev" },\n  ],\n}\n`);
  if (IS_ROOT) for (const p of [d, profile, img, ...['bin', 'etc', 'proc', 'dev', 'bin/busybox', 'etc/os-release'].map((x) => path.join(img, x))]) fs.chownSync(p, TEST_UID, TEST_GID);
  const r = sandbox(['--profile', profile, '--', '/bin/sh', '-c', 'cat /etc/os-release; echo x > /etc/new && cat /etc/new']);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['ID=tiny', 'x']);
  t.notOk(fs.existsSync(path.join(img, 'etc', 'new')), 'the image is as it was');
  const bad = path.join(d, 'bad.json5');
  fs.writeFileSync(bad, '{ filesystem: [ { overlay: "/mnt", lower: ["/usr"], upper: "/tmp" } ] }\n');
  if (IS_ROOT) fs.chownSync(bad, TEST_UID, TEST_GID);
  const e = sandbox(['--profile', bad, 'true']);
  t.equal(e.status, 125);
  t.match(e.stderr, /bad\.json5:1:17: found an overlay with only one of "upper" and "work"/);
  fs.rmSync(d, { recursive: true, force: true });
});
