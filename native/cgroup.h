#ifndef SANDBOX_CGROUP_H
#define SANDBOX_CGROUP_H
#include "plan.h"
/* After the program ends: report limits that were hit, kill what is left (kill_fd: cgroup.kill, or -1), remove the leaf. */
void finish_cgroup(const struct plan *plan, int kill_fd);
/* Where clone3 could not place the child in the leaf: move it there. */
void cgroup_add(const struct plan *plan, pid_t pid);
#endif
