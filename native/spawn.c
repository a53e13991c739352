/* --join with a private pid namespace: the first member's spawner, which starts every later member's init inside
 * the first member's Landlock domain, and the later member's monitor's side of it (run_remote_member). */
#include "spawn.h"
#include "cgroup.h"
#include "confine.h"
#include "init.h"
#include "join.h"
#include "registry.h"
#include "util.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

/* One Landlock domain for the members of a key that share a private pid namespace. A domain is inherited, never
 * joined, and it keeps ptrace and process_vm_readv (Open MPI's single-copy CMA) inside itself; so the first
 * member's init enters the domain before it starts anything, and a spawner it forks starts every later member:
 * the later member's monitor connects to the key's spawn socket and sends the process part of its plan (plan wire
 * form) with its stdio, its kept descriptors and its error pipe; the spawner forks that member's init (a subreaper,
 * as with the host's pid namespace), passes on signal numbers sent on the connection, and sends back the exit
 * status. The joiner's own cgroup limits do not apply (the member runs in the first one's cgroup). */
int spawn_listen_fd = -1;
#define SPAWN_MAX_FDS 64
#define SPAWN_MAX_MSG (16u << 20)

struct spawn_conn { int fd; pid_t init; };

/* What a process inherits rather than a plan says, taken from the later member's monitor, so that a rank keeps the
 * CPUs, limits and umask its launcher (srun --cpu-bind, ulimit) gave it rather than the first member's. */
struct spawn_header {
  uint64_t len; /* of the plan that follows */
  cpu_set_t affinity;
  struct rlimit limits[RLIM_NLIMITS];
  uint32_t umask;
  int32_t nice;
};

static void take_process_state(const struct spawn_header *h) {
  if (sched_setaffinity(0, sizeof h->affinity, &h->affinity) < 0) debug("affinity: %s", strerror(errno));
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    struct rlimit cur, want = h->limits[r];
    if (getrlimit(r, &cur) < 0) continue;
    if (want.rlim_max > cur.rlim_max) want.rlim_max = cur.rlim_max; /* only root-like powers raise a hard limit */
    if (want.rlim_cur > want.rlim_max) want.rlim_cur = want.rlim_max;
    if (setrlimit(r, &want) < 0) debug("rlimit %d: %s", r, strerror(errno));
  }
  umask((mode_t)(h->umask & 0777));
  if (setpriority(PRIO_PROCESS, 0, h->nice) < 0) debug("nice %d: %s", (int)h->nice, strerror(errno));
}

static ssize_t last_recv; /* bytes the last recv_with_fds got */

