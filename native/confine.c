/* What confines the program besides its namespaces, applied in the init after the root is built: the capabilities
 * kept, the Landlock ruleset (rights as the plan's numbers; only what the kernel's ABI can hold is decided here) and
 * the seccomp filter (the plan's BPF program, installed as it is). */
#include "confine.h"
#include "bwrap.h"
#include "util.h"

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = { 0 };
  int last = 40;
  if (fd >= 0) {
    if (read(fd, buf, sizeof buf - 1) > 0) last = atoi(buf);
    close(fd);
  }
  return last;
}

void drop_capabilities(uint64_t keep, int last) {
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die_errno(125, "drop capability %d from the bounding set", c);
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    uint32_t part = (uint32_t)(keep >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = part;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) die_errno(125, "capset");
  /* ambient keeps them across exec for a non-root uid inside */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die_errno(125, "clear ambient capabilities");
  for (int c = 0; c <= last; c++)
    if ((keep & (1ull << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      die_errno(125, "keep capability %d", c);
}

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif
#define LANDLOCK_CREATE_RULESET_VERSION 1u
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET 1u
#define LANDLOCK_SCOPE_SIGNAL 2u

/* Landlock scopes (ABI 6, Linux 6.12): no connecting to abstract unix sockets made outside the sandbox and no
 * signals to processes outside it, even when the network namespace is shared. Debian 12's headers stop before
 * ABI 6, so the ruleset attribute is spelled out: the third u64 is `scoped`. */
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
/* The rights the plan's ruleset handles on this kernel: the plan's record for the highest ABI the kernel has. */
static uint64_t landlock_handled(const struct plan *plan, long abi) {
  uint64_t rights = 0;
  unsigned best = 0;
  for (size_t i = 0; i < plan->n_landlock_fs; i++)
    if ((long)plan->landlock_fs[i].abi <= abi && plan->landlock_fs[i].abi >= best) {
      best = plan->landlock_fs[i].abi;
      rights = plan->landlock_fs[i].rights;
    }
  return rights;
}

/* Landlock: the scopes (when asked), and the profile's filesystem rules (when it has any), in one ruleset. The
 * rights are the plan's numbers; only what the kernel's ABI can hold is decided here. */
void apply_landlock(const struct plan *plan) {
  if (!plan->landlock_scopes && !plan->n_landlock_paths) return;
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (plan->n_landlock_paths && abi < 1)
    die(125, "%s: this kernel has no Landlock (errno %d): the profile's filesystem rules can't apply", plan->landlock_paths[0].origin, errno);
  unsigned scopes = abi >= 6 ? plan->landlock_scopes : 0;
  if (plan->landlock_scopes && abi < 6 && plan->verbose)
    fprintf(stderr, "sandbox: Landlock %s%ld: no scopes (Linux 6.12+); abstract unix sockets and signals outside are limited only by the namespaces\n",
            abi < 0 ? "unavailable, errno " : "ABI ", abi < 0 ? (long)errno : abi);
  uint64_t fs = plan->n_landlock_paths ? landlock_handled(plan, abi) : 0;
  if (!scopes && !fs) return;
  struct { uint64_t handled_access_fs, handled_access_net, scoped; } attr = { fs, 0, scopes };
  size_t attr_size = abi >= 6 ? sizeof attr : 2 * sizeof(uint64_t) - (abi >= 4 ? 0 : sizeof(uint64_t));
  int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
  if (fd < 0) die_errno(125, "Landlock: create ruleset");
  for (size_t i = 0; i < plan->n_landlock_paths; i++) {
    const struct landlock_path *l = &plan->landlock_paths[i];
    int pfd = open(l->path, O_PATH | O_CLOEXEC);
    if (pfd < 0) die_errno(125, "%s: Landlock rule %s", l->origin, l->path);
    struct stat st;
    uint64_t allowed = fstat(pfd, &st) == 0 && !S_ISDIR(st.st_mode) ? l->file_rights : l->dir_rights;
    struct __attribute__((packed)) { uint64_t allowed_access; int32_t parent_fd; } rule = { allowed & fs, pfd };
    if (syscall(SYS_landlock_add_rule, fd, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &rule, 0) < 0)
      die_errno(125, "%s: Landlock rule %s", l->origin, l->path);
    close(pfd);
  }
  if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) die_errno(125, "Landlock: restrict self");
  close(fd);
}

void install_seccomp(const struct plan *plan) {
  if (!plan->bpf) return;
  struct sock_fprog prog = { (unsigned short)(plan->bpf_len / 8), (struct sock_filter *)(void *)plan->bpf };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) die_errno(125, "%s: install seccomp filter", plan->seccomp_origin);
  bwrap_install_filters(plan); /* bwrap mode: --seccomp, --add-seccomp-fd, after the base filter */
}
