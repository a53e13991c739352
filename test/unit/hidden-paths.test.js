// Host paths on the command line that the sandbox doesn't show (issue 13, item 6): lib/plan/hidden, pure, on a
// made-up host.
'use strict';
const t = require('tap');
const { hostSourceInside, hiddenCommand, hiddenArguments, hiddenMessage, shellWord } = require('../../dist/lib/plan/hidden');

const FILES = new Set(['/usr/bin/sh', '/usr/bin/cat', '/home/u/mpi/app', '/home/u/bin/tool', '/opt/x/bin/mpirun',
  '/home/u/data.txt', '/home/u/my file', '/etc/hostname', '/proc/self/status', '/tools/bin/special', '/home/u/link']);
const DIRS = new Set(['/', '/usr', '/usr/bin', '/home', '/home/u', '/home/u/mpi', '/home/u/bin', '/opt', '/opt/x', '/opt/x/bin', '/etc', '/tools', '/tools/bin']);
const LINKS = { '/home/u/link': '/opt/x/bin/mpirun' };
// an image's root at /img: its /bin/sh is a symlink to /bin/busybox, which the host doesn't have
const IMAGE_LINKS = new Set(['/img/bin/sh']);
for (const d of ['/img', '/img/bin', '/img/usr', '/img/usr/bin']) DIRS.add(d);
const host = {
  exists: (p) => FILES.has(p) || DIRS.has(p),
  lexists: (p) => FILES.has(p) || DIRS.has(p) || IMAGE_LINKS.has(p),
  isExecutableFile: (p) => FILES.has(p) && /bin\//.test(p),
  realpath: (p) => LINKS[p] || (FILES.has(p) || DIRS.has(p) ? p : null),
};
const bind = (src, dst, readOnly = true) => ({ op: 'bind', src, dst, readOnly, devices: false, optional: false, origin: `--bind ${src}` });
const base = [
  bind('/usr', '/usr'), { op: 'symlink', target: 'usr/bin', dst: '/bin', origin: 'x' },
  { op: 'proc', dst: '/proc', origin: 'x' }, { op: 'dev', dst: '/dev', origin: 'x' },
  { op: 'tmpfs', dst: '/home/u', size: 0, mode: 0o700, origin: 'x' },
];
const plan = (argv, mounts = base, env = ['PATH=/opt/x/bin:/usr/bin:/bin']) => ({ argv, mounts, env, cwd: '/home/u', cwdFallback: true });

t.test('where a host path comes from inside', async (t) => {
  t.equal(hostSourceInside('/usr/bin/sh', base), '/usr/bin/sh', 'a bind at the same place');
  t.equal(hostSourceInside('/bin/sh', base), '/usr/bin/sh', 'through a symlink the plan makes');
  t.equal(hostSourceInside('/home/u/mpi/app', base), null, 'a fresh tmpfs: nothing of the host');
  t.equal(hostSourceInside('/opt/x/bin/mpirun', base), null, 'no mount covers it');
  t.equal(hostSourceInside('/proc/self/status', base), '/proc/self/status', 'the sandbox\'s own /proc is not judged');
  t.equal(hostSourceInside('/data/app', [bind('/home/u', '/data')]), '/home/u/app', 'a bind from elsewhere');
  t.equal(hostSourceInside('/home/u/mpi/app', [...base, bind('/home/u/mpi', '/home/u/mpi')]), '/home/u/mpi/app', 'the later mount decides');
  t.equal(hostSourceInside('/home/u/x', [...base, { op: 'data', fd: 3, dst: '/home/u/x', mode: 0o644, mount: false, readOnly: false, origin: 'x' }]), '/home/u/x', 'a file the plan writes');
});

t.test('the command', async (t) => {
  t.equal(hiddenCommand(plan(['/home/u/mpi/app']), '/home/u', host), '/home/u/mpi/app', 'an absolute path under a tmpfs home');
  t.equal(hiddenCommand(plan(['mpi/app']), '/home/u', host), '/home/u/mpi/app', 'a relative one, from the caller\'s directory');
  t.equal(hiddenCommand(plan(['/home/u/mpi/app'], [...base, bind('/home/u/mpi', '/home/u/mpi')]), '/home/u', host), null, 'bound: visible');
  t.equal(hiddenCommand(plan(['/usr/bin/cat']), '/home/u', host), null, 'visible');
  t.equal(hiddenCommand(plan(['/nowhere/app']), '/home/u', host), null, 'not on the host either: the stage\'s own message');
  t.equal(hiddenCommand(plan(['mpirun']), '/home/u', host), '/opt/x/bin/mpirun', 'found on PATH only in a directory that isn\'t inside');
  t.equal(hiddenCommand(plan(['cat']), '/home/u', host), null, 'found on PATH inside');
  t.equal(hiddenCommand(plan(['nosuch']), '/home/u', host), null, 'found nowhere: command not found, as before');
  t.equal(hiddenCommand(plan(['special'], [...base, bind('/tools/bin', '/opt/x/bin')]), '/home/u', host), null,
    'a PATH directory inside that shows another host directory has it');
  t.equal(hiddenCommand(plan(['/home/u/link'], [...base, bind('/home/u', '/home/u')]), '/home/u', host), '/home/u/link',
    'a symlink whose target is not inside');
});

t.test('the arguments', async (t) => {
  t.same(hiddenArguments(plan(['cat', '/home/u/data.txt', '/etc/hostname', '/proc/self/status', '/usr/bin/sh', 'x/y', 'https://a/b', '-v']), '/home/u', host),
    ['/home/u/data.txt', '/etc/hostname'], 'host files that aren\'t inside; not /proc, not what is bound, not URLs or missing paths');
  t.same(hiddenArguments(plan(['cat', 'data.txt']), '/home/u', host), [], 'a bare word is not taken for a path');
  t.same(hiddenArguments(plan(['ls', '/home', '/home/u', '/usr', '/']), '/home/u', host), [], 'mount points and the directories on the way to them are there');
});

t.test('the message', async (t) => {
  t.equal(hiddenMessage('/home/u/mpi/app'),
    '/home/u/mpi/app exists on the host but is not visible in this sandbox; bind it with --ro-bind /home/u/mpi/app /home/u/mpi/app');
  t.equal(shellWord('/home/u/my file'), "'/home/u/my file'", 'quoted for a shell');
  t.equal(shellWord("/a/it's"), "'/a/it'\\''s'");
});

t.test('a root image: its own symlinks are not judged from the host', async (t) => {
  const image = [bind('/img', '/'), { op: 'proc', dst: '/proc', origin: 'x' }, { op: 'dev', dst: '/dev', origin: 'x' }];
  t.equal(hiddenCommand(plan(['/bin/sh'], image), '/', host), null, 'the image\'s /bin/sh, a symlink the host can\'t resolve');
  t.equal(hiddenCommand(plan(['sh'], image, ['PATH=/usr/bin:/bin']), '/', host), null, 'found on PATH in the image');
  t.equal(hiddenCommand(plan(['/usr/bin/cat'], image), '/', host), '/usr/bin/cat', 'a host program the image lacks');
});
