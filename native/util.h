/* Shared helpers of the C stage: error records, syscall wrappers for the mount API, debug output. */
#ifndef SANDBOX_UTIL_H
#define SANDBOX_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* glibc 2.36 declares the new mount API; older headers get the kernel's values here */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#define MOVE_MOUNT_F_EMPTY_PATH 0x04
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#define FSOPEN_CLOEXEC 1
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define FSMOUNT_CLOEXEC 1
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08

struct sb_open_how { uint64_t flags, mode, resolve; };
struct sb_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static inline int sys_open_tree(int dfd, const char *path, unsigned flags) { return (int)syscall(SYS_open_tree, dfd, path, flags); }
static inline int sys_move_mount(int fd1, const char *p1, int fd2, const char *p2, unsigned flags) {
  return (int)syscall(SYS_move_mount, fd1, p1, fd2, p2, flags);
}
static inline int sys_fsopen(const char *fs, unsigned flags) { return (int)syscall(SYS_fsopen, fs, flags); }
static inline int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *val, int aux) {
  return (int)syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}
static inline int sys_fsmount(int fd, unsigned flags, unsigned attrs) { return (int)syscall(SYS_fsmount, fd, flags, attrs); }
static inline int sys_mount_setattr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr) {
  struct sb_mount_attr a = { set, clr, 0, 0 };
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof a);
}
static inline int sys_openat2(int dfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct sb_open_how h = { flags, mode, resolve };
  return (int)syscall(SYS_openat2, dfd, path, &h, sizeof h);
}

/* An error record travels from the sandbox's init to the monitor over a close-on-exec pipe, in one write. */
struct error_record {
  int exit_code;
  char message[1020];
};

extern int error_fd;   /* write end in the child, -1 in the monitor */
extern int debug_on;
/* What the stage's error lines begin with (before ": "): "sandbox", or in bwrap mode the plan's diagnostic-prefix. */
extern const char *diagnostic_prefix;

/* Report "PREFIX: MESSAGE" (through the monitor when in the child) and exit with code. */
__attribute__((noreturn, format(printf, 2, 3))) void die(int code, const char *fmt, ...);
/* Same, with ": strerror(errno)" appended. */
__attribute__((noreturn, format(printf, 2, 3))) void die_errno(int code, const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void debug(const char *fmt, ...);
const char *errno_hint(int err);
/* Write data to an existing file (a /proc or cgroup file); dies on failure. */
void write_file(const char *path, const char *data);
/* msg on one line: newlines and control characters escaped. */
void one_line(char *out, size_t len, const char *msg);
/* Every signal's action back to the default and an empty mask: what Node, or a parent process, left us. */
void signals_to_default(void);
/* The descriptors an SCM_RIGHTS message brought: the first max into fds, the rest closed. Returns how many came. */
int received_fds(struct msghdr *m, int *fds, int max);
/* Exactly len bytes, retrying on EINTR: 0, or -1 at an error or the end of the stream. */
int read_all(int fd, void *buf, size_t len);
/* SIGCHLD blocked and read from the descriptor returned (-1: none): a helper's wait for its children. */
int sigchld_fd(void);
/* All len bytes written (EINTR retried); -1 on an error or a zero-length write. */
int write_all(int fd, const void *buf, size_t len);

#endif
