/* The sandbox's first process, in its new namespaces: waits for the id maps, builds the root, sets the hostname,
 * then (finish_init) locks the mounts, drops privileges and becomes the init; or, joining a member, enters that
 * member's namespaces instead. */
#include "child.h"
#include "bwrap.h"
#include "confine.h"
#include "init.h"
#include "join.h"
#include "mounts.h"
#include "namespaces.h"
#include "reaper.h"
#include "registry.h"
#include "spawn.h"
#include "util.h"

#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>

static void say_ready(int fd) {
  if (fd < 0) return;
  ssize_t n;
  do n = write(fd, "r", 1); while (n < 0 && errno == EINTR);
  close(fd);
}

/* The rest of an init's work, whether it built the sandbox or joined one: privileges, then the program. */
static __attribute__((noreturn)) void finish_init(const struct plan *plan) {
  lock_mounts(plan);
  drop_capabilities(plan->caps, last_cap());
  bwrap_init_enter(plan); /* bwrap mode: --userns2 */
  if (chdir(plan->cwd) < 0) {
    if (!plan->cwd_fallback) die_errno(125, "--chdir %s", plan->cwd);
    if (chdir("/") < 0) die_errno(125, "chdir /");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno(125, "PR_SET_NO_NEW_PRIVS");
  if (plan->as_pid1 && spawn_listen_fd < 0) {
    apply_landlock(plan);
    install_seccomp(plan);
    exec_program(plan);
  }
  if (spawn_listen_fd >= 0) run_init(start_spawner(plan));
  run_init(plan);
}

/* A joining init (the host's pid namespace: with a private one the first member's spawner starts the member):
 * enter a live member's namespaces (its root, already built) and run the program there. */
__attribute__((noreturn)) void joined_child_main(const struct plan *plan, const int *ns_fds, int ready_fd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno(125, "PR_SET_PDEATHSIG");
  join_enter(ns_fds);
  say_ready(ready_fd);
  if (plan->new_session && setsid() < 0) die_errno(125, "setsid");
  finish_init(plan);
}

__attribute__((noreturn)) void child_main(const struct child_args *ca) {
  const struct plan *plan = ca->plan;
  /* the monitor dying takes the sandbox down */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno(125, "PR_SET_PDEATHSIG");
  char go;
  ssize_t n;
  do n = read(ca->sync_fd, &go, 1); while (n < 0 && errno == EINTR);
  if (n != 1) _exit(125); /* the monitor is gone */
  bwrap_child_start(plan); /* bwrap mode: the monitor's descriptors are not the sandbox's; --userns-block-fd */
  title_set("init");
  if (plan->share_pid && (init_reaper = open_reaper()).proc_fd < 0) die_errno(125, "open the host's /proc");

  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) die_errno(125, "make / a slave mount");
  build_root(plan);
  if (!plan->share_net) bring_up_loopback();
  if (sethostname(plan->hostname, strlen(plan->hostname)) < 0) die_errno(125, "sethostname %s", plan->hostname);
  if (ca->ready_fd >= 0) {
    /* --join: the monitor takes hold of our namespaces while we can still be looked at, then lets us go on */
    say_ready(ca->ready_fd);
    ssize_t got;
    do got = read(ca->sync_fd, &go, 1); while (got < 0 && errno == EINTR);
    if (got != 1) _exit(125);
  }
  if (ca->done_fd >= 0) {
    pidns_go_fd = ca->sync_fd;
    pidns_done_fd = ca->done_fd;
  } else {
    close(ca->sync_fd);
  }
  if (plan->new_session && setsid() < 0) die_errno(125, "setsid");
  bwrap_init_ready(plan); /* bwrap mode: --lock-file, --block-fd */
  finish_init(plan);
}
