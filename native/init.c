/* The sandbox's init (pid 1 of a new pid namespace, else a subreaper): it forks the program, passes signals on,
 * reaps, and exits with the program's status; or, with as-pid-1, it becomes the program (exec_program). */
#include "init.h"
#include "bwrap.h"
#include "confine.h"
#include "registry.h"
#include "util.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Signals the monitor and init pass on to the program. */
const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
const size_t n_forwarded = sizeof forwarded / sizeof forwarded[0];

/* execvpe with the plan's environment; exit 127 when not found, 126 when not executable. */
void exec_program(const struct plan *plan) {
  const char *cmd = plan->argv[0];
  char *const *argv = bwrap_program_argv(plan); /* bwrap mode: --argv0 */
  char *const *envp = (char *const *)plan->env;
  if (strchr(cmd, '/')) {
    execve(cmd, argv, envp);
    /* ENOENT for a file that is there: its #! interpreter or ELF loader is what's missing */
    if (errno == ENOENT && access(cmd, F_OK) == 0)
      die_errno(127, "%s: its interpreter (#!) or dynamic loader is not in the sandbox", cmd);
    die_errno(errno == ENOENT ? 127 : 126, "%s", cmd);
  }
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (size_t i = 0; i < plan->n_env; i++)
    if (!strncmp(plan->env[i], "PATH=", 5)) path = plan->env[i] + 5;
  int saw_eacces = 0;
  char full[4096];
  for (const char *p = path;; p++) {
    const char *e = strchrnul(p, ':');
    size_t n = (size_t)(e - p);
    if (n == 0) snprintf(full, sizeof full, "%s", cmd); /* empty entry: current directory */
    else snprintf(full, sizeof full, "%.*s/%s", (int)n, p, cmd);
    execve(full, argv, envp);
    struct stat st;
    /* EACCES counts only for a file that exists: an unreadable PATH directory is "not found" */
    if (errno == EACCES) { if (stat(full, &st) == 0) saw_eacces = 1; }
    else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG)
      die_errno(126, "%s", cmd);
    if (!*e) break;
    p = e;
  }
  if (saw_eacces) { errno = EACCES; die_errno(126, "%s", cmd); }
  die(127, "%s: command not found", cmd);
}

static void noop_handler(int sig) { (void)sig; }

struct reaper init_reaper = { -1, -1 };

/* The init's end with the host's pid namespace: what a pid namespace's end would have done. */
static void init_kill_descendants(void) {
  if (init_reaper.proc_fd < 0) init_reaper = open_reaper();
  kill_descendants(&init_reaper, NULL, 0);
}

/* --join with a private pid namespace: the first member's init is pid 1 of every member's programs, and its end
 * would kill them all. When its own program is done it tells the monitor (pidns_done_fd) and goes on reaping
 * until the monitor, which watches the key's members under the key's lock, lets it go (pidns_go_fd: a byte, or
 * EOF when the monitor is gone); then it exits with the program's status. */
int pidns_go_fd = -1, pidns_done_fd = -1;

static __attribute__((noreturn)) void hold_pid_namespace(int code) {
  ssize_t n;
  do n = write(pidns_done_fd, "d", 1); while (n < 0 && errno == EINTR);
  for (;;) {
    struct pollfd p = { pidns_go_fd, POLLIN, 0 };
    int r = poll(&p, 1, 100);
    while (waitpid(-1, NULL, WNOHANG) > 0) {} /* orphans of the other members come to pid 1 */
    if (r > 0 || (r < 0 && errno != EINTR)) _exit(code);
  }
}

__attribute__((noreturn)) void run_init(const struct plan *plan) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler; /* pid 1 only receives signals it has a handler for */
  for (size_t i = 0; i < n_forwarded; i++) {
    sigaddset(&set, forwarded[i]);
    sigaction(forwarded[i], &sa, NULL);
  }
  if (plan->share_pid) {
    /* without a pid namespace of its own, orphans would go to the host's init: keep them here, and when the
     * monitor dies, take them all down rather than dying at once */
    sigaddset(&set, SIG_MONITOR_GONE);
    sigaction(SIG_MONITOR_GONE, &sa, NULL);
  }
  if (enter_arm()) { /* `sandbox enter`: a connection handed over by the monitor */
    sigaddset(&set, SIG_ENTER);
    sigaction(SIG_ENTER, &sa, NULL);
  }
  sigprocmask(SIG_BLOCK, &set, &old);
  if (plan->share_pid) {
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIG_MONITOR_GONE, 0, 0, 0);
    if (init_reaper.proc_fd < 0) init_reaper = open_reaper(); /* a joined init: before the program can run */
    if (getppid() == 1) init_kill_descendants(), _exit(137);
  }
  pid_t child = fork();
  if (child < 0) die_errno(125, "fork the program");
  if (child == 0) {
    /* with the host's pid namespace, the init's death doesn't end the program by itself */
    if (plan->share_pid) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < n_forwarded; i++) sigaction(forwarded[i], &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    apply_landlock(plan);
    install_seccomp(plan);
    exec_program(plan);
  }
  close(error_fd); /* the program's copy closes at exec; the monitor sees EOF then */
  error_fd = -1;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the program may not ptrace its init */
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig < 0) continue;
    if (plan->share_pid && sig == SIG_MONITOR_GONE) {
      init_kill_descendants();
      _exit(137);
    }
    if (sig == SIG_ENTER) {
      enter_serve(plan);
      continue;
    }
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p != child) continue;
      if (plan->share_pid) init_kill_descendants(); /* what a pid namespace's end would have done */
      if (pidns_go_fd >= 0) hold_pid_namespace(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
    }
  }
}
