/* Building the new root: every mount operation of the plan, in order, resolved inside the new root.
 * Sources are cloned (open_tree) before anything is mounted, so a bind of "/" never sees our own tmpfs;
 * destinations are opened with RESOLVE_IN_ROOT, so no symlink leads out of the new root. */
#include "util.h"
#include "mounts.h"
#include "overlay.h"
#include "inroot.h"

#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void attach(int tree, int dstfd, const char *origin, const char *dst) {
  if (sys_move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno(125, "%s: mount on %s", origin, dst);
  newroot_forget();
}

static int new_fs(const char *fstype, const char *origin, const char *const *opts) {
  int fs = sys_fsopen(fstype, FSOPEN_CLOEXEC);
  if (fs < 0) die_errno(125, "%s: fsopen %s", origin, fstype);
  for (; opts && opts[0]; opts += 2) {
    int rc = opts[1] ? sys_fsconfig(fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0)
                     : sys_fsconfig(fs, FSCONFIG_SET_FLAG, opts[0], NULL, 0);
    if (rc < 0) die_errno(125, "%s: %s option %s", origin, fstype, opts[0]);
  }
  if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) die_errno(125, "%s: create %s", origin, fstype);
  return fs;
}

/* A fresh filesystem of type fstype mounted at dst (a directory inside the new root). */
static void mount_fresh_modes(const char *fstype, const char *dst, const char *origin, const char *const *opts, unsigned attrs, unsigned parent_mode) {
  int fs = new_fs(fstype, origin, opts);
  int mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, attrs);
  if (mnt < 0) die_errno(125, "%s: fsmount %s", origin, fstype);
  close(fs);
  int d = mkdir_modes(dst, parent_mode, 0755);
  if (d < 0) die_errno(125, "%s: create %s", origin, dst);
  attach(mnt, d, origin, dst);
  close(d);
  close(mnt);
}

static void mount_fresh(const char *fstype, const char *dst, const char *origin, const char *const *opts, unsigned attrs) {
  mount_fresh_modes(fstype, dst, origin, opts, attrs, 0755);
}

static void mount_tmpfs(const char *dst, uint64_t size, unsigned mode, const char *origin, unsigned attrs) {
  char sz[32], md[16];
  snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
  snprintf(md, sizeof md, "%o", mode);
  const char *opts[] = { "mode", md, size ? "size" : NULL, sz, NULL };
  mount_fresh_modes("tmpfs", dst, origin, opts, attrs, parent_mode_for(mode));
}

/* Set attributes on every mount of a tree; flags the kernel locked are never cleared, only added to. */
static void set_attrs(int fd, uint64_t attrs, int recursive, const char *origin, const char *what) {
  if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attrs, 0) < 0)
    die_errno(125, "%s: set mount flags on %s", origin, what);
}

