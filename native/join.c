/* Joined sandboxes (--join KEY): the sandboxes of one user on one node that name the same key share one user,
 * mount, ipc, uts and cgroup namespace (and the network and pid namespaces when those are new), so that MPI ranks
 * can use single-copy shared memory (CMA needs the peers in one user namespace). The first creates them; the
 * others setns into them, which an unprivileged user may do for namespaces it owns.
 * The inits are not dumpable (the program may not ptrace them), so their /proc/PID/ns links can't be opened:
 * each member's monitor holds descriptors of the namespaces, and the members file lists
 * "MONITOR-PID USERNS-INODE FD..." for the live ones; a joiner opens /proc/MONITOR-PID/fd/FD.
 * A lock file in the key's directory serialises starts and exits. */
#include "util.h"
#include "join.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

static int lock_fd = -1;
static char members_path[4096], lock_path[4096], dir_path[4096];

static const struct { const char *name; int type; } kinds[JOIN_NS] = {
  { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "cgroup", CLONE_NEWCGROUP }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID },
};

/* mkdir -p, each level mode 0700 (the runtime directory's sandbox/join/KEY) */
static int mkdir_parents(const char *dir) {
  char p[4096];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0700) < 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* flock the lock file, making sure it is still the file at that path (a last member may have removed it). */
void join_lock(const char *dir) {
  snprintf(dir_path, sizeof dir_path, "%s", dir);
  snprintf(lock_path, sizeof lock_path, "%s/lock", dir);
  snprintf(members_path, sizeof members_path, "%s/members", dir);
  for (int tries = 0; tries < 100; tries++) {
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT && mkdir_parents(dir) == 0) continue;
    if (fd < 0) die_errno(125, "--join: %s", lock_path);
    if (flock(fd, LOCK_EX) < 0) die_errno(125, "--join: lock %s", lock_path);
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(lock_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      lock_fd = fd;
      return;
    }
    close(fd);
  }
  die(125, "--join: could not lock %s", lock_path);
}

/* In a forked child: drop our copy of the lock's descriptor. flock belongs to the open file, so an init that
 * kept it would hold the key's lock for its whole life; closing a copy leaves the monitor's lock in place. */
void join_forget_lock(void) {
  if (lock_fd >= 0) close(lock_fd);
  lock_fd = -1;
}

void join_unlock(void) {
  if (lock_fd >= 0) close(lock_fd);
  lock_fd = -1;
}

static unsigned long long inode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

struct member { int pid; unsigned long long ino; int fd[JOIN_NS]; };

static int read_member(FILE *f, struct member *m) {
  if (fscanf(f, "%d %llu", &m->pid, &m->ino) != 2) return 0;
  for (int i = 0; i < JOIN_NS; i++)
    if (fscanf(f, "%d", &m->fd[i]) != 1) return 0;
  return 1;
}

static int member_alive(const struct member *m) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/%d", m->pid, m->fd[0]);
  return m->pid > 0 && m->fd[0] >= 0 && m->ino && inode_of(p) == m->ino;
}

/* Open a live member's namespaces into fds (-1 where it holds none); returns 0 when there is no live member.
 * Call with the lock held. */
int join_open_member(int fds[JOIN_NS]) {
  FILE *f = fopen(members_path, "re");
  if (!f) return 0;
  struct member m;
  int found = 0;
  while (!found && read_member(f, &m)) {
    if (!member_alive(&m)) continue;
    found = 1;
    for (int i = 0; i < JOIN_NS; i++) {
      fds[i] = -1;
      if (m.fd[i] < 0) continue;
      char p[64];
      snprintf(p, sizeof p, "/proc/%d/fd/%d", m.pid, m.fd[i]);
      fds[i] = open(p, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0) die_errno(125, "--join: open the %s namespace held by %d", kinds[i].name, m.pid);
    }
  }
  fclose(f);
  return found;
}

/* Descriptors of a fresh sandbox's namespaces, opened while its init is still dumpable. */
void join_hold(pid_t child, int share_net, int share_pid, int fds[JOIN_NS]) {
  for (int i = 0; i < JOIN_NS; i++) {
    fds[i] = -1;
    if ((kinds[i].type == CLONE_NEWNET && share_net) || (kinds[i].type == CLONE_NEWPID && share_pid)) continue;
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)child, kinds[i].name);
    fds[i] = open(p, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die_errno(125, "--join: hold %s", p);
  }
}

/* Rewrite the members file: dead entries and `drop` out, this monitor (with `fds`) in when `add`. Lock held. */
void join_update(int add, const int fds[JOIN_NS], pid_t drop) {
  FILE *f = fopen(members_path, "re");
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.new", members_path);
  FILE *o = fopen(tmp, "we");
  if (!o) die_errno(125, "--join: %s", tmp);
  struct member m;
  int n = 0;
  pid_t self = getpid();
  while (f && read_member(f, &m)) {
    if (m.pid == drop || m.pid == self || !member_alive(&m)) continue;
    fprintf(o, "%d %llu", m.pid, m.ino);
    for (int i = 0; i < JOIN_NS; i++) fprintf(o, " %d", m.fd[i]);
    fputc('\n', o);
    n++;
  }
  if (f) fclose(f);
  if (add) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fds[0]);
    fprintf(o, "%d %llu", (int)self, inode_of(p));
    for (int i = 0; i < JOIN_NS; i++) fprintf(o, " %d", fds[i]);
    fputc('\n', o);
    n++;
  }
  if (fclose(o) != 0) die_errno(125, "--join: write %s", tmp);
  if (n == 0) {
    /* the last member: nothing is left behind (a waiter re-checks the lock file's identity) */
    unlink(tmp);
    unlink(members_path);
    unlink(lock_path);
    rmdir(dir_path);
    return;
  }
  if (rename(tmp, members_path) < 0) die_errno(125, "--join: %s", members_path);
}

/* In a forked child: enter the namespaces, user first (it grants the rights for the rest). */
void join_enter(const int fds[JOIN_NS]) {
  for (int i = 0; i < JOIN_NS; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], kinds[i].type) < 0) die_errno(125, "--join: enter the %s namespace", kinds[i].name);
  }
}
