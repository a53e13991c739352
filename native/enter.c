/* `sandbox enter`: a process inside a running sandbox with exactly the program's confinement.
 * The confinement is inherited where it can be and rebuilt from the plan's own bytes where it must: the init, its
 * privileges set, forks a helper for each request (namespaces, uid/gid, capabilities, no_new_privs, cwd, cgroup,
 * rlimits are the init's, which are the program's), and the helper forks the entered process, which, as the program
 * did, applies the plan's Landlock rules and scopes, installs the plan's seccomp filter and execs with the plan's
 * environment. Landlock domains are inherited, never joined, and the init and its helpers stay outside any (the
 * scopes are what keep the program from signalling them), so an entered process has a domain of its own with the
 * program's rules and scopes: it reaches what the program reaches, and neither can signal or trace the other.
 * Nothing waits in the sandbox between requests: the monitor accepts on NAME.sock in the caller's registry
 * directory (0700, hidden in every sandbox), hands on, over a socket pair, only clients that are not inside any
 * sandbox (registry.c), and the init, told by a signal (O_ASYNC), forks the helper. The client end is
 * `sandbox-stage --enter`, which hands over its stdio and relays signals like a monitor. */
#include "util.h"
#include "registry.h"
#include "confine.h" /* the program's confinement, applied the same way for entered processes */
#include "init.h"    /* exec_program */

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <sys/time.h>

#define ENTER_MAGIC 0x45584253u /* "SBXE" */
#define ENTER_MAX_ARGS (1u << 20)
#define ENTER_MAX_CONNS 64

struct enter_request {
  uint32_t magic;
  uint32_t argc; /* 0: the sandbox's shell */
  uint32_t len;  /* of the NUL-separated arguments that follow */
};

static const int relayed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
#define N_RELAYED (sizeof relayed / sizeof relayed[0])

/* send(2) rather than write: MSG_NOSIGNAL, a client gone is no SIGPIPE */
static int send_all(int fd, const void *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

/* The request header with exactly three descriptors (stdin, stdout, stderr); -1 on anything else. */
static int recv_request(int c, struct enter_request *req, int fds[3]) {
  char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  struct iovec iov = { req, sizeof *req };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(c, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL); while (n < 0 && errno == EINTR);
  int ok = n == (ssize_t)sizeof *req && !(m.msg_flags & MSG_CTRUNC);
  int came = received_fds(&m, fds, 3), got = came < 3 ? came : 3;
  if (came > 3) ok = 0;
  if (!ok || got != 3 || req->magic != ENTER_MAGIC || req->len > ENTER_MAX_ARGS || req->argc > req->len) {
    for (int i = 0; i < got; i++) close(fds[i]);
    return -1;
  }
  return 0;
}

/* The entered process: the client's stdio, a session of its own (it is not part of the program's job), then the
 * program's last steps: a Landlock domain from the plan's rules and scopes, the plan's filter, its environment. */
static __attribute__((noreturn)) void entered(const struct plan *plan, const int fds[3], char *args, uint32_t argc) {
  signals_to_default();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) _exit(125);
  int hi[3];
  for (int i = 0; i < 3; i++)
    if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) _exit(125);
  for (int i = 0; i < 3; i++)
    if (dup2(hi[i], i) < 0) _exit(125);
  syscall(SYS_close_range, 3u, ~0u, 0);
  error_fd = -1; /* errors go to the client's stderr, as "sandbox: ..." */
  if (setsid() < 0) die_errno(125, "enter: setsid");
  static struct plan p;
  p = *plan;
  static const char *argv[4096 + 1];
  if (argc > 4096) die(125, "enter: more than 4096 arguments");
  size_t n = 0;
  for (char *a = args; n < argc; a += strlen(a) + 1) argv[n++] = a;
  if (argc == 0) {
    const char *shell = "/bin/sh";
    for (size_t i = 0; i < plan->n_env; i++)
      if (!strncmp(plan->env[i], "SHELL=/", 7) && access(plan->env[i] + 6, X_OK) == 0) shell = plan->env[i] + 6;
    argv[n++] = shell;
  }
  argv[n] = NULL;
  p.argv = argv;
  p.n_argv = n;
  apply_landlock(&p);
  install_seccomp(&p);
  exec_program(&p);
}

