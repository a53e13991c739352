/* The launcher's half of the plan cache (lib/host/plan-cache.ts writes the entries). An entry is trusted only when
 * it is the caller's own regular file, reached without a symlink through directories that are the caller's and closed
 * to others, of the size its header says and signed with the user's key (HMAC-SHA-256, /tmp/sandbox-UID/plan-key); it is used only when its key (every argument, uid,
 * gid, working directory) is this launch's and every file state and environment value it recorded is still so. Any
 * doubt returns to Node, which plans as without a cache and writes a new entry. */
#include "plan-cache.h"
#include "hmac-sha256.h"
#include "launch-paths.h"
#include "launch-registry.h"
#include "plan-cache-state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_VERSION 4
#define HEADER 64 /* magic, version, 0, body length, 0, HMAC-SHA-256 of the body */
#define ENTRY_MAX (64u << 20)
#define CACHE_SLOTS 4 /* kept plans per launch: CACHE_SLOTS in lib/host/plan-cache.ts */

static int on(const char *v) { return v && *v && strcmp(v, "0"); }

/* An absolute path as Node's path.normalize leaves it; anything else is not used (the writer would differ). */
static int clean_abs(const char *p) {
  if (!p || p[0] != '/') return 0;
  size_t n = strlen(p);
  if (n > 1 && p[n - 1] == '/') return 0;
  return !strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../") && !(n >= 2 && !strcmp(p + n - 2, "/.")) && !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

/* $XDG_RUNTIME_DIR/sandbox, else $XDG_CACHE_HOME/sandbox where the user set it, else /tmp/sandbox-UID (cacheBase in
 * the writer: not ~/.cache, an entry is good for one boot only) */
static int cache_base(char *buf, size_t len) {
  const char *rt = getenv("XDG_RUNTIME_DIR"), *ch = getenv("XDG_CACHE_HOME");
  int n;
  if (rt && rt[0] == '/') n = clean_abs(rt) ? snprintf(buf, len, "%s/sandbox", strcmp(rt, "/") ? rt : "") : -1;
  else if (ch && ch[0] == '/') n = clean_abs(ch) ? snprintf(buf, len, "%s/sandbox", strcmp(ch, "/") ? ch : "") : -1;
  else n = snprintf(buf, len, "/tmp/sandbox-%u", (unsigned)getuid()); /* the state directory */
  return n > 0 && (size_t)n < len ? 0 : -1;
}

/* A directory of ours that no one else can write, opened without following a symlink at its last component. */
static int open_own_dir(int at, const char *name) {
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 022)) {
    plan_cache_say("%s is not yours alone: not used", name);
    close(fd);
    return -1;
  }
  return fd;
}

struct field { const unsigned char *p; uint32_t len; };

/* A field as a C string (paths, names): none holds a NUL. */
static const char *cstr(struct field f, char *buf, size_t len) {
  if (f.len >= len || memchr(f.p, 0, f.len)) return NULL;
  memcpy(buf, f.p, f.len);
  buf[f.len] = 0;
  return buf;
}

/* The stage beside this launcher, the same file (not only the same path): an entry that names another is one another
 * installation of sandbox kept (its plan and profiles, its version), or one not written by sandbox at all. */
