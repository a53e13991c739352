/* Joined sandboxes (--join KEY): the sandboxes of one user on one node that name the same key share one user,
 * mount, ipc, uts and cgroup namespace (and the network and pid namespaces when those are new), so that MPI ranks
 * can use single-copy shared memory (CMA needs the peers in one user namespace). The first creates them; the
 * others setns into them, which an unprivileged user may do for namespaces it owns.
 * The inits are not dumpable (the program may not ptrace them), so their /proc/PID/ns links can't be opened:
 * each member's monitor holds descriptors of the namespaces, and the members file lists the live ones; a joiner
 * opens /proc/MONITOR-PID/fd/FD. A lock file in the key's directory serialises starts and exits.
 *
 * The state is a trust boundary: whoever writes the members file decides which namespaces the next joiner
 * enters. So the directory is checked on every use (no symlink anywhere on the way, the base directory the
 * caller's with mode 0700, nothing above it writable by others), every file is opened relative to the verified
 * directory without following links, and a member is believed only when the pid is a live monitor of ours
 * (our uid, our stage binary, the start time recorded with the pid) holding namespaces that the caller's uid
 * created from this user namespace. The members file also carries the first member's isolation summary
 * ("policy"); a joiner whose own differs is refused, since it would silently get the first member's. */
#include "util.h"
#include "join.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif
#ifndef NS_GET_OWNER_UID
#define NS_GET_OWNER_UID _IO(0xb7, 0x4)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int lock_fd = -1, dir_fd = -1, parent_fd = -1;
static char dir_path[4096], key_name[256];

static const struct { const char *name; int type; } kinds[JOIN_NS] = {
  { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "cgroup", CLONE_NEWCGROUP }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID },
};
#define NS_USER 0
#define NS_NET 5
#define NS_PID 6

/* Open the key's directory, creating what is missing, checking every step. The path is BASE/sandbox/join/KEY
 * (lib/plan/build.ts joinDirFor): BASE ($XDG_RUNTIME_DIR, else /tmp/sandbox-UID) and below are sandbox's and
 * must be the caller's, mode 0700 for BASE and nothing for group or others below it; above BASE, each directory
 * is root's or the caller's and writable by no one else, unless it is root's sticky one (/tmp). Sets dir_fd
 * (KEY) and parent_fd (join). */
static void open_dir(void) {
  char names[64][256];
  int n = 0;
  const char *c = dir_path;
  while (*c) {
    while (*c == '/') c++;
    if (!*c) break;
    const char *e = strchrnul(c, '/');
    size_t len = (size_t)(e - c);
    if (n == 64 || len >= sizeof names[0]) die(125, "--join %s: state path %s is too long", key_name, dir_path);
    memcpy(names[n], c, len);
    names[n++][len] = 0;
    c = e;
  }
  if (n < 4) die(125, "--join %s: bad state path %s", key_name, dir_path);
  int base = n - 4;
  uid_t me = getuid();
  int cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) die_errno(125, "--join: open /");
  char shown[4096] = "";
  size_t sl = 0;
  for (int i = 0; i < n; i++) {
    sl += (size_t)snprintf(shown + sl, sizeof shown - sl, "/%s", names[i]);
    if (sl >= sizeof shown) die(125, "--join %s: state path too long", key_name);
    int next = openat(cur, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && i >= base) {
      if (mkdirat(cur, names[i], 0700) < 0 && errno != EEXIST) die_errno(125, "--join %s: create %s", key_name, shown);
      next = openat(cur, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) die_errno(125, "--join %s: %s", key_name, shown);
    struct stat st;
    if (fstat(next, &st) < 0) die_errno(125, "--join %s: %s", key_name, shown);
    if (S_ISLNK(st.st_mode)) die(125, "--join %s: %s is a symbolic link, expected a directory (remove it)", key_name, shown);
    if (!S_ISDIR(st.st_mode)) die(125, "--join %s: %s is not a directory (remove it)", key_name, shown);
    unsigned mode = st.st_mode & 07777;
    if (i < base) {
      int mine = st.st_uid == me || st.st_uid == 0;
      int shared_ok = !(mode & 022) || (st.st_uid == 0 && (mode & S_ISVTX));
      if (!mine) die(125, "--join %s: %s belongs to uid %u, neither you nor root: the state directory can't be kept there (set XDG_RUNTIME_DIR)", key_name, shown, (unsigned)st.st_uid);
      if (!shared_ok) die(125, "--join %s: %s is writable by others (mode %04o): the state directory can't be kept there (set XDG_RUNTIME_DIR)", key_name, shown, mode);
    } else {
      if (st.st_uid != me) die(125, "--join %s: %s belongs to uid %u, not to you (uid %u): someone else made it; remove it or set XDG_RUNTIME_DIR", key_name, shown, (unsigned)st.st_uid, (unsigned)me);
      if (i == base ? mode != 0700 : (mode & 077) != 0)
        die(125, "--join %s: %s has mode %04o, expected 0700 (chmod 0700 it, or remove it)", key_name, shown, mode);
    }
    if (i == n - 1) {
      dir_fd = next;
      parent_fd = cur;
      return;
    }
    close(cur);
    cur = next;
  }
}

