/* The C stage: reads the plan from an inherited descriptor, creates the namespaces, and stays behind as
 * the monitor. Its child becomes pid 1 of the sandbox: it builds the root, drops privileges, and runs
 * the program (or becomes it with --as-pid-1). Order of work: DESIGN.md section 4. */
#include "util.h"
#include "plan.h"
#include "mounts.h"
#include "join.h"

#include <dirent.h>
#include <fnmatch.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

int error_fd = -1;
int debug_on = 0;

const char *errno_hint(int err) {
  switch (err) {
  case EPERM: return " (unprivileged user namespaces may be disabled: see `sandbox doctor`)";
  case ENOSPC: return " (user.max_user_namespaces or another namespace limit reached)";
  default: return "";
  }
}

/* One line always: control characters in a path or a command name are shown escaped. */
static void one_line(char *out, size_t len, const char *msg) {
  size_t o = 0;
  for (const unsigned char *c = (const unsigned char *)msg; *c && o + 5 < len; c++) {
    if (*c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (*c < 0x20 || *c == 0x7f) o += (size_t)snprintf(out + o, len - o, "\\x%02x", *c);
    else out[o++] = (char)*c;
  }
  out[o] = 0;
}

static void report(int code, const char *raw) {
  char msg[1020];
  one_line(msg, sizeof msg, raw);
  if (error_fd >= 0) {
    struct error_record rec;
    memset(&rec, 0, sizeof rec);
    rec.exit_code = code;
    snprintf(rec.message, sizeof rec.message, "%s", msg);
    ssize_t n;
    do n = write(error_fd, &rec, sizeof rec); while (n < 0 && errno == EINTR);
  } else {
    fprintf(stderr, "%s: %s\n", diagnostic_prefix, msg);
  }
}

void die(int code, const char *fmt, ...) {
  char msg[1000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  report(code, msg);
  _exit(code);
}

void die_errno(int code, const char *fmt, ...) {
  int err = errno;
  char msg[1000];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  report(code, msg);
  _exit(code);
}

void debug(const char *fmt, ...) {
  if (!debug_on) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sandbox:stage[%d] ", getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Signals the monitor and init pass on to the program. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

/* Node leaves signals ignored (SIGPIPE, SIGXFSZ), a mask, O_NONBLOCK on stdio and stray descriptors. */
static void reset_inherited_state(int plan_fd, const int *keep, size_t n_keep) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
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

static void write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno(125, "open %s", path);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) die_errno(125, "write %s", path);
  close(fd);
}

static void bring_up_loopback(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die_errno(125, "lo: get flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die_errno(125, "lo: bring up");
  close(s);
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = { 0 };
  int last = 40;
  if (fd >= 0) {
    if (read(fd, buf, sizeof buf - 1) > 0) last = atoi(buf);
    close(fd);
  }
  return last;
}

static void drop_capabilities(uint64_t keep, int last) {
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die_errno(125, "drop capability %d from the bounding set", c);
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    uint32_t part = (uint32_t)(keep >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = part;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) die_errno(125, "capset");
  /* ambient keeps them across exec for a non-root uid inside */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die_errno(125, "clear ambient capabilities");
  for (int c = 0; c <= last; c++)
    if ((keep & (1ull << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      die_errno(125, "keep capability %d", c);
}

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif
#define LANDLOCK_CREATE_RULESET_VERSION 1u
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET 1u
#define LANDLOCK_SCOPE_SIGNAL 2u

/* Landlock scopes (ABI 6, Linux 6.12): no connecting to abstract unix sockets made outside the sandbox and no
 * signals to processes outside it, even when the network namespace is shared. Debian 12's headers stop before
 * ABI 6, so the ruleset attribute is spelled out: the third u64 is `scoped`. */
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
/* LANDLOCK_ACCESS_FS_*: bits 0-12 since ABI 1 (execute .. make_sym), refer (13) ABI 2, truncate (14) ABI 3,
 * ioctl_dev (15) ABI 5. Read-only: execute, read_file, read_dir. Files take only the file rights. */
#define LL_FS_EXECUTE 1ull
#define LL_FS_WRITE_FILE 2ull
#define LL_FS_READ_FILE 4ull
#define LL_FS_READ_DIR 8ull
#define LL_FS_TRUNCATE (1ull << 14)
#define LL_FS_IOCTL_DEV (1ull << 15)

static uint64_t landlock_fs_rights(long abi) {
  uint64_t all = (1ull << 13) - 1;
  if (abi >= 2) all |= 1ull << 13;
  if (abi >= 3) all |= LL_FS_TRUNCATE;
  if (abi >= 5) all |= LL_FS_IOCTL_DEV;
  return all;
}

/* Landlock: the scopes (when asked), and the profile's filesystem rules (when it has any), in one ruleset. */
static void apply_landlock(const struct plan *plan) {
  if (!plan->landlock_scopes && !plan->n_landlock_paths) return;
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (plan->n_landlock_paths && abi < 1)
    die(125, "%s: this kernel has no Landlock (errno %d): the profile's filesystem rules can't apply", plan->landlock_paths[0].origin, errno);
  unsigned scopes = abi >= 6 ? plan->landlock_scopes : 0;
  if (plan->landlock_scopes && abi < 6 && plan->verbose)
    fprintf(stderr, "sandbox: Landlock %s%ld: no scopes (Linux 6.12+); abstract unix sockets and signals outside are limited only by the namespaces\n",
            abi < 0 ? "unavailable, errno " : "ABI ", abi < 0 ? (long)errno : abi);
  uint64_t fs = plan->n_landlock_paths ? landlock_fs_rights(abi) : 0;
  if (!scopes && !fs) return;
  struct { uint64_t handled_access_fs, handled_access_net, scoped; } attr = { fs, 0, scopes };
  size_t attr_size = abi >= 6 ? sizeof attr : 2 * sizeof(uint64_t) - (abi >= 4 ? 0 : sizeof(uint64_t));
  int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
  if (fd < 0) die_errno(125, "Landlock: create ruleset");
  for (size_t i = 0; i < plan->n_landlock_paths; i++) {
    const struct landlock_path *l = &plan->landlock_paths[i];
    int pfd = open(l->path, O_PATH | O_CLOEXEC);
    if (pfd < 0) die_errno(125, "%s: Landlock rule %s", l->origin, l->path);
    struct stat st;
    uint64_t allowed = l->write ? fs : (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR);
    if (fstat(pfd, &st) == 0 && !S_ISDIR(st.st_mode))
      allowed &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
    struct __attribute__((packed)) { uint64_t allowed_access; int32_t parent_fd; } rule = { allowed & fs, pfd };
    if (syscall(SYS_landlock_add_rule, fd, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &rule, 0) < 0)
      die_errno(125, "%s: Landlock rule %s", l->origin, l->path);
    close(pfd);
  }
  if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) die_errno(125, "Landlock: restrict self");
  close(fd);
}

static void install_seccomp(const struct plan *plan) {
  if (!plan->bpf) return;
  struct sock_fprog prog = { (unsigned short)(plan->bpf_len / 8), (struct sock_filter *)(void *)plan->bpf };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) die_errno(125, "%s: install seccomp filter", plan->seccomp_origin);
  bwrap_install_filters(plan); /* bwrap mode: --seccomp, --add-seccomp-fd */
}

/* execvpe with the plan's environment; exit 127 when not found, 126 when not executable. */
static void exec_program(const struct plan *plan) {
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

/* With the host's pid namespace nothing ends the sandbox's processes when its init goes (a pid namespace dies
 * with its pid 1): the init, a subreaper, kills every descendant itself, until none is left, and the monitor, a
 * subreaper too, does the same for what the init leaves it if the init is killed. The program runs as the same
 * user as both, so neither may depend at the end on anything the program can take away: the list of its own children
 * and the host's /proc are opened before the program starts, so the end needs no new descriptor, and the base filter
 * refuses prlimit on another process (a RLIMIT_NOFILE of 0 on the init once left it unable to open /proc, and its
 * cleanup killed nothing). */
#define SIG_MONITOR_GONE (SIGRTMIN + 1)
#define KILL_PATIENCE_S 10

/* What the init needs at the end, opened before its root was replaced (the sandbox may show no /proc, or another). */
struct reaper {
  int children_fd; /* /proc/thread-self/children of the reaper, read again from offset 0 each round; -1: none */
  int proc_fd;     /* the host's /proc, for the scan where the kernel lists no children */
};
static struct reaper init_reaper = { -1, -1 };

static struct reaper open_reaper(void) {
  struct reaper r = { -1, open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
  if (r.proc_fd >= 0) r.children_fd = openat(r.proc_fd, "thread-self/children", O_RDONLY | O_CLOEXEC);
  return r;
}

struct proc_link { int pid, ppid; };

static int by_pid(const void *a, const void *b) { return ((const struct proc_link *)a)->pid - ((const struct proc_link *)b)->pid; }

static int parent_of(const struct proc_link *all, size_t n, int pid) {
  struct proc_link key = { pid, 0 };
  const struct proc_link *l = bsearch(&key, all, n, sizeof *all, by_pid);
  return l ? l->ppid : 0;
}

static int is_spared(pid_t pid, const pid_t *spare, size_t n_spare) {
  for (size_t i = 0; i < n_spare; i++)
    if (spare[i] == pid) return 1;
  return 0;
}

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The reaper's direct children (zombies included until reaped), read afresh through the descriptor opened at the
 * start: a read from offset 0 of a seq_file starts over. -1 when there is none (no CONFIG_PROC_CHILDREN). At most
 * cap: the next call gets the rest. */
static long read_children(int children_fd, pid_t *out, size_t cap) {
  static char buf[65536];
  if (children_fd < 0) return -1;
  size_t len = 0;
  ssize_t r = 0;
  while (len < sizeof buf - 1 && ((r = pread(children_fd, buf + len, sizeof buf - 1 - len, (off_t)len)) > 0 || (r < 0 && errno == EINTR)))
    if (r > 0) len += (size_t)r;
  if (r < 0 && len == 0) return -1;
  buf[len] = 0;
  size_t n = 0;
  for (char *p = buf; *p && n < cap;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) break;
    if (v > 0 && !(len == sizeof buf - 1 && *end == 0)) out[n++] = (pid_t)v; /* a number cut at the buffer's end waits */
    p = end;
  }
  return (long)n;
}

/* Where the kernel lists no children: one snapshot of /proc per round; a process is ours when its chain of parents
 * reaches us (orphans are reparented to us, a subreaper) without passing a spared process. */
static int kill_by_scan(int proc_fd, const pid_t *spare, size_t n_spare) {
  pid_t self = getpid();
  size_t n = 0, cap = 1024;
  struct proc_link *all = malloc(cap * sizeof *all);
  int dfd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!all || !d) {
    free(all);
    if (d) closedir(d);
    else if (dfd >= 0) close(dfd);
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    char p[64], buf[512];
    snprintf(p, sizeof p, "%d/stat", pid);
    int fd = openat(proc_fd, p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = 0;
    char *rp = strrchr(buf, ')');
    int ppid = 0;
    if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1) continue;
    if (n == cap) {
      struct proc_link *na = realloc(all, (cap *= 2) * sizeof *all);
      if (!na) break;
      all = na;
    }
    all[n++] = (struct proc_link){ pid, ppid };
  }
  closedir(d);
  qsort(all, n, sizeof *all, by_pid);
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    if (is_spared(all[i].pid, spare, n_spare)) continue;
    int p = all[i].ppid, hops = 0;
    while (p > 1 && p != self && !is_spared(p, spare, n_spare) && hops++ < 256) p = parent_of(all, n, p);
    if (p == self) { kill(all[i].pid, SIGKILL); found = 1; }
  }
  free(all);
  return found;
}

/* Kill every descendant of the caller (a subreaper) but the spared children, top down: the direct children, then
 * what the kernel hands us as their children lose their parent, until a round finds none. A process that keeps
 * forking and exiting is a direct child each time its parent dies, so it is met again in the next round; a
 * SIGKILLed process can't fork any more (fork checks for a pending fatal signal). */
static void kill_descendants(const struct reaper *rp, const pid_t *spare, size_t n_spare) {
  static pid_t kids[4096];
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int use_scan = 0;
  for (;;) {
    int found = 0;
    long n = use_scan ? -1 : read_children(rp->children_fd, kids, sizeof kids / sizeof kids[0]);
    if (n < 0) {
      use_scan = 1;
      found = kill_by_scan(rp->proc_fd, spare, n_spare);
    }
    for (long i = 0; i < n; i++)
      if (!is_spared(kids[i], spare, n_spare)) { kill(kids[i], SIGKILL); found = 1; }
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    if (!found) return;
    if (seconds_since(&t0) > KILL_PATIENCE_S) {
      debug("processes still alive after %d s of SIGKILL", KILL_PATIENCE_S);
      return;
    }
    usleep(use_scan ? 2000 : 200);
  }
}

/* The init's end with the host's pid namespace: what a pid namespace's end would have done. */
static void init_kill_descendants(void) {
  if (init_reaper.proc_fd < 0) init_reaper = open_reaper();
  kill_descendants(&init_reaper, NULL, 0);
}

/* --join with a private pid namespace: the first member's init is pid 1 of every member's programs, and its end
 * would kill them all. When its own program is done it tells the monitor (pidns_done_fd) and goes on reaping
 * until the monitor, which watches the key's members under the key's lock, lets it go (pidns_go_fd: a byte, or
 * EOF when the monitor is gone); then it exits with the program's status. */
static int pidns_go_fd = -1, pidns_done_fd = -1;

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

static __attribute__((noreturn)) void run_init(const struct plan *plan) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler; /* pid 1 only receives signals it has a handler for */
  for (size_t i = 0; i < N_FORWARDED; i++) {
    sigaddset(&set, forwarded[i]);
    sigaction(forwarded[i], &sa, NULL);
  }
  if (plan->share_pid) {
    /* without a pid namespace of its own, orphans would go to the host's init: keep them here, and when the
     * monitor dies, take them all down rather than dying at once */
    sigaddset(&set, SIG_MONITOR_GONE);
    sigaction(SIG_MONITOR_GONE, &sa, NULL);
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
    for (size_t i = 0; i < N_FORWARDED; i++) sigaction(forwarded[i], &sa, NULL);
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

struct child_args {
  const struct plan *plan;
  int sync_fd;  /* read end: the monitor writes one byte when the maps are written */
  int ready_fd; /* write end, for --join: one byte once the namespaces are complete (-1: not asked) */
  int done_fd;  /* write end, for --join with a private pid namespace: see hold_pid_namespace (-1: not asked) */
};

static void say_ready(int fd) {
  if (fd < 0) return;
  ssize_t n;
  do n = write(fd, "r", 1); while (n < 0 && errno == EINTR);
  close(fd);
}

static void finish_cgroup(const struct plan *plan, int kill_fd);

/* One Landlock domain for the members of a key that share a private pid namespace. A domain is inherited, never
 * joined, and it keeps ptrace and process_vm_readv (Open MPI's single-copy CMA) inside itself; so the first
 * member's init enters the domain before it starts anything, and a spawner it forks starts every later member:
 * the later member's monitor connects to the key's spawn socket and sends the process part of its plan (plan wire
 * form) with its stdio, its kept descriptors and its error pipe; the spawner forks that member's init (a subreaper,
 * as with the host's pid namespace), passes on signal numbers sent on the connection, and sends back the exit
 * status. The joiner's own cgroup limits do not apply (the member runs in the first one's cgroup). */
static int spawn_listen_fd = -1;
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
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < k; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (*n_fds < SPAWN_MAX_FDS) fds[(*n_fds)++] = fd; else close(fd);
      }
    }
  return n;
}

