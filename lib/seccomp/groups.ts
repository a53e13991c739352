// Named syscall groups (@mount, @privileged, @system-service, ...) with the meanings systemd's
// SystemCallFilter= users know. The lists are ours, written from what each call does; members
// may name calls that exist on only one architecture, and are skipped where they are missing.
import { isKnownSyscall } from './arch';

export interface SyscallGroup {
  name: string;
  summary: string;
  /** Syscall names and other groups ("@basic-io"). */
  members: readonly string[];
}

const w = (s: string): string[] => s.trim().split(/\s+/);

const GROUP_LIST: SyscallGroup[] = [
  { name: '@aio', summary: 'asynchronous I/O: the aio and io_uring interfaces',
    members: w('io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_uring_setup io_uring_enter io_uring_register') },
  { name: '@basic-io', summary: 'reading, writing and closing descriptors that are already open',
    members: w('read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 lseek close close_range dup dup2 dup3') },
  { name: '@chown', summary: 'changing the owner of files',
    members: w('chown fchown lchown fchownat') },
  { name: '@clock', summary: 'setting the system clock',
    members: w('adjtimex clock_adjtime settimeofday clock_settime') },
  { name: '@cpu-emulation', summary: 'emulating other CPU modes (x86 segment tables)',
    members: w('modify_ldt') },
  { name: '@debug', summary: 'looking into or controlling other processes, performance counters',
    members: w('ptrace process_vm_readv process_vm_writev perf_event_open lookup_dcookie pidfd_getfd') },
  { name: '@default', summary: 'what almost every program needs to start and run (always safe to allow)',
    members: w(`arch_prctl brk clock_getres clock_gettime clock_nanosleep exit exit_group futex futex_waitv futex_wake futex_wait
      futex_requeue get_robust_list set_robust_list get_thread_area set_thread_area set_tid_address getegid geteuid getgid getgroups
      getpid getppid getrandom getresgid getresuid getrlimit prlimit64 gettid gettimeofday getuid membarrier mmap mprotect munmap
      nanosleep pause restart_syscall rseq rt_sigreturn sched_getaffinity sched_yield time lsm_get_self_attr lsm_list_modules
      map_shadow_stack mseal uretprobe`) },
  { name: '@file-system', summary: 'opening, inspecting and changing files and directories',
    members: w(`access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat fchmodat2 creat open openat openat2 close
      fallocate fcntl ftruncate truncate fstat stat lstat newfstatat statx fstatfs statfs getdents getdents64 link linkat symlink
      symlinkat unlink unlinkat mkdir mkdirat mknod mknodat rename renameat renameat2 rmdir readlink readlinkat utime utimes
      utimensat futimesat getxattr lgetxattr fgetxattr getxattrat setxattr lsetxattr fsetxattr setxattrat listxattr llistxattr
      flistxattr listxattrat removexattr lremovexattr fremovexattr removexattrat file_getattr file_setattr inotify_init
      inotify_init1 inotify_add_watch inotify_rm_watch mmap munmap`) },
  { name: '@io-event', summary: 'waiting for events on descriptors',
    members: w('select pselect6 poll ppoll epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2 epoll_ctl_old epoll_wait_old eventfd eventfd2') },
  { name: '@ipc', summary: 'pipes, SysV and POSIX message queues, shared memory, cross-process memory',
    members: w(`pipe pipe2 memfd_create msgget msgsnd msgrcv msgctl semget semop semtimedop semctl shmget shmat shmdt shmctl
      mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr process_vm_readv process_vm_writev process_madvise`) },
  { name: '@keyring', summary: 'the kernel keyring',
    members: w('add_key request_key keyctl') },
  { name: '@memlock', summary: 'pinning memory in RAM',
    members: w('mlock mlock2 munlock mlockall munlockall') },
  { name: '@module', summary: 'loading and unloading kernel modules',
    members: w('init_module finit_module delete_module') },
  { name: '@mount', summary: 'mounting, unmounting, changing the root',
    members: w('mount umount2 pivot_root chroot open_tree open_tree_attr move_mount fsopen fsconfig fsmount fspick mount_setattr statmount listmount') },
  { name: '@network-io', summary: 'sockets: creating, connecting, sending and receiving',
    members: w(`socket socketpair bind listen accept accept4 connect getsockname getpeername getsockopt setsockopt shutdown
      sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg`) },
  { name: '@obsolete', summary: 'calls the kernel no longer implements or that only old programs used',
    members: w(`_sysctl uselib ustat sysfs create_module get_kernel_syms query_module nfsservctl getpmsg putpmsg afs_syscall
      tuxcall security vserver lookup_dcookie`) },
  { name: '@pkey', summary: 'memory protection keys',
    members: w('pkey_alloc pkey_free pkey_mprotect') },
  { name: '@privileged', summary: 'calls that need privileges a sandboxed program should not have',
    members: ['@chown', '@clock', '@module', '@raw-io', '@reboot', '@swap', ...w(`acct bpf capset chroot pivot_root fanotify_init
      open_by_handle_at quotactl quotactl_fd sethostname setdomainname setuid setgid setreuid setregid setresuid setresgid
      setgroups setfsuid setfsgid vhangup _sysctl nfsservctl`)] },
  { name: '@process', summary: 'creating, running, signalling and waiting for processes and threads',
    members: w(`clone clone3 fork vfork execve execveat exit exit_group wait4 waitid kill tkill tgkill rt_sigqueueinfo
      rt_tgsigqueueinfo pidfd_open pidfd_send_signal prctl capget getrusage times gettid setns unshare`) },
  { name: '@raw-io', summary: 'direct access to I/O ports and PCI configuration',
    members: w('ioperm iopl') },
  { name: '@reboot', summary: 'rebooting and loading a new kernel',
    members: w('reboot kexec_load kexec_file_load') },
  { name: '@resources', summary: 'changing scheduling, priorities, memory placement and limits',
    members: w(`setpriority sched_setparam sched_setscheduler sched_setaffinity sched_setattr ioprio_set setrlimit mbind
      set_mempolicy set_mempolicy_home_node migrate_pages move_pages`) },
  { name: '@sandbox', summary: 'installing filters and Landlock rules on oneself',
    members: w('seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self') },
  { name: '@setuid', summary: 'changing user and group identities',
    members: w('setuid setgid setreuid setregid setresuid setresgid setgroups') },
  { name: '@signal', summary: 'handling signals',
    members: w('rt_sigaction rt_sigprocmask rt_sigpending rt_sigsuspend rt_sigtimedwait sigaltstack signalfd signalfd4') },
  { name: '@swap', summary: 'turning swap on and off',
    members: w('swapon swapoff') },
  { name: '@sync', summary: 'flushing file data to storage',
    members: w('sync syncfs fsync fdatasync msync sync_file_range') },
  { name: '@timer', summary: 'timers and alarms',
    members: w(`alarm getitimer setitimer timer_create timer_delete timer_gettime timer_settime timer_getoverrun
      timerfd_create timerfd_gettime timerfd_settime times`) },
  { name: '@system-service', summary: 'what ordinary services and command-line programs need (no privileged calls)',
    members: ['@aio', '@basic-io', '@chown', '@default', '@file-system', '@io-event', '@ipc', '@keyring', '@memlock',
      '@network-io', '@process', '@resources', '@setuid', '@signal', '@sync', '@timer', ...w(`brk capget capset
      copy_file_range fadvise64 flock get_mempolicy getcpu getpgid getpgrp getpriority getsid ioctl ioprio_get kcmp madvise
      mincore mremap name_to_handle_at personality readahead remap_file_pages sched_get_priority_max
      sched_get_priority_min sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sendfile setfsgid
      setfsuid setpgid setsid splice sysinfo tee umask uname vmsplice cachestat fanotify_mark pidfd_getfd memfd_secret
      pkey_alloc pkey_free pkey_mprotect`)] },
];

export const GROUPS: ReadonlyMap<string, SyscallGroup> = new Map(GROUP_LIST.map((g) => [g.name, g]));

/** Every syscall name a group stands for, nested groups expanded, in first-seen order. */
export function expandGroup(name: string, seen: Set<string> = new Set()): string[] {
  const g = GROUPS.get(name);
  if (!g) throw new Error(`no group ${name}`);
  if (seen.has(name)) return [];
  seen.add(name);
  const out: string[] = [];
  for (const m of g.members) {
    if (m.startsWith('@')) out.push(...expandGroup(m, seen));
    else out.push(m);
  }
  return [...new Set(out)];
}

/** Members that are not syscalls on any architecture we know (a test keeps this empty). */
export function unknownGroupMembers(): string[] {
  const bad: string[] = [];
  for (const g of GROUP_LIST) for (const m of g.members) {
    if (m.startsWith('@') ? !GROUPS.has(m) : !isKnownSyscall(m)) bad.push(`${g.name}: ${m}`);
  }
  return bad;
}