/* A connection the monitor accepted and checked, passed over the socket pair; -1 when none is waiting. */
static int take_connection(int hfd) {
  char byte, cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(hfd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  int c = -1;
  received_fds(&m, &c, 1);
  return c;
}

/* One client, in a helper the init forked for it (outside any Landlock domain, not dumpable, no filter, like the
 * init): read the request, fork the entered process, pass signals on, send back its exit status. */
static __attribute__((noreturn)) void serve_one(const struct plan *plan, int c) {
  int sfd = sigchld_fd();
  if (sfd < 0) _exit(125);
  struct ucred cr;
  socklen_t cl = sizeof cr;
  struct timeval tv = { 10, 0 };
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct enter_request req;
  int fds[3];
  /* the monitor checked the client; its uid, as this namespace sees it, must be ours all the same */
  if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != getuid() || recv_request(c, &req, fds) < 0) _exit(125);
  char *args = calloc(1, (size_t)req.len + 1);
  if (!args || read_all(c, args, req.len) < 0 || (req.len && args[req.len - 1] != 0)) _exit(125);
  uint32_t strings = 0;
  for (uint32_t i = 0; i < req.len; i++) strings += args[i] == 0;
  if (strings != req.argc) _exit(125);
  pid_t child = fork();
  if (child < 0) _exit(125);
  if (child == 0) {
    close(sfd);
    close(c);
    entered(plan, fds, args, req.argc);
  }
  for (int i = 0; i < 3; i++) close(fds[i]);
  free(args);
  struct timeval none_tv = { 0, 0 };
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &none_tv, sizeof none_tv);
  if (send_all(c, "S", 1) < 0) {}
  int client = 1;
  for (;;) {
    struct pollfd p[2] = { { sfd, POLLIN, 0 }, { client ? c : -1, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) continue;
    if (p[1].revents) {
      unsigned char sig;
      ssize_t n = read(c, &sig, 1);
      if (n == 1 && sig >= 1 && sig < NSIG && sig != SIGKILL && sig != SIGSTOP) {
        if (kill(-child, sig) < 0) kill(child, sig);
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        /* the client is gone: what it started goes too */
        kill(-child, SIGKILL);
        kill(child, SIGKILL);
        client = 0;
      }
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) < 0) {}
      int status;
      if (waitpid(child, &status, WNOHANG) == child) {
        int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (client && send_all(c, &code, sizeof code) < 0) {}
        _exit(0);
      }
    }
  }
}

int enter_arm(void) {
  if (enter_handoff[1] < 0) return 0;
  /* the monitor's ends: only it accepts (and checks who connects) */
  if (enter_listen_fd >= 0) close(enter_listen_fd);
  if (enter_handoff[0] >= 0) close(enter_handoff[0]);
  enter_listen_fd = enter_handoff[0] = -1;
  /* the init waits in sigwaitinfo: a connection handed over raises SIG_ENTER, which it waits for too */
  int h = enter_handoff[1];
  if (fcntl(h, F_SETSIG, SIG_ENTER) < 0 || fcntl(h, F_SETOWN, getpid()) < 0 ||
      fcntl(h, F_SETFL, fcntl(h, F_GETFL) | O_ASYNC | O_NONBLOCK) < 0) {
    debug("enter: can't be served: %s", strerror(errno));
    close(h);
    enter_handoff[1] = -1;
    return 0;
  }
  return 1;
}

void enter_serve(const struct plan *plan) {
  if (enter_handoff[1] < 0) return;
  for (int c; (c = take_connection(enter_handoff[1])) >= 0;) {
    pid_t init = getpid();
    pid_t z = fork();
    if (z == 0) {
      if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != init) _exit(125);
      /* it holds no filter: the program (same uid, no capabilities) must not trace it or open its descriptors */
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      if (error_fd >= 0) close(error_fd);
      error_fd = -1;
      close(enter_handoff[1]);
      signals_to_default();
      title_set("enter");
      serve_one(plan, c);
    }
    close(c);
  }
}

/* ---- the client: `sandbox enter` execs the stage in this mode ---- */

static int parse_pid(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  return *s && !*end && v > 0 && v < (1L << 22) ? (int)v : -1;
}