static int read_full(int fd, void *buf, size_t len);
/* The rest of a buffer whose first part recv_with_fds read. */
static int read_rest(int fd, void *buf, size_t len) {
  return (size_t)last_recv >= len ? 0 : read_full(fd, (char *)buf + last_recv, len - (size_t)last_recv);
}

static int read_full(int fd, void *buf, size_t len) {
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
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
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) _exit(125);
  struct spawn_conn conns[256];
  size_t n_conns = 0;
  for (;;) {
    struct pollfd p[2 + 256];
    p[0] = (struct pollfd){ lfd, POLLIN, 0 };
    p[1] = (struct pollfd){ sfd, POLLIN, 0 };
    for (size_t i = 0; i < n_conns; i++) p[2 + i] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
    if (poll(p, 2 + n_conns, -1) < 0) continue;
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
        !(msg = malloc(len)) || read_full(c, msg, len) < 0) {
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
static const struct plan *start_spawner(const struct plan *plan) {
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

/* A token of the plan wire form. */
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
static int run_remote_member(const struct plan *plan, const int *ns_fds) {
  int conn = join_connect_spawn();
  if (conn < 0) die(125, "--join: the sandboxes of this key are ending (their first member is gone); start again");
  char *msg = NULL;
  size_t len = 0, cap = 0;
  tok_s(&msg, &len, &cap, "sandbox-plan"); tok_n(&msg, &len, &cap, PLAN_VERSION);
  tok_s(&msg, &len, &cap, "cwd"); tok_s(&msg, &len, &cap, plan->cwd);
  tok_s(&msg, &len, &cap, "cwd-fallback"); tok_n(&msg, &len, &cap, (unsigned)plan->cwd_fallback);
  tok_s(&msg, &len, &cap, "new-session"); tok_n(&msg, &len, &cap, (unsigned)plan->new_session);
  tok_s(&msg, &len, &cap, "as-pid-1"); tok_n(&msg, &len, &cap, (unsigned)plan->as_pid1);
  for (int c = 0; c < 64; c++)
    if (plan->caps & (1ull << c)) { tok_s(&msg, &len, &cap, "cap"); tok_n(&msg, &len, &cap, (unsigned)c); }
  for (size_t i = 0; i < plan->n_keep_fds; i++) { tok_s(&msg, &len, &cap, "keep-fd"); tok_n(&msg, &len, &cap, (unsigned)plan->keep_fds[i]); }
  for (size_t i = 0; i < plan->n_env; i++) { tok_s(&msg, &len, &cap, "env"); tok_s(&msg, &len, &cap, plan->env[i]); }
  for (size_t i = 0; i < plan->n_argv; i++) { tok_s(&msg, &len, &cap, "argv"); tok_s(&msg, &len, &cap, plan->argv[i]); }
  if (plan->bpf) {
    tok_s(&msg, &len, &cap, "seccomp"); tok_s(&msg, &len, &cap, plan->seccomp_origin ? plan->seccomp_origin : "seccomp");
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
  if (read_full(conn, &ack, 1) < 0 || ack != 'S') die(125, "--join: the spawner did not start this member");
  join_update(1, ns_fds, 0, plan->join_policy);
  join_unlock();

  sigset_t mask;
  sigemptyset(&mask);
  for (size_t i = 0; i < N_FORWARDED; i++) sigaddset(&mask, forwarded[i]);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) die_errno(125, "signalfd");
  struct error_record rec;
  int have_record = 0, code = 137, err_open = 1;
  for (;;) {
    struct pollfd p[3] = { { sfd, POLLIN, 0 }, { err_open ? errp[0] : -1, POLLIN, 0 }, { conn, POLLIN, 0 } };
    if (poll(p, 3, -1) < 0) continue;
    if (p[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        unsigned char sig = (unsigned char)si.ssi_signo;
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
      if (read_full(conn, &got, sizeof got) == 0) code = got;
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

/* With CAP_SYS_ADMIN kept, the program could unmount the read-only covers over sandbox's own files, or remount
 * any read-only bind read-write, since the mounts belong to its own user namespace. A user and mount namespace
 * nested under the one that built the root make the kernel lock them all: no unmounting one mount of the tree,
 * no clearing read-only, no bind that would show what a mount covers. The ids map to themselves. */
static void lock_mounts(const struct plan *plan) {
  if (!(plan->caps & (1ull << CAP_SYS_ADMIN))) return;
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (access("/proc/self/uid_map", F_OK) < 0) die(125, "CAP_SYS_ADMIN kept: locking the sandbox's mounts needs /proc inside (add --proc /proc)");
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) die_errno(125, "CAP_SYS_ADMIN kept: lock the sandbox's mounts (nested user namespace)");
  char line[64];
  write_file("/proc/self/setgroups", "deny");
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  write_file("/proc/self/uid_map", line);
  snprintf(line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  write_file("/proc/self/gid_map", line);
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
static __attribute__((noreturn)) void joined_child_main(const struct plan *plan, const int *ns_fds, int ready_fd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno(125, "PR_SET_PDEATHSIG");
  join_enter(ns_fds);
  say_ready(ready_fd);
  if (plan->new_session && setsid() < 0) die_errno(125, "setsid");
  finish_init(plan);
}

static __attribute__((noreturn)) void child_main(const struct child_args *ca) {
  const struct plan *plan = ca->plan;
  /* the monitor dying takes the sandbox down */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno(125, "PR_SET_PDEATHSIG");
  char go;
  ssize_t n;
  do n = read(ca->sync_fd, &go, 1); while (n < 0 && errno == EINTR);
  if (n != 1) _exit(125); /* the monitor is gone */
  bwrap_child_start(plan); /* bwrap mode: the monitor's descriptors */
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

static long try_clone3(uint64_t flags, int cgroup_fd) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
  } args;
  memset(&args, 0, sizeof args);
  args.flags = flags | (cgroup_fd >= 0 ? 0x200000000ULL /* CLONE_INTO_CGROUP */ : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
  return syscall(SYS_clone3, &args, sizeof args);
}

/* After the program ends: report limits that were hit, then remove the leaf cgroup. */
static long read_counter(const char *dir, const char *file, const char *key) {
  char path[4096], buf[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  size_t kl = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (!strncmp(line, key, kl) && line[kl] == ' ') return atol(line + kl + 1);
  return -1;
}

static void finish_cgroup(const struct plan *plan, int kill_fd) {
  const char *leaf = plan->cgroup_leaf;
  if (!leaf) return;
  long oom = read_counter(leaf, "memory.events", "oom_kill");
  long pmax = read_counter(leaf, "pids.events", "max");
  if (oom > 0 && plan->cgroup_memory_label)
    fprintf(stderr, "sandbox: memory limit reached (%s): the kernel killed %ld process%s\n", plan->cgroup_memory_label, oom, oom == 1 ? "" : "es");
  if (pmax > 0 && plan->cgroup_pids_label)
    fprintf(stderr, "sandbox: process limit reached (%s): %ld fork%s refused\n", plan->cgroup_pids_label, pmax, pmax == 1 ? " was" : "s were");
  /* every process left in the leaf, at once (Linux 5.14+); kill_fd was opened before the program ran */
  if (kill_fd >= 0) {
    if (write(kill_fd, "1", 1) < 0) debug("cgroup.kill: %s", strerror(errno));
    close(kill_fd);
  }
  for (int i = 0; i < 200 && rmdir(leaf) < 0 && errno == EBUSY; i++) usleep(5000);
  for (size_t i = 0; i < plan->n_cgroup_remove; i++) rmdir(plan->cgroup_remove[i]);
}

#ifndef TIOCGEXCL
#define TIOCGEXCL _IOR('T', 0x40, int)
#endif

/* The user's terminal as the sandbox found it. The program shares it (fds 0-2, with --new-session too) and what it
 * sets there stays set after it ends: echo, line editing and signals off left the user's shell blind, stopped output
 * (tcflow TCOOFF) freezes it, and a foreground group of its own, gone with the sandbox, leaves a script that ran
 * sandbox reading from the background (SIGTTIN). Exclusive mode is refused by the base filter (item tiocexcl); it is
 * cleared here too, for a policy that loosened the item. */
struct saved_terminal {
  int fd;             /* the first of 0-2 that is a terminal; -1: none */
  struct termios tio;
  pid_t fg;           /* its foreground group at the start (ours, unless sandbox started in the background); 0 where
                       * it is not our controlling terminal */
  int excl;           /* exclusive mode at the start (TIOCGEXCL); -1: unknown */
};

/* Before the program starts. Reading needs no foreground: a background sandbox is saved too. */
static struct saved_terminal save_terminal(void) {
  struct saved_terminal st = { -1, { 0 }, 0, -1 };
  for (int fd = 0; fd <= 2; fd++)
    if (tcgetattr(fd, &st.tio) == 0) { st.fd = fd; break; }
  if (st.fd < 0) return st;
  pid_t fg = tcgetpgrp(st.fd); /* ENOTTY unless it is our controlling terminal: then no job control to keep */
  st.fg = fg > 0 ? fg : 0;
  int excl;
  if (ioctl(st.fd, TIOCGEXCL, &excl) == 0) st.excl = excl;
  debug("terminal on fd %d, foreground group %d (ours %d), exclusive %d", st.fd, (int)st.fg, (int)getpgrp(), st.excl);
  return st;
}

/* After the sandbox's last process is gone, however it ended. Settings are put back only where the terminal was
 * ours at the start and is again now: where another live group (the user's shell, after `bg`) holds the foreground,
 * its modes are its own, and what a sandbox started in the background saved may be the shell's line-editing modes
 * of that moment (echo off), not the ones to come back to. */
static void restore_terminal(const struct saved_terminal *st) {
  if (st->fd < 0) return;
  /* a background process changing its terminal gets SIGTTOU, unless it blocks it; the program may have left us there */
  sigset_t ttou;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, NULL);
  int ours = 1;
  if (st->fg > 0) {
    pid_t fg = tcgetpgrp(st->fd);
    /* a group the program made foreground (a shell inside with job control) is empty now: give the terminal back */
    if (fg > 0 && fg != st->fg && kill(-fg, 0) < 0 && errno == ESRCH) {
      if (tcsetpgrp(st->fd, st->fg) == 0) fg = st->fg;
      else debug("give the terminal back to group %d: %s", (int)st->fg, strerror(errno));
    }
    ours = fg == getpgrp() && st->fg == getpgrp();
  }
  if (ours) {
    if (tcflow(st->fd, TCOON) < 0) debug("tcflow TCOON: %s", strerror(errno));
    if (tcsetattr(st->fd, TCSANOW, &st->tio) < 0) debug("restore the terminal's settings: %s", strerror(errno));
  }
  int excl;
  if (st->excl == 0 && ioctl(st->fd, TIOCGEXCL, &excl) == 0 && excl && ioctl(st->fd, TIOCNXCL) < 0)
    debug("TIOCNXCL: %s", strerror(errno));
}

/* A compiled plan's environment: the caller's, filtered by the profile's rules, with the plan's values on top. */
static const char **build_env(const struct plan *plan) {
  extern char **environ;
  size_t n = 0;
  for (char **e = environ; *e; e++) n++;
  const char **out = calloc(n + plan->n_env + 2, sizeof *out);
  if (!out) die(125, "out of memory");
  size_t o = 0;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    char name[256];
    size_t len = (size_t)(eq - *e);
    if (len >= sizeof name) continue;
    memcpy(name, *e, len);
    name[len] = 0;
    int keep = !plan->env_clear;
    for (size_t i = 0; !keep && i < plan->n_env_keep; i++) keep = fnmatch(plan->env_keep[i], name, 0) == 0;
    for (size_t i = 0; keep && i < plan->n_env_unset; i++) keep = fnmatch(plan->env_unset[i], name, 0) != 0;
    for (size_t i = 0; keep && i < plan->n_env; i++) /* the plan's own values win */
      keep = !(strncmp(plan->env[i], name, len) == 0 && plan->env[i][len] == '=');
    if (keep && strcmp(name, "SANDBOX_PARENT_PID")) out[o++] = *e;
  }
  int has_path = 0;
  for (size_t i = 0; i < plan->n_env; i++) {
    out[o++] = plan->env[i];
    if (!strncmp(plan->env[i], "PATH=", 5)) has_path = 1;
  }
  for (size_t i = 0; !has_path && i < o; i++) has_path = !strncmp(out[i], "PATH=", 5);
  if (!has_path) out[o++] = "PATH=/usr/local/bin:/usr/bin:/bin";
  out[o] = NULL;
  return out;
}

/* This boot's id: device and inode numbers of bound paths hold only within one boot of one machine (a tmpfs
 * /tmp is new at each boot, another node has its own). */
static int same_boot(const char *boot_id) {
  char buf[64] = { 0 };
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || !boot_id) { if (fd >= 0) close(fd); return 0; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
  return n > 0 && !strcmp(buf, boot_id);
}

/* A compiled plan refuses to run when what it was built from changed: a profile file edited, a bound path gone
 * or, in the boot it was compiled in, replaced by another one (a directory swapped for a symlink to the home). */
static void check_inputs(const struct plan *plan, const char *file) {
  int boot = same_boot(plan->boot_id);
  for (size_t i = 0; i < plan->n_inputs; i++) {
    const struct plan_input *in = &plan->inputs[i];
    struct stat st;
    int ok = stat(in->path, &st) == 0;
    if (in->kind == 3) {
      if (ok && boot && ((uint64_t)st.st_dev != in->a || (uint64_t)st.st_ino != in->b))
        die(125, "%s: %s is not the one the plan was compiled with (another file or directory is there now, or a symlink leads elsewhere): run sandbox compile again", file, in->path);
      continue;
    }
    if (in->kind == 1) {
      if (!ok || (uint64_t)st.st_mtim.tv_sec != in->a || (uint64_t)st.st_mtim.tv_nsec != in->b || (uint64_t)st.st_size != in->c)
        die(125, "%s: %s changed since the plan was compiled (run sandbox compile again)", file, in->path);
    } else {
      if (!ok && in->b) continue; /* optional and missing: the -try bind is skipped */
      if (!ok) die(125, "%s: %s is gone since the plan was compiled", file, in->path);
      if ((in->a == 1) != (S_ISDIR(st.st_mode) != 0))
        die(125, "%s: %s is %s now, not %s as when the plan was compiled", file, in->path, S_ISDIR(st.st_mode) ? "a directory" : "a file", in->a == 1 ? "a directory" : "a file");
    }
  }
}

/* A plan file runs outside any sandbox: one that someone else could have written decides what runs as us. */
static void check_plan_file(int fd, const char *file) {
  struct stat st;
  if (fstat(fd, &st) < 0) die_errno(125, "%s", file);
  if (!S_ISREG(st.st_mode)) die(125, "%s: not a regular file", file);
  if (st.st_uid != getuid()) die(125, "%s: owned by uid %u, not by you (uid %u): a plan runs only for the user who compiled it", file, (unsigned)st.st_uid, (unsigned)getuid());
  if (st.st_mode & 022) die(125, "%s: writable by others (mode %03o): chmod go-w it, or compile it again", file, (unsigned)(st.st_mode & 0777));
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
  if (compiled ? argc < 2 : (argc != 3 || strcmp(argv[1], "--plan-fd"))) {
    fprintf(stderr, compiled ? "usage: sandbox-exec PLAN [--] [COMMAND [ARGS...]]\n(runs a plan written by `sandbox compile`, without Node)\n"
                             : "usage: sandbox-stage --plan-fd N\n(the C stage of sandbox; it reads a plan written by `sandbox run`)\n");
    return 125;
  }
  int plan_fd = compiled ? open(argv[1], O_RDONLY | O_CLOEXEC) : parse_fd_arg(argv[2]);
  if (plan_fd < 0) die_errno(125, "%s", argv[1]);
  if (compiled) check_plan_file(plan_fd, argv[1]);
  size_t len;
  unsigned char *buf = read_plan(plan_fd, &len);
  size_t skip = 0;
  if (compiled && len > 2 && buf[0] == '#' && buf[1] == '!') { /* the plan file may be executable: #!.../sandbox-exec */
    while (skip < len && buf[skip] != '\n') skip++;
    if (skip < len) skip++;
  }
  struct plan plan;
  char err[512];
  if (plan_parse(buf + skip, len - skip, &plan, err, sizeof err) < 0) die(125, "%s%s%s", compiled ? argv[1] : "", compiled ? ": " : "", err);
  if (plan.bw.diagnostic_prefix) diagnostic_prefix = plan.bw.diagnostic_prefix; /* bwrap mode */
  if (compiled) {
    int first = 2;
    if (argc > first && !strcmp(argv[first], "--")) first++;
    if (argc > first) { /* the command line's command replaces the plan's */
      plan.argv = (const char **)argv + first;
      plan.n_argv = (size_t)(argc - first);
    }
    if (plan.n_argv == 0) die(125, "%s: no command (the plan has none: sandbox-exec PLAN -- COMMAND)", argv[1]);
    check_inputs(&plan, argv[1]);
    if (plan.env_rules) {
      plan.env = build_env(&plan);
      size_t n = 0;
      while (plan.env[n]) n++;
      plan.n_env = n;
    }
  }
  reset_inherited_state(compiled ? -1 : plan_fd, plan.keep_fds, plan.n_keep_fds);
  if (!compiled) close(plan_fd);
  for (size_t i = 0; i < plan.n_ops; i++)
    if (plan.ops[i].kind == OP_DATA && fcntl(plan.ops[i].u.data.fd, F_GETFD) < 0)
      die(125, "%s: descriptor %d is not open", plan.ops[i].origin, plan.ops[i].u.data.fd);

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
  for (size_t i = 0; i < N_FORWARDED; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);

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
      int code = run_remote_member(&plan, ns_fds);
      restore_terminal(&terminal);
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
  close(sync[0]);
  close(errp[1]);
  debug("child %ld (cgroup %s)", pid, placed ? "by clone3" : plan.cgroup_leaf ? "by cgroup.procs" : "none");
  /* opened before the program runs: at the end it may have taken away what opening needs */
  int cgroup_kill_fd = cgroup_fd >= 0 ? openat(cgroup_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC) : -1;

  /* The one-entry maps: the caller's own uid and gid, shown inside as plan.uid and plan.gid. */
  char path[64], line[64];
  if (cgroup_fd >= 0 && !placed) {
    char procs[4096];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", plan.cgroup_leaf);
    snprintf(line, sizeof line, "%ld", pid);
    write_file(procs, line);
  }
  if (!member && plan.bw.userns_fd < 0 && plan.bw.userns_block_fd < 0) { /* bwrap mode: --userns brings its maps; with --userns-block-fd another writes them */
    snprintf(path, sizeof path, "/proc/%ld/setgroups", pid);
    write_file(path, "deny");
    snprintf(path, sizeof path, "/proc/%ld/uid_map", pid);
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan.uid, (unsigned)getuid());
    write_file(path, line);
    snprintf(path, sizeof path, "/proc/%ld/gid_map", pid);
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)plan.gid, (unsigned)getgid());
    write_file(path, line);
  }
  bwrap_monitor_started(&plan, (pid_t)pid); /* bwrap mode: --info-fd, --json-status-fd (while its namespaces surely exist) */
  if (!member && write(sync[1], "1", 1) != 1) die_errno(125, "release the sandbox");
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
  int have_record = 0, status = 0, err_open = 1, holding = 0, left = 0;
  for (;;) {
    struct pollfd pfd[3] = { { sfd, POLLIN, 0 }, { err_open ? errp[0] : -1, POLLIN, 0 }, { done[0], POLLIN, 0 } };
    int ready_n = poll(pfd, 3, holding && go_fd >= 0 ? 100 : -1);
    if (ready_n < 0) {
      if (errno == EINTR) continue;
      die_errno(125, "poll");
    }
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
  if (plan.join_dir && !left) {
    join_lock(plan.join_dir);
    join_update(0, ns_fds, getpid(), plan.join_policy);
    join_unlock();
  }
  if (have_record) {
    print_error_record(&plan, &rec);
    return bwrap_monitor_exit(&plan, rec.exit_code);
  }
  if (WIFEXITED(status)) return bwrap_monitor_exit(&plan, WEXITSTATUS(status)); /* bwrap mode: the status line */
  if (WIFSIGNALED(status)) return bwrap_monitor_exit(&plan, 128 + WTERMSIG(status));
  return bwrap_monitor_exit(&plan, 125);
}
