// bwrap mode (`sandbox bwrap ARGS`, or the launcher run as `bwrap`): bubblewrap's command line and the behaviour
// bwrap(1) documents, seen from inside sandboxes started by an unprivileged user.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { sandboxCli, asUser, userTmpdir, cannotLaunch, cleanEnv, have, SANDBOX, ensureCheckoutReachable } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`bwrap mode: ${why}`);
  process.exit(0);
}

const ROOT_RO = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'];
const bwrap = (args, opts) => sandboxCli(['bwrap', ...args], opts);
const lines = (s) => s.trim().split('\n').filter(Boolean);

/** A cBPF program that fails syscall `name` with errno e and allows the rest (no arch check: test only). */
function errnoFilter(name, e) {
  const { syscallNumber, hostArch } = require('../../dist/lib/seccomp/arch');
  const nr = syscallNumber(hostArch(), name);
  const insns = [[0x20, 0, 0, 0], [0x15, 0, 1, nr], [0x06, 0, 0, 0x00050000 | e], [0x06, 0, 0, 0x7fff0000]];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => { b.writeUInt16LE(code, i * 8); b.writeUInt8(jt, i * 8 + 2); b.writeUInt8(jf, i * 8 + 3); b.writeUInt32LE(k >>> 0, i * 8 + 4); });
  return b;
}

function fileFd(dir, name, data) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return fs.openSync(p, 'r');
}

t.test('help and version speak as bubblewrap', async (t) => {
  const h = bwrap(['--help']);
  t.equal(h.status, 0);
  t.match(h.stdout, /^usage: bwrap \[OPTIONS\.\.\.\] \[--\] COMMAND \[ARGS\.\.\.\]\n/);
  for (const o of ['--args FD', '--argv0 VALUE', '--json-status-fd FD', '--add-seccomp-fd FD', '--bind-fd FD DEST', '--disable-userns', '--lock-file DEST', '--perms OCTAL']) t.match(h.stdout, o, o);
  const v = bwrap(['--version']);
  t.match(v.stdout, /^bubblewrap 0\.11\.0 \(sandbox [0-9.]+\)\n$/);
});

t.test('errors begin with bwrap: and use bubblewrap\'s words', async (t) => {
  for (const [args, msg] of [
    [['--ro-bind', '/no/such/dir', '/x', 'true'], /^bwrap: Can't find source path \/no\/such\/dir: No such file or directory\n$/],
    [['--perms', '0700', '--perms', '0700', '--tmpfs', '/a', 'true'], /^bwrap: --perms given twice for the same action\n$/],
    [['--size', '1', '--size', '2', '--tmpfs', '/a', 'true'], /^bwrap: --size given twice for the same action\n$/],
    [['--perms', '0700', '--bind', '/', '/', 'true'], /^bwrap: --perms must be followed by an option that creates a file\n$/],
    [['--profile', 'default', 'true'], /^bwrap: Unknown option --profile\n$/],
    [['--assert-userns-disabled', 'true'], /^bwrap: creation of new user namespaces was not disabled as requested\n$/],
    [['--exec-label', 'system_u:system_r:x:s0', 'true'], /^bwrap: --exec-label: SELinux/],
    [['--level-prefix', '--frob', 'true'], /^<3>bwrap: Unknown option --frob\n$/],
  ]) {
    const r = bwrap(args);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, msg, args.join(' '));
  }
});

t.test('errors of the stage (once the sandbox is being built) begin with bwrap: too, with --level-prefix <3>', async (t) => {
  const r = bwrap([...ROOT_RO, '--chdir', '/no/such', 'true']);
  t.equal(r.status, 125);
  t.equal(r.stderr, 'bwrap: --chdir /no/such: No such file or directory\n');
  const nf = bwrap(['--level-prefix', ...ROOT_RO, '--', 'no-such-command-here']);
  t.equal(nf.status, 127);
  t.equal(nf.stderr, '<3>bwrap: no-such-command-here: command not found\n');
});

t.test('a second --chdir warns; the last one counts and PWD follows it', async (t) => {
  const r = bwrap([...ROOT_RO, '--chdir', '/usr', '--chdir', '/tmp', '--', 'sh', '-c', 'pwd; echo $PWD']);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['/tmp', '/tmp']);
  t.equal(r.stderr, 'bwrap: Only the last --chdir option will take effect\n');
});

