/* The C stage's entry and monitor: reads the plan from an inherited descriptor (sandbox-stage) or a plan file
 * (sandbox-exec), creates the namespaces with its child, writes the id maps, and stays behind as the monitor: it
 * passes signals on, takes the init's error record, ends what is left, reports the cgroup's limits and restores the
 * terminal. Order of work: DESIGN.md section 4. Where each part lives: native/README.md. */
#include "plan-cache-keep.h"
#include "bwrap.h"
#include "cgroup.h"
#include "child.h"
#include "compiled.h"
#include "init.h"
#include "join.h"
#include "namespaces.h"
#include "plan.h"
#include "reaper.h"
#include "registry.h"
#include "spawn.h"
#include "terminal.h"
#include "util.h"

#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

/* Node leaves signals ignored (SIGPIPE, SIGXFSZ), a mask, O_NONBLOCK on stdio and stray descriptors. */
static void reset_inherited_state(int plan_fd, const int *keep, size_t n_keep) {
  signals_to_default();
  /* interval timers survive execve: a profiler's SIGPROF would otherwise kill the sandbox */
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  setitimer(ITIMER_VIRTUAL, &off, NULL);
  setitimer(ITIMER_PROF, &off, NULL);
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  /* close 3.. except plan_fd and the kept ones: walk the gaps with close_range */
  int lo = 3;
  for (;;) {
    int next = -1;
    for (size_t i = 0; i <= n_keep; i++) {
      int k = i < n_keep ? keep[i] : plan_fd;
      if (k >= lo && (next < 0 || k < next)) next = k;
    }
    int hi = next < 0 ? -1 : next - 1;
    if (hi < 0 || hi >= lo) {
      if (syscall(SYS_close_range, (unsigned)lo, hi < 0 ? ~0u : (unsigned)hi, 0) < 0)
        for (int fd = lo; fd <= (hi < 0 ? 65535 : hi); fd++) close(fd);
    }
    if (next < 0) break;
    lo = next + 1;
  }
}

static unsigned char *read_plan(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) die(125, "out of memory");
  for (;;) {
    if (n == cap) {
      if (cap >= PLAN_MAX_SIZE) die(125, "plan larger than %u bytes", PLAN_MAX_SIZE);
      cap *= 2;
      unsigned char *nb = realloc(buf, cap);
      if (!nb) die(125, "out of memory");
      buf = nb;
    }
    ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_errno(125, "read plan from descriptor %d", fd);
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

static int parse_fd_arg(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 3 || v > 1 << 20) die(125, "bad descriptor number '%s'", s);
  return (int)v;
}

/* The init's record of why the program didn't run. A command given as a path that the init couldn't find but
 * the host has (the monitor still sees the host's tree) is named as hidden, with the bind that shows it: what
 * lib/plan/hidden.ts says before the hand-off, for plans run without Node (sandbox-exec). */
static void print_error_record(const struct plan *plan, struct error_record *rec) {
  rec->message[sizeof rec->message - 1] = 0;
  const char *cmd = plan->n_argv ? plan->argv[0] : NULL;
  char abs[PATH_MAX], cwd[PATH_MAX];
  struct stat st;
  char bare[sizeof rec->message];
  if (cmd) snprintf(bare, sizeof bare, "%s: %s", cmd, strerror(ENOENT));
  /* only the init's bare "CMD: No such file or directory": the file itself was not there inside */
  if (rec->exit_code == 127 && cmd && strchr(cmd, '/') && !strcmp(rec->message, bare) && stat(cmd, &st) == 0 &&
      (cmd[0] == '/' ? snprintf(abs, sizeof abs, "%s", cmd) : getcwd(cwd, sizeof cwd) ? snprintf(abs, sizeof abs, "%s/%s", cwd, cmd) : -1) > 0 &&
      strlen(abs) < sizeof abs - 1 && !strpbrk(abs, " \t\n'\"\\$`!*?[]{}()<>|&;#~")) {
    char msg[sizeof rec->message];
    one_line(msg, sizeof msg, abs);
    fprintf(stderr, "%s: %s exists on the host but is not visible in this sandbox; bind it with --ro-bind %s %s\n", diagnostic_prefix, msg, msg, msg);
    return;
  }
  fprintf(stderr, "%s: %s\n", diagnostic_prefix, rec->message); /* bwrap mode: "bwrap" */
}

