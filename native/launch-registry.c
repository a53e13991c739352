/* A plan cache hit names its sandbox as `sandbox run` does in Node (lib/running/registry.ts claimName): a fresh
 * default name claimed under the registry directory's lock, the entry NAME.json written through a new file renamed
 * into place. The kept plan carries no registry record (each launch has a name of its own): the launcher adds it. */
#include "launch-registry.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WHAT "sandbox's registry of running sandboxes"

/* One step of the way to the registry, as checkedDir: the caller's directory, no symlink, closed to others
 * (strict: to group and others alike). Missing ones are made 0700 first where make says so. */
static int checked_dir(const char *p, int strict, int make, char *why, size_t whylen) {
  struct stat st;
  if (make && lstat(p, &st) < 0 && errno == ENOENT && mkdir(p, 0700) < 0 && errno != EEXIST) {
    snprintf(why, whylen, "%s: can't be made (%s)", p, strerror(errno));
    return -1;
  }
  if (lstat(p, &st) < 0) return snprintf(why, whylen, "%s: missing (" WHAT ")", p), -1;
  if (!S_ISDIR(st.st_mode)) return snprintf(why, whylen, "%s: not a directory (" WHAT ")", p), -1;
  if (st.st_uid != getuid()) return snprintf(why, whylen, "%s: owned by uid %u, not by you (" WHAT ")", p, (unsigned)st.st_uid), -1;
  if (st.st_mode & (strict ? 077 : 022))
    return snprintf(why, whylen, "%s: mode %o, open to others (" WHAT "): chmod %s it", p, (unsigned)(st.st_mode & 0777), strict ? "700" : "go-w"), -1;
  return 0;
}

/* registryBases' first directory, made and checked as ensureRegistryDir does. 0, or -1 with why set. */
static int registry_dir(char *dir, size_t len, char *why, size_t whylen) {
  const char *rt = getenv("XDG_RUNTIME_DIR");
  char base[4096], sbx[4200];
  struct stat st;
  int tmp = 0;
  /* XDG_RUNTIME_DIR is a clean absolute path here: the cache lookup uses none other */
  if (rt && rt[0] == '/' && lstat(rt, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
    snprintf(base, sizeof base, "%s", strcmp(rt, "/") ? rt : "");
  else {
    snprintf(base, sizeof base, "/tmp/sandbox-%u", (unsigned)getuid());
    tmp = 1;
  }
  if (tmp) {
    if (checked_dir(base, 1, 1, why, whylen) < 0) return -1;
  } else if (checked_dir(base[0] ? base : "/", 0, 0, why, whylen) < 0) return -1;
  snprintf(sbx, sizeof sbx, "%s/sandbox", base);
  if (checked_dir(sbx, 0, 1, why, whylen) < 0) return -1;
  if ((size_t)snprintf(dir, len, "%s/running", sbx) >= len) return snprintf(why, whylen, "%s/running: too long", sbx), -1;
  return checked_dir(dir, 1, 1, why, whylen);
}

/* Field 22 of /proc/self/stat: with the pid, it names this process, which execs the stage and so is the monitor. */
static int own_start(char *out, size_t len) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2; /* fields 3.. follow the parenthesis: 22 is the 20th of them */
  for (int i = 0; i < 19 && p; i++) p = strchr(p, ' '), p = p ? p + 1 : NULL;
  if (!p) return -1;
  size_t k = strcspn(p, " \n");
  if (!k || k >= len) return -1;
  memcpy(out, p, k);
  out[k] = 0;
  return 0;
}

int launch_claim(const struct launch_registry *in, struct launch_claim *out) {
  char why[8400], start[32];
  memset(out, 0, sizeof *out);
  if (registry_dir(out->dir, sizeof out->dir, why, sizeof why) < 0) {
    /* as Node for a launch without --name: on unregistered, with a note (none for a --join member) */
    if (!in->join) snprintf(out->note, sizeof out->note, "sandbox: note: %s: this sandbox runs without a name (sandbox ps, enter and stop won't see it)\n", why);
    return 1;
  }
  if (own_start(start, sizeof start) < 0) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long started = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return -1;
  while (flock(dfd, LOCK_EX) < 0)
    if (errno != EINTR) return close(dfd), -1;
  int rc = -1;
  for (int attempt = 0; attempt < 8 && rc < 0; attempt++) {
    unsigned char r[2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) break;
    char name[80], file[96], tmp[128];
    snprintf(name, sizeof name, "%s-%02x%02x", in->base, r[0], r[1]);
    snprintf(file, sizeof file, "%s.json", name);
    struct stat st;
    /* any entry of that name counts as taken (a live one must; a dead one costs only another try) */
    if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) continue;
    snprintf(tmp, sizeof tmp, "%s.sock", name);
    unlinkat(dfd, tmp, 0); /* a dead monitor's socket */
    snprintf(tmp, sizeof tmp, ".%s.%d.new", name, (int)getpid());
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) break;
    /* the fields and their order as JSON.stringify writes claimName's entry; the name needs no escaping */
    size_t n = strlen(in->profile_json) + strlen(in->command_json) + strlen(name) + 256;
    char *json = malloc(n);
    int len = json ? snprintf(json, n, "{\"version\":1,\"name\":\"%s\",\"pid\":%d,\"start\":\"%s\",\"profile\":%s,\"command\":%s,\"started\":%lld,\"cgroup\":null,\"enter\":%s}\n",
                              name, (int)getpid(), start, in->profile_json, in->command_json, started, in->enter ? "true" : "false") : -1;
    int ok = len > 0 && (size_t)len < n && write_all(fd, json, (size_t)len) == 0;
    free(json);
    if (close(fd) < 0) ok = 0;
    if (!ok || renameat(dfd, tmp, dfd, file) < 0) {
      unlinkat(dfd, tmp, 0);
      break;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    rc = 0;
  }
  close(dfd); /* the lock goes with it */
  return rc;
}

void launch_unclaim(const struct launch_claim *c) {
  char p[4400];
  if (!c->name[0]) return;
  snprintf(p, sizeof p, "%s/%s.json", c->dir, c->name);
  unlink(p);
}