t.test('a launch refused after a warning says one line, its error (the fuzz test, seed 722939395)', async (t) => {
  const r = sandboxCli(['run', '--chdir', '/usr', '--chdir', '/tmp', '--profile', '/nonexistent/p.json5', '--', 'true']);
  t.equal(r.status, 125);
  t.equal(lines(r.stderr).length, 1, r.stderr);
  t.match(r.stderr, /^sandbox: .*\/nonexistent\/p\.json5/);
});

t.test('--clearenv leaves only PWD and what later --setenv sets; no PATH is made up', async (t) => {
  const r = bwrap([...ROOT_RO, '--setenv', 'EARLY', '1', '--clearenv', '--setenv', 'LATE', '2', '--', '/usr/bin/env'], { env: { ...cleanEnv(), PWD: '/tmp', KEEP_OUT: 'x' }, cwd: '/tmp' });
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout).sort(), ['LATE=2', 'PWD=/tmp'], 'not even tap\'s variables');
  const plain = bwrap([...ROOT_RO, '--', '/usr/bin/env'], { env: { FOO: 'bar' } });
  // (tap's process-info hook adds variables of its own to every child's environment)
  const seen = lines(plain.stdout).filter((l) => !/^_?TAP/.test(l));
  t.ok(seen.includes('FOO=bar'), 'the environment passes as it is');
  t.notOk(seen.some((l) => l.startsWith('PATH=')), `no PATH added (${seen.join(' ')})`);
});

t.test('only what the arguments say: no profile, the host network, the host name', async (t) => {
  const [cmd, argv] = asUser('sh', ['-c', 'readlink /proc/self/ns/net; hostname']);
  const outside = lines(spawnSync(cmd, argv, { encoding: 'utf8' }).stdout);
  const r = bwrap([...ROOT_RO, '--', 'sh', '-c', 'readlink /proc/self/ns/net; hostname; ls /home 2>&1 | wc -l']);
  t.equal(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  t.equal(out[0], outside[0], 'the network namespace is the host\'s without --unshare-net');
  t.equal(out[1], outside[1], 'the host name is the host\'s');
  const net = bwrap([...ROOT_RO, '--unshare-all', '--hostname', 'box', '--', 'sh', '-c', 'readlink /proc/self/ns/net; hostname']);
  t.not(lines(net.stdout)[0], outside[0], '--unshare-all: a new network namespace');
  t.equal(lines(net.stdout)[1], 'box');
});

t.test('nested user namespaces are allowed (bubblewrap\'s rule), closed by --disable-userns; the rest of the base filter stays', async (t) => {
  const script = 'unshare -Ur id -u 2>&1; grep -E "^Seccomp:" /proc/self/status';
  const open = bwrap([...ROOT_RO, '--', 'sh', '-c', script]);
  t.equal(open.status, 0, open.stderr);
  t.equal(lines(open.stdout)[0], '0', 'unshare -Ur works inside');
  t.match(open.stdout, /Seccomp:\s+2/, 'a filter is still in force');
  const closed = bwrap([...ROOT_RO, '--disable-userns', '--assert-userns-disabled', '--', 'sh', '-c', script]);
  t.equal(closed.status, 0, closed.stderr);
  t.match(lines(closed.stdout)[0], /Operation not permitted/);
  if (have('python3')) {
    const sti = bwrap([...ROOT_RO, '--', 'python3', '-c', 'import fcntl,termios,sys\ntry:\n  fcntl.ioctl(0, termios.TIOCSTI, b"x")\nexcept OSError as e: print(e.errno)']);
    t.match(sti.stdout, /^1\n$|^25\n$/, 'TIOCSTI is still refused (EPERM), or there is no terminal (ENOTTY)');
  }
});

t.test('--args FD reads NUL-separated arguments in place', async (t) => {
  const dir = userTmpdir();
  const fd = fileFd(dir, 'args', ['--setenv', 'FROM', 'args-fd', '--chdir', '/usr', ''].join('\0'));
  const r = bwrap([...ROOT_RO, '--args', '3', '--', 'sh', '-c', 'echo $FROM; pwd'], { stdio: ['pipe', 'pipe', 'pipe', fd] });
  fs.closeSync(fd);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['args-fd', '/usr']);
});

t.test('--argv0 sets the program\'s argv[0]', async (t) => {
  const r = bwrap([...ROOT_RO, '--argv0', 'renamed', '--', 'sh', '-c', 'echo $0']);
  t.equal(r.stdout, 'renamed\n', r.stderr);
});