static int own_stage(const char *stage) {
  char exe[PATH_MAX], sibling[PATH_MAX + 16];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 0;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return 0;
  *slash = 0;
  snprintf(sibling, sizeof sibling, "%s/sandbox-stage", exe);
  struct stat a, b;
  return stat(stage, &a) == 0 && stat(sibling, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int same(struct field f, const char *s) { return f.len == strlen(s) && !memcmp(f.p, s, f.len); }

static unsigned char *key_material(int argc, char **argv, size_t *len) {
  char cwd[PATH_MAX], ids[64];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  snprintf(ids, sizeof ids, "%u%c%u", (unsigned)getuid(), 0, (unsigned)getgid());
  size_t idlen = strlen(ids) + 1 + strlen(ids + strlen(ids) + 1);
  static const char head[] = "sandbox-plan-cache 4";
  size_t n = sizeof head + idlen + 1 + strlen(cwd) + 1;
  for (int i = 1; i < argc; i++) n += strlen(argv[i]) + 1;
  unsigned char *k = malloc(n), *p = k;
  if (!k) return NULL;
  memcpy(p, head, sizeof head); p += sizeof head;
  memcpy(p, ids, idlen + 1); p += idlen + 1;
  memcpy(p, cwd, strlen(cwd) + 1); p += strlen(cwd) + 1;
  for (int i = 1; i < argc; i++) { memcpy(p, argv[i], strlen(argv[i]) + 1); p += strlen(argv[i]) + 1; }
  *len = n;
  return k;
}

/* The launch's value of a variable the kept plan takes at each launch: in the planned value's directory (the
 * recorded states of the directories above it then hold for it too), and standing to each guard path as the planned
 * value did (native/launch-paths.c; the stage checks the same and would refuse where Node plans again). */
static int check_launch_value(const char *name, const char *planned, struct field guards) {
  char buf[PATH_MAX], path[PATH_MAX], found[PATH_MAX];
  const char *value = launch_value(name, buf, sizeof buf);
  if (!value) return plan_cache_say("miss: $%s unset", name), -1;
  if (!strcmp(value, planned)) return 0;
  const char *slash = strrchr(value, '/'), *pslash = strrchr(planned, '/');
  if (!slash || !pslash || slash - value != pslash - planned || strncmp(value, planned, (size_t)(slash - value)))
    return plan_cache_say("miss: $%s is in another directory", name), -1;
  const char *problem = launch_value_problem(value);
  if (problem) return plan_cache_say("miss: $%s is %s", name, problem), -1;
  for (uint32_t off = 0; off < guards.len;) {
    const unsigned char *nl = memchr(guards.p + off, '\n', guards.len - off);
    size_t n = nl ? (size_t)(nl - guards.p - off) : 0;
    if (!nl || n < 3 || n - 2 >= sizeof path || guards.p[off + 1] != ' ') return plan_cache_say("bad record"), -1;
    char rel = (char)guards.p[off];
    memcpy(path, guards.p + off + 2, n - 2);
    path[n - 2] = 0;
    off += (uint32_t)n + 1;
    if (rel == 'L' ? launch_list_names_plan_under(path, value, found, sizeof found) : !launch_relation_allowed(launch_relation(value, path), rel))
      return plan_cache_say("miss: $%s stands otherwise to %s", name, path), -1;
  }
  return 0;
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Checks every record against this launch; fills the stage, the plan and what to say. 0: a hit. */
static int check_entry(const unsigned char *body, size_t len, const unsigned char *key, size_t keylen,
                       struct field *stage, struct field *plan, struct field *said, struct field reg[5]) {
  char path[PATH_MAX], name[4096], want[PATH_MAX + 128], have[PATH_MAX + 128], num[32];
  int seen_key = 0, seen_boot = 0;
  for (size_t off = 0; off < len;) {
    if (len - off < 2) return plan_cache_say("truncated record"), -1;
    char type = (char)body[off];
    unsigned nf = body[off + 1];
    off += 2;
    struct field f[5];
    if (nf > 5) return plan_cache_say("bad record"), -1;
    for (unsigned i = 0; i < nf; i++) {
      if (len - off < 4 || len - off - 4 < le32(body + off)) return plan_cache_say("truncated field"), -1;
      f[i].len = le32(body + off);
      f[i].p = body + off + 4;
      off += 4 + f[i].len;
    }
    switch (type) {
    case 'K':
      if (nf != 1 || f[0].len != keylen || memcmp(f[0].p, key, keylen)) return plan_cache_say("another launch's entry"), -1;
      seen_key = 1;
      break;
    case 'B': {
      int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
      ssize_t n = fd < 0 ? -1 : read(fd, have, 64);
      if (fd >= 0) close(fd);
      while (n > 0 && (have[n - 1] == '\n' || have[n - 1] == ' ')) n--;
      if (nf != 1 || n <= 0) return -1;
      have[n] = 0;
      if (!same(f[0], have)) return plan_cache_say("written in another boot"), -1;
      seen_boot = 1;
      break;
    }
    case 'E': {
      if (nf != 2 || !cstr(f[0], name, sizeof name) || f[1].len < 1) return plan_cache_say("bad record"), -1;
      const char *v = getenv(name);
      if (f[1].p[0] == '0' ? v != NULL : !v || f[1].len - 1 != strlen(v) || memcmp(f[1].p + 1, v, f[1].len - 1))
        return plan_cache_say("miss: $%s changed", name), -1;
      break;
    }
    case 'S': { /* set or not decides (the join key's variables: the stage resolves their values) */
      if (nf != 2 || !cstr(f[0], name, sizeof name) || f[1].len != 1) return plan_cache_say("bad record"), -1;
      const char *v = getenv(name);
      if ((v && *v) != (f[1].p[0] == '1')) return plan_cache_say("miss: $%s %s", name, v && *v ? "set" : "unset"), -1;
      break;
    }
    case 'V': /* a path the kept plan takes from this launch (launch-var): the stage's checks, made here first */
      if (nf != 3 || !cstr(f[0], name, sizeof name) || !cstr(f[1], want, sizeof want) || check_launch_value(name, want, f[2]) < 0) return -1;
      break;
    case 'D':
      if (nf != 4 || f[0].len != 1 || !cstr(f[1], path, sizeof path) || !cstr(f[2], num, sizeof num) || !cstr(f[3], want, sizeof want)) return plan_cache_say("bad record"), -1;
      plan_cache_state((char)f[0].p[0], path, atoi(num), have, sizeof have);
      if (strcmp(have, want)) return plan_cache_say("miss: %s changed (%c: %s, was %s)", path, f[0].p[0], have, want), -1;
      break;
    case 'O': if (nf != 1) return -1; *said = f[0]; break;
    case 'X': if (nf != 1) return -1; *stage = f[0]; break;
    case 'P': if (nf != 1) return -1; *plan = f[0]; break;
    case 'R': if (nf != 5) return -1; memcpy(reg, f, 5 * sizeof *f); break;
    default: return plan_cache_say("unknown record"), -1;
    }
  }
  return seen_key && seen_boot && stage->p && plan->p ? 0 : -1;
}

static int read_secret(unsigned char secret[32]) {
  char dir[64];
  if (plan_cache_secret(secret, dir, sizeof dir) == 0) return 0;
  plan_cache_say("miss: no key in %s (a launch that keeps a plan makes it)", dir);
  return -1;
}

/* One kept entry, opened: its plan runs when every check holds (this does not return then); else it returns, having
 * said why with SANDBOX_CACHE_DEBUG. */
static void use_entry(int fd, const char *entry, const unsigned char *key, size_t keylen, const unsigned char secret[32]) {
  char stage_path[PATH_MAX];
  struct stat st;
  unsigned char *buf = NULL;
  if (fd < 0) { plan_cache_say("%s: %s: not used", entry, strerror(errno)); return; }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022) || st.st_size < HEADER || (uint64_t)st.st_size > ENTRY_MAX) {
    plan_cache_say("%s is not a file of yours alone of a sane size: not used", entry);
    goto out;
  }
  buf = malloc((size_t)st.st_size);
  if (!buf || read_all(fd, buf, (size_t)st.st_size) < 0) goto out;
  unsigned char mac[32];
  hmac_sha256(secret, 32, buf + HEADER, (size_t)st.st_size - HEADER, mac);
  unsigned char diff = 0;
  for (int i = 0; i < 32; i++) diff |= mac[i] ^ buf[32 + i];
  if (memcmp(buf, "SBXPLANC", 8) || le32(buf + 8) != CACHE_VERSION || le64(buf + 16) != (uint64_t)st.st_size - HEADER || diff) {
    plan_cache_say("%s is damaged or not signed with your key (header, length or signature): not used", entry);
    goto out;
  }
  struct field stage = { 0 }, plan = { 0 }, said = { 0 }, reg[5] = { { 0 } };
  if (check_entry(buf + HEADER, (size_t)st.st_size - HEADER, key, keylen, &stage, &plan, &said, reg) < 0) goto out;
  if (!cstr(stage, stage_path, sizeof stage_path)) goto out;
  if (!own_stage(stage_path)) {
    plan_cache_say("%s names a stage that is not this launcher's (%s): not used", entry, stage_path);
    goto out;
  }
  static const char end[] = "3:end,";
  if (plan.len < sizeof end - 1 || memcmp(plan.p + plan.len - (sizeof end - 1), end, sizeof end - 1)) goto out;
  /* The registry: a fresh name for this launch, as Node claims one (the kept plan has no registry record). Claimed
   * before anything is said, so a failure goes back to Node with nothing done. */
  char nbase[128], label[4096], *pjson = NULL, *cjson = NULL, flags[8], title[4400];
  struct launch_claim claim = { { 0 }, { 0 }, { 0 } };
  int named = 0;
  if (reg[0].p) {
    pjson = malloc(reg[2].len + 1);
    cjson = malloc(reg[3].len + 1);
    if (!pjson || !cjson || !cstr(reg[0], nbase, sizeof nbase) || !cstr(reg[1], label, sizeof label) || !cstr(reg[2], pjson, reg[2].len + 1) ||
        !cstr(reg[3], cjson, reg[3].len + 1) || !cstr(reg[4], flags, sizeof flags)) {
      free(pjson);
      free(cjson);
      goto out;
    }
    struct launch_registry in = { nbase, pjson, cjson, strchr(flags, 'e') != NULL, strchr(flags, 'j') != NULL };
    int c = launch_claim(&in, &claim);
    free(pjson);
    free(cjson);
    if (c < 0) { plan_cache_say("no name could be claimed: planning in Node"); goto out; }
    named = c == 0;
    if (named) snprintf(title, sizeof title, "sandbox: %s [%s]", claim.name, label);
  }
  int pfd = memfd_create("sandbox-plan", 0); /* inherited by the stage, as Node hands it over */
  if (pfd < 0) { launch_unclaim(&claim); goto out; }
  /* the plan less its end, the registry record (as serialize.ts writes it), the end */
  char rec[4400 + 128];
  int rn = 0;
  if (named) {
    const char *flag = strchr(flags, 'e') ? "1" : "0";
    rn = snprintf(rec, sizeof rec, "8:registry,%zu:%s,%zu:%s,1:%s,", strlen(claim.dir), claim.dir, strlen(claim.name), claim.name, flag);
  }
  struct { const unsigned char *p; size_t n; } parts[] = {
    { plan.p, plan.len - (sizeof end - 1) }, { (const unsigned char *)rec, (size_t)rn }, { (const unsigned char *)end, sizeof end - 1 } };
  off_t at = 0;
  for (size_t i = 0; i < 3; i++)
    for (size_t off = 0; off < parts[i].n;) {
      ssize_t w = pwrite(pfd, parts[i].p + off, parts[i].n - off, at);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) { close(pfd); launch_unclaim(&claim); goto out; }
      off += (size_t)w;
      at += w;
    }
  futimens(fd, NULL); /* its mtime says when it was last used: Node replaces the least recently used */
  close(fd);
  plan_cache_say("hit %s", entry);
  if (said.len) fwrite(said.p, 1, said.len, stderr);
  if (claim.note[0]) fputs(claim.note, stderr); /* after planning's lines, as Node says it */
  fflush(stderr);
  char fdarg[16];
  snprintf(fdarg, sizeof fdarg, "%d", pfd);
  char *args[] = { named ? title : stage_path, "--plan-fd", fdarg, NULL };
  execv(stage_path, args); /* the environment goes along: the stage builds the program's from it by the plan's rules */
  plan_cache_say("cannot run %s: %s", stage_path, strerror(errno));
  launch_unclaim(&claim);
  close(pfd);
  free(buf);
  return;
out:
  if (fd >= 0) close(fd);
  free(buf);
}

