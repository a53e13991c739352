/* The monitor's part of a miss: see plan-cache-keep.h. Node hands over the entry's records less the boot (a `W`
 * record with the cache directory first); each path's state is looked at again here, after everything Node did, and
 * a state that differs from the one planning saw means the plan may be of a host in between: nothing is kept. The
 * file is written as the launcher trusts it (plan-cache.c): in the caller's own directories closed to others, reached
 * without following a symlink, as a new file (O_EXCL) renamed over the old one. */
#include "plan-cache-keep.h"
#include "hmac-sha256.h"
#include "plan-cache-state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_VERSION 4 /* CACHE_VERSION in lib/host/plan-cache.ts */
#define HEADER 64       /* magic, version, 0, body length, 0, HMAC-SHA-256 of the body */
#define KEEP_MAX (64u << 20)

static unsigned char *kept;
static size_t kept_len;

void plan_cache_keep_take(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= KEEP_MAX && (kept = malloc((size_t)st.st_size))) {
    for (size_t off = 0; off < (size_t)st.st_size;) {
      ssize_t r = pread(fd, kept + off, (size_t)st.st_size - off, (off_t)off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { free(kept); kept = NULL; break; }
      off += (size_t)r;
    }
    if (kept) kept_len = (size_t)st.st_size;
  }
  close(fd);
}

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }

struct field { const unsigned char *p; uint32_t len; };

/* The record at *off: its type, fields (up to 5) and count; -1 when it runs past the end. */
static int next_record(const unsigned char *b, size_t len, size_t *off, char *type, struct field f[5], unsigned *nf) {
  if (len - *off < 2) return -1;
  *type = (char)b[*off];
  *nf = b[*off + 1];
  if (*nf > 5) return -1;
  size_t o = *off + 2;
  for (unsigned i = 0; i < *nf; i++) {
    if (len - o < 4 || len - o - 4 < le32(b + o)) return -1;
    f[i].len = le32(b + o);
    f[i].p = b + o + 4;
    o += 4 + f[i].len;
  }
  *off = o;
  return 0;
}

static int field_str(struct field f, char *buf, size_t len) {
  if (f.len >= len || memchr(f.p, 0, f.len)) return -1;
  memcpy(buf, f.p, f.len);
  buf[f.len] = 0;
  return 0;
}

/* A directory of ours that no one else can write, opened without following a symlink at its last component. */
static int own_dir(int at, const char *name) {
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 022)) {
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

static void keep(void) {
  char base[PATH_MAX], path[PATH_MAX], num[32], want[PATH_MAX + 128], have[PATH_MAX + 128], boot[64], name[24], tmp[64], dir[64];
  unsigned char secret[32];
  size_t off = 0, rest;
  char type;
  unsigned nf;
  struct field f[5];
  /* W: the cache directory's base and the entry's name (the slot Node chose: 8 hex digits, a dot, a digit) */
  if (next_record(kept, kept_len, &off, &type, f, &nf) < 0 || type != 'W' || nf != 2 || field_str(f[0], base, sizeof base) < 0 || base[0] != '/' ||
      field_str(f[1], name, sizeof name) < 0 || strlen(name) != 10 || strspn(name, "0123456789abcdef") != 8 || name[8] != '.' || name[9] < '0' || name[9] > '9')
    return plan_cache_say("not kept: a bad hand-over");
  if (plan_cache_secret(secret, dir, sizeof dir) < 0) return plan_cache_say("not kept: no key in %s to sign it", dir);
  rest = off;
  int have_key = 0;
  while (off < kept_len) {
    if (next_record(kept, kept_len, &off, &type, f, &nf) < 0) return plan_cache_say("not kept: a bad hand-over");
    if (type == 'K' && nf == 1) {
      char want_name[16];
      snprintf(want_name, sizeof want_name, "%08x", plan_cache_checksum(f[0].p, f[0].len));
      if (strncmp(want_name, name, 8)) return plan_cache_say("not kept: a bad hand-over");
      have_key = 1;
    } else if (type == 'D') {
      if (nf != 4 || f[0].len != 1 || field_str(f[1], path, sizeof path) < 0 || field_str(f[2], num, sizeof num) < 0 ||
          field_str(f[3], want, sizeof want) < 0)
        return plan_cache_say("not kept: a bad hand-over");
      plan_cache_state((char)f[0].p[0], path, atoi(num), have, sizeof have);
      if (strcmp(have, want)) return plan_cache_say("not kept: %s changed while the plan was made", path);
    }
  }
  if (!have_key) return plan_cache_say("not kept: a bad hand-over");
  if (plan_cache_boot_id(boot, sizeof boot) < 0) return plan_cache_say("not kept: no boot id");
  /* header, the key's record first as Node wrote it, then the boot, then the rest */
  size_t keyrec = 0, after = rest;
  if (next_record(kept, kept_len, &after, &type, f, &nf) < 0 || type != 'K') return plan_cache_say("not kept: a bad hand-over");
  keyrec = after - rest;
  size_t bootlen = strlen(boot), body = (kept_len - rest) + 2 + 4 + bootlen;
  unsigned char *out = malloc(HEADER + body), *o = out + HEADER;
  if (!out) return;
  memcpy(o, kept + rest, keyrec);
  o += keyrec;
  *o++ = 'B';
  *o++ = 1;
  put32(o, (uint32_t)bootlen);
  memcpy(o + 4, boot, bootlen);
  o += 4 + bootlen;
  memcpy(o, kept + rest + keyrec, kept_len - rest - keyrec);
  memset(out, 0, HEADER);
  memcpy(out, "SBXPLANC", 8);
  put32(out + 8, CACHE_VERSION);
  put64(out + 16, body);
  hmac_sha256(secret, 32, out + HEADER, body, out + 32);

  int bfd = own_dir(AT_FDCWD, base), dfd = bfd < 0 ? -1 : own_dir(bfd, "plans");
  if (bfd >= 0) close(bfd);
  if (dfd < 0) {
    free(out);
    return plan_cache_say("not kept: %s/plans is not a directory of yours alone", base);
  }
  snprintf(tmp, sizeof tmp, ".%s.%d", name, (int)getpid());
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int ok = fd >= 0 && write_all(fd, out, HEADER + body) == 0;
  if (fd >= 0 && close(fd) < 0) ok = 0;
  if (ok && renameat(dfd, tmp, dfd, name) < 0) ok = 0;
  int err = errno;
  if (!ok && fd >= 0) unlinkat(dfd, tmp, 0);
  close(dfd);
  free(out);
  if (!ok) return plan_cache_say("not kept: %s", strerror(err));
  plan_cache_say("kept %s", name);
}

void plan_cache_keep_write(void) {
  if (!kept) return;
  keep();
  free(kept);
  kept = NULL;
}