t.test('--info-fd and --json-status-fd: the child\'s pid and namespaces, then the exit code', async (t) => {
  const dir = userTmpdir();
  const info = path.join(dir, 'info');
  const status = path.join(dir, 'status');
  const fi = fs.openSync(info, 'w');
  const fs2 = fs.openSync(status, 'w');
  const r = bwrap([...ROOT_RO, '--info-fd', '3', '--json-status-fd', '4', '--', 'sh', '-c', 'readlink /proc/self/ns/mnt; ls /proc/self/fd | tr "\\n" " "; exit 7'],
    { stdio: ['pipe', 'pipe', 'pipe', fi, fs2] });
  fs.closeSync(fi);
  fs.closeSync(fs2);
  t.equal(r.status, 7, r.stderr);
  const mnt = Number(/mnt:\[(\d+)\]/.exec(r.stdout)[1]);
  t.match(r.stdout, /\n0 1 2 3 $/, 'the descriptors are not the program\'s');
  const i = JSON.parse(fs.readFileSync(info, 'utf8'));
  t.type(i['child-pid'], 'number');
  t.equal(i['mnt-namespace'], mnt, 'the mount namespace the program is in');
  for (const k of ['cgroup', 'ipc', 'pid', 'uts']) t.type(i[`${k}-namespace`], 'number', k);
  const st = lines(fs.readFileSync(status, 'utf8')).map((l) => JSON.parse(l));
  t.equal(st.length, 2);
  t.same(st[0], i, 'the first status line repeats the info');
  t.same(st[1], { 'exit-code': 7 });
});

t.test('--block-fd: the program waits for data on the descriptor', async (t) => {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, ['bwrap', ...ROOT_RO, '--block-fd', '3', '--', 'sh', '-c', 'echo ran; ls /proc/self/fd | tr "\\n" " "']);
  const c = spawn(cmd, argv, { env: cleanEnv(), cwd: '/tmp', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => setTimeout(r, 700));
  t.equal(out, '', 'nothing ran before the write');
  c.stdio[3].on('error', () => {}); // the init closes its end once it has read
  c.stdio[3].end('g');
  const code = await new Promise((r) => c.on('close', r));
  t.equal(code, 0);
  t.match(out, /^ran\n0 1 2 3 $/, 'then it ran, without the descriptor');
});

t.test('--sync-fd is held open while the sandbox runs, and is not the program\'s', async (t) => {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, ['bwrap', ...ROOT_RO, '--sync-fd', '3', '--', 'sh', '-c', 'ls /proc/self/fd | tr "\\n" " "; read line']);
  const c = spawn(cmd, argv, { env: cleanEnv(), cwd: '/tmp', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let ended = false;
  c.stdio[3].on('end', () => { ended = true; });
  c.stdio[3].resume();
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => setTimeout(r, 700));
  t.notOk(ended, 'open while the program runs');
  c.stdin.end('bye\n');
  await new Promise((r) => c.on('close', r));
  await new Promise((r) => setTimeout(r, 100));
  t.ok(ended, 'closed when the sandbox ends');
  t.equal(out, '0 1 2 3 ');
});