int enter_client_main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: sandbox-stage --enter DIR NAME MONITOR-PID [--] [COMMAND [ARGS...]]\n(the client of `sandbox enter`)\n");
    return 125;
  }
  const char *dir = argv[2], *name = argv[3];
  int monitor = parse_pid(argv[4]);
  if (monitor < 0) die(125, "enter: bad monitor pid '%s'", argv[4]);
  int first = 5;
  if (argc > first && !strcmp(argv[first], "--")) first++;
  /* Node leaves signals ignored and a mask; what we relay must reach us */
  signals_to_default();
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (dfd < 0) die_errno(125, "%s: %s", name, dir);
  if (fstat(dfd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077)) die(125, "%s: %s is not yours with mode 0700", name, dir);
  size_t nl = strlen(name);
  if (nl < 1 || nl > 64 || name[0] == '.' || strchr(name, '/')) die(125, "enter: bad sandbox name '%.80s'", name);
  char sock[80];
  snprintf(sock, sizeof sock, "%.64s.sock", name);
  if (fstatat(dfd, sock, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid())
    die(125, "%s: this sandbox can't be entered (it runs its program as pid 1, or joined others, or is ending)", name);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%.70s", dfd, sock) >= (int)sizeof a.sun_path) die(125, "%s: socket path too long", name);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "enter: socket");
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die(125, "%s: the sandbox is ending (%s)", name, strerror(errno));
  struct ucred cr;
  socklen_t cl = sizeof cr;
  /* the listener is the monitor the entry names (it made the socket), and ours */
  /* A monitor runs in the caller's user namespace; a process inside a sandbox that made a socket of that name (a
   * registry bound in by hand) is in one below it, and gets neither our descriptors nor a command. */
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != getuid() || cr.pid != monitor || !in_my_userns(cr.pid))
    die(125, "%s: its socket is not served by the sandbox's monitor (pid %d)", name, monitor);
  size_t len = 0;
  for (int i = first; i < argc; i++) len += strlen(argv[i]) + 1;
  if (len > ENTER_MAX_ARGS) die(125, "enter: the command is longer than %u bytes", ENTER_MAX_ARGS);
  char *args = malloc(len + 1);
  if (!args) die(125, "out of memory");
  size_t off = 0;
  for (int i = first; i < argc; i++) {
    size_t n = strlen(argv[i]) + 1;
    memcpy(args + off, argv[i], n);
    off += n;
  }
  struct enter_request req = { ENTER_MAGIC, (uint32_t)(argc - first), (uint32_t)len };
  int fds[3] = { 0, 1, 2 };
  for (int i = 0; i < 3; i++)
    if (fcntl(i, F_GETFD) < 0) die(125, "enter: descriptor %d is not open", i);
  char cbuf[CMSG_SPACE(sizeof fds)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { &req, sizeof req };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t sent;
  do sent = sendmsg(s, &m, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
  int send_err = sent != (ssize_t)sizeof req || send_all(s, args, len) < 0 ? errno : 0;
  free(args);
  char ack = 0;
  /* a refusal may come before the request is taken: the monitor answers and closes at once */
  if (read_all(s, &ack, 1) < 0 && !send_err) die(125, "%s: the sandbox did not start the command (it is ending)", name);
  if (ack == 'R') die(125, "%s: refused: sandbox enter works only from outside every sandbox", name);
  if (send_err) { errno = send_err; die_errno(125, "%s: send the request", name); }
  if (ack != 'S') die(125, "%s: the sandbox did not start the command", name);

  /* like a monitor: signals go on to the entered process; the terminal is put back as it was */
  struct termios tio;
  int tty = -1;
  for (int fd = 0; fd <= 2 && tty < 0; fd++)
    if (tcgetattr(fd, &tio) == 0) tty = fd;
  /* the entered process is in a session of its own: stopping this client (Ctrl-Z) would leave it reading the
   * terminal beside the user's shell, so the client can't be stopped from the terminal */
  if (tty >= 0) {
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
  }
  sigset_t mask;
  sigemptyset(&mask);
  for (size_t i = 0; i < N_RELAYED; i++) sigaddset(&mask, relayed[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) die_errno(125, "signalfd");
  int32_t code = 125;
  for (;;) {
    struct pollfd p[2] = { { sfd, POLLIN, 0 }, { s, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) continue;
    if (p[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        unsigned char sig = (unsigned char)si.ssi_signo;
        if (send_all(s, &sig, 1) < 0) {}
      }
    }
    if (p[1].revents) {
      int32_t got;
      if (read_all(s, &got, sizeof got) == 0) code = got;
      else fprintf(stderr, "sandbox: %s: the sandbox ended\n", name);
      break;
    }
  }
  if (tty >= 0) {
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, NULL);
    tcsetattr(tty, TCSANOW, &tio);
  }
  return code < 0 || code > 255 ? 125 : code;
}
