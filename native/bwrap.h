/* bwrap mode's part of the plan and of the stage: bubblewrap's monitoring and lockdown options
 * (--argv0, --info-fd, --json-status-fd, --sync-fd, --block-fd, --lock-file, --seccomp/--add-seccomp-fd).
 * The records are parsed in plan.c; what they make the monitor, the init and the program do is here. */
#ifndef SANDBOX_BWRAP_H
#define SANDBOX_BWRAP_H

#include <stddef.h>
#include <sys/types.h>

struct bwrap_filter { const char *origin; const unsigned char *bpf; size_t len; };

struct bwrap_plan {
  const char *argv0;     /* NULL: the command as given */
  int info_fd;           /* -1 when not asked, for each descriptor */
  int json_status_fd;
  int sync_fd;
  int block_fd;
  int userns_block_fd;   /* --userns-block-fd: no maps written by us; the child waits on it */
  int userns_fd;         /* --userns: built in this user namespace, its maps as they are */
  int userns2_fd;        /* --userns2: the init enters it before the program runs */
  int pidns_fd;          /* --pidns: the sandbox runs in this pid namespace */
  const char **lock_files; size_t n_lock_files;
  struct bwrap_filter *filters; size_t n_filters; /* installed after the base filter, in order */
  const char *diagnostic_prefix; /* "bwrap", or "<3>bwrap" with --level-prefix; NULL: "sandbox" */
};

/* What the stage's error lines begin with (before ": "). */
extern const char *diagnostic_prefix;

struct plan;

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
