/* A new user namespace through every door: unshare(2), clone(2) and clone3(2). */
#include "probe.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static long try_clone(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0); /* it worked: the child leaves at once */
  if (r > 0) waitpid((pid_t)r, 0, 0);
  return r;
}
int main(void) {
  report("unshare_newuser", unshare(CLONE_NEWUSER));
  report("unshare_newns", unshare(CLONE_NEWNS));
  report("clone_newuser", try_clone(CLONE_NEWUSER));
  report("clone_newns", try_clone(CLONE_NEWNS));
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_NEWUSER;
  a.exit_signal = SIGCHLD;
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, 0, 0);
  report("clone3_newuser", r);
  return 0;
}