static ssize_t recv_with_fds(int s, void *buf, size_t len, int *fds, int *n_fds) {
  char cbuf[CMSG_SPACE(sizeof(int) * SPAWN_MAX_FDS)];
  struct iovec iov = { buf, len };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(s, &m, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  last_recv = n;
  int came = received_fds(&m, fds + *n_fds, SPAWN_MAX_FDS - *n_fds);
  *n_fds += came < SPAWN_MAX_FDS - *n_fds ? came : SPAWN_MAX_FDS - *n_fds;
  return n;
}

/* The rest of a buffer whose first part recv_with_fds read. */
static int read_rest(int fd, void *buf, size_t len) {
  return (size_t)last_recv >= len ? 0 : read_all(fd, (char *)buf + last_recv, len - (size_t)last_recv);
}

/* A later member's init, forked by the spawner: its descriptors in place, then the usual init work. */
static __attribute__((noreturn)) void spawned_member(const struct spawn_header *h, unsigned char *msg, size_t len, int *fds, int n_fds) {
  static struct plan mp;
  char err[512];
  if (n_fds < 4) _exit(125);
  error_fd = fds[3];
  if (plan_parse(msg, len, &mp, err, sizeof err) < 0) die(125, "--join: the spawner got a bad request: %s", err);
  if ((size_t)n_fds != 4 + mp.n_keep_fds) die(125, "--join: the spawner got %d descriptors for %zu", n_fds, 4 + mp.n_keep_fds);
  /* out of the way of the numbers they are to take, then into place (dup2 clears close-on-exec); everything else
   * this process holds (the first member's kept descriptors, inherited from its init) is closed */
  int top = 2;
  for (size_t i = 0; i < mp.n_keep_fds; i++) if (mp.keep_fds[i] > top) top = mp.keep_fds[i];
  for (int i = 0; i < n_fds; i++) {
    int hi = fcntl(fds[i], F_DUPFD_CLOEXEC, top + 1);
    if (hi < 0) die_errno(125, "--join: move descriptor");
    close(fds[i]);
    fds[i] = hi;
  }
  for (int i = 0; i < n_fds; i++) {
    if (i == 3) continue;
    int to = i < 3 ? i : mp.keep_fds[i - 4];
    if (dup2(fds[i], to) < 0) die_errno(125, "--join: descriptor %d", to);
    close(fds[i]);
  }
  int err_hi = fds[3];
  for (int fd = 3; fd <= top; fd++) {
    int kept = 0;
    for (size_t i = 0; i < mp.n_keep_fds && !kept; i++) kept = mp.keep_fds[i] == fd;
    if (!kept) close(fd);
  }
  if (err_hi > top + 1) syscall(SYS_close_range, (unsigned)top + 1, (unsigned)err_hi - 1, 0);
  syscall(SYS_close_range, (unsigned)err_hi + 1, ~0u, 0);
  error_fd = err_hi;
  init_reaper = (struct reaper){ -1, -1 }; /* closed above if inherited: run_init opens this member's own */
  take_process_state(h);
  mp.share_pid = 1;          /* not pid 1: a subreaper that ends what it leaves behind */
  mp.landlock_scopes = 0;    /* already in the members' domain: another layer would be a domain of its own */
  mp.n_landlock_paths = 0;
  if (mp.new_session && setsid() < 0) die_errno(125, "setsid");
  /* capabilities and no_new_privs are the first member's, which are this one's (the join policy says so) */
  if (chdir(mp.cwd) < 0) {
    if (!mp.cwd_fallback) die_errno(125, "--chdir %s", mp.cwd);
    if (chdir("/") < 0) die_errno(125, "chdir /");
  }
  if (mp.as_pid1) {
    install_seccomp(&mp);
    exec_program(&mp);
  }
  run_init(&mp);
}

static __attribute__((noreturn)) void spawner_main(int lfd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int sfd = sigchld_fd();
  if (sfd < 0) _exit(125);
  struct spawn_conn conns[256];
  size_t n_conns = 0;
  for (;;) {
    struct pollfd p[2 + 256];
    p[0] = (struct pollfd){ lfd, POLLIN, 0 };
    p[1] = (struct pollfd){ sfd, POLLIN, 0 };
    for (size_t i = 0; i < n_conns; i++) p[2 + i] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
    if (poll(p, 2 + n_conns, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno(125, "--join spawner: poll"); /* a lowered RLIMIT_NOFILE (EINVAL) would otherwise spin here */
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) < 0) {}
      int status;
      pid_t w;
      while ((w = waitpid(-1, &status, WNOHANG)) > 0)
        for (size_t i = 0; i < n_conns; i++) {
          if (conns[i].init != w) continue;
          int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
          if (conns[i].fd >= 0 && write(conns[i].fd, &code, sizeof code) < 0) {}
          if (conns[i].fd >= 0) close(conns[i].fd);
          conns[i] = conns[--n_conns];
          break;
        }
    }
    for (size_t i = 0; i < n_conns; i++) {
      if (!p[2 + i].revents || conns[i].fd < 0) continue;
      unsigned char sig;
      ssize_t n = read(conns[i].fd, &sig, 1);
      if (n == 1) kill(conns[i].init, sig);
      else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        kill(conns[i].init, SIG_MONITOR_GONE); /* the member's monitor is gone: its init ends its processes */
        close(conns[i].fd);
        conns[i].fd = -1;
      }
    }
    if (!p[0].revents || n_conns == 256) continue;
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    struct timeval tv = { 10, 0 };
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int fds[SPAWN_MAX_FDS], n_fds = 0;
    struct spawn_header hdr;
    uint64_t len = 0;
    unsigned char *msg = NULL;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != getuid() ||
        recv_with_fds(c, &hdr, sizeof hdr, fds, &n_fds) <= 0 || read_rest(c, &hdr, sizeof hdr) < 0 ||
        (len = hdr.len) == 0 || len > SPAWN_MAX_MSG ||
        !(msg = malloc(len)) || read_all(c, msg, len) < 0) {
      for (int i = 0; i < n_fds; i++) close(fds[i]);
      free(msg);
      close(c);
      continue;
    }
    pid_t m = fork();
    if (m == 0) {
      close(lfd);
      close(sfd);
      close(c);
      for (size_t i = 0; i < n_conns; i++) if (conns[i].fd >= 0) close(conns[i].fd);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, NULL);
      spawned_member(&hdr, msg, len, fds, n_fds);
    }
    for (int i = 0; i < n_fds; i++) close(fds[i]);
    free(msg);
    if (m < 0) { close(c); continue; }
    struct timeval none_tv = { 0, 0 };
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &none_tv, sizeof none_tv);
    conns[n_conns++] = (struct spawn_conn){ c, m };
    if (write(c, "S", 1) < 0) {}
  }
}

