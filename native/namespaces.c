/* The namespaces: the new ones made at once with clone3 (into the leaf cgroup when there is one), the one-entry
 * id maps written by the monitor, the loopback of a new network namespace, and the nested user namespace that locks
 * the mounts when CAP_SYS_ADMIN is kept. */
#include "namespaces.h"
#include "util.h"

#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

void bring_up_loopback(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die_errno(125, "lo: get flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die_errno(125, "lo: bring up");
  close(s);
}

/* With CAP_SYS_ADMIN kept, the program could unmount the read-only covers over sandbox's own files, or remount
 * any read-only bind read-write, since the mounts belong to its own user namespace. A user and mount namespace
 * nested under the one that built the root make the kernel lock them all: no unmounting one mount of the tree,
 * no clearing read-only, no bind that would show what a mount covers. The ids map to themselves. */
void lock_mounts(const struct plan *plan) {
  if (!(plan->caps & (1ull << CAP_SYS_ADMIN))) return;
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (access("/proc/self/uid_map", F_OK) < 0) die(125, "CAP_SYS_ADMIN kept: locking the sandbox's mounts needs /proc inside (add --proc /proc)");
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) die_errno(125, "CAP_SYS_ADMIN kept: lock the sandbox's mounts (nested user namespace)");
  char line[64];
  write_file("/proc/self/setgroups", "deny");
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  write_file("/proc/self/uid_map", line);
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  write_file("/proc/self/gid_map", line);
}


long try_clone3(uint64_t flags, int cgroup_fd) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
  } args;
  memset(&args, 0, sizeof args);
  args.flags = flags | (cgroup_fd >= 0 ? 0x200000000ULL /* CLONE_INTO_CGROUP */ : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
  return syscall(SYS_clone3, &args, sizeof args);
}

/* The one-entry maps, by the monitor: the caller's own uid and gid, shown inside as uid and gid. */
void write_id_maps(pid_t pid, uid_t uid, gid_t gid) {
  char path[64], line[64];
  snprintf(path, sizeof path, "/proc/%ld/setgroups", (long)pid);
  write_file(path, "deny");
  snprintf(path, sizeof path, "/proc/%ld/uid_map", (long)pid);
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)getuid());
  write_file(path, line);
  snprintf(path, sizeof path, "/proc/%ld/gid_map", (long)pid);
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)getgid());
  write_file(path, line);
}