static void close_dir(void) {
  if (dir_fd >= 0) close(dir_fd);
  if (parent_fd >= 0) close(parent_fd);
  dir_fd = parent_fd = -1;
}

/* flock the lock file, making sure it and the key's directory are still the ones at that path (a last member
 * removes both). */
void join_lock(const char *dir) {
  snprintf(dir_path, sizeof dir_path, "%s", dir);
  const char *slash = strrchr(dir, '/');
  snprintf(key_name, sizeof key_name, "%s", slash ? slash + 1 : dir);
  for (int tries = 0; tries < 100; tries++) {
    close_dir();
    open_dir();
    int fd = openat(dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) continue; /* the directory went away under us */
    if (fd < 0) die_errno(125, "--join %s: %s/lock", key_name, dir_path);
    if (flock(fd, LOCK_EX) < 0) die_errno(125, "--join %s: lock %s/lock", key_name, dir_path);
    struct stat a, b, d;
    if (fstat(fd, &a) == 0 && fstatat(dir_fd, "lock", &b, AT_SYMLINK_NOFOLLOW) == 0 && fstat(dir_fd, &d) == 0 &&
        a.st_ino == b.st_ino && a.st_dev == b.st_dev && d.st_nlink > 0) {
      if (!S_ISREG(a.st_mode) || a.st_uid != getuid() || a.st_nlink != 1)
        die(125, "--join %s: %s/lock is not a plain file of yours (remove it)", key_name, dir_path);
      lock_fd = fd;
      return;
    }
    close(fd);
  }
  die(125, "--join %s: could not lock %s/lock", key_name, dir_path);
}

/* In a forked child: drop our copies of the lock's and the directory's descriptors. flock belongs to the open
 * file, so an init that kept it would hold the key's lock for its whole life; closing a copy leaves the
 * monitor's lock in place. */
void join_forget_lock(void) {
  if (lock_fd >= 0) close(lock_fd);
  lock_fd = -1;
  close_dir();
}

void join_unlock(void) {
  if (lock_fd >= 0) close(lock_fd);
  lock_fd = -1;
  close_dir();
}

static unsigned long long inode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot; with the pid, it names one process. */
/* The start of /proc/PID/NAME into buf, NUL-terminated; 0 when it can't be read. */
static int read_proc_file(int pid, const char *name, char *buf, size_t size) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/%s", pid, name);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t len = read(fd, buf, size - 1);
  close(fd);
  if (len <= 0) return 0;
  buf[len] = 0;
  return 1;
}

static unsigned long long start_time_of(int pid) {
  char buf[1024];
  if (!read_proc_file(pid, "stat", buf, sizeof buf)) return 0;
  char *s = strrchr(buf, ')');
  if (!s) return 0;
  s++;
  for (int field = 2; field < 21 && s; field++) s = strchr(s + 1, ' ');
  return s ? strtoull(s + 1, NULL, 10) : 0;
}