t.test('--lock-file holds a read lock while the sandbox runs; --die-with-parent holds during the wait', { skip: !have('python3') && 'python3 is missing' }, async (t) => {
  ensureCheckoutReachable();
  const dir = userTmpdir();
  const lock = path.join(dir, 'lock');
  fs.writeFileSync(lock, '');
  fs.chmodSync(lock, 0o644);
  const tryLock = `import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n  fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print('free')\nexcept OSError: print('held')`;
  const [cmd, argv] = asUser(SANDBOX, ['bwrap', ...ROOT_RO, '--bind', dir, '/mnt', '--lock-file', '/mnt/lock', '--', 'sh', '-c', 'echo up; read line']);
  const c = spawn(cmd, argv, { env: cleanEnv(), cwd: '/tmp', stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => c.stdout.once('data', r));
  t.equal(spawnSync('python3', ['-c', tryLock, lock], { encoding: 'utf8' }).stdout, 'held\n', 'a writer outside finds it locked');
  c.stdin.end('x\n');
  await new Promise((r) => c.on('close', r));
  t.equal(spawnSync('python3', ['-c', tryLock, lock], { encoding: 'utf8' }).stdout, 'free\n', 'released at the end');

  // the lock taken outside first: the sandbox waits, and goes when its parent goes
  const holder = spawn('python3', ['-c', `import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(30)`, lock], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => holder.stdout.once('data', r));
  const inner = [SANDBOX, 'bwrap', ...ROOT_RO, '--die-with-parent', '--bind', dir, '/mnt', '--lock-file', '/mnt/lock', '--', 'true'].map((a) => `'${a}'`).join(' ');
  const [pcmd, pargv] = asUser('sh', ['-c', `${inner} & echo $!; wait`]);
  const parent = spawn(pcmd, pargv, { env: cleanEnv(), cwd: '/tmp', stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = Number(await new Promise((r) => parent.stdout.once('data', (d) => r(String(d).trim()))));
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(fs.existsSync(`/proc/${pid}`), 'the sandbox waits for the lock');
  parent.kill('SIGKILL');
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gone = !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  }
  t.ok(gone, 'its parent killed, the waiting sandbox is gone');
  holder.kill();
});

t.test('--seccomp FD and --add-seccomp-fd FD: compiled programs stacked in the order given', async (t) => {
  const dir = userTmpdir();
  const EXDEV = 18, ENOTEMPTY = 39;
  const a = fileFd(dir, 'a.bpf', errnoFilter('mkdir', EXDEV));
  const b = fileFd(dir, 'b.bpf', errnoFilter('mkdir', ENOTEMPTY));
  const script = 'mkdir /tmp/x 2>&1; grep Seccomp_filters /proc/self/status';
  const r = bwrap([...ROOT_RO, '--tmpfs', '/tmp', '--add-seccomp-fd', '3', '--add-seccomp-fd', '4', '--', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe', a, b] });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /Directory not empty/, 'the last program given is evaluated first, as the kernel does');
  t.match(r.stdout, /Seccomp_filters:\s+3/, 'the base filter and both programs');
  fs.closeSync(a); fs.closeSync(b);
  const a2 = fileFd(dir, 'a.bpf', errnoFilter('mkdir', EXDEV));
  const one = bwrap([...ROOT_RO, '--tmpfs', '/tmp', '--seccomp', '3', '--', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe', a2] });
  fs.closeSync(a2);
  t.match(one.stdout, /Invalid cross-device link/);
  t.match(one.stdout, /Seccomp_filters:\s+2/);
  const bad = fileFd(dir, 'bad.bpf', Buffer.alloc(7));
  const r3 = bwrap([...ROOT_RO, '--seccomp', '3', 'true'], { stdio: ['pipe', 'pipe', 'pipe', bad] });
  fs.closeSync(bad);
  t.equal(r3.status, 125);
  t.equal(r3.stderr, 'bwrap: Invalid seccomp data, must be multiple of 8\n');
});

t.test('--cap-add ALL and --cap-drop, in order', async (t) => {
  const caps = (args) => {
    const r = bwrap([...ROOT_RO, ...args, '--', 'sh', '-c', 'grep CapEff /proc/self/status']);
    t.equal(r.status, 0, r.stderr);
    return BigInt('0x' + r.stdout.trim().split(/\s+/)[1]);
  };
  t.equal(caps([]), 0n, 'none by default');
  const all = caps(['--cap-add', 'ALL']);
  t.ok(all > (1n << 38n), 'ALL: every capability');
  const less = caps(['--cap-add', 'ALL', '--cap-drop', 'CAP_NET_RAW']);
  t.equal(less, all & ~(1n << 13n));
  t.equal(caps(['--cap-add', 'CAP_NET_RAW', '--cap-drop', 'ALL']), 0n);
});

t.test('--bind-fd and --ro-bind-fd bind what the descriptor is', async (t) => {
  const dir = userTmpdir();
  fs.writeFileSync(path.join(dir, 'marker'), 'here\n');
  const fd = fs.openSync(dir, 'r');
  const r = bwrap([...ROOT_RO, '--ro-bind-fd', '3', '/mnt', '--', 'sh', '-c', 'cat /mnt/marker; touch /mnt/x 2>&1'], { stdio: ['pipe', 'pipe', 'pipe', fd] });
  fs.closeSync(fd);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stdout, /^here\n.*Read-only file system/s);
});

t.test('install-bwrap-link DIR: the launcher run as bwrap is bwrap mode', async (t) => {
  const dir = userTmpdir();
  const r = sandboxCli(['install-bwrap-link', dir]);
  t.equal(r.status, 0, r.stderr);
  const link = path.join(dir, 'bwrap');
  t.equal(fs.realpathSync(link), fs.realpathSync(SANDBOX));
  t.equal(sandboxCli(['install-bwrap-link', dir]).status, 0, 'again: nothing to do');
  const [cmd, argv] = asUser(link, [...ROOT_RO, '--setenv', 'X', 'y', '--', 'sh', '-c', 'echo $X']);
  const run = spawnSync(cmd, argv, { encoding: 'utf8', env: cleanEnv(), cwd: '/tmp' });
  t.equal(run.stdout, 'y\n', run.stderr);
  const [c2, a2] = asUser(link, ['--frob']);
  t.equal(spawnSync(c2, a2, { encoding: 'utf8', env: cleanEnv() }).stderr, 'bwrap: Unknown option --frob\n');
  const other = userTmpdir();
  fs.writeFileSync(path.join(other, 'bwrap'), '');
  const refused = sandboxCli(['install-bwrap-link', other]);
  t.equal(refused.status, 125);
  t.match(refused.stderr, /^sandbox: .*bwrap exists and is not a link/);
});

t.test('--userns, --userns2 and --pidns: the sandbox built in namespaces the caller made', { skip: !have('unshare') && 'unshare is missing' }, async (t) => {
  ensureCheckoutReachable();
  // as the test user: a user and pid namespace (root inside), and a user namespace nested in it
  const [cmd, argv] = asUser('unshare', ['-Ur', '--pid', '--fork', 'sh', '-c', 'unshare -Ur sleep 30; true']);
  const holder = spawn(cmd, argv, { stdio: 'ignore', env: cleanEnv() });
  const children = (pid) => {
    try {
      return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  let outer, inner;
  for (let i = 0; i < 50 && !inner; i++) {
    await new Promise((r) => setTimeout(r, 100));
    // setpriv and env exec, so the holder's pid is unshare's; its child is the sh in the new namespaces
    [outer] = children(holder.pid);
    if (outer) [inner] = children(outer);
    if (inner && fs.readlinkSync(`/proc/${inner}/ns/user`) === fs.readlinkSync(`/proc/${outer}/ns/user`)) inner = undefined;
  }
  t.ok(inner, 'the namespaces are there');
  const ns = (pid, kind) => fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
  const fds = () => [fs.openSync(`/proc/${outer}/ns/user`, 'r'), fs.openSync(`/proc/${inner}/ns/user`, 'r'), fs.openSync(`/proc/${outer}/ns/pid`, 'r')];
  const script = 'id -u; readlink /proc/self/ns/user /proc/self/ns/pid';
  let f = fds();
  const one = bwrap(['--userns', '3', ...ROOT_RO, '--', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe', ...f] });
  f.forEach((x) => fs.closeSync(x));
  t.equal(one.status, 0, one.stderr);
  const o = lines(one.stdout);
  t.equal(o[0], '0', 'the ids are that namespace\'s (root there)');
  t.equal(o[1], ns(outer, 'user'), '--userns: built in it');
  f = fds();
  const all = bwrap(['--userns', '3', '--userns2', '4', '--pidns', '5', ...ROOT_RO, '--', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe', ...f] });
  f.forEach((x) => fs.closeSync(x));
  t.equal(all.status, 0, all.stderr);
  const a = lines(all.stdout);
  t.equal(a[1], ns(inner, 'user'), '--userns2: the program runs in the nested one');
  t.equal(a[2], ns(outer, 'pid'), '--pidns: in the given pid namespace');
  t.match(bwrap(['--userns2', '4', 'true']).stderr, /^bwrap: --userns2 requires --userns\n$/);
  for (const p of [inner, outer]) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  holder.kill('SIGKILL');
});

t.test('--userns-block-fd: the maps are someone else\'s to write (here the test\'s), the child waits for them', async (t) => {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, ['bwrap', '--info-fd', '3', '--userns-block-fd', '4', ...ROOT_RO, '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
  const c = spawn(cmd, argv, { env: cleanEnv(), cwd: '/tmp', stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  let info = '';
  c.stdio[3].on('data', (d) => { info += d; });
  await new Promise((r) => c.stdio[3].on('end', r));
  const pid = JSON.parse(info)['child-pid'];
  const me = process.getuid();
  // what newuidmap would do: as root here any mapping of the test user goes; else the caller's own id only
  const uid = me === 0 ? 65534 : me;
  const gid = me === 0 ? 65534 : process.getgid();
  fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  fs.writeFileSync(`/proc/${pid}/uid_map`, `1000 ${uid} 1\n`);
  fs.writeFileSync(`/proc/${pid}/gid_map`, `1000 ${gid} 1\n`);
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  c.stdio[4].on('error', () => {});
  c.stdio[4].end('g');
  const code = await new Promise((r) => c.on('close', r));
  t.equal(code, 0);
  t.equal(lines(out)[0], '1000', 'the ids are the maps the other side wrote');
  t.match(bwrap(['--userns-block-fd', '4', 'true']).stderr, /^bwrap: --userns-block-fd requires --info-fd\n$/);
});
