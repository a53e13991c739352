'use strict';
const t = require('tap');
const h = require('./seccomp-helpers');
const { baseFilterPolicy, BASE_ITEM_NAMES } = require('../../dist/lib/seccomp/base');
const { seccompForPlan, sandboxPolicy } = require('../../dist/lib/seccomp/index');

const EPERM = 0x50001, ENOSYS = 0x50026, EAFNOSUPPORT = 0x50000 | 97, ALLOW = 0x7fff0000;

for (const arch of h.ARCHES) {
  t.test(`base filter decisions on ${arch}`, async (t) => {
    const c = h.compileFilter(baseFilterPolicy(), arch);
    const r = (name, args = []) => h.run(c, arch, h.syscallNumber(arch, name), args).ret;
    t.equal(r('ioctl', [0n, 0x5412n]), EPERM, 'TIOCSTI');
    t.equal(r('ioctl', [0n, 0xdead_0000_5412n]), EPERM, 'TIOCSTI with garbage in the high half (the kernel ignores it)');
    t.equal(r('ioctl', [0n, 0x541cn]), EPERM, 'TIOCLINUX');
    t.equal(r('ioctl', [0n, 0x5413n]), ALLOW, 'TIOCGWINSZ');
    t.equal(r('ioctl', [0x5412n, 0x5401n]), ALLOW, 'TCGETS, with 0x5412 as the fd');
    t.equal(r('clone', [0x11n]), ALLOW, 'fork-like clone');
    t.equal(r('clone', [0x3d0f00n]), ALLOW, 'thread clone');
    t.equal(r('clone', [0x80n | 0x11n]), ALLOW, 'clone with 0x80 in the exit-signal byte (not CLONE_NEWTIME there)');
    for (const f of [0x20000n, 0x02000000n, 0x04000000n, 0x08000000n, 0x10000000n, 0x20000000n, 0x40000000n]) {
      t.equal(r('clone', [f | 0x11n]), EPERM, `clone 0x${f.toString(16)}`);
      t.equal(r('unshare', [f]), EPERM, `unshare 0x${f.toString(16)}`);
    }
    t.equal(r('unshare', [0x80n]), EPERM, 'unshare CLONE_NEWTIME');
    t.equal(r('unshare', [0x400n /* CLONE_FILES */]), ALLOW, 'unshare CLONE_FILES');
    t.equal(r('unshare', [0x200n | 0x40000n /* CLONE_FS|CLONE_SYSVSEM */]), ALLOW, 'unshare CLONE_FS|CLONE_SYSVSEM');
    t.equal(r('clone3'), ENOSYS, 'clone3 answers ENOSYS');
    t.equal(r('setns'), EPERM, 'setns');
    for (const n of ['add_key', 'keyctl', 'request_key', 'init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load',
      'reboot', 'swapon', 'swapoff', 'bpf', 'perf_event_open', 'userfaultfd', 'acct', 'quotactl', 'quotactl_fd']) t.equal(r(n), EPERM, n);
    if (arch === 'x86_64') {
      t.equal(r('iopl'), EPERM, 'iopl');
      t.equal(r('ioperm'), EPERM, 'ioperm');
      t.equal(r('uselib'), ENOSYS, 'obsolete uselib answers ENOSYS');
      t.equal(r('_sysctl'), ENOSYS, 'obsolete _sysctl answers ENOSYS');
    }
    for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn, 0xffff_ffff_0000_0008n]) t.equal(r('personality', [v]), ALLOW, `personality(0x${v.toString(16)})`);
    for (const v of [0x400000n, 0x40000n, 1n, 0x0800000n]) t.equal(r('personality', [v]), EPERM, `personality(0x${v.toString(16)})`);
    for (const af of [1n, 2n, 10n, 16n, 17n]) t.equal(r('socket', [af, 1n, 0n]), ALLOW, `socket(${af})`);
    for (const af of [40n, 38n, 31n, 29n, 3n, 15n, 44n, 45n, 46n, 0x1_0000_0028n]) t.equal(r('socket', [af]), EAFNOSUPPORT, `socket(0x${af.toString(16)})`);
    t.equal(r('socketpair', [40n]), EAFNOSUPPORT, 'socketpair(AF_VSOCK)');
    t.equal(r('socketpair', [1n]), ALLOW, 'socketpair(AF_UNIX)');
    for (const n of ['read', 'write', 'getppid', 'mmap', 'execve', 'mount', 'ptrace']) t.equal(r(n), ALLOW, `${n} allowed by the base filter alone`);
  });
}

