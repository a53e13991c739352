/* Ending every descendant of a subreaper: the init's end with the host's pid namespace, and the monitor's when the
 * init was killed. */
#include "reaper.h"
#include "util.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* With the host's pid namespace nothing ends the sandbox's processes when its init goes (a pid namespace dies
 * with its pid 1): the init, a subreaper, kills every descendant itself, until none is left, and the monitor, a
 * subreaper too, does the same for what the init leaves it if the init is killed. The program runs as the same
 * user as both, so neither may depend at the end on anything the program can take away: the list of its own children
 * and the host's /proc are opened before the program starts, so the end needs no new descriptor, and the base filter
 * refuses prlimit on another process (a RLIMIT_NOFILE of 0 on the init once left it unable to open /proc, and its
 * cleanup killed nothing). */
#define KILL_PATIENCE_S 10

struct reaper open_reaper(void) {
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
long read_children(int children_fd, pid_t *out, size_t cap) {
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
void kill_descendants(const struct reaper *rp, const pid_t *spare, size_t n_spare) {
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
