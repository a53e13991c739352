// The base filter every sandbox gets, with a profile or without: terminal injection, nested
// namespaces, keyrings, modules, kexec, reboot, swap, bpf, perf, userfaultfd, odd personalities,
// accounting, quotas, obsolete and raw-I/O calls, and socket families nobody needs.
// docs/seccomp-base-filter.md explains each item against flatpak's and Docker's defaults.
import { SandboxError, ERRNO } from '../errors';
import { expandGroup } from './groups';
import { ALL_ONES_64, ArgCondition, CmpOp, SeccompAction, SeccompPolicy, SeccompRule } from './policy';

const { EPERM, ENOSYS, EAFNOSUPPORT } = ERRNO;
const LOW32 = 0xffffffffn;

// <asm-generic/ioctls.h>; the same on x86_64 and aarch64.
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
export const TIOCSETD = 0x5423;
export const TIOCEXCL = 0x540c;

// <linux/resource.h>, <linux/ioprio.h>: the `which` a call may name when it acts on the caller alone.
export const PRIO_PROCESS = 0;
export const IOPRIO_WHO_PROCESS = 1;

// <linux/sched.h>
export const CLONE_NEW = {
  NEWTIME: 0x80, NEWNS: 0x20000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
} as const;
/** clone()'s low byte is the exit signal, so CLONE_NEWTIME (0x80) only means a namespace to unshare/clone3. */
export const CLONE_NAMESPACE_MASK = 0x7e020000;
export const UNSHARE_NAMESPACE_MASK = CLONE_NAMESPACE_MASK | CLONE_NEW.NEWTIME;

// <linux/personality.h>: the values programs use in practice.
export const HARMLESS_PERSONALITIES = [0x0 /* PER_LINUX */, 0x8 /* PER_LINUX32 */, 0x20000 /* UNAME26 */, 0x20008, 0xffffffff /* query */];

// <linux/socket.h> address families.
export const AF = {
  UNSPEC: 0, UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, CAN: 29, BLUETOOTH: 31, ALG: 38, VSOCK: 40,
} as const;
const ORDINARY_FAMILIES = [AF.UNSPEC, AF.UNIX, AF.INET, AF.INET6, AF.NETLINK, AF.PACKET];

const errno = (e: number): SeccompAction => ({ kind: 'errno', errno: e });
// ioctl's command and socket's domain are 32-bit in the kernel; the register's upper half is
// ignored there, so it must be ignored here too or a caller could set it to slip past.
const low32 = (arg: number, op: CmpOp, value: number): ArgCondition => ({ arg, op, value: BigInt(value), mask: LOW32 });
const full = (arg: number, op: CmpOp, value: number, mask = ALL_ONES_64): ArgCondition => ({ arg, op, value: BigInt(value), mask });

export interface BaseItem {
  item: string;
  summary: string;
  /**
   * Only for sandboxes in the host's pid namespace (--share-pid): with a pid namespace of their own these calls
   * reach nothing but the sandbox's processes, and programs use them on their own threads (thread priorities).
   */
  sharedPidOnly?: boolean;
  rules: { names: string[]; action: SeccompAction; args: ArgCondition[]; text: string }[];
}

const simple = (item: string, summary: string, names: string[], e = EPERM): BaseItem => ({
  item, summary, rules: [{ names, action: errno(e), args: [], text: `deny ${names.join(', ')}` }],
});

