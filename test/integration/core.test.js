// The launcher core, seen from inside real sandboxes started by an unprivileged user.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandbox, sandboxAsync, BASE, TEST_UID, TEST_GID, IS_ROOT, userTmpdir, testHome, cannotLaunch, asUser } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`launcher core: ${why}`);
  process.exit(0);
}

/** A root with only /usr (and the merged-/usr links): the tmpfs root stays writable during setup. */
const MINI = ['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/sbin', '/sbin', '--proc', '/proc', '--dev', '/dev'];
const sh = (script, extra = [], opts) => sandbox([...BASE, ...extra, '--', 'sh', '-c', script], opts);
const lines = (s) => s.trim().split('\n').filter(Boolean);

t.test('runs as the unprivileged test user, not root', async (t) => {
  const r = sandbox(['--help']);
  void r;
  const [cmd, argv] = asUser('id', ['-u']);
  t.equal(spawnSync(cmd, argv, { encoding: 'utf8' }).stdout.trim(), String(IS_ROOT ? TEST_UID : process.getuid()));
});

t.test('user namespace: one-entry maps, setgroups denied, own ids by default', async (t) => {
  const r = sh('id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; cat /proc/self/setgroups');
  t.equal(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  const uid = IS_ROOT ? TEST_UID : process.getuid();
  t.equal(out[0], String(uid));
  t.same(out[2].trim().split(/\s+/), [String(uid), String(uid), '1'], 'uid_map has exactly one line');
  t.equal(out.length, 5, 'one line each for uid_map and gid_map');
  t.equal(out[4], 'deny');
});

t.test('--uid 0 --gid 0 maps the caller to root inside', async (t) => {
  const r = sh('id -u; id -g; cat /proc/self/uid_map', ['--uid', '0', '--gid', '0']);
  t.equal(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  t.equal(out[0], '0');
  t.equal(out[1], '0');
  t.same(out[2].trim().split(/\s+/), ['0', String(IS_ROOT ? TEST_UID : process.getuid()), '1']);
});

t.test('new user, mount, pid, ipc, uts, cgroup and net namespaces; --share-net keeps the network', async (t) => {
  const kinds = ['user', 'mnt', 'pid', 'ipc', 'uts', 'cgroup', 'net'];
  const script = kinds.map((k) => `readlink /proc/self/ns/${k}`).join(';');
  const [cmd, argv] = asUser('sh', ['-c', script]);
  const outside = lines(spawnSync(cmd, argv, { encoding: 'utf8' }).stdout);
  const inside = lines(sh(script).stdout);
  const shared = lines(sh(script, ['--share-net']).stdout);
  kinds.forEach((k, i) => t.not(inside[i], outside[i], `${k} namespace is new`));
  t.equal(shared[6], outside[6], '--share-net: same network namespace');
  const ifaces = sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  t.same(lines(ifaces.stdout), ['lo'], 'only lo in the new network namespace');
  const up = sh('cat /sys/class/net/lo/operstate 2>/dev/null; grep -c . /proc/net/dev');
  t.equal(up.status, 0);
});

t.test('a fresh root holds only what the plan put there', async (t) => {
  const r = sandbox(['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--', 'ls', '-A', '/']);
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout).sort(), ['bin', 'lib', 'lib64', 'proc', 'usr']);
  const w = sandbox(['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64', '--', 'sh', '-c', 'mkdir /x 2>&1; echo $?']);
  t.match(w.stdout, /Read-only file system/, 'the root tmpfs itself is read-only');
  const home = sh('ls /work 2>&1; cat /proc/1/mountinfo | grep -c " / / "', ['--tmpfs', '/work']);
  t.equal(home.status, 0);
});

t.test('pivot_root: the old root is gone', async (t) => {
  const r = sh('grep -c . /proc/self/mountinfo; cat /proc/self/mountinfo | awk \'{print $5}\' | grep -c "^/tmp/root" || true');
  t.equal(r.status, 0, r.stderr);
  t.equal(lines(r.stdout)[1], '0', 'no trace of the staging directory');
});