/* A cloned mount tree of a host path, taken before our tmpfs exists. -1 with errno if the source is missing. */
static int clone_tree(const char *src, int recursive) {
  return sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

/* The same for a source that was resolved when it was planned: a symlink anywhere on the path now (planted
 * since, by a sandbox that can write there) fails with ELOOP instead of leading elsewhere. */
static int clone_tree_nofollow(const char *src) {
  int fd = sys_openat2(AT_FDCWD, src, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);
  if (fd < 0) return -1;
  int tree = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  int saved = errno;
  close(fd);
  errno = saved;
  return tree;
}

/* The caller's controlling terminal, when fds 0-2 hold it and it is a pts of the host: glibc's ttyname() reads
 * /proc/self/fd/N (the host's path, /dev/pts/K, even inside) and accepts it only if that path stats to the same
 * device and inode. Only the controlling terminal: /dev/tty inside already opens it read-write, so its node
 * at /dev/pts/K gives the program nothing more; a write-only descriptor to another terminal stays just that.
 * Opened here, in our copy of the host's tree, since open_tree clones only mounts of our own namespace.
 * Returns an O_PATH fd and K, or -1. */
static int open_terminal_node(unsigned *index) {
  for (int fd = 0; fd <= 2; fd++) {
    pid_t sid;
    if (ioctl(fd, TIOCGSID, &sid) < 0) continue; /* fails unless fd is our session's controlling terminal */
    char link[32], p[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, p, sizeof p - 1);
    if (n <= 0) continue;
    p[n] = 0;
    const char *num = p + 9;
    if (strncmp(p, "/dev/pts/", 9) || !*num || strlen(num) > 4 || strspn(num, "0123456789") != strlen(num)) continue;
    unsigned k = (unsigned)atoi(num);
    if (k >= 1024) continue; /* reserving K inside opens K+1 ptys */
    int node = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (node < 0) continue;
    struct stat a, b;
    if (fstat(fd, &a) == 0 && fstat(node, &b) == 0 && S_ISCHR(b.st_mode) && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino && a.st_rdev == b.st_rdev) {
      *index = k;
      return node;
    }
    close(node);
  }
  return -1;
}

/* Held by the init for the sandbox's life: the master of pty K of the sandbox's own devpts. While it is open,
 * /dev/pts/K exists there for the host's node to be bound over, and no pty inside gets that number (closing it
 * would drop the entry and, with it, the path to the bind). */
static int terminal_reserve = -1;

/* Bind the host's terminal node over /dev/pts/K of the fresh devpts at pts (inside the new root). A number that
 * can't be reserved leaves the terminal without a path, as before (ttyname fails; nothing else depends on it);
 * a mount that fails once reserved is an error like any other. */
static void show_terminal(const char *pts, int node, unsigned k, const char *origin) {
  char p[PATH_MAX + 16];
  int spare[1024], n_spare = 0, keep = -1;
  snprintf(p, sizeof p, "%s/ptmx", pts);
  while (n_spare < 1024) {
    int m = open_in_root(p, O_RDWR | O_NOCTTY);
    unsigned idx;
    if (m < 0) break;
    if (ioctl(m, TIOCGPTN, &idx) < 0 || idx > k) { close(m); break; }
    if (idx == k) { keep = m; break; }
    spare[n_spare++] = m;
  }
  while (n_spare) close(spare[--n_spare]);
  if (keep < 0) { debug("no pty %u in the new devpts: the terminal stays without a path", k); return; }
  snprintf(p, sizeof p, "%s/%u", pts, k);
  int d = open_in_root(p, O_PATH);
  if (d < 0) die_errno(125, "%s: open %s", origin, p);
  int tree = sys_open_tree(node, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) die_errno(125, "%s: clone the terminal %s", origin, p);
  set_attrs(tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, origin, p);
  attach(tree, d, origin, p);
  close(tree);
  close(d);
  terminal_reserve = keep;
  debug("the terminal at %s", p);
}

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define N_DEV_NODES (sizeof dev_nodes / sizeof dev_nodes[0])

static void build_dev(const char *dst, const char *origin, const int *nodes, int terminal, unsigned terminal_index) {
  char p[PATH_MAX], t[PATH_MAX];
  mount_tmpfs(dst, 0, 0755, origin, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  for (size_t i = 0; i < N_DEV_NODES; i++) {
    if (nodes[i] < 0) continue; /* the host lacks it (e.g. no /dev/tty) */
    snprintf(p, sizeof p, "%s/%s", strcmp(dst, "/") ? dst : "", dev_nodes[i]);
    int d = make_dest(p, 0, 0666);
    if (d < 0) die_errno(125, "%s: create %s", origin, p);
    int tree = sys_open_tree(nodes[i], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) die_errno(125, "%s: clone /dev/%s", origin, dev_nodes[i]);
    set_attrs(tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, origin, p);
    attach(tree, d, origin, p);
    close(tree);
    close(d);
  }
  snprintf(p, sizeof p, "%s/pts", dst);
  const char *pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666", "mode", "620", NULL };
  mount_fresh("devpts", p, origin, pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (terminal >= 0) show_terminal(p, terminal, terminal_index, origin);
  snprintf(p, sizeof p, "%s/shm", dst);
  mount_tmpfs(p, 0, 01777, origin, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  /* bwrap's links, /dev/core among them: it leads to /proc/kcore, which the sandbox's /proc masks */
  static const char *const links[][2] = {
    { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" }, { "/proc/kcore", "core" },
  };
  int dfd = open_in_root(dst, O_RDONLY | O_DIRECTORY);
  if (dfd < 0) die_errno(125, "%s: open %s", origin, dst);
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST) {
      snprintf(t, sizeof t, "%s/%s", dst, links[i][1]);
      die_errno(125, "%s: symlink %s", origin, t);
    }
  }
  close(dfd);
}

/* A fresh procfs; the parts that reach the host kernel are read-only or masked. */
static void build_proc(const char *dst, const char *origin, int empty_file, int host_proc) {
  static const char *const readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
  static const char *const masked[] = { "kcore", "keys", "timer_list", "sched_debug", "kallsyms", "latency_stats", "acpi", "scsi" };
  char p[PATH_MAX];
  if (host_proc >= 0) {
    /* the host's pid namespace: a new procfs needs a pid namespace of our own, so the host's is bound, read-only:
     * its per-process files (oom_score_adj, autogroup, coredump_filter, clear_refs) are writable by their owner,
     * and every process of the user is listed there */
    int d = mkdir_in_root(dst, 0755);
    if (d < 0) die_errno(125, "%s: create %s", origin, dst);
    set_attrs(host_proc, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 1, origin, dst);
    attach(host_proc, d, origin, dst);
    close(d);
  } else {
    mount_fresh("proc", dst, origin, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  }
  const char *base = strcmp(dst, "/") ? dst : "";
  for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", base, readonly[i]);
    int fd = open_in_root(p, O_PATH);
    if (fd < 0) continue;
    int tree = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) die_errno(125, "%s: clone %s", origin, p);
    set_attrs(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 1, origin, p);
    attach(tree, fd, origin, p);
    close(tree);
    close(fd);
  }
  for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", base, masked[i]);
    int fd = open_in_root(p, O_PATH);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) < 0) die_errno(125, "%s: stat %s", origin, p);
    if (S_ISDIR(st.st_mode)) {
      const char *opts[] = { "size", "0", "mode", "0555", NULL };
      int fs = new_fs("tmpfs", origin, opts);
      int mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
      if (mnt < 0) die_errno(125, "%s: mask %s", origin, p);
      close(fs);
      attach(mnt, fd, origin, p);
      close(mnt);
    } else {
      int tree = sys_open_tree(empty_file, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (tree < 0) die_errno(125, "%s: mask %s", origin, p);
      set_attrs(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, origin, p);
      attach(tree, fd, origin, p);
      close(tree);
    }
    close(fd);
  }
}

