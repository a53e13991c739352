// --rootfs with a busybox image built here, and --device nvidia on a host without NVIDIA devices.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { sandbox, userTmpdir, cleanEnv, cannotLaunch, TEST_UID, IS_ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`rootfs: ${why}`);
  process.exit(0);
}

/** A busybox tree: /bin with the applet links, a minimal /etc; owned by root, so the test user can't write it. */
function busyboxImage() {
  const d = fs.mkdtempSync('/tmp/sbx-rootfs-');
  fs.chmodSync(d, 0o755);
  for (const sub of ['bin', 'etc', 'home', 'root', 'tmp', 'dev', 'proc']) fs.mkdirSync(path.join(d, sub), { mode: 0o755 });
  fs.copyFileSync('/bin/busybox', path.join(d, 'bin', 'busybox'));
  fs.chmodSync(path.join(d, 'bin', 'busybox'), 0o755);
  const list = require('child_process').spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of list) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(d, 'bin', a));
  fs.symlinkSync('bin', path.join(d, 'sbin'));
  fs.writeFileSync(path.join(d, 'etc', 'os-release'), 'NAME="Tiny busybox"\nID=tiny\n');
  fs.writeFileSync(path.join(d, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(d, 'etc', 'group'), 'root:x:0:\n');
  return d;
}

const haveBusybox = fs.existsSync('/bin/busybox');
// the default profile binds the working directory, and refuses the host's /tmp itself (the harness's default cwd)
const work = userTmpdir('sbx-rootfs-cwd-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const img = haveBusybox ? busyboxImage() : null;
t.teardown(() => img && fs.rmSync(img, { recursive: true, force: true }));
const skip = haveBusybox ? false : 'no /bin/busybox (apt-get install busybox-static)';

t.test('the image is the root, read-only, with the caller in passwd and the cwd bound', { skip }, async (t) => {
  const proj = userTmpdir('sbx-rootfs-proj-');
  t.teardown(() => fs.rmSync(proj, { recursive: true, force: true }));
  const before = fs.readdirSync(img).sort();
  const r = sandbox(['--rootfs', img, '--', '/bin/sh', '-c',
    'cat /etc/os-release; id -un; ls /; echo data > f && cat f; touch /x 2>/dev/null && echo root-writable; touch /bin/y 2>/dev/null && echo image-writable; touch /home/z 2>/dev/null && echo home-writable; pwd'],
  { cwd: proj, env: cleanEnv({ HOME: '/home/alice' }) });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /NAME="Tiny busybox"/, 'the image\'s /etc');
  t.match(r.stdout, new RegExp(`^${IS_ROOT ? 'nobody' : require('os').userInfo().username}$`, 'm'), 'the caller\'s passwd entry resolves');
  t.match(r.stdout, /^bin$/m);
  t.notMatch(r.stdout, /^usr$/m, 'the host\'s /usr is not there');
  t.match(r.stdout, /^data$/m, 'the cwd bind is writable');
  t.notMatch(r.stdout, /writable/, 'writes to /, the image and its splayed directories fail');
  t.match(r.stdout, new RegExp(`^${proj}$`, 'm'));
  t.same(fs.readdirSync(img).sort(), before, 'the image on disk is unchanged');
  t.same(fs.readdirSync(path.join(img, 'home')), [], 'no mount point was created in the image');
});

t.test('a working directory the image lacks, under one of its system paths: made in the sandbox\'s own root', { skip }, async (t) => {
  // An image with only /bin and /etc, run from /var/tmp/...: the default profile binds the cwd, which the image lacks.
  const d = fs.mkdtempSync('/tmp/sbx-rootfs-small-');
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.chmodSync(d, 0o755);
  fs.mkdirSync(path.join(d, 'bin'), { mode: 0o755 });
  fs.mkdirSync(path.join(d, 'etc'), { mode: 0o755 });
  fs.copyFileSync('/bin/busybox', path.join(d, 'bin', 'busybox'));
  fs.chmodSync(path.join(d, 'bin', 'busybox'), 0o755);
  const cwd = fs.mkdtempSync('/var/tmp/sbx-rootfs-work-');
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  fs.chmodSync(cwd, 0o755);
  if (IS_ROOT) fs.chownSync(cwd, TEST_UID, TEST_UID);
  const r = sandbox(['--rootfs', d, '--', '/bin/busybox', 'sh', '-c', 'pwd && echo made > here && /bin/busybox ls /'], { cwd, env: cleanEnv({ HOME: '/home/alice' }) });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'no "--chdir" the user never typed');
  t.match(r.stdout, new RegExp(`^${cwd}$`, 'm'), 'runs in the caller\'s directory');
  t.equal(fs.readFileSync(path.join(cwd, 'here'), 'utf8'), 'made\n', 'the cwd is the caller\'s, bound read-write');
  t.same(fs.readdirSync(d).sort(), ['bin', 'etc'], 'no mount point was created in the image');
});

t.test('--rootfs-rw writes through to the image', { skip }, async (t) => {
  const d = busyboxImage();
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  if (IS_ROOT) for (const p of [d, path.join(d, 'tmp'), path.join(d, 'etc')]) fs.chownSync(p, TEST_UID, TEST_UID);
  const r = sandbox(['--no-profile', '--rootfs', d, '--rootfs-rw', '--', '/bin/sh', '-c', 'echo w > /written && cat /written'], { cwd: '/' });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(d, 'written'), 'utf8'), 'w\n');
});

t.test('--rootfs on a missing directory fails in one line', async (t) => {
  const r = sandbox(['--rootfs', '/nonexistent-image', '--', '/bin/sh', '-c', 'true'], { cwd: work });
  t.equal(r.status, 125);
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.match(r.stderr, /--rootfs \/nonexistent-image: .*not a directory/);
});

const hasNvidia = fs.existsSync('/dev/nvidiactl');
t.test('--device nvidia without NVIDIA devices: one line, 125; --device-try runs', { skip: hasNvidia ? 'this host has NVIDIA devices' : false }, async (t) => {
  const r = sandbox(['--device', 'nvidia', '--', 'true'], { cwd: work });
  t.equal(r.status, 125);
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.match(r.stderr, /^sandbox: --device nvidia: found none of \/dev\/nvidiactl/);
  const ok = sandbox(['--device-try', 'nvidia', '--', 'true'], { cwd: work });
  t.equal(ok.status, 0, ok.stderr);
});
