'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const h = require('./seccomp-helpers');
const { sandboxPolicy, seccompForPlan } = require('../../dist/lib/seccomp/index');

const file = require('../lib/shared-testdata').sharedTestdata('seccomp', 'docker-default.json');
const have = fs.existsSync(file);

const EPERM = 0x50001, ENOSYS = 0x50026, ALLOW = 0x7fff0000;
const CLONE_NEWUSER = 0x10000000n, CLONE_NEWNS = 0x20000n, CLONE_NEWNET = 0x40000000n;
const THREAD_FLAGS = 0x3d0f00n; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID

t.test('Docker\'s default profile imports unchanged and decides as documented', { skip: !have && `no ${file}` }, async (t) => {
  const text = fs.readFileSync(file, 'utf8');
  const policy = h.parseText(text, 'docker-default.json');
  t.equal(policy.format, 'oci');
  for (const arch of h.ARCHES) {
    for (const [caps, label] of [[[], 'no capabilities'], [['CAP_SYS_ADMIN'], 'CAP_SYS_ADMIN kept']]) {
      const c = h.compileFilter(policy, arch, { keptCaps: caps, kernel: '6.18.0' });
      const r = (name, args = []) => {
        const nr = h.syscallNumber(arch, name);
        if (nr === undefined) throw new Error(`${name} not on ${arch}`);
        return h.run(c, arch, nr, args).ret;
      };
      const admin = caps.length > 0;
      t.test(`${arch}, ${label}`, async (t) => {
        for (const n of ['read', 'write', 'openat', 'close', 'mmap', 'futex', 'execve', 'ioctl', 'getppid', 'ptrace', 'statx', 'io_uring_setup']) {
          if (n === 'io_uring_setup') t.equal(r(n), EPERM, 'io_uring is not in Docker\'s list');
          else t.equal(r(n), ALLOW, `${n} allowed`);
        }
        t.equal(r('clone', [0x11n /* SIGCHLD */]), ALLOW, 'clone for fork allowed');
        t.equal(r('clone', [THREAD_FLAGS]), ALLOW, 'clone for a thread allowed');
        for (const f of [CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET]) t.equal(r('clone', [f | 0x11n]), admin ? ALLOW : EPERM, `clone 0x${f.toString(16)}`);
        t.equal(r('clone3'), admin ? ALLOW : ENOSYS, 'clone3 answers ENOSYS unless CAP_SYS_ADMIN');
        for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'perf_event_open', 'syslog', 'fsopen']) t.equal(r(n), admin ? ALLOW : EPERM, n);
        for (const n of ['reboot', 'keyctl', 'add_key', 'request_key', 'kexec_load', 'init_module', 'finit_module', 'delete_module',
          'acct', 'swapon', 'swapoff', 'settimeofday', 'userfaultfd', 'kcmp', 'open_by_handle_at', 'pivot_root']) {
          if (h.syscallNumber(arch, n) !== undefined) t.equal(r(n), EPERM, `${n} blocked with EPERM`);
        }
        for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) t.equal(r('personality', [v]), ALLOW, `personality(0x${v.toString(16)})`);
        for (const v of [0x400000n /* READ_IMPLIES_EXEC */, 0x0040000n /* ADDR_NO_RANDOMIZE */, 1n, 0x1_00000000n]) t.equal(r('personality', [v]), EPERM, `personality(0x${v.toString(16)}) blocked`);
        for (const af of [1n, 2n, 10n, 16n, 17n, 37n, 39n, 41n, 45n]) t.equal(r('socket', [af]), ALLOW, `socket(${af})`);
        t.equal(r('socket', [38n]), EPERM, 'socket(AF_ALG) blocked');
        t.equal(r('socket', [40n]), EPERM, 'socket(AF_VSOCK) blocked');
        if (arch === 'x86_64') {
          t.equal(r('arch_prctl'), ALLOW, 'arch_prctl (amd64 only)');
          t.equal(r('modify_ldt'), ALLOW, 'modify_ldt (included for amd64)');
        }
      });
    }
    const old = h.compileFilter(policy, arch, { kernel: '4.4.0' });
    t.equal(h.run(old, arch, h.syscallNumber(arch, 'ptrace')).ret, EPERM, `${arch}: ptrace needs minKernel 4.8`);
  }
});