/* In the first member's init, its privileges set: enter the domain, start the spawner; the program then runs
 * under a plan whose Landlock part is done. */
const struct plan *start_spawner(const struct plan *plan) {
  static struct plan inner;
  apply_landlock(plan);
  pid_t z = fork();
  if (z < 0) die_errno(125, "--join: start the spawner");
  if (z == 0) {
    close(error_fd);
    error_fd = -1;
    /* holding the pid namespace is the first member's init's business, not the members' */
    if (pidns_go_fd >= 0) close(pidns_go_fd);
    if (pidns_done_fd >= 0) close(pidns_done_fd);
    pidns_go_fd = pidns_done_fd = -1;
    spawner_main(spawn_listen_fd);
  }
  close(spawn_listen_fd);
  spawn_listen_fd = -1;
  inner = *plan;
  inner.landlock_scopes = 0;
  inner.n_landlock_paths = 0;
  return &inner;
}

/* A token of the plan wire form: the member's plan, written with the table's keywords (plan_keyword). */
static void tok(char **buf, size_t *len, size_t *cap, const void *data, size_t n) {
  char head[24];
  int h = snprintf(head, sizeof head, "%zu:", n);
  if (*len + (size_t)h + n + 1 > *cap) {
    *cap = (*len + (size_t)h + n + 1) * 2;
    if (!(*buf = realloc(*buf, *cap))) die(125, "out of memory");
  }
  memcpy(*buf + *len, head, (size_t)h);
  memcpy(*buf + *len + h, data, n);
  (*buf)[*len + (size_t)h + n] = ',';
  *len += (size_t)h + n + 1;
}
static void tok_s(char **b, size_t *l, size_t *c, const char *s) { tok(b, l, c, s, strlen(s)); }
static void tok_n(char **b, size_t *l, size_t *c, unsigned long long v) {
  char n[24];
  snprintf(n, sizeof n, "%llu", v);
  tok_s(b, l, c, n);
}

/* A later member of a key with a shared private pid namespace: the spawner runs it; this monitor relays signals
 * and returns its status. Called with the key's lock held; returns the exit status. */
