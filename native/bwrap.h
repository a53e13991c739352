/* bwrap mode's part of the plan and of the stage: bubblewrap's monitoring and lockdown options
 * (--argv0, --info-fd, --json-status-fd, --sync-fd, --block-fd, --lock-file, --seccomp/--add-seccomp-fd).
 * The records are parsed in plan.c; what they make the monitor, the init and the program do is here. */
#ifndef SANDBOX_BWRAP_H
#define SANDBOX_BWRAP_H

#include "plan.h"

#include <sys/types.h>

/* The child, first thing: the monitor's descriptors (info, status, sync) are not the sandbox's. */
void bwrap_child_start(const struct plan *plan);
/* The init, its root built and pivoted into: the locks, then the wait on --block-fd. */
void bwrap_init_ready(const struct plan *plan);
/* The monitor, once the child runs in its namespaces: --info-fd and the first --json-status-fd line. */
void bwrap_monitor_started(const struct plan *plan, pid_t child);
/* The monitor, at the end: {"exit-code": N} on --json-status-fd. Returns code. */
int bwrap_monitor_exit(const struct plan *plan, int code);
/* The monitor, before the child is made: enter --pidns and --userns. Returns the clone flags left to use. */
unsigned long long bwrap_monitor_enter(const struct plan *plan, unsigned long long flags);
/* The init, privileges dropped: enter --userns2. */
void bwrap_init_enter(const struct plan *plan);
/* After the base filter: the caller's compiled filters, in order. */
void bwrap_install_filters(const struct plan *plan);
/* The program's argv: the plan's, with --argv0 in place of argv[0]. */
char *const *bwrap_program_argv(const struct plan *plan);

#endif