t.test('OCI rule forms', async (t) => {
  const p = h.parseText(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 },
      { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['dup3'], action: 'SCMP_ACT_TRAP', args: [{ index: 2, value: 0xf0, valueTwo: 0x80, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['lseek'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 2, op: 'SCMP_CMP_GE' }, { index: 1, value: 100, op: 'SCMP_CMP_LT' }] },
      { names: ['sync'], action: 'SCMP_ACT_LOG' },
      { names: ['getpid'], action: 'SCMP_ACT_TRACE' },
      { names: ['getuid'], action: 'SCMP_ACT_KILL', excludes: { arches: ['arm64'] } },
      { names: ['getgid'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['net_admin'] } },
      { names: ['no_such_call_anywhere'], action: 'SCMP_ACT_ALLOW' },
    ],
  }), 'oci.json');
  for (const arch of h.ARCHES) {
    const c = h.compileFilter(p, arch, { keptCaps: [] });
    const r = (n, a = []) => h.describeRet(h.run(c, arch, h.syscallNumber(arch, n), a).ret);
    t.equal(r('mkdirat'), 'errno 30');
    t.equal(r('kill', [1n, 9n]), 'kill the process');
    t.equal(r('kill', [1n, 15n]), 'allow');
    t.equal(r('dup3', [0n, 0n, 0x8cn]), 'trap (SIGSYS)', 'masked: (0x8c & 0xf0) == 0x80');
    t.equal(r('dup3', [0n, 0n, 0x4cn]), 'allow');
    t.equal(r('lseek', [0n, 5n, 2n]), 'errno 1', 'args AND, errno defaults to EPERM');
    t.equal(r('lseek', [0n, 500n, 2n]), 'allow');
    t.equal(r('sync'), 'log (allowed, and logged)');
    t.equal(r('getpid'), 'errno 38', 'TRACE with no tracer is ENOSYS');
    t.equal(r('getuid'), arch === 'x86_64' ? 'kill the thread' : 'allow', 'excludes.arches');
    t.equal(r('getgid'), 'allow', 'includes.caps not kept');
    t.equal(h.describeRet(h.run(h.compileFilter(p, arch, { keptCaps: ['CAP_NET_ADMIN'] }), arch, h.syscallNumber(arch, 'getgid')).ret), 'errno 1', 'includes.caps kept');
  }
  t.throws(() => h.parseText(JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }), 'n.json'), { message: /^n\.json:1:\d+: SCMP_ACT_NOTIFY needs a user-space listener/ });
  t.throws(() => h.parseText(`{"defaultAction": "SCMP_ACT_ALLOW",\n "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`, 'n.json'), { message: /^n\.json:2:\d+: unknown op "SCMP_CMP_LIKE"/ });
});

t.test('the base filter stays under an imported profile', { skip: !have && `no ${file}` }, async (t) => {
  const policy = h.parseText(fs.readFileSync(file, 'utf8'), 'docker-default.json');
  const plan = seccompForPlan(policy, 'x86_64', ['CAP_SYS_ADMIN']);
  t.match(plan.origin, /^base filter \+ docker-default\.json:1:1$/);
  const bytes = Buffer.from(plan.bpf, 'base64');
  const run = (nr, args) => h.runFilter(bytes, { nr, arch: 0xc000003e, args }).ret;
  t.equal(run(16, [0n, 0x5412n]), EPERM, 'TIOCSTI blocked although Docker allows ioctl');
  t.equal(run(56, [CLONE_NEWUSER]), EPERM, 'namespaces blocked although CAP_SYS_ADMIN unlocks them in Docker');
  t.equal(run(435, []), ENOSYS, 'clone3 answers ENOSYS');
  t.equal(run(165, []), ALLOW, 'mount allowed with CAP_SYS_ADMIN, as Docker says');
});
