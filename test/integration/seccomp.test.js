// Seccomp in real sandboxes: the base filter is always there, profile rules act with their errno.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandbox, BASE, userTmpdir, cannotLaunch, asUser, cleanEnv, have, SANDBOX, ROOT } = require('../lib/harness');

const why = cannotLaunch() || (!have('python3') && 'python3 is missing');
if (why) {
  t.skip(`seccomp in sandboxes: ${why}`);
  process.exit(0);
}
const py = (code, extra = []) => sandbox([...BASE, ...extra, '--', 'python3', '-c', code]);

t.test('Seccomp: 2 in every sandbox, with or without a profile', async (t) => {
  t.match(sandbox([...BASE, '--', 'grep', 'Seccomp:', '/proc/self/status']).stdout, /Seccomp:\s+2/);
  const dir = userTmpdir();
  t.match(sandbox(['--', 'grep', 'Seccomp:', '/proc/self/status'], { cwd: dir }).stdout, /Seccomp:\s+2/, 'default profile');
});

t.test('the base filter: no user namespaces, no mounts, no keyrings, no bpf, no TIOCSTI', async (t) => {
  const r = sandbox([...BASE, '--', 'unshare', '-U', 'true']);
  t.not(r.status, 0, 'unshare -U fails');
  t.match(r.stderr, /Operation not permitted/);
  const probe = `
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    r = getattr(libc, name)(*args)
    return 0 if r >= 0 else ctypes.get_errno()
print("unshare", call("unshare", 0x10000000))
print("clone3", ctypes.get_errno() if libc.syscall(435, None, 0) < 0 else 0)
print("keyctl", call("syscall", 250, 0, 0, 0, 0))
print("bpf", call("syscall", 321, 0, 0, 0))
print("mount", call("mount", b"none", b"/tmp", b"tmpfs", 0, None))
try:
    socket.socket(40, socket.SOCK_STREAM); print("vsock 0")
except OSError as e: print("vsock", e.errno)
`;
  const out = py(probe);
  t.equal(out.status, 0, out.stderr);
  const got = Object.fromEntries(out.stdout.trim().split('\n').map((l) => l.split(' ')));
  t.equal(got.unshare, String(1), 'unshare(CLONE_NEWUSER): EPERM');
  t.equal(got.clone3, String(38), 'clone3: ENOSYS, so libc falls back to clone');
  t.equal(got.keyctl, String(1), 'keyctl: EPERM');
  t.equal(got.bpf, String(1), 'bpf: EPERM');
  t.equal(got.mount, String(1), 'mount: EPERM');
  t.equal(got.vsock, String(97), 'AF_VSOCK: EAFNOSUPPORT');
  const plain = py('import subprocess; print(subprocess.run(["true"]).returncode)');
  t.equal(plain.stdout.trim(), '0', 'ordinary fork and exec still work');
});

t.test('TIOCSTI and TIOCLINUX on the terminal fail even when the terminal is shared', async (t) => {
  const probe = 'import fcntl,termios\nfor name,req in (("TIOCSTI", termios.TIOCSTI), ("TIOCLINUX", 0x541C)):\n  try: fcntl.ioctl(0, req, b"x"); print(name, "worked")\n  except OSError as e: print(name, e.errno)';
  const outer = 'import pty,os,sys\npid,fd=pty.fork()\nif pid==0:\n os.execvp(sys.argv[1], sys.argv[1:])\nout=b""\nwhile True:\n try: d=os.read(fd,4096)\n except OSError: break\n if not d: break\n out+=d\nprint(out.decode(errors="replace"))';
  const [cmd, argv] = asUser('python3', ['-c', outer, SANDBOX, 'run', ...BASE, '--share-terminal', '--', 'python3', '-c', probe]);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 20000, env: cleanEnv() });
  t.match(r.stdout, /TIOCSTI 1/);
  t.match(r.stdout, /TIOCLINUX 1/);
  t.notMatch(r.stdout, /worked/);
});

t.test('a profile\'s rules act with their errno; unknown names are refused with file:line:col', async (t) => {
  const dir = userTmpdir();
  const prof = path.join(dir, 'p.json5');
  fs.writeFileSync(prof, `{
  extends: "minimal",
  seccomp: {
    default: "allow",
    rules: [
      { deny: ["chmod", "fchmodat"], errno: "EACCES" },
      { deny: ["getpid"], errno: "ENOSYS" },
    ],
  },
}`);
  fs.chmodSync(prof, 0o644);
  const r = sandbox(['--profile', prof, '--', 'python3', '-c', 'import os\ntry: os.chmod("/tmp", 0o700)\nexcept OSError as e: print("chmod", e.errno)\nimport ctypes; libc=ctypes.CDLL(None, use_errno=True); libc.syscall(39); print("getpid", ctypes.get_errno())'], { cwd: dir });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /chmod 13/);
  t.match(r.stdout, /getpid 38/);
  fs.writeFileSync(prof, '{\n  seccomp: {\n    default: "allow",\n    rules: [{ deny: ["no_such_syscall"] }],\n  },\n}');
  const bad = sandbox(['--profile', prof, '--', 'true'], { cwd: dir });
  t.equal(bad.status, 125);
  t.match(bad.stderr, new RegExp(`^sandbox: ${prof}:4:\\d+: .*no_such_syscall.*\\n$`));
});

t.test('--seccomp takes Docker\'s default profile unchanged', async (t) => {
  const docker = require('../lib/shared-testdata').sharedTestdata('seccomp', 'docker-default.json');
  if (!fs.existsSync(docker)) return t.skip('../shared/testdata is not here');
  const dir = userTmpdir();
  const copy = path.join(dir, 'docker.json');
  fs.copyFileSync(docker, copy);
  fs.chmodSync(copy, 0o644);
  const r = py('import ctypes; libc=ctypes.CDLL(None, use_errno=True); print(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno()); import os; print(os.getppid() > 0)', ['--seccomp', copy]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^-1 1\nTrue/);
  // Docker denies AF_VSOCK (40) with its default EPERM, the base filter with EAFNOSUPPORT: the policy's errno wins,
  // as with stacked filters the kernel answers the most recently installed one's value.
  const vsock = 'import ctypes; libc=ctypes.CDLL(None, use_errno=True); print(libc.socket(40, 1, 0), ctypes.get_errno(), libc.socket(31, 1, 0), ctypes.get_errno())';
  const v = py(vsock, ['--seccomp', copy]);
  t.equal(v.status, 0, v.stderr);
  t.equal(v.stdout, '-1 1 -1 97\n', 'AF_VSOCK: EPERM (Docker\'s); AF_BLUETOOTH, which Docker allows: EAFNOSUPPORT (the base filter\'s)');
  const plain = py(vsock, []);
  t.equal(plain.stdout, '-1 97 -1 97\n', 'without a policy the base filter answers EAFNOSUPPORT');
});

t.test('sandbox seccomp groups and explain', async (t) => {
  const [cmd, argv] = asUser(SANDBOX, ['seccomp', 'groups']);
  const g = spawnSync(cmd, argv, { encoding: 'utf8', env: cleanEnv() });
  t.equal(g.status, 0, g.stderr);
  t.match(g.stdout, /@mount/);
  t.match(g.stdout, /@system-service/);
  const [c2, a2] = asUser(SANDBOX, ['seccomp', 'explain', 'default', 'keyctl']);
  const e = spawnSync(c2, a2, { encoding: 'utf8', env: cleanEnv() });
  t.equal(e.status, 0, e.stderr);
  t.match(e.stdout, /^keyctl \(/);
  t.match(e.stdout, /EPERM|errno/i);
});
