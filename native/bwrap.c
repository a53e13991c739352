/* bwrap mode in the stage (see bwrap.h). The JSON is bubblewrap's documented form: an object with "child-pid"
 * and a "<kind>-namespace" inode number for each namespace the sandbox made, and {"exit-code": N} at the end of
 * --json-status-fd; readers ignore members they don't know. */
#include "bwrap.h"
#include "util.h"

#include <linux/filter.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>

/* a reader that went away is not the sandbox's failure */
static void write_text(int fd, const char *s) {
  if (write_all(fd, s, strlen(s)) < 0) {}
}

unsigned long long bwrap_monitor_enter(const struct plan *plan, unsigned long long flags) {
  const struct bwrap_plan *b = &plan->bw;
  /* the pid namespace first: entering it needs CAP_SYS_ADMIN over its owner, which the user namespace below gives
   * only once we are in that one, so both orders are tried */
  int pid_done = 0;
  if (b->pidns_fd >= 0 && setns(b->pidns_fd, CLONE_NEWPID) == 0) pid_done = 1;
  if (b->userns_fd >= 0) {
    if (setns(b->userns_fd, CLONE_NEWUSER) < 0) die_errno(125, "--userns %d: enter the user namespace", b->userns_fd);
    flags &= ~(unsigned long long)CLONE_NEWUSER;
  }
  if (b->pidns_fd >= 0 && !pid_done && setns(b->pidns_fd, CLONE_NEWPID) < 0) die_errno(125, "--pidns %d: enter the pid namespace", b->pidns_fd);
  /* the kernel makes no new pid namespace below one entered with setns in the same clone (EINVAL): the sandbox
   * lives in the given one, as bubblewrap's does without --unshare-pid */
  if (b->pidns_fd >= 0) flags &= ~(unsigned long long)CLONE_NEWPID;
  return flags;
}

void bwrap_init_enter(const struct plan *plan) {
  const struct bwrap_plan *b = &plan->bw;
  if (b->userns2_fd < 0) return;
  if (setns(b->userns2_fd, CLONE_NEWUSER) < 0) die_errno(125, "--userns2 %d: enter the user namespace", b->userns2_fd);
  close(b->userns2_fd);
}

void bwrap_child_start(const struct plan *plan) {
  const struct bwrap_plan *b = &plan->bw;
  if (b->userns_fd >= 0) close(b->userns_fd);
  if (b->pidns_fd >= 0) close(b->pidns_fd);
  if (b->info_fd >= 0) close(b->info_fd);
  if (b->json_status_fd >= 0) close(b->json_status_fd);
  if (b->sync_fd >= 0) close(b->sync_fd);
  if (b->userns_block_fd >= 0) {
    /* the maps are someone else's to write (newuidmap, say): they say when on this descriptor */
    char c;
    ssize_t n;
    do n = read(b->userns_block_fd, &c, 1); while (n < 0 && errno == EINTR);
    close(b->userns_block_fd);
  }
}

void bwrap_init_ready(const struct plan *plan) {
  const struct bwrap_plan *b = &plan->bw;
  for (size_t i = 0; i < b->n_lock_files; i++) {
    /* held by the init for the sandbox's life (close-on-exec: not the program's); a writer outside waits on it */
    /* O_NONBLOCK: a FIFO planted at the path must not hang the launch in open() (the lock is what may wait) */
    int fd = open(b->lock_files[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) die_errno(125, "--lock-file %s", b->lock_files[i]);
    struct flock l = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    int rc;
    do rc = fcntl(fd, F_SETLKW, &l); while (rc < 0 && errno == EINTR);
    if (rc < 0) die_errno(125, "--lock-file %s: lock", b->lock_files[i]);
  }
  if (b->block_fd >= 0) {
    char c;
    ssize_t n;
    do n = read(b->block_fd, &c, 1); while (n < 0 && errno == EINTR);
    close(b->block_fd);
  }
}

/* ",\n    \"net-namespace\": 4026531840" for each namespace the child has apart from ours. */
static void namespace_members(pid_t child, const struct plan *plan, char *out, size_t len, const char *sep) {
  static const char *const kinds[] = { "cgroup", "ipc", "mnt", "net", "pid", "uts" };
  size_t used = strlen(out);
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (!strcmp(kinds[i], "net") && plan->share_net) continue;
    if (!strcmp(kinds[i], "pid") && plan->share_pid) continue;
    char p[64], link[64];
    snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)child, kinds[i]);
    ssize_t n = readlink(p, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = 0;
    const char *num = strchr(link, '[');
    if (!num) continue;
    unsigned long long ino = strtoull(num + 1, NULL, 10);
    int w = snprintf(out + used, len - used, "%s\"%s-namespace\": %llu", sep, kinds[i], ino);
    if (w < 0 || (size_t)w >= len - used) return;
    used += (size_t)w;
  }
}

void bwrap_monitor_started(const struct plan *plan, pid_t child) {
  const struct bwrap_plan *b = &plan->bw;
  char buf[1024];
  if (b->info_fd >= 0) {
    snprintf(buf, sizeof buf, "{\n    \"child-pid\": %d", (int)child);
    namespace_members(child, plan, buf, sizeof buf - 4, ",\n    ");
    strcat(buf, "\n}\n");
    write_text(b->info_fd, buf);
    close(b->info_fd);
  }
  if (b->json_status_fd >= 0) {
    snprintf(buf, sizeof buf, "{ \"child-pid\": %d", (int)child);
    namespace_members(child, plan, buf, sizeof buf - 4, ", ");
    strcat(buf, " }\n");
    write_text(b->json_status_fd, buf);
  }
}

int bwrap_monitor_exit(const struct plan *plan, int code) {
  const struct bwrap_plan *b = &plan->bw;
  if (b->json_status_fd >= 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "{ \"exit-code\": %d }\n", code);
    write_text(b->json_status_fd, buf);
    close(b->json_status_fd);
  }
  return code;
}

void bwrap_install_filters(const struct plan *plan) {
  const struct bwrap_plan *b = &plan->bw;
  for (size_t i = 0; i < b->n_filters; i++) {
    struct sock_fprog prog = { (unsigned short)(b->filters[i].len / 8), (struct sock_filter *)(void *)b->filters[i].bpf };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) die_errno(125, "%s: install seccomp filter", b->filters[i].origin);
  }
}

char *const *bwrap_program_argv(const struct plan *plan) {
  if (!plan->bw.argv0) return (char *const *)plan->argv;
  const char **v = calloc(plan->n_argv + 1, sizeof *v);
  if (!v) die(125, "out of memory");
  memcpy(v, plan->argv, plan->n_argv * sizeof *v);
  v[0] = plan->bw.argv0;
  return (char *const *)v;
}