export const BASE_ITEMS: readonly BaseItem[] = [
  { item: 'tiocsti', summary: 'TIOCSTI: pushing characters into the terminal\'s input', rules: [
    { names: ['ioctl'], action: errno(EPERM), args: [low32(1, '==', TIOCSTI)], text: 'deny ioctl TIOCSTI' }] },
  { item: 'tioclinux', summary: 'TIOCLINUX: console selection and paste on virtual consoles', rules: [
    { names: ['ioctl'], action: errno(EPERM), args: [low32(1, '==', TIOCLINUX)], text: 'deny ioctl TIOCLINUX' }] },
  { item: 'namespaces', summary: 'creating or joining namespaces inside the sandbox', rules: [
    { names: ['unshare'], action: errno(EPERM), args: [full(0, '!=', 0, BigInt(UNSHARE_NAMESPACE_MASK))], text: 'deny unshare with CLONE_NEW* flags' },
    { names: ['clone'], action: errno(EPERM), args: [full(0, '!=', 0, BigInt(CLONE_NAMESPACE_MASK))], text: 'deny clone with CLONE_NEW* flags' },
    // clone3 passes its flags in memory, out of the filter's sight; ENOSYS makes libc fall back to clone.
    { names: ['clone3'], action: errno(ENOSYS), args: [], text: 'clone3 answers ENOSYS (libc falls back to clone)' },
    { names: ['setns'], action: errno(EPERM), args: [], text: 'deny setns' }] },
  simple('keyrings', 'the kernel keyring (not namespaced: keys are shared with the host user)', expandGroup('@keyring')),
  simple('modules', 'loading and unloading kernel modules', expandGroup('@module')),
  simple('kexec', 'loading a new kernel', ['kexec_load', 'kexec_file_load']),
  simple('reboot', 'rebooting', ['reboot']),
  simple('swap', 'turning swap on and off', expandGroup('@swap')),
  simple('bpf', 'loading eBPF programs and maps', ['bpf']),
  simple('perf', 'performance counters (a large kernel attack surface, and a side channel)', ['perf_event_open']),
  simple('userfaultfd', 'userfaultfd (lets a program stall the kernel mid-copy, a common exploit aid)', ['userfaultfd']),
  // An io_uring submission (IORING_OP_SOCKET, _OPENAT, _CONNECT...) never passes the syscall filter, so any rule
  // on those calls could be bypassed through a ring. EPERM, as when the kernel's io_uring_disabled sysctl is 2.
  simple('io-uring', 'io_uring (its operations bypass the syscall filter)', ['io_uring_setup', 'io_uring_enter', 'io_uring_register']),
  { item: 'personality', summary: 'execution domains other than Linux, Linux32 and UNAME26', rules: [
    { names: ['personality'], action: errno(EPERM), args: HARMLESS_PERSONALITIES.map((v) => low32(0, '!=', v)),
      text: 'deny personality other than PER_LINUX, PER_LINUX32, UNAME26, both, or the 0xffffffff query' }] },
  simple('acct', 'process accounting', ['acct']),
  simple('quotactl', 'disk quotas', ['quotactl', 'quotactl_fd']),
  simple('obsolete', 'obsolete calls', expandGroup('@obsolete'), ENOSYS),
  simple('raw-io', 'I/O ports and PCI configuration space', expandGroup('@raw-io')),
  { item: 'af-vsock', summary: 'AF_VSOCK sockets (talking to the hypervisor or to virtual machines)', rules: [
    { names: ['socket', 'socketpair'], action: errno(EAFNOSUPPORT), args: [low32(0, '==', AF.VSOCK)], text: 'deny socket(AF_VSOCK)' }] },
  { item: 'af-alg', summary: 'AF_ALG sockets (the kernel crypto API)', rules: [
    { names: ['socket', 'socketpair'], action: errno(EAFNOSUPPORT), args: [low32(0, '==', AF.ALG)], text: 'deny socket(AF_ALG)' }] },
  { item: 'af-bluetooth', summary: 'AF_BLUETOOTH sockets', rules: [
    { names: ['socket', 'socketpair'], action: errno(EAFNOSUPPORT), args: [low32(0, '==', AF.BLUETOOTH)], text: 'deny socket(AF_BLUETOOTH)' }] },
  { item: 'af-can', summary: 'AF_CAN sockets (CAN bus)', rules: [
    { names: ['socket', 'socketpair'], action: errno(EAFNOSUPPORT), args: [low32(0, '==', AF.CAN)], text: 'deny socket(AF_CAN)' }] },
  { item: 'af-other', summary: 'every other socket family than unix, inet, inet6, netlink and packet (and the ones above)', rules: [
    { names: ['socket', 'socketpair'], action: errno(EAFNOSUPPORT),
      args: [...ORDINARY_FAMILIES, AF.CAN, AF.BLUETOOTH, AF.ALG, AF.VSOCK].map((f) => low32(0, '!=', f)),
      text: 'deny socket with a rare address family' }] },
  // TIOCSETD's argument is a pointer, so the discipline asked for is out of the filter's sight: refused whole. A
  // line discipline stays on the terminal after the sandbox ends (N_NULL left the user's shell deaf), and asking
  // for one the kernel lacks can load its module.
  { item: 'tiocsetd', summary: 'TIOCSETD: changing the terminal\'s line discipline (it outlives the sandbox; may autoload modules)', rules: [
    { names: ['ioctl'], action: errno(EPERM), args: [low32(1, '==', TIOCSETD)], text: 'deny ioctl TIOCSETD' }] },
  // Exclusive mode stays on the terminal after the sandbox ends, and every later open of it fails with EBUSY (sudo,
  // ssh and su can't ask for a password there; only CAP_SYS_ADMIN on the host opens it). Programs set it on serial
  // lines they own; the filter can't tell the user's terminal from one, so a profile for such a program loosens the
  // item (the monitor clears the mode on the terminal it shares at the end all the same). TIOCNXCL stays allowed.
  { item: 'tiocexcl', summary: 'TIOCEXCL: exclusive mode on the terminal (outlives the sandbox: opening the terminal fails with EBUSY)', rules: [
    { names: ['ioctl'], action: errno(EPERM), args: [low32(1, '==', TIOCEXCL)], text: 'deny ioctl TIOCEXCL' }] },
  // The sandbox's init and monitor run as the same user as the program: a lowered RLIMIT_NOFILE kept the init from
  // opening /proc to end the sandbox's processes, RLIMIT_CPU 0 kills a process. glibc's setrlimit and prlimit on
  // oneself pass pid 0, and reading another's limits (new limit NULL) stays allowed. pid_t is 32 bits in the kernel;
  // the pointer is compared whole.
  { item: 'prlimit-others', summary: 'setting the resource limits of another process (the sandbox\'s init, or a host process)', rules: [
    { names: ['prlimit64'], action: errno(EPERM), args: [low32(0, '!=', 0), full(2, '!=', 0)],
      text: 'deny prlimit64 with a pid other than 0 and a new limit' }] },
  // With the host's pid namespace these reach every process of the user by pid, by process group or by uid:
  // only the caller itself (who 0, PRIO_PROCESS / IOPRIO_WHO_PROCESS) is left. nice(1) and ionice(1) running a
  // command pass 0; renice -p and thread priorities by thread id are refused.
  { item: 'priority-others', summary: 'setpriority and ioprio_set on any process but the caller (host pid namespace only)', sharedPidOnly: true, rules: [
    { names: ['setpriority'], action: errno(EPERM), args: [low32(0, '!=', PRIO_PROCESS)], text: 'deny setpriority on a process group or a user' },
    { names: ['setpriority'], action: errno(EPERM), args: [low32(1, '!=', 0)], text: 'deny setpriority with a pid other than 0' },
    { names: ['ioprio_set'], action: errno(EPERM), args: [low32(0, '!=', IOPRIO_WHO_PROCESS)], text: 'deny ioprio_set on a process group or a user' },
    { names: ['ioprio_set'], action: errno(EPERM), args: [low32(1, '!=', 0)], text: 'deny ioprio_set with a pid other than 0' }] },
  { item: 'scheduler-others', summary: 'scheduling policy and parameters of any process but the caller (host pid namespace only)', sharedPidOnly: true, rules: [
    { names: ['sched_setscheduler', 'sched_setparam', 'sched_setattr'], action: errno(EPERM), args: [low32(0, '!=', 0)],
      text: 'deny sched_setscheduler, sched_setparam, sched_setattr with a pid other than 0' }] },
];

