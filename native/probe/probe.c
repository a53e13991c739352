/* sandbox-probe: asks the kernel, as the calling user, which of the features the sandbox uses it has,
 * and prints one key=value line each for `sandbox doctor`. It changes nothing on the host: every call is
 * made with arguments the kernel must reject, and the namespace test runs in a child that exits.
 * Values: "ok", a number, or the errno name that answered (ENOSYS means the kernel lacks the call). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Numbers are the same on every architecture for calls added after 5.0; Debian 12's headers lack some. */
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_CREATE_RULESET_VERSION_FLAG 1u
#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

static const char *errname(int e) {
  switch (e) {
  case 0: return "ok";
  case ENOSYS: return "ENOSYS";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case EFAULT: return "EFAULT";
  case E2BIG: return "E2BIG";
  case ENOSPC: return "ENOSPC";
  case EUSERS: return "EUSERS";
  case ENOMEM: return "ENOMEM";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case ENOENT: return "ENOENT";
  default: return strerror(e);
  }
}

/* A call made with a descriptor or size the kernel must refuse: any errno but ENOSYS means the call exists. */
static void syscall_present(const char *key, long nr, long a, long b, long c, long d, long e) {
  errno = 0;
  long r = syscall(nr, a, b, c, d, e);
  int err = r < 0 ? errno : 0;
  if (r >= 0) close((int)r);
  printf("%s=%s\n", key, err == ENOSYS ? "ENOSYS" : "ok");
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* In a child: a new user and mount namespace with a one-entry map, then a tmpfs mount on its private /tmp, the
 * step that Ubuntu's AppArmor restriction stops (the namespace is made, but without capabilities in it).
 * The child writes its two lines into a pipe. */
static void userns_probe(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { printf("userns=%s\nuserns_mount=%s\n", errname(errno), errname(errno)); return; }
  uid_t uid = getuid();
  gid_t gid = getgid();
  pid_t pid = fork();
  if (pid < 0) { printf("userns=%s\nuserns_mount=%s\n", errname(errno), errname(errno)); return; }
  if (pid == 0) {
    char msg[160];
    close(p[0]);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
      snprintf(msg, sizeof msg, "userns=%s\nuserns_mount=skipped\n", errname(errno));
    } else {
      char map[64];
      snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
      if (write_file("/proc/self/uid_map", map) < 0) {
        snprintf(msg, sizeof msg, "userns=uid_map:%s\nuserns_mount=skipped\n", errname(errno));
      } else {
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
        if (write_file("/proc/self/gid_map", map) < 0) {
          snprintf(msg, sizeof msg, "userns=gid_map:%s\nuserns_mount=skipped\n", errname(errno));
        } else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                   mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") < 0) {
          snprintf(msg, sizeof msg, "userns=ok\nuserns_mount=%s\n", errname(errno));
        } else {
          snprintf(msg, sizeof msg, "userns=ok\nuserns_mount=ok\n");
        }
      }
    }
    ssize_t w = write(p[1], msg, strlen(msg));
    _exit(w < 0);
  }
  close(p[1]);
  char buf[160];
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  close(p[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (n <= 0) { printf("userns=no-answer\nuserns_mount=no-answer\n"); return; }
  buf[n] = 0;
  fputs(buf, stdout);
}

int main(void) {
  struct utsname u;
  if (uname(&u) == 0) printf("kernel=%s\n", u.release);

  /* clone3 with a size below the first version of struct clone_args is refused with EINVAL before anything is made. */
  errno = 0;
  long r = syscall(SYS_clone3, NULL, 0);
  int clone3_err = r < 0 ? errno : 0;
  printf("clone3=%s\n", clone3_err == ENOSYS ? "ENOSYS" : "ok");
  /* CLONE_INTO_CGROUP came in 5.7, after clone3 (5.3): a kernel that knows the flag checks the cgroup fd,
   * (INT_MAX, never open; larger values are EINVAL) and answers EBADF; one that doesn't rejects the unknown flag
   * with EINVAL. */
  if (clone3_err != ENOSYS) {
    struct { unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                                set_tid, set_tid_size, cgroup; } args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP_FLAG;
    args.exit_signal = SIGCHLD;
    args.cgroup = 0x7fffffff;
    errno = 0;
    r = syscall(SYS_clone3, &args, sizeof args);
    if (r == 0) _exit(0); /* cannot happen with a closed fd; never run on in the child */
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    printf("clone_into_cgroup=%s\n", r >= 0 || errno == EBADF ? "ok" : errname(errno));
  } else {
    printf("clone_into_cgroup=ENOSYS\n");
  }
  syscall_present("open_tree", SYS_open_tree, -1, (long)"", 0, 0, 0);
  syscall_present("openat2", SYS_openat2, -1, (long)"", 0, 0, 0);
  syscall_present("mount_setattr", SYS_mount_setattr, -1, (long)"", 0, 0, 0);

  errno = 0;
  r = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION_FLAG);
  if (r >= 0) printf("landlock_abi=%ld\n", r);
  else printf("landlock_abi=%s\n", errname(errno));

  fflush(stdout);
  userns_probe();
  return 0;
}
