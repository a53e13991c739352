// Modes of what the mount operations create, as bwrap(1) documents them: --dir leaves an existing directory
// alone, parents made on the way get 0755 (less the group/other bits an operation's mode leaves out), file
// mount points are 0444, --file is 0666 and --bind-data 0600 unless --perms says otherwise.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { sandbox, userTmpdir, cannotLaunch } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`mount modes: ${why}`);
  process.exit(0);
}

const MINI = ['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
  '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/t'];
const lines = (s) => s.trim().split('\n').filter(Boolean);
const modeOf = (p) => (fs.statSync(p).mode & 0o7777).toString(8);

t.test('--dir on a directory that exists leaves its mode alone, on the host too', async (t) => {
  for (const [before, perms] of [[0o710, null], [0o754, '0741']]) {
    const dir = userTmpdir();
    const victim = path.join(dir, 'victim');
    fs.mkdirSync(victim);
    fs.chmodSync(victim, before);
    fs.chownSync(victim, fs.statSync(dir).uid, fs.statSync(dir).gid);
    const r = sandbox([...MINI, '--bind', victim, '/t/v', ...(perms ? ['--perms', perms] : []), '--dir', '/t/v', '--', 'stat', '-c', '%a', '/t/v']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.trim(), before.toString(8), `inside: still ${before.toString(8)}${perms ? ` despite --perms ${perms}` : ''}`);
    t.equal(modeOf(victim), before.toString(8), 'the host directory kept its mode');
  }
});

t.test('a directory --dir creates gets --perms exactly (not the umask), parents 0755 less what --perms leaves out', async (t) => {
  const old = process.umask(0o077); // the launcher's umask must not shape what --dir and --tmpfs create
  const r = sandbox([...MINI, '--perms', '0600', '--dir', '/t/a/b/c', '--perms', '0750', '--dir', '/t/p/q', '--dir', '/t/x/y',
    '--perms', '0700', '--tmpfs', '/t/m/n', '--perms', '0000', '--dir', '/t/z/z',
    '--', 'stat', '-c', '%n %a', '/t/a', '/t/a/b', '/t/a/b/c', '/t/p', '/t/p/q', '/t/x', '/t/x/y', '/t/m', '/t/m/n', '/t/z', '/t/z/z']);
  process.umask(old);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['/t/a 700', '/t/a/b 700', '/t/a/b/c 600', '/t/p 750', '/t/p/q 750', '/t/x 755', '/t/x/y 755',
    '/t/m 700', '/t/m/n 700', '/t/z 700', '/t/z/z 0']);
});

t.test('file mount points are made 0444; --file 0666, --bind-data 0600, or --perms', async (t) => {
  const dir = userTmpdir();
  const host = path.join(dir, 'h');
  fs.mkdirSync(host);
  fs.chownSync(host, fs.statSync(dir).uid, fs.statSync(dir).gid);
  const src = path.join(dir, 'data');
  fs.writeFileSync(src, 'x\n');
  const fds = [0, 1, 2].map(() => fs.openSync(src, 'r'));
  const r = sandbox([...MINI, '--bind', host, '/t/h', '--ro-bind', '/etc/hostname', '/t/h/mp', '--ro-bind', '/usr/share', '/t/h/dmp',
    '--file', '3', '/t/f', '--bind-data', '4', '/t/bd', '--perms', '0640', '--file', '5', '/t/f2',
    '--', 'stat', '-c', '%n %a', '/t/f', '/t/bd', '/t/f2'], { stdio: ['pipe', 'pipe', 'pipe', ...fds] });
  fds.forEach((fd) => fs.closeSync(fd));
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['/t/f 666', '/t/bd 600', '/t/f2 640']);
  t.equal(modeOf(path.join(host, 'mp')), '444', 'the file mount point, seen on the host');
  t.equal(modeOf(path.join(host, 'dmp')), '755', 'a directory mount point');
});

t.test('parents of a --bind-data destination: 0755, unless --perms says less', async (t) => {
  const dir = userTmpdir();
  const src = path.join(dir, 'data');
  fs.writeFileSync(src, 'x\n');
  const fds = [0, 1].map(() => fs.openSync(src, 'r'));
  const r = sandbox([...MINI, '--bind-data', '3', '/t/q/f', '--perms', '0600', '--ro-bind-data', '4', '/t/r/f',
    '--', 'stat', '-c', '%n %a', '/t/q', '/t/q/f', '/t/r', '/t/r/f'], { stdio: ['pipe', 'pipe', 'pipe', ...fds] });
  fds.forEach((fd) => fs.closeSync(fd));
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['/t/q 755', '/t/q/f 600', '/t/r 700', '/t/r/f 600']);
});

t.test('--file 0 reads the standard input', async (t) => {
  const r = sandbox([...MINI, '--file', '0', '/t/in', '--', 'cat', '/t/in'], { input: 'from stdin\n' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'from stdin\n');
});