void plan_cache_launch(int argc, char **argv) {
  /* Node decides these as well (lib/cli/plan-cache-run.ts): debug output comes only from Node */
  const char *dbg = getenv("DEBUG");
  /* only as `sandbox`: another name (bwrap) is another command line language, and the key holds no argv[0] */
  const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  if (strcmp(self, "sandbox")) return;
  if (argc < 2 || on(getenv("SANDBOX_NO_CACHE")) || on(getenv("SANDBOX_DEBUG")) || (dbg && strstr(dbg, "sandbox"))) return;
  char base[PATH_MAX], entry[24];
  if (cache_base(base, sizeof base) < 0) return;
  size_t keylen;
  unsigned char *key = key_material(argc, argv, &keylen);
  if (!key) return;
  unsigned char secret[32];
  if (read_secret(secret) < 0) { free(key); return; }
  int bfd = open_own_dir(AT_FDCWD, base), dfd = bfd < 0 ? -1 : open_own_dir(bfd, "plans");
  if (bfd >= 0) close(bfd);
  /* a launch has up to CACHE_SLOTS kept plans, one per set of conditions (inside a job and outside, with a display and
   * without): each is tried in turn; Node fills a free slot or replaces the least recently used one */
  int any = 0;
  for (int slot = 0; dfd >= 0 && slot < CACHE_SLOTS; slot++) {
    snprintf(entry, sizeof entry, "%08x.%d", plan_cache_checksum(key, keylen), slot);
    int fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) continue;
    any = 1;
    use_entry(fd, entry, key, keylen, secret); /* returns unless the entry's plan runs */
  }
  if (!any) plan_cache_say("miss: no entry %08x", plan_cache_checksum(key, keylen));
  if (dfd >= 0) close(dfd);
  free(key);
}