/* A monitor of ours: every uid of it the caller's, and its executable our own stage binary. */
static int our_monitor(int pid) {
  char p[64], buf[4096];
  if (!read_proc_file(pid, "status", buf, sizeof buf)) return 0;
  char *u = strstr(buf, "\nUid:");
  unsigned r, e, s, f;
  if (!u || sscanf(u + 5, "%u %u %u %u", &r, &e, &s, &f) != 4) return 0;
  uid_t me = getuid();
  if (r != me || e != me || s != me || f != me) return 0;
  struct stat a, b;
  snprintf(p, sizeof p, "/proc/%d/exe", pid);
  if (stat(p, &a) < 0 || stat("/proc/self/exe", &b) < 0) return 0;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

struct member { int pid; unsigned long long start, ino; int fd[JOIN_NS]; };

#define POLICY_MAX 2048
struct members_file { char policy[POLICY_MAX]; };

/* The members file: "policy TEXT" first, then "member PID START USERNS-INODE FD..." per live member. */
static FILE *open_members(struct members_file *mf) {
  mf->policy[0] = 0;
  int fd = openat(dir_fd, "members", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return NULL;
  if (fd < 0) die_errno(125, "--join %s: %s/members", key_name, dir_path);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid()) die(125, "--join %s: %s/members is not a plain file of yours (remove it)", key_name, dir_path);
  FILE *f = fdopen(fd, "re");
  if (!f) die_errno(125, "--join %s: members", key_name);
  char line[POLICY_MAX + 16];
  if (fgets(line, sizeof line, f) && !strncmp(line, "policy ", 7)) {
    line[strcspn(line, "\n")] = 0;
    snprintf(mf->policy, sizeof mf->policy, "%.2000s", line + 7);
  }
  return f;
}

static int read_member(FILE *f, struct member *m) {
  if (fscanf(f, " member %d %llu %llu", &m->pid, &m->start, &m->ino) != 3) return 0;
  for (int i = 0; i < JOIN_NS; i++)
    if (fscanf(f, "%d", &m->fd[i]) != 1) return 0;
  return 1;
}

static int member_alive(const struct member *m) {
  if (m->pid <= 0 || m->fd[NS_USER] < 0 || !m->ino || !m->start) return 0;
  if (start_time_of(m->pid) != m->start || !our_monitor(m->pid)) return 0;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/%d", m->pid, m->fd[NS_USER]);
  return inode_of(p) == m->ino;
}

/* The value of key in "k=v k=v ..." (length in *len), or NULL. */
static const char *policy_get(const char *policy, const char *key, size_t kl, int *len) {
  for (const char *s = policy; *s;) {
    while (*s == ' ') s++;
    const char *e = strchrnul(s, ' ');
    if ((size_t)(e - s) > kl && s[kl] == '=' && !strncmp(s, key, kl)) {
      *len = (int)(e - s - (long)kl - 1);
      return s + kl + 1;
    }
    s = e;
  }
  return NULL;
}

/* Name the keys whose values differ between two policies, with both values. */
static void policy_diff(const char *ours, const char *theirs, char *out, size_t len) {
  size_t o = 0;
  out[0] = 0;
  for (int pass = 0; pass < 2; pass++) {
    const char *a = pass ? theirs : ours, *b = pass ? ours : theirs;
    for (const char *s = a; *s && o < len;) {
      while (*s == ' ') s++;
      if (!*s) break;
      const char *e = strchrnul(s, ' '), *eq = memchr(s, '=', (size_t)(e - s));
      size_t kl = eq ? (size_t)(eq - s) : (size_t)(e - s);
      int al = 0, bl = 0;
      const char *av = policy_get(a, s, kl, &al), *bv = policy_get(b, s, kl, &bl);
      int same = av && bv && al == bl && !memcmp(av, bv, (size_t)al);
      if (!same && !(pass && bv)) { /* a key present on both sides is named in the first pass only */
        const char *here = pass ? bv : av, *there = pass ? av : bv;
        int hl = pass ? bl : al, tl = pass ? al : bl;
        o += (size_t)snprintf(out + o, len - o, "%s%.*s (here %.*s, the members' %.*s)", o ? ", " : "", (int)kl, s,
                              here ? hl : 4, here ? here : "none", there ? tl : 4, there ? there : "none");
      }
      s = e;
    }
  }
  if (!out[0]) snprintf(out, len, "their records");
}

/* The namespaces behind a member's descriptors must be ones the caller made from this user namespace:
 * a user namespace owned by our uid whose parent is ours, and the rest owned by that user namespace. */
static void check_namespaces(int pid, const int fds[JOIN_NS]) {
  struct stat self_user, user, st;
  if (stat("/proc/self/ns/user", &self_user) < 0 || fstat(fds[NS_USER], &user) < 0) die_errno(125, "--join %s: stat the user namespace", key_name);
  uid_t owner;
  if (ioctl(fds[NS_USER], NS_GET_OWNER_UID, &owner) < 0 || owner != getuid())
    die(125, "--join %s: member %d holds a user namespace that is not yours", key_name, pid);
  int parent = ioctl(fds[NS_USER], NS_GET_PARENT);
  if (parent < 0 || fstat(parent, &st) < 0 || st.st_ino != self_user.st_ino || st.st_dev != self_user.st_dev)
    die(125, "--join %s: member %d holds a user namespace not made from yours (a nested one)", key_name, pid);
  close(parent);
  for (int i = 0; i < JOIN_NS; i++) {
    if (fds[i] < 0) continue;
    if (ioctl(fds[i], NS_GET_NSTYPE) != kinds[i].type) die(125, "--join %s: member %d: descriptor for the %s namespace is not one", key_name, pid, kinds[i].name);
    if (i == NS_USER) continue;
    int owner_ns = ioctl(fds[i], NS_GET_USERNS);
    int ok = owner_ns >= 0 && fstat(owner_ns, &st) == 0 && st.st_ino == user.st_ino && st.st_dev == user.st_dev;
    if (owner_ns >= 0) close(owner_ns);
    if (!ok) die(125, "--join %s: member %d: its %s namespace is not owned by its user namespace", key_name, pid, kinds[i].name);
  }
}

/* Open a live member's namespaces into fds (-1 where it holds none); returns 0 when there is no live member.
 * A member whose recorded policy differs from ours refuses us. Call with the lock held. */
int join_open_member(int fds[JOIN_NS], const char *policy, int share_net, int share_pid) {
  struct members_file mf;
  FILE *f = open_members(&mf);
  if (!f) return 0;
  struct member m;
  int found = 0;
  while (!found && read_member(f, &m)) {
    if (!member_alive(&m)) continue;
    if (strcmp(mf.policy, policy ? policy : "")) {
      char diff[900];
      policy_diff(policy ? policy : "", mf.policy, diff, sizeof diff);
      die(125, "--join %s: the running members were started with other isolation settings; this sandbox differs in %s", key_name, diff);
    }
    if ((!share_net && m.fd[NS_NET] < 0) || (!share_pid && m.fd[NS_PID] < 0))
      die(125, "--join %s: member %d has no %s namespace of its own, this sandbox wants one", key_name, m.pid, m.fd[NS_NET] < 0 && !share_net ? "network" : "pid");
    /* the pidfd pins the process: if it is still alive after the opens, the descriptors were its */
    int pidfd = (int)syscall(SYS_pidfd_open, m.pid, 0);
    if (pidfd < 0 || start_time_of(m.pid) != m.start) { if (pidfd >= 0) close(pidfd); continue; }
    found = 1;
    for (int i = 0; i < JOIN_NS; i++) {
      fds[i] = -1;
      if (m.fd[i] < 0) continue;
      char p[64];
      snprintf(p, sizeof p, "/proc/%d/fd/%d", m.pid, m.fd[i]);
      fds[i] = open(p, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0) die_errno(125, "--join %s: open the %s namespace held by %d", key_name, kinds[i].name, m.pid);
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
      for (int i = 0; i < JOIN_NS; i++) if (fds[i] >= 0) close(fds[i]);
      found = 0;
    }
    close(pidfd);
    if (found) check_namespaces(m.pid, fds);
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

/* Rewrite the members file: dead entries and `drop` out, this monitor (with `fds`) in when `add`. Lock held.
 * The new file is made in the verified directory (O_EXCL, no link followed) and renamed over the old. */
void join_update(int add, const int fds[JOIN_NS], pid_t drop, const char *policy) {
  struct members_file mf;
  FILE *f = open_members(&mf);
  if (unlinkat(dir_fd, "members.new", 0) < 0 && errno != ENOENT) die_errno(125, "--join %s: remove members.new", key_name);
  int ofd = openat(dir_fd, "members.new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  FILE *o = ofd >= 0 ? fdopen(ofd, "we") : NULL;
  if (!o) die_errno(125, "--join %s: %s/members.new", key_name, dir_path);
  struct member m;
  int n = 0;
  pid_t self = getpid();
  /* the live members, kept in a buffer: the policy line goes first */
  char *kept = NULL;
  size_t kept_len = 0;
  FILE *k = open_memstream(&kept, &kept_len);
  if (!k) die(125, "out of memory");
  while (f && read_member(f, &m)) {
    if (m.pid == drop || m.pid == self || !member_alive(&m)) continue;
    fprintf(k, "member %d %llu %llu", m.pid, m.start, m.ino);
    for (int i = 0; i < JOIN_NS; i++) fprintf(k, " %d", m.fd[i]);
    fputc('\n', k);
    n++;
  }
  if (f) fclose(f);
  if (fclose(k) != 0) die(125, "out of memory");
  /* the members all have the policy the first one recorded (a joiner with another one was refused); with none alive
   * (a file left by members that were killed) this one is the first */
  fprintf(o, "policy %s\n", n && mf.policy[0] ? mf.policy : policy ? policy : "");
  fwrite(kept, 1, kept_len, o);
  free(kept);
  if (add) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fds[NS_USER]);
    fprintf(o, "member %d %llu %llu", (int)self, start_time_of(self), inode_of(p));
    for (int i = 0; i < JOIN_NS; i++) fprintf(o, " %d", fds[i]);
    fputc('\n', o);
    n++;
  }
  if (fclose(o) != 0) die_errno(125, "--join %s: write %s/members.new", key_name, dir_path);
  if (n == 0) {
    /* the last member: nothing is left behind (a waiter re-checks the lock file's and directory's identity) */
    unlinkat(dir_fd, "members.new", 0);
    unlinkat(dir_fd, "members", 0);
    unlinkat(dir_fd, "lock", 0);
    unlinkat(dir_fd, "spawn", 0);
    unlinkat(parent_fd, key_name, AT_REMOVEDIR);
    return;
  }
  if (renameat(dir_fd, "members.new", dir_fd, "members") < 0) die_errno(125, "--join %s: %s/members", key_name, dir_path);
}

/* Whether a live member other than this monitor is listed. Lock held. */
int join_others_alive(void) {
  struct members_file mf;
  FILE *f = open_members(&mf);
  if (!f) return 0;
  struct member m;
  int n = 0;
  while (!n && read_member(f, &m)) n = m.pid != getpid() && member_alive(&m);
  fclose(f);
  return n;
}

/* The spawn socket of a key whose members share a private pid namespace: the first member's init serves it
 * (one Landlock domain for all members, see stage.c), the later members' monitors connect. It is made and
 * reached through the verified directory's descriptor. Lock held. */
static void spawn_address(struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/spawn", dir_fd);
}

int join_listen_spawn(void) {
  struct sockaddr_un a;
  spawn_address(&a);
  if (unlinkat(dir_fd, "spawn", 0) < 0 && errno != ENOENT) die_errno(125, "--join %s: remove %s/spawn", key_name, dir_path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "--join %s: socket", key_name);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) die_errno(125, "--join %s: listen on %s/spawn", key_name, dir_path);
  return s;
}

/* -1 when nobody listens (the first member is ending). The listener must be one of our stage processes. */
int join_connect_spawn(void) {
  struct sockaddr_un a;
  spawn_address(&a);
  struct stat st;
  if (fstatat(dir_fd, "spawn", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid()) return -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno(125, "--join %s: socket", key_name);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { close(s); return -1; }
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid() || !our_monitor(cr.pid))
    die(125, "--join %s: %s/spawn is not served by a sandbox of yours", key_name, dir_path);
  return s;
}

/* In a forked child: enter the namespaces, user first (it grants the rights for the rest). */
void join_enter(const int fds[JOIN_NS]) {
  for (int i = 0; i < JOIN_NS; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], kinds[i].type) < 0) die_errno(125, "--join: enter the %s namespace", kinds[i].name);
  }
}