int main(int argc, char **argv) {
  const char *d = getenv("SANDBOX_DEBUG");
  debug_on = d && *d && strcmp(d, "0");
  const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  int compiled = !strcmp(self, "sandbox-exec");
  if (argc >= 2 && !strcmp(argv[1], "--enter")) return enter_client_main(argc, argv); /* `sandbox enter` */
  /* package (issue 15): --help answers on stdout, exit 0, instead of opening a plan called --help */
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf(compiled ? "usage: sandbox-exec PLAN [--] [COMMAND [ARGS...]]\n(runs a plan written by `sandbox compile`, without Node;"
                      " a plan file starting with #! can also be run directly: PLAN [--] [COMMAND [ARGS...]])\n"
                    : "usage: sandbox-stage --plan-fd N\n(the C stage of sandbox; it reads a plan written by `sandbox run`)\n");
    return 0;
  }
  /* `--keep-fd N` after the plan's: a plan cache entry for the monitor to write (plan-cache-keep.c) */
  int keeping = !compiled && argc == 5 && !strcmp(argv[3], "--keep-fd");
  if (compiled ? argc < 2 : ((argc != 3 && !keeping) || strcmp(argv[1], "--plan-fd"))) {
    fprintf(stderr, compiled ? "usage: sandbox-exec PLAN [--] [COMMAND [ARGS...]]\n(runs a plan written by `sandbox compile`, without Node)\n"
                             : "usage: sandbox-stage --plan-fd N\n(the C stage of sandbox; it reads a plan written by `sandbox run`)\n");
    return 125;
  }
  int plan_fd = compiled ? open(argv[1], O_RDONLY | O_CLOEXEC) : parse_fd_arg(argv[2]);
  if (plan_fd < 0) die_errno(125, "%s", argv[1]);
  if (keeping) plan_cache_keep_take(parse_fd_arg(argv[4]));
  if (compiled) check_plan_file(plan_fd, argv[1]);
  size_t len;
  unsigned char *buf = read_plan(plan_fd, &len);
  if (compiled) check_plan_digest(buf, len, argv[1]);
  size_t skip = 0;
  if (compiled && len > 2 && buf[0] == '#' && buf[1] == '!') { /* the plan file may be executable: #!.../sandbox-exec */
    while (skip < len && buf[skip] != '\n') skip++;
    if (skip < len) skip++;
  }
  struct plan plan;
  char err[512];
  if (plan_parse(buf + skip, len - skip, &plan, err, sizeof err) < 0) die(125, "%s%s%s", compiled ? argv[1] : "", compiled ? ": " : "", err);
  if (plan.bw.diagnostic_prefix) diagnostic_prefix = plan.bw.diagnostic_prefix; /* bwrap mode */
  if (!compiled) title_init(argc, argv, &plan); /* "sandbox: NAME [PROFILE]" in ps, argv read already */
  if (compiled) {
    int first = 2;
    if (argc > first && !strcmp(argv[first], "--")) first++;
    if (argc > first) { /* the command line's command replaces the plan's */
      plan.argv = (const char **)argv + first;
      plan.n_argv = (size_t)(argc - first);
    }
    if (plan.n_argv == 0) die(125, "%s: no command (the plan has none: sandbox-exec PLAN -- COMMAND)", argv[1]);
    check_inputs(&plan, argv[1]);
  }
  if (plan.n_launch_vars) apply_launch_vars(&plan, compiled ? argv[1] : NULL, plan_fd); /* the cwd, $PMIX_SERVER_TMPDIR: this launch's */
  if (compiled) check_plan_outside_binds(&plan, argv[1]);
  if (plan.join_key_text) plan.join_dir = join_dir_at_launch(&plan); /* compiled: the launch's job is the one joined */
  /* a compiled plan, or one the launcher kept (native/plan-cache.c): the environment is this launch's, by the rules */
  if (plan.env_launch) {
    plan.env = build_env(&plan);
    size_t n = 0;
    while (plan.env[n]) n++;
    plan.n_env = n;
  }
  reset_inherited_state(compiled ? -1 : plan_fd, plan.keep_fds, plan.n_keep_fds);
  if (!compiled) close(plan_fd);
  for (size_t i = 0; i < plan.n_ops; i++)
    if (plan.ops[i].kind == MOUNT_DATA && fcntl((int)plan.ops[i].v[F_DATA_FD].n, F_GETFD) < 0)
      die(125, "%s: descriptor %d is not open", plan.ops[i].origin, (int)plan.ops[i].v[F_DATA_FD].n);

  /* The parent Node saw at its start: if it died while Node was starting, we have been reparented already. */
  pid_t parent = plan.parent_pid ? plan.parent_pid : getppid();
  if (plan.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno(125, "PR_SET_PDEATHSIG");
    if (getppid() != parent) die(125, "the process that started sandbox has exited");
  } else {
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0); /* the launcher armed it for the start-up */
  }

  struct saved_terminal terminal = save_terminal();
  int sync[2], errp[2];
  if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) die_errno(125, "pipe");
  int cgroup_fd = -1;
  if (plan.cgroup_leaf) {
    cgroup_fd = open(plan.cgroup_leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) die_errno(125, "open cgroup %s", plan.cgroup_leaf);
  }
  /* With the host's pid namespace, what the init leaves behind if it is killed comes to us: the children we have
   * now (helpers Node started beside the sandbox) are spared at the end, everything else is ended. */
  struct reaper monitor_reaper = { -1, -1 };
  pid_t *spare = NULL;
  long n_spare = 0;
  if (plan.share_pid) {
    monitor_reaper = open_reaper();
    if (monitor_reaper.proc_fd < 0) die_errno(125, "open /proc");
    spare = calloc(4096, sizeof *spare);
    if (!spare) die(125, "out of memory");
    n_spare = read_children(monitor_reaper.children_fd, spare, 4096);
    if (n_spare < 0) n_spare = 0;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die_errno(125, "PR_SET_CHILD_SUBREAPER");
  }
  /* Signals are blocked before the child exists, so none is lost between clone and signalfd. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < n_forwarded; i++) sigaddset(&mask, forwarded[i]);
  if (plan.registry_name) sigaddset(&mask, SIG_STOP_NOW); /* `sandbox stop` after its grace period */
  sigprocmask(SIG_BLOCK, &mask, NULL);
  registry_open(&plan); /* before the child: the init inherits the enter socket */

  /* --join: under the key's lock, a live member's namespaces are entered instead of made */
  int member = 0, ns_fds[JOIN_NS];
  int ready[2] = { -1, -1 }, done[2] = { -1, -1 };
  if (plan.join_dir) {
    join_lock(plan.join_dir);
    member = join_open_member(ns_fds, plan.join_policy, plan.share_net, plan.share_pid);
    if (pipe2(ready, O_CLOEXEC) < 0) die_errno(125, "pipe");
    if (!member && !plan.share_pid && pipe2(done, O_CLOEXEC) < 0) die_errno(125, "pipe");
    debug("join %s: %s", plan.join_dir, member ? "entering a member's namespaces" : "first member");
    if (member && !plan.share_pid) { /* the first member's spawner runs it */
      plan_cache_keep_write();
      int code = run_remote_member(&plan, ns_fds);
      restore_terminal(&terminal);
      registry_remove();
      return code;
    }
    if (!member && !plan.share_pid) spawn_listen_fd = join_listen_spawn();
  }
  uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (!plan.share_pid) flags |= CLONE_NEWPID;
  if (!plan.share_net) flags |= CLONE_NEWNET;
  int placed = 0;
  if (member) flags = 0; /* a plain child; it enters the member's namespaces itself */
  else flags = bwrap_monitor_enter(&plan, flags); /* bwrap mode: --userns, --pidns */
  long pid = try_clone3(flags, cgroup_fd);
  if (pid >= 0) placed = cgroup_fd >= 0;
  else if (errno == ENOSYS || errno == E2BIG || errno == EINVAL) pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) die_errno(125, "create namespaces%s", errno_hint(errno));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(sync[1]);
    close(errp[0]);
    error_fd = errp[1];
    if (ready[0] >= 0) close(ready[0]);
    if (done[0] >= 0) close(done[0]);
    if (plan.join_dir) join_forget_lock();
    if (member) joined_child_main(&plan, ns_fds, ready[1]);
    struct child_args ca = { &plan, sync[0], ready[1], done[1] };
    child_main(&ca);
  }
  if (ready[1] >= 0) close(ready[1]);
  if (done[1] >= 0) close(done[1]);
  if (spawn_listen_fd >= 0) close(spawn_listen_fd);
  registry_after_clone();
  close(sync[0]);
  close(errp[1]);
  debug("child %ld (cgroup %s)", pid, placed ? "by clone3" : plan.cgroup_leaf ? "by cgroup.procs" : "none");
  /* opened before the program runs: at the end it may have taken away what opening needs */
  int cgroup_kill_fd = cgroup_fd >= 0 ? openat(cgroup_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC) : -1;

  if (cgroup_fd >= 0 && !placed) cgroup_add(&plan, (pid_t)pid);
  /* bwrap mode: --userns brings its maps; with --userns-block-fd another process writes them */
  if (!member && plan.bw.userns_fd < 0 && plan.bw.userns_block_fd < 0) write_id_maps((pid_t)pid, plan.uid, plan.gid);
  bwrap_monitor_started(&plan, (pid_t)pid); /* bwrap mode: --info-fd, --json-status-fd (while its namespaces surely exist) */
  if (!member && write(sync[1], "1", 1) != 1) die_errno(125, "release the sandbox");
  plan_cache_keep_write(); /* while the child builds the sandbox */
  if (plan.join_dir && !member) {
    /* once its namespaces are complete, this sandbox is a member others may join; a failed start just ends */
    char r;
    ssize_t got;
    do got = read(ready[0], &r, 1); while (got < 0 && errno == EINTR);
    close(ready[0]);
    if (got == 1) {
      join_hold((pid_t)pid, plan.share_net, plan.share_pid, ns_fds);
      if (write(sync[1], "2", 1) != 1) debug("the init left before it was let go");
      join_update(1, ns_fds, 0, plan.join_policy);
    }
  } else if (plan.join_dir) {
    /* a joiner holds the same namespaces: later ranks may join through it, once it is in them (the first member's
     * init stays while a member is listed, so none may be listed before its init is in the pid namespace) */
    char r;
    ssize_t got;
    do got = read(ready[0], &r, 1); while (got < 0 && errno == EINTR);
    close(ready[0]);
    if (got == 1) join_update(1, ns_fds, 0, plan.join_policy);
  }
  if (plan.join_dir) join_unlock();
  int go_fd = done[0] >= 0 ? sync[1] : -1; /* kept: it lets the init of a shared pid namespace go */
  if (go_fd < 0) close(sync[1]);
  if (cgroup_fd >= 0) close(cgroup_fd);

  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) die_errno(125, "signalfd");
  struct error_record rec;
  int have_record = 0, status = 0, err_open = 1, holding = 0, left = 0, watch_errno = 0;
  for (;;) {
    struct pollfd pfd[4] = { { sfd, POLLIN, 0 }, { err_open ? errp[0] : -1, POLLIN, 0 }, { done[0], POLLIN, 0 },
                             { enter_listen_fd, POLLIN, 0 } };
    int ready_n = poll(pfd, 4, holding && go_fd >= 0 ? 100 : -1);
    if (ready_n < 0) {
      if (errno == EINTR) continue;
      /* The program can lower the monitor's RLIMIT_NOFILE where prlimit-others is loosened, and poll then fails
       * (EINVAL). A monitor that can't watch ends the sandbox as at any end: the init killed, then the clean-up
       * below (descendants, cgroup, registry), and only then its one line. */
      watch_errno = errno;
      kill((pid_t)pid, SIGKILL);
      if (waitpid((pid_t)pid, &status, 0) == (pid_t)pid) break;
      die_errno(125, "poll");
    }
    if (pfd[3].revents) registry_accept(); /* `sandbox enter`: checked here, started by a helper the init forks */
    if (pfd[2].revents) { /* the first member's program is done: its init holds the pid namespace for the others */
      holding = 1;
      close(done[0]);
      done[0] = -1;
    }
    if (holding && go_fd >= 0) {
      join_lock(plan.join_dir);
      if (!join_others_alive()) {
        join_update(0, ns_fds, getpid(), plan.join_policy); /* under the lock: no joiner can be entering now */
        left = 1;
        if (write(go_fd, "g", 1) != 1) debug("the init is gone already");
        close(go_fd);
        go_fd = -1;
      }
      join_unlock();
    }
    if (pfd[1].revents) {
      ssize_t n = read(errp[0], &rec, sizeof rec);
      if (n == (ssize_t)sizeof rec) have_record = 1;
      else if (n <= 0) err_open = 0;
    }
    if (pfd[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si) continue;
      if (plan.registry_name && (int)si.ssi_signo == SIG_STOP_NOW) { /* `sandbox stop`: the init, and with it the sandbox */
        kill((pid_t)pid, SIGKILL);
        continue;
      }
      if ((int)si.ssi_signo != SIGCHLD) {
        if (holding && go_fd >= 0 && si.ssi_signo != SIGWINCH) {
          /* ending the first member ends the pid namespace, and with it the others' programs */
          close(go_fd);
          go_fd = -1;
        }
        kill((pid_t)pid, (int)si.ssi_signo);
        continue;
      }
      if (waitpid((pid_t)pid, &status, WNOHANG) == (pid_t)pid) break;
    }
  }
  if (err_open && !have_record) {
    ssize_t n = read(errp[0], &rec, sizeof rec); /* the writer is dead: this never blocks */
    if (n == (ssize_t)sizeof rec) have_record = 1;
  }
  if (plan.share_pid) kill_descendants(&monitor_reaper, spare, (size_t)n_spare);
  finish_cgroup(&plan, cgroup_kill_fd);
  restore_terminal(&terminal); /* nothing of the sandbox is left to change it again */
  if (go_fd >= 0) close(go_fd);
  registry_remove();
  if (plan.join_dir && !left) {
    join_lock(plan.join_dir);
    join_update(0, ns_fds, getpid(), plan.join_policy);
    join_unlock();
  }
  if (watch_errno) {
    fprintf(stderr, "%s: poll: %s: the monitor could not watch the sandbox, so everything in it was killed\n", diagnostic_prefix, strerror(watch_errno));
    return bwrap_monitor_exit(&plan, 125);
  }
  if (have_record) {
    print_error_record(&plan, &rec);
    return bwrap_monitor_exit(&plan, rec.exit_code);
  }
  /* bwrap mode: the status line */
  if (WIFEXITED(status)) return bwrap_monitor_exit(&plan, WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return bwrap_monitor_exit(&plan, 128 + WTERMSIG(status));
  return bwrap_monitor_exit(&plan, 125);
}

