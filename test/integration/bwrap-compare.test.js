// The same argument lists through the system's bubblewrap and through `sandbox bwrap`: what the program inside
// sees (mounts, modes, environment, ids, working directory, exit codes) must be the same, but for the differences
// README's "bwrap mode" lists (the seccomp filter, the user namespace's outer ids, the root's writability).
// Skipped where bwrap is not installed. The options used are those bubblewrap has had since 0.5 (Debian 12: 0.8).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, asUser, userTmpdir, cannotLaunch, have, ensureCheckoutReachable, RUN_UID } = require('../lib/harness');

const why = cannotLaunch() || (!have('bwrap') && 'bwrap (bubblewrap) is not installed');
if (why) {
  t.skip(`bwrap comparison: ${why}`);
  process.exit(0);
}
const probe = spawnSync(...asUser('bwrap', ['--ro-bind', '/', '/', 'true']), { encoding: 'utf8' });
if (probe.status !== 0) {
  t.skip(`bwrap comparison: the system's bwrap does not run here as an ordinary user (${probe.stderr.trim()})`);
  process.exit(0);
}

const ENV = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', PWD: '/tmp' };
const SYSTEM = ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--ro-bind', '/etc', '/etc', '--proc', '/proc', '--dev', '/dev'];

/** What the program reports: ids, environment, cwd, maps, mounts, capabilities, and the modes of `paths`. */
function report(paths) {
  return [
    'id', 'env | sort', 'pwd', 'hostname',
    // the outer ids differ (bwrap nests a user namespace): the inner id and the count are compared
    'awk \'{print "uid_map", $1, $3}\' /proc/self/uid_map', 'awk \'{print "gid_map", $1, $3}\' /proc/self/gid_map',
    // mount point, filesystem type and read-only or not. Left out, as README's "bwrap mode" says: the root's own
    // flags, the parts of /proc that sandbox masks or makes read-only, and /dev/shm (a tmpfs here, a directory there)
    'awk \'$5 != "/" && $5 !~ "^/proc/" && $5 != "/dev/shm" {for (i = 7; $i != "-"; i++); split($6, o, ","); print "mount", $5, $(i+1), o[1]}\' /proc/self/mountinfo | sort',
    'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)" /proc/self/status',
    ...paths.map((p) => `stat -c "stat %n %a %u %g %F" ${p} 2>&1`),
    'for fd in 0 1 2 3 4 5; do [ -e /proc/self/fd/$fd ] && echo "fd $fd"; done',
  ].join('; ');
}

function clean(out) {
  return out.split('\n').filter((l) => !l.startsWith('_TAPJS')).join('\n');
}

function both(args, opts = {}) {
  ensureCheckoutReachable();
  const stdio = opts.fds ? ['pipe', 'pipe', 'pipe', ...opts.fds()] : undefined;
  const [cmd, argv] = asUser('bwrap', args);
  const theirs = spawnSync(cmd, argv, { encoding: 'utf8', env: ENV, cwd: '/tmp', stdio, timeout: 30000 });
  const stdio2 = opts.fds ? ['pipe', 'pipe', 'pipe', ...opts.fds()] : undefined;
  const ours = sandboxCli(['bwrap', ...args], { env: ENV, cwd: '/tmp', stdio: stdio2 });
  return { theirs: { status: theirs.status, out: clean(theirs.stdout) }, ours: { status: ours.status, out: clean(ours.stdout), err: ours.stderr } };
}

function same(t, name, args, opts = {}) {
  const r = both(args, opts);
  t.equal(r.ours.status, r.theirs.status, `${name}: exit code (${r.ours.err.trim()})`);
  t.same(r.ours.out.split('\n'), r.theirs.out.split('\n'), `${name}: what the program sees`);
  return r;
}

