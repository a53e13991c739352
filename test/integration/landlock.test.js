// Landlock scopes: even with the host's network shared, a sandbox can't reach an abstract unix socket made
// outside it, nor signal a host process of the same user; a bound pathname socket still works.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { sandbox, BASE, userTmpdir, cannotLaunch, asUser, cleanEnv, have, ROOT } = require('../lib/harness');

const why = cannotLaunch() || (!have('python3') && 'python3 is missing');
const probe = spawnSync(path.join(ROOT, 'native', 'build', 'sandbox-probe'), [], { encoding: 'utf8' });
const abi = Number((/^landlock_abi=(-?\d+)/m.exec(probe.stdout || '') || [])[1] || -1);
if (why || abi < 6) {
  t.skip(`Landlock scopes: ${why || `this kernel's Landlock ABI is ${abi}; scopes need ABI 6 (Linux 6.12)`}`);
  process.exit(0);
}

const SERVER = `
import socket, sys, os, time
name, path = sys.argv[1], sys.argv[2]
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind("\\0" + name); a.listen(8)
p = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); p.bind(path); p.listen(8); os.chmod(path, 0o777)
print("ready", flush=True)
time.sleep(60)
`;
const CLIENT = `
import socket, sys, os, signal
name, path, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
for what, addr in (("abstract", "\\0" + name), ("pathname", path)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try: s.connect(addr); print(what, "ok")
    except OSError as e: print(what, e.errno)
try: os.kill(pid, 0); print("signal ok")
except OSError as e: print("signal", e.errno)
`;

t.test('a sandbox sharing the network reaches neither abstract sockets nor processes outside', async (t) => {
  const dir = userTmpdir();
  const sock = path.join(dir, 'x.sock');
  const name = `sbx-landlock-${process.pid}`;
  const [cmd, argv] = asUser('python3', ['-c', SERVER, name, sock]);
  const server = spawn(cmd, argv, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill('SIGKILL'));
  await new Promise((res) => server.stdout.once('data', res));
  const [c2, a2] = asUser('python3', ['-c', CLIENT, name, sock, String(server.pid)]);
  const outside = spawnSync(c2, a2, { env: cleanEnv(), encoding: 'utf8' });
  t.match(outside.stdout, /abstract ok\npathname ok\nsignal ok/, 'outside any sandbox all three work (the test sees what it means to)');
  const pythonPid = spawnSync('pgrep', ['-P', String(server.pid)], { encoding: 'utf8' }).stdout.trim() || String(server.pid);
  const r = sandbox([...BASE, '--share-net', '--bind', dir, dir, '--', 'python3', '-c', CLIENT, name, sock, pythonPid]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^abstract 1$/m, 'abstract socket outside: EPERM');
  t.match(r.stdout, /^pathname ok$/m, 'the bound pathname socket works');
  t.match(r.stdout, /^signal (1|3)$/m, 'no signal to a host process (EPERM; ESRCH across the pid namespace)');
});

t.test('--verbose says nothing when the kernel has the scopes', async (t) => {
  const r = sandbox([...BASE, '--verbose', '--', 'true']);
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
});

t.test('Landlock filesystem rules from a profile: a second layer under the mounts', async (t) => {
  const fs2 = require('fs');
  const dir = userTmpdir();
  const prof = path.join(dir, 'll.json5');
  fs2.writeFileSync(prof, '{\n  extends: "minimal",\n  filesystem: [{ tmpfs: "/work" }],\n  landlock: {\n    readOnly: ["/usr", "/etc/passwd", "/proc", "/dev"],\n    readWrite: ["/work"],\n  },\n}\n');
  fs2.chmodSync(prof, 0o644);
  const script = 'head -c 5 /etc/passwd | grep -q . && echo passwd-ok; cat /etc/group 2>&1 | head -1; echo x > /work/f && echo work-ok; echo x > /dev/null 2>&1 || echo devnull-refused';
  const r = sandbox(['--profile', prof, '--', 'sh', '-c', script], { cwd: dir });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^passwd-ok$/m, 'a listed file reads');
  t.match(r.stdout, /\/etc\/group: Permission denied/, 'a bound but unlisted file does not');
  t.match(r.stdout, /^work-ok$/m, 'a read-write rule writes');
  t.match(r.stdout, /^devnull-refused$/m, 'a read-only rule does not write');
  const bad = sandbox(['--no-profile', '--ro-bind', '/', '/', '--landlock-ro', '/nonexistent', '--', 'true']);
  t.equal(bad.status, 125);
  t.equal(bad.stderr, 'sandbox: --landlock-ro /nonexistent: Landlock rule /nonexistent: No such file or directory\n');
});
