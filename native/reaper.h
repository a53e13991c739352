#ifndef SANDBOX_REAPER_H
#define SANDBOX_REAPER_H
#include <sys/types.h>
/* What the init needs at the end, opened before its root was replaced (the sandbox may show no /proc, or another). */
struct reaper {
  int children_fd; /* /proc/thread-self/children of the reaper, read again from offset 0 each round; -1: none */
  int proc_fd;     /* the host's /proc, for the scan where the kernel lists no children */
};
struct reaper open_reaper(void);
/* The reaper's direct children, at most cap; -1 when the kernel lists none (no CONFIG_PROC_CHILDREN). */
long read_children(int children_fd, pid_t *out, size_t cap);
void kill_descendants(const struct reaper *rp, const pid_t *spare, size_t n_spare);
#endif