t.test('a small system: ids, environment, mounts, capabilities', async (t) => {
  same(t, 'basic', [...SYSTEM, '--tmpfs', '/tmp', '--', 'sh', '-c', report(['/', '/tmp', '/dev', '/proc'])]);
  // The devpts root belongs to the mounting user namespace's uid 0: bubblewrap's inner namespace maps it to the
  // caller, sandbox's one-level namespace does not (README, "bwrap mode"). Run as uid 65534 the two look alike, so
  // only a real user's uid shows this.
  const pts = both([...SYSTEM, '--', 'sh', '-c', 'stat -c "%a %F" /dev/pts; stat -c %u /dev/pts; stat -c "%u %a" /dev/pts/ptmx']);
  const [ours, theirs] = [pts.ours.out.split('\n'), pts.theirs.out.split('\n')];
  t.same([ours[0], ours[2]], [theirs[0], theirs[2]], `/dev/pts: mode and type, and ptmx, as bubblewrap's (${pts.ours.err.trim()})`);
  t.equal(ours[1], '65534', '/dev/pts is owned by the overflow id');
  t.equal(theirs[1], String(RUN_UID), 'bubblewrap: by the caller');
});

t.test('namespaces and names: --unshare-all, --hostname, --uid/--gid', async (t) => {
  same(t, 'unshare-all', [...SYSTEM, '--unshare-all', '--hostname', 'box', '--', 'sh', '-c', report([]) + '; tail -n +3 /proc/net/dev | cut -d: -f1']);
  same(t, 'uid 0', [...SYSTEM, '--unshare-user', '--uid', '0', '--gid', '0', '--', 'sh', '-c', report([])]);
});

t.test('environment: --setenv, --unsetenv, --clearenv, --chdir', async (t) => {
  same(t, 'setenv', [...SYSTEM, '--setenv', 'A', '1', '--unsetenv', 'LANG', '--', 'sh', '-c', 'env | sort; pwd']);
  same(t, 'clearenv', [...SYSTEM, '--setenv', 'EARLY', 'x', '--clearenv', '--setenv', 'LATE', 'y', '--', '/usr/bin/env']);
  same(t, 'chdir', [...SYSTEM, '--chdir', '/usr', '--', 'sh', '-c', 'pwd; echo $PWD']);
});

t.test('modes: --tmpfs, --dir, --perms, --file, --bind-data, --chmod, --symlink, --remount-ro', async (t) => {
  const dir = userTmpdir();
  const data = path.join(dir, 'data');
  fs.writeFileSync(data, 'contents\n');
  const existing = path.join(dir, 'existing');
  fs.mkdirSync(existing);
  fs.chmodSync(existing, 0o710);
  fs.chownSync(existing, fs.statSync(dir).uid, fs.statSync(dir).gid);
  const fds = () => [fs.openSync(data, 'r'), fs.openSync(data, 'r'), fs.openSync(data, 'r')];
  const args = [...SYSTEM, '--perms', '0700', '--size', '1048576', '--tmpfs', '/tmp', '--dir', '/tmp/d/e', '--perms', '0750', '--dir', '/tmp/p/q',
    '--perms', '0600', '--dir', '/tmp/x/y', '--file', '3', '/tmp/f', '--perms', '0640', '--file', '4', '/tmp/f2', '--bind-data', '5', '/tmp/bd',
    '--bind', existing, '/mnt', '--perms', '0741', '--dir', '/mnt', '--chmod', '0711', '/tmp/d/e', '--symlink', '/usr', '/tmp/ln',
    '--tmpfs', '/var', '--remount-ro', '/var', '--',
    'sh', '-c', report(['/tmp', '/tmp/d', '/tmp/d/e', '/tmp/p', '/tmp/p/q', '/tmp/x', '/tmp/x/y', '/tmp/f', '/tmp/f2', '/tmp/bd', '/mnt', '/tmp/ln', '/var']) +
      '; cat /tmp/f /tmp/bd; readlink /tmp/ln; touch /var/x 2>&1 | sed "s/^touch: //"; grep " /tmp " /proc/self/mountinfo | grep -o "size=[0-9a-z]*"'];
  same(t, 'modes', args, { fds });
  t.equal((fs.statSync(existing).mode & 0o777).toString(8), '710', 'the host directory kept its mode');
});

t.test('exit codes: the program\'s status, 128+N for a signal', async (t) => {
  same(t, 'exit 3', [...SYSTEM, '--', 'sh', '-c', 'exit 3']);
  same(t, 'killed', [...SYSTEM, '--', 'sh', '-c', 'kill -TERM $$']);
  same(t, 'as pid 1', [...SYSTEM, '--as-pid-1', '--unshare-pid', '--', 'sh', '-c', 'echo $$; exit 4']);
});