t.test('a profile cannot loosen the base filter except by naming an item with a reason', async (t) => {
  const tight = h.parseText(`{ default: 'allow', rules: [{ allow: ['bpf', 'userfaultfd', 'clone3', 'ioctl'] }] }`);
  const c = h.compileFilter(sandboxPolicy(tight), 'x86_64');
  t.equal(h.run(c, 'x86_64', 321).ret, EPERM, 'allow bpf does not beat the base filter');
  t.equal(h.run(c, 'x86_64', 323).ret, EPERM, 'nor userfaultfd');
  t.equal(h.run(c, 'x86_64', 435).ret, ENOSYS, 'nor clone3');
  t.equal(h.run(c, 'x86_64', 16, [0n, 0x5412n]).ret, EPERM, 'nor TIOCSTI');
  const loose = h.parseText(`{ default: 'allow', loosenBase: [
    { item: 'bpf', reason: 'runs bpftrace' }, { item: 'af-vsock', reason: 'talks to the VM host' }, { item: 'tiocsti', reason: 'test of a terminal emulator' } ] }`);
  const l = h.compileFilter(sandboxPolicy(loose), 'x86_64');
  t.equal(h.run(l, 'x86_64', 321).ret, ALLOW, 'bpf loosened');
  t.equal(h.run(l, 'x86_64', 41, [40n]).ret, ALLOW, 'AF_VSOCK loosened');
  t.equal(h.run(l, 'x86_64', 16, [0n, 0x5412n]).ret, ALLOW, 'TIOCSTI loosened');
  t.equal(h.run(l, 'x86_64', 16, [0n, 0x541cn]).ret, EPERM, 'TIOCLINUX still blocked');
  t.equal(h.run(l, 'x86_64', 41, [38n]).ret, EAFNOSUPPORT, 'AF_ALG still blocked');
  const bad = h.parseText(`{\n  default: 'allow',\n  loosenBase: [{ item: 'everything', reason: 'because' }],\n}`, 'l.json5');
  t.throws(() => sandboxPolicy(bad), { message: /^l\.json5:3:16: no base filter item "everything" \(items: tiocsti, tioclinux, namespaces/ });
  t.ok(BASE_ITEM_NAMES.length >= 18);
});

t.test('seccompForPlan', async (t) => {
  const none = seccompForPlan(null, 'x86_64', []);
  t.equal(none.origin, 'base filter');
  const bytes = Buffer.from(none.bpf, 'base64');
  t.equal(bytes.length % 8, 0);
  t.equal(h.runFilter(bytes, { nr: 321, arch: 0xc000003e }).ret, EPERM, 'bpf blocked with no profile');
  const p = h.parseText(`{\n  default: 'errno',\n  rules: [{ allow: '@system-service' }],\n  loosenBase: [{ item: 'perf', reason: 'profiling' }],\n}`, 'app.json5');
  const plan = seccompForPlan(p, 'aarch64', []);
  t.equal(plan.origin, 'base filter (loosened: perf) + app.json5:1:1');
  const b = Buffer.from(plan.bpf, 'base64');
  t.equal(h.runFilter(b, { nr: 63, arch: 0xc00000b7 }).ret, ALLOW, 'read');
  t.equal(h.runFilter(b, { nr: 40, arch: 0xc00000b7 }).ret, EPERM, 'mount: default errno');
  t.equal(h.runFilter(b, { nr: 241, arch: 0xc00000b7 }).ret, EPERM, 'perf_event_open loosened in the base, but the profile does not allow it');
  t.same(JSON.parse(JSON.stringify(plan)), plan, 'plain serialisable object');
});

// The shared terminal: exclusive mode outlives the sandbox (every later open of the terminal fails with EBUSY).
// TIOCSCTTY, TIOCNOTTY and TIOCSPGRP stay allowed: terminal programs and shells inside use them on their own ptys
// and for job control, and the kernel keeps them to the caller's session (the monitor gives the foreground back).
for (const arch of h.ARCHES) {
  t.test(`base filter: TIOCEXCL on ${arch}`, async (t) => {
    const c = h.compileFilter(baseFilterPolicy(), arch);
    const r = (args) => h.run(c, arch, h.syscallNumber(arch, 'ioctl'), args).ret;
    t.equal(r([0n, 0x540cn]), EPERM, 'TIOCEXCL');
    t.equal(r([1n, 0xdead_beef_0000_540cn]), EPERM, 'TIOCEXCL with garbage in the high half (the kernel ignores it)');
    t.equal(r([2n, 0xffff_ffff_0000_540cn]), EPERM, 'TIOCEXCL with the high half all ones');
    t.equal(r([0n, 0x1_0000_540cn]), EPERM, 'TIOCEXCL with bit 32 set');
    t.equal(r([0n, 0x540dn]), ALLOW, 'TIOCNXCL (clearing exclusive mode)');
    t.equal(r([0n, 0x8004_5440n]), ALLOW, 'TIOCGEXCL (reading it)');
    t.equal(r([0x540cn, 0x5401n]), ALLOW, 'TCGETS, with 0x540c as the fd');
    t.equal(r([0n, 0x540c_0000n]), ALLOW, '0x540c in the upper half of the low word is another command');
    for (const [cmd, name] of [[0x540en, 'TIOCSCTTY'], [0x5422n, 'TIOCNOTTY'], [0x5410n, 'TIOCSPGRP'], [0x540fn, 'TIOCGPGRP'], [0x5402n, 'TCSETS']]) {
      t.equal(r([0n, cmd]), ALLOW, `${name} allowed`);
    }
    t.equal(r([0n, 0xdead_0000_5412n]), EPERM, 'TIOCSTI with garbage in the high half, still');
    t.equal(r([0n, 0xdead_0000_5423n]), EPERM, 'TIOCSETD with garbage in the high half, still');
  });
}

t.test('the tiocexcl item can be loosened by name, alone', async (t) => {
  t.ok(BASE_ITEM_NAMES.includes('tiocexcl'));
  const loose = h.parseText(`{ default: 'allow', loosenBase: [{ item: 'tiocexcl', reason: 'a serial console tool locks its line' }] }`);
  const c = h.compileFilter(sandboxPolicy(loose), 'x86_64');
  t.equal(h.run(c, 'x86_64', 16, [0n, 0x540cn]).ret, ALLOW, 'TIOCEXCL loosened');
  t.equal(h.run(c, 'x86_64', 16, [0n, 0x5412n]).ret, EPERM, 'TIOCSTI still refused');
  t.equal(h.run(c, 'x86_64', 16, [0n, 0x5423n]).ret, EPERM, 'TIOCSETD still refused');
  const tight = h.parseText(`{ default: 'allow', rules: [{ allow: ['ioctl'] }] }`);
  t.equal(h.run(h.compileFilter(sandboxPolicy(tight), 'aarch64'), 'aarch64', 29, [0n, 0x540cn]).ret, EPERM, 'allowing ioctl does not loosen it');
});

// Issue 12, items 12, 15 and 11: the terminal's line discipline, limits of other processes, and (with the host's
// pid namespace) priorities and scheduling of other processes. Compiled and run through the BPF interpreter.
for (const arch of h.ARCHES) {
  t.test(`base filter: TIOCSETD and other processes' limits on ${arch}`, async (t) => {
    const c = h.compileFilter(baseFilterPolicy(), arch);
    const r = (name, args = []) => h.run(c, arch, h.syscallNumber(arch, name), args).ret;
    t.equal(r('ioctl', [0n, 0x5423n, 0x7ffd_0000_1000n]), EPERM, 'TIOCSETD');
    t.equal(r('ioctl', [0n, 0xffff_ffff_0000_5423n]), EPERM, 'TIOCSETD with garbage in the high half (the kernel ignores it)');
    t.equal(r('ioctl', [0n, 0x1_0000_5423n]), EPERM, 'TIOCSETD with bit 32 set');
    t.equal(r('ioctl', [0n, 0x5424n]), ALLOW, 'TIOCGETD (reading the discipline)');
    t.equal(r('ioctl', [0x5423n, 0x5401n]), ALLOW, 'TCGETS, with 0x5423 as the fd');
    const P = 0x7ffd_0000_2000n;
    t.equal(r('prlimit64', [0n, 7n, P, 0n]), ALLOW, 'prlimit64(0, NOFILE, new): glibc setrlimit');
    t.equal(r('prlimit64', [0n, 7n, 0n, P]), ALLOW, 'prlimit64(0, NOFILE, NULL, old): getrlimit');
    t.equal(r('prlimit64', [1234n, 7n, 0n, P]), ALLOW, 'reading another process\'s limits');
    t.equal(r('prlimit64', [1234n, 7n, P, 0n]), EPERM, 'setting another process\'s limits');
    t.equal(r('prlimit64', [1n, 0n, P, P]), EPERM, 'setting the init\'s RLIMIT_CPU (pid 1)');
    t.equal(r('prlimit64', [0xdead_0000_0000_0000n, 7n, P, 0n]), ALLOW, 'pid 0 with garbage in the high half is the caller');
    t.equal(r('prlimit64', [0xdead_0000_0000_04d2n, 7n, P, 0n]), EPERM, 'pid 1234 with garbage in the high half');
    t.equal(r('prlimit64', [1234n, 7n, 0x1_0000_0000n, 0n]), EPERM, 'a new-limit pointer with only high bits set is not NULL');
    t.equal(r('prlimit64', [0xffff_ffffn, 7n, P, 0n]), EPERM, 'pid -1');
    for (const n of ['setrlimit', 'getrlimit'].filter((x) => h.syscallNumber(arch, x) !== undefined)) t.equal(r(n, [7n, P]), ALLOW, `${n} (the caller's own)`);
    // a sandbox with a pid namespace of its own: these reach only its own processes
    t.equal(r('setpriority', [0n, 1234n, 19n]), ALLOW, 'setpriority on another pid, private pid namespace');
    t.equal(r('sched_setscheduler', [1234n, 5n, P]), ALLOW, 'sched_setscheduler on another pid, private pid namespace');
    t.equal(r('ioprio_set', [1n, 1234n, 0x6000n]), ALLOW, 'ioprio_set on another pid, private pid namespace');
  });

  t.test(`base filter with the host pid namespace on ${arch}`, async (t) => {
    const c = h.compileFilter(baseFilterPolicy([], { sharedPid: true }), arch);
    const r = (name, args = []) => h.run(c, arch, h.syscallNumber(arch, name), args).ret;
    const P = 0x7ffd_0000_2000n;
    t.equal(r('setpriority', [0n, 0n, 10n]), ALLOW, 'setpriority(PRIO_PROCESS, 0): nice');
    t.equal(r('setpriority', [0xffff_ffff_0000_0000n, 0xabcd_0000_0000_0000n, 10n]), ALLOW, 'the same with garbage in the high halves');
    t.equal(r('setpriority', [0n, 1234n, 19n]), EPERM, 'setpriority(PRIO_PROCESS, pid)');
    t.equal(r('setpriority', [0n, 0xdead_0000_0000_04d2n, 19n]), EPERM, 'setpriority(PRIO_PROCESS, pid) with garbage in the high half');
    t.equal(r('setpriority', [1n, 0n, 19n]), EPERM, 'setpriority(PRIO_PGRP, 0)');
    t.equal(r('setpriority', [2n, 0n, 19n]), EPERM, 'setpriority(PRIO_USER, 0): every process of the user');
    t.equal(r('setpriority', [0x1_0000_0002n, 0n, 19n]), EPERM, 'PRIO_USER with bit 32 set');
    t.equal(r('getpriority', [2n, 0n]), ALLOW, 'getpriority');
    t.equal(r('ioprio_set', [1n, 0n, 0x6000n]), ALLOW, 'ioprio_set(IOPRIO_WHO_PROCESS, 0): ionice');
    t.equal(r('ioprio_set', [1n, 1234n, 0x6000n]), EPERM, 'ioprio_set on another pid');
    t.equal(r('ioprio_set', [3n, 0n, 0x6000n]), EPERM, 'ioprio_set(IOPRIO_WHO_USER, 0)');
    t.equal(r('ioprio_set', [2n, 0n, 0x6000n]), EPERM, 'ioprio_set(IOPRIO_WHO_PGRP, 0)');
    t.equal(r('ioprio_get', [3n, 0n]), ALLOW, 'ioprio_get');
    for (const n of ['sched_setscheduler', 'sched_setparam', 'sched_setattr']) {
      t.equal(r(n, [0n, 3n, P]), ALLOW, `${n}(0)`);
      t.equal(r(n, [0x8000_0000_0000_0000n, 3n, P]), ALLOW, `${n}(0) with garbage in the high half`);
      t.equal(r(n, [1234n, 3n, P]), EPERM, `${n} on another pid`);
      t.equal(r(n, [0xffff_0000_0000_04d2n, 3n, P]), EPERM, `${n} on another pid with garbage in the high half`);
    }
    t.equal(r('sched_setaffinity', [1234n, 8n, P]), ALLOW, 'sched_setaffinity by thread id stays (OpenMP and MPI bind threads so)');
    t.equal(r('sched_getscheduler', [1234n]), ALLOW, 'sched_getscheduler');
    t.equal(r('prlimit64', [1234n, 0n, P, 0n]), EPERM, 'prlimit64 on another pid, as without');
    t.equal(r('ioctl', [0n, 0x5423n]), EPERM, 'TIOCSETD, as without');
  });
}

t.test('the host-pid-namespace items apply only there, and can be loosened by name', async (t) => {
  t.notOk(baseFilterPolicy().rules.some((r) => r.baseItem === 'priority-others' || r.baseItem === 'scheduler-others'), 'not in a private pid namespace');
  t.ok(baseFilterPolicy([], { sharedPid: true }).rules.some((r) => r.baseItem === 'priority-others'), 'with the host pid namespace');
  for (const item of ['tiocsetd', 'prlimit-others', 'priority-others', 'scheduler-others']) t.ok(BASE_ITEM_NAMES.includes(item), item);
  const loose = h.parseText(`{ default: 'allow', loosenBase: [{ item: 'priority-others', reason: 'renices its worker processes' }] }`);
  const c = h.compileFilter(sandboxPolicy(loose, { sharedPid: true }), 'x86_64');
  t.equal(h.run(c, 'x86_64', 141, [0n, 1234n, 19n]).ret, ALLOW, 'setpriority on a pid, loosened');
  t.equal(h.run(c, 'x86_64', 144, [1234n, 3n, 0n]).ret, EPERM, 'sched_setscheduler on a pid, still refused');
  const plain = Buffer.from(seccompForPlan(null, 'x86_64', [], undefined, { sharedPid: true }).bpf, 'base64');
  t.equal(h.runFilter(plain, { nr: 141, arch: 0xc000003e, args: [0n, 1234n, 19n] }).ret, EPERM, 'seccompForPlan passes the option on');
});

t.test('seccomp explain: the host-pid-namespace items for a profile that keeps it, and every argument a rule tests', async (t) => {
  const { runSeccompCommand } = require('../../dist/lib/cli/seccomp-command');
  const { explainSyscall } = require('../../dist/lib/seccomp/explain');
  const out = [];
  const io = { out: (s) => out.push(s) };
  t.equal(runSeccompCommand(['explain', 'hpc-like', 'setpriority', '--arch', 'x86_64'], io, () => ({ policy: null, sharedPid: true })), 0);
  t.match(out.join('\n'), /base filter: priority-others/, 'a profile with the host pid namespace');
  out.length = 0;
  t.equal(runSeccompCommand(['explain', 'plain', 'setpriority', '--arch', 'x86_64'], io, () => ({ policy: null })), 0);
  t.match(out.join('\n'), /allow, whatever the arguments/, 'one without');
  t.match(explainSyscall(baseFilterPolicy(), 'x86_64', 'prlimit64'), /depends on arg0, arg2;/);
});
