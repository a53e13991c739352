/* The monitor's side of the registry of running sandboxes (lib/running/registry.ts writes the entry NAME.json
 * before the hand-off, in $XDG_RUNTIME_DIR/sandbox/running or its fallback): the `enter` socket NAME.sock beside
 * it, their removal at the end, and the titles that say in `ps` what each process of a sandbox is.
 * The directory is the caller's, mode 0700, checked here again through the descriptor every later step uses;
 * every sandbox has it hidden (lib/plan/build.ts hideOwnState), so no sandboxed program reaches the socket. */
#include "util.h"
#include "registry.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int enter_listen_fd = -1;
int enter_handoff[2] = { -1, -1 };
static int reg_dir_fd = -1;
static char reg_name[65]; /* the plan's name: 1 to 64 bytes (plan.c checks) */

static void socket_address(struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%.64s.sock", reg_dir_fd, reg_name) >= (int)sizeof a->sun_path)
    die(125, "--name %s: socket path too long", reg_name);
}

void registry_open(const struct plan *plan) {
  if (!plan->registry_name) return;
  snprintf(reg_name, sizeof reg_name, "%.64s", plan->registry_name);
  reg_dir_fd = open(plan->registry_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (reg_dir_fd < 0) die_errno(125, "--name %s: open %s", reg_name, plan->registry_dir);
  struct stat st;
  if (fstat(reg_dir_fd, &st) < 0) die_errno(125, "--name %s: %s", reg_name, plan->registry_dir);
  if (st.st_uid != getuid() || (st.st_mode & 077))
    die(125, "--name %s: %s is not yours with mode 0700 (sandbox's registry of running sandboxes)", reg_name, plan->registry_dir);
  if (!plan->registry_enter) return;
  struct sockaddr_un a;
  socket_address(&a);
  if (unlinkat(reg_dir_fd, strrchr(a.sun_path, '/') + 1, 0) < 0 && errno != ENOENT)
    die_errno(125, "--name %s: remove the old %s.sock", reg_name, reg_name);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "--name %s: socket", reg_name);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0)
    die_errno(125, "--name %s: listen on %s/%s.sock", reg_name, plan->registry_dir, reg_name);
  enter_listen_fd = s;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, enter_handoff) < 0) die_errno(125, "--name %s: socketpair", reg_name);
}

void registry_after_clone(void) {
  if (enter_handoff[1] >= 0) close(enter_handoff[1]);
  enter_handoff[1] = -1;
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int in_my_userns(pid_t pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
  return same_file(p, "/proc/self/ns/user");
}

/* The client is in this monitor's user namespace: a process in any sandbox is in one of its own, below it. The socket
 * is hidden in every sandbox; this holds even for one whose plan could not hide it (started before the registry
 * directory existed). The pid is checked through a pidfd where the kernel gives one (6.5+), so a client that exits
 * and whose pid is reused meanwhile is not mistaken for the new process. */
static int client_outside(int c) {
  struct ucred cr;
  socklen_t cl = sizeof cr;
  if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != getuid() || cr.pid <= 0) return 0;
  int pidfd = -1;
  socklen_t pl = sizeof pidfd;
  if (getsockopt(c, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pl) < 0) pidfd = -1;
  int ok = in_my_userns(cr.pid);
  if (pidfd >= 0) {
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) ok = 0; /* gone: the pid may be another's now */
    close(pidfd);
  }
  return ok;
}

void registry_accept(void) {
  int c = accept4(enter_listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return;
  if (!client_outside(c)) {
    debug("enter: a client inside a sandbox, or not ours: refused");
    if (send(c, "R", 1, MSG_NOSIGNAL) < 0) {}
    close(c);
    return;
  }
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  char byte = 'c';
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &c, sizeof c);
  if (sendmsg(enter_handoff[0], &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && send(c, "E", 1, MSG_NOSIGNAL) < 0) {}
  close(c);
}

void registry_remove(void) {
  if (enter_listen_fd >= 0) close(enter_listen_fd);
  enter_listen_fd = -1;
  if (reg_dir_fd < 0) return;
  char file[80];
  snprintf(file, sizeof file, "%.64s.sock", reg_name);
  if (unlinkat(reg_dir_fd, file, 0) < 0 && errno != ENOENT) debug("remove %s: %s", file, strerror(errno));
  snprintf(file, sizeof file, "%.64s.json", reg_name);
  if (unlinkat(reg_dir_fd, file, 0) < 0 && errno != ENOENT) debug("remove %s: %s", file, strerror(errno));
  close(reg_dir_fd);
  reg_dir_fd = -1;
}

/* The argument area the kernel shows as /proc/PID/cmdline: argv[0] (Node passed the title there) and, after
 * it, the stage's own arguments, read already. Writing inside it changes nothing the stage still uses. */
static char *area, *base_title;
static size_t area_len;

static int titled;

void title_init(int argc, char **argv, const struct plan *plan) {
  if (!plan->registry_name || argc < 1) return;
  snprintf(reg_name, sizeof reg_name, "%.64s", plan->registry_name);
  titled = 1; /* comm is set whatever the argument area: `sandbox stop` and `ps` check it */
  char *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
  int contiguous = 1;
  for (int i = 1; i < argc; i++)
    if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1) contiguous = 0; /* not one area: leave it */
  if (contiguous && (base_title = strdup(argv[0]))) {
    area = argv[0];
    area_len = (size_t)(end - area);
  }
  title_set(NULL);
}

void title_set(const char *role) {
  if (!titled) return;
  /* comm holds 15 bytes: "sandbox:NAME", "init:NAME", "enter:NAME", cut where it must be */
  char comm[96];
  snprintf(comm, sizeof comm, "%s:%.64s", role ? role : "sandbox", reg_name);
  comm[15] = 0;
  prctl(PR_SET_NAME, comm, 0, 0, 0);
  if (!area) return;
  memset(area, 0, area_len);
  snprintf(area, area_len, "%s%s%s", base_title, role ? " " : "", role ? role : "");
}
