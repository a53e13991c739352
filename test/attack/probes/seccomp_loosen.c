/* Take the filter off, or stack a permissive one: the kernel runs every filter, the strictest wins. */
#include "probe.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  report("seccomp_mode_disabled", prctl(PR_SET_SECCOMP, SECCOMP_MODE_DISABLED, 0, 0, 0));
  struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, allow};
  report("stack_allow_filter", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
  report("unshare_after_allow_filter", unshare(CLONE_NEWUSER));
  report("keyctl_after_allow_filter", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  return 0;
}