t.test('read-only binds are read-only recursively, submounts included', async (t) => {
  const r = sandbox(['--no-profile', '--ro-bind', '/', '/', '--', 'sh', '-c', 'touch /dev/shm/sbx-probe 2>&1; touch /tmp/sbx-probe 2>&1; echo done']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /dev\/shm\/sbx-probe.*Read-only file system/);
  t.match(r.stdout, /tmp\/sbx-probe.*Read-only file system/);
  t.notOk(fs.existsSync('/dev/shm/sbx-probe'));
  const m = sandbox(['--no-profile', '--ro-bind', '/', '/', '--', 'cat', '/proc/self/mountinfo']);
  for (const line of lines(m.stdout)) {
    const opts = line.split(' ')[5];
    t.ok(opts.split(',').includes('ro'), `ro: ${line.split(' ')[4]}`);
  }
});

t.test('destinations are resolved inside the new root: a planted symlink leads nowhere outside', async (t) => {
  const dir = userTmpdir();
  const rw = path.join(dir, 'rw');
  const victim = path.join(dir, 'victim');
  fs.mkdirSync(rw);
  fs.mkdirSync(victim);
  if (IS_ROOT) { fs.chownSync(rw, TEST_UID, TEST_GID); fs.chownSync(victim, TEST_UID, TEST_GID); }
  fs.symlinkSync(victim, path.join(rw, 'link'));
  const r = sandbox([...MINI, '--dir', victim, '--bind', rw, '/rw', '--dir', '/rw/link/made-inside', '--tmpfs', '/rw/link/tmp', '--', 'sh', '-c', `ls -d ${victim}/made-inside ${victim}/tmp`]);
  t.equal(r.status, 0, r.stderr);
  t.same(fs.readdirSync(victim), [], 'nothing was created in the host directory the symlink names');
  t.notOk(fs.existsSync(path.join(victim, 'made-inside')));
});

t.test('mount flags the kernel locked are kept, not refused', { skip: !IS_ROOT && 'needs root to prepare a locked mount' }, async (t) => {
  const dir = userTmpdir();
  const m = path.join(dir, 'locked');
  fs.mkdirSync(m);
  const mk = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,noexec,size=1m', 'sbx-locked', m], { encoding: 'utf8' });
  if (mk.status !== 0) return t.skip(`cannot mount a tmpfs: ${mk.stderr}`);
  t.teardown(() => spawnSync('umount', ['-l', m]));
  const r = sandbox([...MINI, '--bind', m, '/locked', '--remount-ro', '/locked', '--', 'sh', '-c', 'grep " /locked " /proc/self/mountinfo']);
  t.equal(r.status, 0, r.stderr);
  for (const f of ['ro', 'nosuid', 'nodev', 'noexec']) t.match(r.stdout.split(' ')[5], new RegExp(`\\b${f}\\b`), `${f} kept`);
});

t.test('--proc: read-only and masked parts', async (t) => {
  const r = sh(`
    for p in sys sysrq-trigger irq bus; do [ -e /proc/$p ] && (echo x > /proc/$p/probe 2>/dev/null || echo x > /proc/$p 2>/dev/null) && echo "writable $p"; done
    grep -E " /proc/(sys|irq|bus|sysrq-trigger) " /proc/self/mountinfo | awk '{print $5, $6}'
    for p in kcore keys timer_list sched_debug; do [ -e /proc/$p ] && echo "$p $(wc -c < /proc/$p)"; done
    ls /proc/acpi 2>/dev/null | wc -l
  `);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /writable/);
  for (const l of lines(r.stdout).filter((l) => l.startsWith('/proc/'))) t.match(l, /^\S+ ro,/, `${l.split(' ')[0]} read-only`);
  for (const p of ['keys', 'timer_list', 'sched_debug']) {
    const m = new RegExp(`^${p} (\\d+)$`, 'm').exec(r.stdout);
    if (m) t.equal(m[1], '0', `/proc/${p} is masked`);
  }
});

t.test('--dev: only the safe nodes, a private devpts, and bwrap\'s links (core to the masked /proc/kcore)', async (t) => {
  const r = sh('ls -A /dev | sort | tr "\\n" " "; echo; readlink /dev/ptmx /dev/fd /dev/stdin; ls /dev/pts | tr "\\n" " "');
  t.equal(r.status, 0, r.stderr);
  t.equal(lines(r.stdout)[0].trim(), 'core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero'.split(' ').filter((n) => n !== 'tty' || fs.existsSync('/dev/tty')).join(' '));
  t.match(r.stdout, /pts\/ptmx\n\/proc\/self\/fd\n\/proc\/self\/fd\/0/);
  const io = sh('head -c 4 /dev/zero | od -An -tx1; head -c 8 /dev/urandom | wc -c; echo ok > /dev/null && echo null-ok');
  t.match(io.stdout, /00 00 00 00/);
  t.match(io.stdout, /null-ok/);
});

