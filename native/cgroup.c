/* The leaf cgroup at the end: what limits were hit, said in the plan's words, then every process left killed and
 * the leaf removed. */
#include "cgroup.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

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

void finish_cgroup(const struct plan *plan, int kill_fd) {
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
}

void cgroup_add(const struct plan *plan, pid_t pid) {
  char procs[4096], line[32];
  snprintf(procs, sizeof procs, "%s/cgroup.procs", plan->cgroup_leaf);
  snprintf(line, sizeof line, "%ld", (long)pid);
  write_file(procs, line);
}