int run_remote_member(const struct plan *plan, const int *ns_fds) {
  int conn = join_connect_spawn();
  if (conn < 0) die(125, "--join: the sandboxes of this key are ending (their first member is gone); start again");
  char *msg = NULL;
  size_t len = 0, cap = 0;
  tok_s(&msg, &len, &cap, "sandbox-plan"); tok_n(&msg, &len, &cap, PLAN_VERSION);
  tok_s(&msg, &len, &cap, plan_keyword(REC_CWD)); tok_s(&msg, &len, &cap, plan->cwd);
  tok_s(&msg, &len, &cap, plan_keyword(REC_CWD_FALLBACK)); tok_n(&msg, &len, &cap, (unsigned)plan->cwd_fallback);
  tok_s(&msg, &len, &cap, plan_keyword(REC_NEW_SESSION)); tok_n(&msg, &len, &cap, (unsigned)plan->new_session);
  tok_s(&msg, &len, &cap, plan_keyword(REC_AS_PID_1)); tok_n(&msg, &len, &cap, (unsigned)plan->as_pid1);
  for (int c = 0; c < 64; c++)
    if (plan->caps & (1ull << c)) { tok_s(&msg, &len, &cap, plan_keyword(REC_CAP)); tok_n(&msg, &len, &cap, (unsigned)c); }
  for (size_t i = 0; i < plan->n_keep_fds; i++) { tok_s(&msg, &len, &cap, plan_keyword(REC_KEEP_FD)); tok_n(&msg, &len, &cap, (unsigned)plan->keep_fds[i]); }
  for (size_t i = 0; i < plan->n_env; i++) { tok_s(&msg, &len, &cap, plan_keyword(REC_ENV)); tok_s(&msg, &len, &cap, plan->env[i]); }
  for (size_t i = 0; i < plan->n_argv; i++) { tok_s(&msg, &len, &cap, plan_keyword(REC_ARGV)); tok_s(&msg, &len, &cap, plan->argv[i]); }
  if (plan->bpf) {
    tok_s(&msg, &len, &cap, plan_keyword(REC_SECCOMP)); tok_s(&msg, &len, &cap, plan->seccomp_origin ? plan->seccomp_origin : "seccomp");
    tok(&msg, &len, &cap, plan->bpf, plan->bpf_len);
  }
  tok_s(&msg, &len, &cap, "end");
  if (len > SPAWN_MAX_MSG) die(125, "--join: this sandbox's command and environment are too large to pass on");

  int errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0) die_errno(125, "pipe");
  int fds[SPAWN_MAX_FDS], n_fds = 0;
  fds[n_fds++] = 0; fds[n_fds++] = 1; fds[n_fds++] = 2; fds[n_fds++] = errp[1];
  for (size_t i = 0; i < plan->n_keep_fds && n_fds < SPAWN_MAX_FDS; i++) fds[n_fds++] = plan->keep_fds[i];
  if ((size_t)n_fds != 4 + plan->n_keep_fds) die(125, "--join: too many kept descriptors to pass on");
  struct spawn_header hdr;
  memset(&hdr, 0, sizeof hdr);
  hdr.len = len;
  if (sched_getaffinity(0, sizeof hdr.affinity, &hdr.affinity) < 0) die_errno(125, "sched_getaffinity");
  for (int r = 0; r < RLIM_NLIMITS; r++) getrlimit(r, &hdr.limits[r]);
  mode_t um = umask(0);
  umask(um);
  hdr.umask = um;
  errno = 0;
  hdr.nice = getpriority(PRIO_PROCESS, 0);
  char cbuf[CMSG_SPACE(sizeof(int) * SPAWN_MAX_FDS)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { &hdr, sizeof hdr };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n_fds);
  ssize_t sent = sendmsg(conn, &m, MSG_NOSIGNAL);
  if (sent <= 0) die_errno(125, "--join: send to the spawner");
  for (size_t off = (size_t)sent; off < sizeof hdr;) {
    ssize_t n = send(conn, (char *)&hdr + off, sizeof hdr - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die_errno(125, "--join: send to the spawner");
    off += (size_t)n;
  }
  for (size_t off = 0; off < len;) {
    ssize_t n = send(conn, msg + off, len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die_errno(125, "--join: send to the spawner");
    off += (size_t)n;
  }
  free(msg);
  close(errp[1]);
  char ack;
  if (read_all(conn, &ack, 1) < 0 || ack != 'S') die(125, "--join: the spawner did not start this member");
  join_update(1, ns_fds, 0, plan->join_policy);
  join_unlock();

  sigset_t mask;
  sigemptyset(&mask);
  for (size_t i = 0; i < n_forwarded; i++) sigaddset(&mask, forwarded[i]);
  if (plan->registry_name) sigaddset(&mask, SIG_STOP_NOW); /* blocked since main: `sandbox stop`'s SIGKILL */
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) die_errno(125, "signalfd");
  struct error_record rec;
  int have_record = 0, code = 137, err_open = 1;
  for (;;) {
    struct pollfd p[3] = { { sfd, POLLIN, 0 }, { err_open ? errp[0] : -1, POLLIN, 0 }, { conn, POLLIN, 0 } };
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno(125, "--join: poll");
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        /* `sandbox stop`'s end: the member's init kills everything it started, as when its monitor is gone */
        unsigned char sig = (int)si.ssi_signo == SIG_STOP_NOW ? (unsigned char)SIG_MONITOR_GONE : (unsigned char)si.ssi_signo;
        if (send(conn, &sig, 1, MSG_NOSIGNAL) < 0) {}
      }
    }
    if (p[1].revents) {
      ssize_t n = read(errp[0], &rec, sizeof rec);
      if (n == (ssize_t)sizeof rec) have_record = 1;
      else if (n <= 0) err_open = 0;
    }
    if (p[2].revents) {
      int got;
      if (read_all(conn, &got, sizeof got) == 0) code = got;
      break; /* a status, or the spawner is gone (the first member ended the pid namespace) */
    }
  }
  if (err_open && !have_record && read(errp[0], &rec, sizeof rec) == (ssize_t)sizeof rec) have_record = 1;
  finish_cgroup(plan, -1); /* a joiner's own leaf is empty: every member runs in the first member's */
  join_lock(plan->join_dir);
  join_update(0, ns_fds, getpid(), plan->join_policy);
  join_unlock();
  if (have_record) {
    rec.message[sizeof rec.message - 1] = 0;
    fprintf(stderr, "%s: %s\n", diagnostic_prefix, rec.message);
    return rec.exit_code;
  }
  return code;
}