t.test('every mount is nosuid; all but device nodes and devpts are nodev', async (t) => {
  const r = sh('cat /proc/self/mountinfo', ['--tmpfs', '/tmp', '--mqueue', '/dev/mqueue']);
  t.equal(r.status, 0, r.stderr);
  const devNodes = new Set(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/pts']);
  for (const line of lines(r.stdout)) {
    const f = line.split(' ');
    const where = f[4], opts = f[5].split(',');
    t.ok(opts.includes('nosuid'), `nosuid: ${where}`);
    if (!devNodes.has(where)) t.ok(opts.includes('nodev'), `nodev: ${where}`);
  }
});

t.test('--dev-bind keeps device access; --bind does not', async (t) => {
  const ok = sandbox(['--no-profile', '--ro-bind', '/', '/', '--tmpfs', '/tmp', '--dev-bind', '/dev/null', '/tmp/null', '--', 'sh', '-c', 'echo x > /tmp/null && echo written']);
  t.match(ok.stdout, /written/, ok.stderr);
  const no = sandbox(['--no-profile', '--ro-bind', '/', '/', '--tmpfs', '/tmp', '--bind', '/dev/null', '/tmp/null', '--', 'sh', '-c', 'echo x > /tmp/null 2>&1 || echo refused']);
  t.match(no.stdout, /refused/);
});

t.test('no privileges: no_new_privs, every capability dropped, --cap-add keeps one for --uid 0', async (t) => {
  const r = sh('grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /NoNewPrivs:\s+1/);
  for (const c of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.match(r.stdout, new RegExp(`${c}:\\s+0{16}`));
  const root = sh('grep -E "^(CapEff|CapBnd)" /proc/self/status', ['--uid', '0', '--gid', '0']);
  t.match(root.stdout, /CapEff:\s+0{16}/, 'root inside has no capabilities either');
  const kept = sh('grep -E "^(CapEff|CapBnd)" /proc/self/status', ['--uid', '0', '--cap-add', 'CAP_NET_ADMIN']);
  t.match(kept.stdout, /CapEff:\s+0000000000001000/);
  t.match(kept.stdout, /CapBnd:\s+0000000000001000/);
  const ip = sandbox([...BASE, '--uid', '0', '--cap-add', 'net_admin', '--', 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward']);
  t.equal(ip.status, 0, ip.stderr);
});

t.test('hostname, working directory and environment', async (t) => {
  t.equal(sh('hostname').stdout.trim(), 'sandbox');
  t.equal(sh('hostname', ['--hostname', 'box1']).stdout.trim(), 'box1');
  const longest = `h${'x'.repeat(63)}`; // 64 bytes, the kernel's __NEW_UTS_LEN: the one limit on both paths and in the stage
  t.equal(sh('hostname', ['--hostname', longest]).stdout.trim(), longest);
  t.equal(sh('pwd', ['--chdir', '/usr/lib']).stdout.trim(), '/usr/lib');
  const dir = userTmpdir();
  t.equal(sh('pwd', [], { cwd: dir }).stdout.trim(), dir, 'default: the caller\'s directory when visible');
  const hidden = sandbox(['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--', 'pwd'], { cwd: dir });
  t.equal(hidden.stdout.trim(), '/', 'else /');
  const missing = sh('pwd', ['--chdir', '/nonexistent']);
  t.equal(missing.status, 125);
  t.match(missing.stderr, /^sandbox: --chdir \/nonexistent: No such file or directory\n$/);
  const env = sh('echo "$A|${B-unset}|${HOME-unset}"', ['--setenv', 'A', 'one', '--setenv', 'B', 'two', '--unsetenv', 'B']);
  t.equal(env.stdout.trim(), 'one|unset|' + testHome());
  const clear = sandbox([...BASE, '--clearenv', '--setenv', 'X', '1', '--', '/usr/bin/env']);
  t.same(lines(clear.stdout).sort(), ['PATH=/usr/local/bin:/usr/bin:/bin', 'X=1'].sort());
  const path1 = sandbox([...BASE, '--setenv', 'PATH', '/usr/sbin:/usr/bin', '--', 'true']);
  t.equal(path1.status, 0, 'COMMAND is looked up in the sandbox\'s PATH');
});

t.test('exit status: code, 128+signal, 125, 126, 127', async (t) => {
  t.equal(sh('exit 3').status, 3);
  t.equal(sh('exit 255').status, 255);
  t.equal(sh('kill -9 $$').status, 137);
  t.equal(sh('kill -TERM $$').status, 143);
  const nf = sandbox([...BASE, '--', 'no-such-command-here']);
  t.equal(nf.status, 127);
  t.equal(nf.stderr, 'sandbox: no-such-command-here: command not found\n');
  const nf2 = sandbox([...BASE, '--', '/no/such/file']);
  t.equal(nf2.status, 127);
  t.equal(nf2.stderr, 'sandbox: /no/such/file: No such file or directory\n');
  const ne = sandbox([...BASE, '--', '/etc/passwd']);
  t.equal(ne.status, 126);
  t.equal(ne.stderr, 'sandbox: /etc/passwd: Permission denied\n');
  const bad = sandbox(['--no-profile', '--bind', '/nope', '/x', '--', 'true']);
  t.equal(bad.status, 125);
  t.equal(bad.stderr, 'sandbox: --bind /nope /x: No such file or directory\n');
  const opt = sandbox(['--frobnicate', '--', 'true']);
  t.equal(opt.status, 125);
  t.equal(opt.stderr, 'sandbox: --frobnicate: unknown option (see sandbox run --help)\n');
  const noCmd = sandbox([...BASE]);
  t.equal(noCmd.status, 125);
  t.equal(lines(noCmd.stderr).length, 1);
});

t.test('the command line: options first, the first non-option starts the command', async (t) => {
  const r = sandbox([...BASE, 'sh', '-c', 'echo "$@"', 'x', '--bind', '--help']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), '--bind --help');
});

t.test('--print-plan prints JSON and runs nothing', async (t) => {
  const dir = userTmpdir();
  const marker = path.join(dir, 'ran');
  const r = sandbox([...BASE, '--bind', dir, dir, '--print-plan', '--', 'touch', marker]);
  t.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  t.equal(plan.version, 2);
  t.same(plan.argv, ['touch', marker]);
  t.equal(plan.mounts[3].op, 'bind');
  t.notOk(fs.existsSync(marker));
});

t.test('tmpfs size and mode, dir, symlink, chmod, remount-ro, mqueue', async (t) => {
  const r = sandbox([...MINI,
    '--size', '1M', '--perms', '0700', '--tmpfs', '/scratch', '--perms', '0750', '--dir', '/made', '--dir', '/made/sub', '--chmod', '0711', '/made/sub',
      '--symlink', '/usr/bin', '/ln', '--tmpfs', '/ro', '--remount-ro', '/ro', '--mqueue', '/dev/mqueue', '--', 'sh', '-c',
    'stat -c "%a" /scratch /made /made/sub; grep " /scratch " /proc/self/mountinfo; readlink /ln; touch /ro/x 2>&1; grep -c " /dev/mqueue " /proc/self/mountinfo']);
  t.equal(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  t.same(out.slice(0, 3), ['700', '750', '711']);
  t.match(out[3], /size=1024k/);
  t.equal(out[4], '/usr/bin');
  t.match(out[5], /Read-only file system/);
  t.equal(out[6], '1');
});

t.test('--file, --bind-data and --ro-bind-data read an inherited descriptor', async (t) => {
  const dir = userTmpdir();
  const src = path.join(dir, 'data');
  fs.writeFileSync(src, 'hello from fd\n');
  for (const [flag, writable] of [['--file', true], ['--bind-data', true], ['--ro-bind-data', false]]) {
    const fd = fs.openSync(src, 'r');
    const r = sandbox([...BASE, '--tmpfs', '/tmp', flag, '3', '/tmp/in', '--', 'sh', '-c', 'cat /tmp/in; echo more >> /tmp/in 2>/dev/null && echo writable || echo read-only; ls /proc/self/fd | tr "\\n" " "'],
      { stdio: ['pipe', 'pipe', 'pipe', fd] });
    fs.closeSync(fd);
    t.equal(r.status, 0, `${flag}: ${r.stderr}`);
    t.match(r.stdout, /^hello from fd\n/, flag);
    t.match(r.stdout, writable ? /writable/ : /read-only/, flag);
    t.match(r.stdout, /^0 1 2 3 $/m, `${flag}: the descriptor is not left open in the program`);
  }
});

t.test('nothing leaks from the launcher: descriptors, ignored signals, blocked signals', async (t) => {
  const dir = userTmpdir();
  const f = fs.openSync(path.join(dir, 'leak'), 'w');
  const r = sandbox([...BASE, '--', 'sh', '-c', 'ls /proc/self/fd | tr "\\n" " "; grep -E "^Sig(Ign|Blk)" /proc/self/status'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', f] });
  fs.closeSync(f);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^0 1 2 3 Sig/, 'only 0-2 (and ls\'s own directory descriptor)');
  t.match(r.stdout, /SigIgn:\s+0{16}/);
  t.match(r.stdout, /SigBlk:\s+0{16}/);
});

t.test('pid 1 reaps zombies and the program is pid 2; --as-pid-1 runs it as pid 1', async (t) => {
  const r = sh('echo $$; for i in $(seq 50); do (sleep 0 &) ; done; sleep 0.5; grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l');
  t.equal(r.status, 0, r.stderr);
  t.same(lines(r.stdout), ['2', '0'], 'no zombies left');
  t.equal(sandbox([...BASE, '--as-pid-1', '--', 'sh', '-c', 'echo $$']).stdout.trim(), '1');
});

t.test('signals reach the program through the monitor and init', async (t) => {
  for (const [sig, expect] of [['SIGTERM', 42], ['SIGINT', 43], ['SIGHUP', 44], ['SIGUSR1', 45]]) {
    const p = sandboxAsync([...BASE, '--', 'sh', '-c', `trap "exit ${expect}" ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`]);
    await new Promise((res) => p.stdout.once('data', res));
    const code = await new Promise((res) => { p.on('exit', (c) => res(c)); p.kill(sig); });
    t.equal(code, expect, sig);
  }
  const p = sandboxAsync([...BASE, '--', 'sh', '-c', 'echo ready; exec sleep 30']);
  await new Promise((res) => p.stdout.once('data', res));
  const code = await new Promise((res) => { p.on('exit', (c) => res(c)); p.kill('SIGINT'); });
  t.equal(code, 130, 'killed by SIGINT: 128+2');
});

t.test('the sandbox dies with the process that started it', async (t) => {
  const dir = userTmpdir();
  const pidFile = path.join(dir, 'pid');
  const [cmd, argv] = asUser('sh', ['-c', `"$0" run ${BASE.join(' ')} -- sleep 60 & echo $! > ${pidFile}; sleep 60`, require('../lib/harness').SANDBOX]);
  const parent = require('child_process').spawn(cmd, argv, { stdio: 'ignore', cwd: dir });
  for (let i = 0; i < 100 && !(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()); i++) await new Promise((r) => setTimeout(r, 50));
  const monitor = Number(fs.readFileSync(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 500));
  // the shell started by setpriv (or directly) is the sandbox's parent; kill it hard
  const shellPid = IS_ROOT ? parent.pid : parent.pid;
  process.kill(shellPid, 'SIGKILL');
  let gone = false;
  for (let i = 0; i < 60 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 50));
    gone = !fs.existsSync(`/proc/${monitor}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${monitor}/status`, 'utf8'));
  }
  t.ok(gone, 'the monitor is gone once its parent died');
});

t.test('TIOCSTI cannot reach the outer terminal', { skip: !require('../lib/harness').have('python3') && 'python3 missing' }, async (t) => {
  const probe = 'import fcntl,termios,sys\ntry:\n fcntl.ioctl(0, termios.TIOCSTI, b"x"); print("INJECTED")\nexcept OSError as e: print("refused", e.errno)';
  const outer = `import pty,os,sys\npid,fd=pty.fork()\nif pid==0:\n os.execvp(sys.argv[1], sys.argv[1:])\nout=b""\nwhile True:\n try: d=os.read(fd,4096)\n except OSError: break\n if not d: break\n out+=d\nprint(out.decode(errors="replace"))`;
  const { SANDBOX } = require('../lib/harness');
  const [cmd, argv] = asUser('python3', ['-c', outer, SANDBOX, 'run', ...BASE, '--', 'python3', '-c', probe]);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 20000, env: require('../lib/harness').cleanEnv() });
  t.match(r.stdout, /refused 1/, 'EPERM: the program is in its own session');
  t.notMatch(r.stdout, /INJECTED/);
});