/* chmod through the descriptor's /proc link: an O_PATH fd can't be fchmod'ed, and the path was resolved in root */
static void chmod_fd(int fd, unsigned mode, const char *origin) {
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  if (chmod(p, mode) < 0) die_errno(125, "%s: chmod", origin);
}

static void write_data_file(int out, int in, const char *origin) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno(125, "%s: read descriptor %d", origin, in);
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) die_errno(125, "%s: write", origin);
      off += w;
    }
  }
}

void build_root(const struct plan *plan) {
  /* Phase 1: clone every source while the host tree is still whole. */
  int *trees = calloc(plan->n_ops ? plan->n_ops : 1, sizeof(int));
  int dev_nodes_fd[N_DEV_NODES];
  int need_dev = 0;
  int terminal = -1;
  unsigned terminal_index = 0;
  if (!trees) die(125, "out of memory");
  struct overlay_layers *layers = calloc(plan->n_ops ? plan->n_ops : 1, sizeof *layers); /* overlays */
  if (!layers) die(125, "out of memory");
  for (size_t i = 0; i < plan->n_ops; i++) {
    const struct op *o = &plan->ops[i];
    trees[i] = -1;
    if (o->kind == MOUNT_DEV) need_dev = 1;
    if (o->kind == MOUNT_PROC && plan->share_pid) {
      trees[i] = clone_tree("/proc", 1);
      if (trees[i] < 0) die_errno(125, "%s: clone the host's /proc", o->origin);
      continue;
    }
    if (o->kind == MOUNT_OVERLAY) { overlay_open(o, &layers[i]); continue; }
    if (o->kind != MOUNT_BIND) continue;
    trees[i] = o->v[F_BIND_NO_FOLLOW].n ? clone_tree_nofollow(o->v[F_BIND_SRC].s) : clone_tree(o->v[F_BIND_SRC].s, 1);
    if (trees[i] < 0 && !(o->v[F_BIND_OPTIONAL].n && (errno == ENOENT || errno == ENOTDIR || errno == EACCES)))
      die_errno(125, "%s", o->origin);
    if (trees[i] >= 0) debug("cloned %s", o->v[F_BIND_SRC].s);
  }
  for (size_t i = 0; i < N_DEV_NODES; i++) {
    char p[32];
    snprintf(p, sizeof p, "/dev/%s", dev_nodes[i]);
    dev_nodes_fd[i] = need_dev ? open(p, O_PATH | O_CLOEXEC) : -1;
    if (need_dev && dev_nodes_fd[i] < 0 && strcmp(dev_nodes[i], "tty")) die_errno(125, "--dev: host %s", p);
  }
  /* with --as-pid-1 no init outlives the exec to hold the reserved pty (see terminal_reserve) */
  if (plan->terminal_node && !plan->as_pid1) terminal = open_terminal_node(&terminal_index);

  /* Phase 2: a tmpfs at BASE holds the new root (its own tmpfs) and scratch files. */
  const char *base_opts[] = { "mode", "0755", NULL };
  int fs = new_fs("tmpfs", "new root", base_opts);
  int mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0) die_errno(125, "mount the new root's base");
  close(fs);
  if (sys_move_mount(mnt, "", AT_FDCWD, BASE, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_errno(125, "mount tmpfs on " BASE);
  close(mnt);
  if (mkdir(NEWROOT, 0755) < 0) die_errno(125, "mkdir " NEWROOT);
  fs = new_fs("tmpfs", "new root", base_opts);
  mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0 || sys_move_mount(mnt, "", AT_FDCWD, NEWROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_errno(125, "mount the new root");
  close(fs);
  close(mnt);
  int root_mount = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC); /* the tmpfs itself, under whatever stacks on it */
  if (root_mount < 0) die_errno(125, "open the new root");
  int empty = open(BASE "/empty", O_CREAT | O_RDONLY | O_CLOEXEC, 0444);
  if (empty < 0) die_errno(125, "create " BASE "/empty");

  /* Phase 3: the operations, in plan order. */
  for (size_t i = 0; i < plan->n_ops; i++) {
    const struct op *o = &plan->ops[i];
    int d;
    switch (o->kind) {
    case MOUNT_BIND: {
      if (trees[i] < 0) break; /* a -try source that is missing */
      struct stat st;
      if (fstat(trees[i], &st) < 0) die_errno(125, "%s", o->origin);
      d = make_dest(o->v[F_BIND_DST].s, S_ISDIR(st.st_mode), S_ISDIR(st.st_mode) ? 0755 : 0444);
      if (d < 0) die_errno(125, "%s: create %s", o->origin, o->v[F_BIND_DST].s);
      uint64_t attrs = MOUNT_ATTR_NOSUID;
      if (!o->v[F_BIND_DEVICES].n) attrs |= MOUNT_ATTR_NODEV;
      if (o->v[F_BIND_READ_ONLY].n) attrs |= MOUNT_ATTR_RDONLY;
      set_attrs(trees[i], attrs, 1, o->origin, o->v[F_BIND_DST].s);
      attach(trees[i], d, o->origin, o->v[F_BIND_DST].s);
      close(d);
      close(trees[i]);
      debug("bind %s on %s (read-only %d, devices %d)", o->v[F_BIND_SRC].s, o->v[F_BIND_DST].s, (int)o->v[F_BIND_READ_ONLY].n, (int)o->v[F_BIND_DEVICES].n);
      break;
    }
    case MOUNT_TMPFS:
      mount_tmpfs(o->v[F_TMPFS_DST].s, o->v[F_TMPFS_SIZE].n, (unsigned)o->v[F_TMPFS_MODE].n, o->origin, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
      break;
    case MOUNT_PROC:
      build_proc(o->v[F_PROC_DST].s, o->origin, empty, trees[i]);
      trees[i] = -1;
      break;
    case MOUNT_DEV:
      /* only a /dev at /dev puts the node at the path the host's readlink names */
      build_dev(o->v[F_DEV_DST].s, o->origin, dev_nodes_fd, strcmp(o->v[F_DEV_DST].s, "/dev") ? -1 : terminal, terminal_index);
      break;
    case MOUNT_MQUEUE:
      mount_fresh("mqueue", o->v[F_MQUEUE_DST].s, o->origin, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
      break;
    case MOUNT_DIR:
      /* a directory that exists (a bound host directory among them) keeps its mode, as bwrap(1) says */
      d = mkdir_modes(o->v[F_DIR_DST].s, parent_mode_for((unsigned)o->v[F_DIR_MODE].n), (unsigned)o->v[F_DIR_MODE].n);
      if (d < 0) die_errno(125, "%s", o->origin);
      close(d);
      break;
    case MOUNT_SYMLINK: {
      char name[NAME_MAX + 1], buf[PATH_MAX];
      int parent = parent_in_root(o->v[F_SYMLINK_DST].s, name, sizeof name); /* O_PATH: a directory for *at calls */
      if (parent < 0) die_errno(125, "%s", o->origin);
      if (symlinkat(o->v[F_SYMLINK_TARGET].s, parent, name) < 0) {
        ssize_t n = errno == EEXIST ? readlinkat(parent, name, buf, sizeof buf - 1) : -1;
        if (n < 0 || (size_t)n != strlen(o->v[F_SYMLINK_TARGET].s) || memcmp(buf, o->v[F_SYMLINK_TARGET].s, (size_t)n))
          die_errno(125, "%s", o->origin);
      }
      close(parent);
      break;
    }
    case MOUNT_DATA: {
      const struct { int fd; const char *dst; unsigned mode; int mount, read_only; unsigned parent_mode; } dd_ = {
        (int)o->v[F_DATA_FD].n, o->v[F_DATA_DST].s, (unsigned)o->v[F_DATA_MODE].n, (int)o->v[F_DATA_MOUNT].n, (int)o->v[F_DATA_READ_ONLY].n,
        o->v[F_DATA_PERMS_GIVEN].n ? parent_mode_for((unsigned)o->v[F_DATA_MODE].n) : 0755,
      }, *dd = &dd_;
      if (dd->mount) {
        char scratch[64];
        snprintf(scratch, sizeof scratch, BASE "/data-%zu", i);
        int f = open(scratch, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, dd->mode);
        if (f < 0) die_errno(125, "%s: create scratch file", o->origin);
        write_data_file(f, dd->fd, o->origin);
        if (fchmod(f, dd->mode) < 0) die_errno(125, "%s: chmod", o->origin);
        close(f);
        int tree = clone_tree(scratch, 0);
        if (tree < 0) die_errno(125, "%s: clone data file", o->origin);
        set_attrs(tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (dd->read_only ? MOUNT_ATTR_RDONLY : 0), 0, o->origin, dd->dst);
        d = make_dest_modes(dd->dst, 0, 0444, dd->parent_mode);
        if (d < 0) die_errno(125, "%s: create %s", o->origin, dd->dst);
        attach(tree, d, o->origin, dd->dst);
        close(tree);
        close(d);
      } else {
        char name[NAME_MAX + 1];
        int parent = parent_in_root_mode(dd->dst, name, sizeof name, dd->parent_mode); /* O_PATH, for openat */
        if (parent < 0) die_errno(125, "%s", o->origin);
        int f = openat(parent, name, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, dd->mode);
        if (f < 0) die_errno(125, "%s: create %s", o->origin, dd->dst);
        write_data_file(f, dd->fd, o->origin);
        if (fchmod(f, dd->mode) < 0) die_errno(125, "%s: chmod", o->origin);
        close(f);
        close(parent);
      }
      close(dd->fd); /* consumed, a standard descriptor too (--file 0 DST), as bwrap does */
      break;
    }
    case MOUNT_CHMOD: {
      int fd = open_in_root(o->v[F_CHMOD_PATH].s, O_PATH);
      if (fd < 0) die_errno(125, "%s", o->origin);
      chmod_fd(fd, (unsigned)o->v[F_CHMOD_MODE].n, o->origin);
      close(fd);
      break;
    }
    case MOUNT_OVERLAY: {
      char scratch[64];
      snprintf(scratch, sizeof scratch, BASE "/overlay-%zu", i);
      d = mkdir_in_root(o->v[F_OVERLAY_DST].s, 0755);
      if (d < 0) die_errno(125, "%s: create %s", o->origin, o->v[F_OVERLAY_DST].s);
      overlay_mount(o, &layers[i], d, scratch);
      close(d);
      break;
    }
    case MOUNT_REMOUNT_RO: {
      int fd = open_in_root(o->v[F_REMOUNT_RO_DST].s, O_PATH);
      if (fd < 0) die_errno(125, "%s", o->origin);
      set_attrs(fd, MOUNT_ATTR_RDONLY, 1, o->origin, o->v[F_REMOUNT_RO_DST].s);
      close(fd);
      break;
    }
    }
  }
  free(trees);
  free(layers);
  for (size_t i = 0; i < N_DEV_NODES; i++)
    if (dev_nodes_fd[i] >= 0) close(dev_nodes_fd[i]);
  close(empty);
  if (terminal >= 0) close(terminal);

  /* The root tmpfs itself is read-only for the program: only what the plan mounted is writable. */
  set_attrs(root_mount, MOUNT_ATTR_RDONLY, 0, "new root", "/");
  close(root_mount);

  newroot_forget();
  /* Phase 4: pivot into the new root and drop the old one. */
  if (chdir(NEWROOT) < 0) die_errno(125, "chdir to the new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno(125, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die_errno(125, "detach the old root");
  if (chdir("/") < 0) die_errno(125, "chdir /");
  debug("pivoted into the new root");
}
