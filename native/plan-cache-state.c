/* The plan cache's shared computations: see plan-cache-state.h. */
#include "plan-cache-state.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t plan_cache_checksum(const unsigned char *p, size_t n) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t w = 0;
    for (size_t k = 0; k < 4 && i + k < n; k++) w |= (uint32_t)p[i + k] << (8 * k);
    h = (h ^ w) * 0x01000193u;
  }
  return h;
}

void plan_cache_state(char kind, const char *p, int mode, char *out, size_t len) {
  struct stat st;
  char buf[PATH_MAX];
  ssize_t n;
  switch (kind) {
  case 's': case 'l': case 'c':
    if ((kind == 'l' ? lstat(p, &st) : stat(p, &st)) < 0) { snprintf(out, len, "!%d", errno); return; }
    if (kind != 'c') snprintf(out, len, "%o %llu %llu %u", (unsigned)(st.st_mode & S_IFMT), (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                              (unsigned)st.st_uid);
    else snprintf(out, len, "%o %llu %llu %lld %lld.%ld %lld.%ld", (unsigned)(st.st_mode & S_IFMT), (unsigned long long)st.st_dev,
                  (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                  (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    return;
  case 'r':
    snprintf(out, len, "%s", realpath(p, buf) ? buf : "!");
    return;
  case 'a':
    if (access(p, mode) == 0) snprintf(out, len, "0");
    else snprintf(out, len, "!%d", errno);
    return;
  case 'k':
    n = readlink(p, buf, sizeof buf - 1);
    if (n < 0) snprintf(out, len, "!");
    else { buf[n] = 0; snprintf(out, len, "%s", buf); }
    return;
  default:
    snprintf(out, len, "?");
  }
}

int plan_cache_boot_id(char *out, size_t len) {
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 || len < 2 ? -1 : read(fd, out, len - 1);
  if (fd >= 0) close(fd);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) n--;
  if (n <= 0) return -1;
  out[n] = 0;
  return 0;
}

int plan_cache_secret(unsigned char secret[32], char *dir, size_t dirlen) {
  snprintf(dir, dirlen, "/tmp/sandbox-%u", (unsigned)getuid());
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (dfd >= 0 && (fstat(dfd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 022))) {
    close(dfd);
    dfd = -1;
  }
  int fd = dfd < 0 ? -1 : openat(dfd, "plan-key", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (dfd >= 0) close(dfd);
  int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() && !(st.st_mode & 077) && st.st_size == 32 &&
           pread(fd, secret, 32, 0) == 32;
  if (fd >= 0) close(fd);
  return ok ? 0 : -1;
}

void plan_cache_say(const char *fmt, ...) {
  const char *d = getenv("SANDBOX_CACHE_DEBUG");
  if (!d || !*d || !strcmp(d, "0")) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("sandbox: plan cache: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}
