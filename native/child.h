#ifndef SANDBOX_CHILD_H
#define SANDBOX_CHILD_H
#include "plan.h"
struct child_args {
  const struct plan *plan;
  int sync_fd;  /* read end: the monitor writes one byte when the maps are written */
  int ready_fd; /* write end, for --join: one byte once the namespaces are complete (-1: not asked) */
  int done_fd;  /* write end, for --join with a private pid namespace: see hold_pid_namespace (-1: not asked) */
};
__attribute__((noreturn)) void child_main(const struct child_args *ca);
/* A joining init (the host's pid namespace): enter a live member's namespaces and run the program there. */
__attribute__((noreturn)) void joined_child_main(const struct plan *plan, const int *ns_fds, int ready_fd);
#endif
