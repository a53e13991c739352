/* Paths inside the new root while it is built: opened with RESOLVE_IN_ROOT (no symlink leads out of it), and
 * directories and mount-point files made on the way with the modes bubblewrap gives them (bwrap(1)): only what is
 * made here gets a mode; what exists, perhaps a host directory bound there, is left as it is. */
#include "util.h"
#include "inroot.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

/* The new root, opened once and again only after a mount was attached (a bind onto "/", or through a symlink that
 * leads there, stacks a mount over the tmpfs we started with; one below it changes nothing for this descriptor). */
static int root_cache = -1;

void newroot_forget(void) {
  if (root_cache >= 0) close(root_cache);
  root_cache = -1;
}

static int root_fd(void) {
  if (root_cache < 0) {
    root_cache = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_cache < 0) die_errno(125, "open new root");
  }
  return root_cache;
}

int newroot_fd(void) {
  int fd = fcntl(root_fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) die_errno(125, "open new root");
  return fd;
}

int open_in_root(const char *path, int flags) {
  const char *rel = path + strspn(path, "/");
  return sys_openat2(root_fd(), *rel ? rel : ".", (uint64_t)flags | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Parents made on the way to a destination (bwrap(1)): 0755, less the group and other bits that the
 * operation's own mode leaves out, so a 0700 directory is not reachable through a 0755 one it implies. */
unsigned parent_mode_for(unsigned mode) {
  unsigned m = 0755;
  if (!(mode & 0070)) m &= ~0070u;
  if (!(mode & 0007)) m &= ~0007u;
  return m;
}

/* The mode of a directory this operation made, exactly: mkdir's mode is cut by the caller's umask, and a directory
 * made in a set-group-ID one (a bound host directory) inherits that bit. Changed only where it differs; dirfd may be
 * an O_PATH descriptor. */
int set_made_mode(int dirfd, const char *name, unsigned mode) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
  if ((st.st_mode & 07777) == (mode & 07777)) return 0;
  int rc = fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
  if (rc < 0 && errno == EOPNOTSUPP) rc = fchmodat(dirfd, name, mode, 0); /* glibc without fchmodat2: a fresh dir is no link */
  return rc;
}

/* mkdir -p inside the new root; returns an O_PATH fd of the directory or -1 with errno. Only what it makes
 * gets a mode (parents parent_mode, the last leaf_mode): a directory that exists, perhaps a host directory
 * bound there, is left as it is. */
int mkdir_modes(const char *path, unsigned parent_mode, unsigned leaf_mode) {
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix) { errno = ENAMETOOLONG; return -1; }
  int cur = newroot_fd();
  const char *c = path;
  while (*c) {
    while (*c == '/') c++;
    if (!*c) break;
    const char *e = strchrnul(c, '/');
    char name[NAME_MAX + 1];
    size_t n = (size_t)(e - c);
    if (n > NAME_MAX) { close(cur); errno = ENAMETOOLONG; return -1; }
    memcpy(name, c, n);
    name[n] = 0;
    int last = !e[strspn(e, "/")];
    unsigned mode = last ? leaf_mode : parent_mode;
    if (mkdirat(cur, name, mode) == 0) {
      if (set_made_mode(cur, name, mode) < 0) { int s = errno; close(cur); errno = s; return -1; }
    } else if (errno != EEXIST) {
      int s = errno; close(cur); errno = s; return -1;
    }
    /* the next directory from this one when it is no symlink (the usual case); else resolved from the root again,
     * as a symlink inside the new root leads (RESOLVE_IN_ROOT) */
    int next = sys_openat2(cur, name, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (next < 0 && (errno == ELOOP || errno == EXDEV)) {
      memcpy(prefix, path, (size_t)(e - path));
      prefix[e - path] = 0;
      next = open_in_root(prefix, O_PATH | O_DIRECTORY);
    }
    int s = errno;
    close(cur);
    errno = s;
    if (next < 0) return -1;
    cur = next;
    c = e;
  }
  return cur;
}

int mkdir_in_root(const char *path, unsigned mode) {
  return mkdir_modes(path, 0755, mode);
}

/* Split "/a/b/c" into a directory fd for "/a/b" (created) and "c". */
int parent_in_root_mode(const char *path, char *name, size_t namelen, unsigned parent_mode) {
  const char *slash = strrchr(path, '/');
  size_t n = strlen(slash + 1);
  if (n == 0 || n >= namelen) { errno = EINVAL; return -1; }
  memcpy(name, slash + 1, n + 1);
  char dir[PATH_MAX];
  size_t dn = (size_t)(slash - path);
  memcpy(dir, path, dn);
  dir[dn] = 0;
  return mkdir_modes(dn ? dir : "/", parent_mode, parent_mode);
}

int parent_in_root(const char *path, char *name, size_t namelen) {
  return parent_in_root_mode(path, name, namelen, 0755);
}

/* Make the destination exist as a directory or a file, and return an O_PATH fd to it. A file made here is
 * a mount point, 0444 as bwrap makes them; parents get parent_mode. */
int make_dest_modes(const char *dst, int want_dir, unsigned mode, unsigned parent_mode) {
  if (want_dir) return mkdir_modes(dst, parent_mode, mode);
  int fd = open_in_root(dst, O_PATH);
  if (fd >= 0) return fd;
  char name[NAME_MAX + 1];
  int parent = parent_in_root_mode(dst, name, sizeof name, parent_mode);
  if (parent < 0) return -1;
  /* created from the O_PATH parent (a directory descriptor for *at calls), without following name */
  int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
  if (f >= 0 && fchmod(f, mode) < 0) { int s = errno; close(f); close(parent); errno = s; return -1; }
  if (f < 0 && errno != EEXIST) { int s = errno; close(parent); errno = s; return -1; }
  if (f >= 0) close(f);
  close(parent);
  return open_in_root(dst, O_PATH);
}

int make_dest(const char *dst, int want_dir, unsigned mode) {
  return make_dest_modes(dst, want_dir, mode, 0755);
}