export const BASE_ITEM_NAMES: readonly string[] = BASE_ITEMS.map((b) => b.item);

export interface BaseOptions {
  /** The sandbox keeps the host's pid namespace: the sharedPidOnly items apply too. */
  sharedPid?: boolean;
}

/**
 * The base filter as a policy: everything allowed except the items above, less the items a
 * profile loosened (each loosening must name a real item and give a reason).
 */
export function baseFilterPolicy(loosen: SeccompPolicy['loosen'] = [], opts: BaseOptions = {}): SeccompPolicy {
  for (const l of loosen) {
    if (!BASE_ITEM_NAMES.includes(l.item)) {
      throw new SandboxError(`${l.origin}: no base filter item "${l.item}" (items: ${BASE_ITEM_NAMES.join(', ')})`);
    }
  }
  const off = new Set(loosen.map((l) => l.item));
  const rules: SeccompRule[] = [];
  for (const b of BASE_ITEMS) {
    if (off.has(b.item) || (b.sharedPidOnly && !opts.sharedPid)) continue;
    for (const r of b.rules) {
      rules.push({
        syscalls: r.names.map((name) => ({ name, optional: true, origin: `base filter: ${b.item}` })),
        action: r.action, args: r.args, origin: `base filter: ${b.item}`, text: r.text, baseItem: b.item,
      });
    }
  }
  return { defaultAction: { kind: 'allow' }, defaultOrigin: 'base filter (allows what it does not name)', rules, loosen: [...loosen], format: 'sandbox', origin: 'base filter' };
}
