#ifndef SANDBOX_SPAWN_H
#define SANDBOX_SPAWN_H
#include "plan.h"
/* The first member's listening socket on the key's spawn path, until its init starts the spawner; -1: none. */
extern int spawn_listen_fd;
/* In the first member's init: enter the Landlock domain, start the spawner; returns the plan left to apply. */
const struct plan *start_spawner(const struct plan *plan);
/* A later member's monitor, with the key's lock held: the spawner runs the member; returns its exit status. */
int run_remote_member(const struct plan *plan, const int *ns_fds);
#endif
