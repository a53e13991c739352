/* Plan parser: turns the wire form (PLAN.md) into struct plan, validating every field.
 * Fails closed: an unknown record, a bad number, a relative path or a truncated token is an error. */
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
  const unsigned char *buf;
  size_t len, pos;
  char *err;
  size_t errlen;
};

static int fail(struct reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(r->err, r->errlen, "plan: byte %zu: ", r->pos);
  if (n > 0 && (size_t)n < r->errlen) vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* A token is LEN ':' BYTES ','. Returns its bytes in place (not terminated) through *out. */
static int token(struct reader *r, const unsigned char **out, size_t *outlen) {
  size_t n = 0, digits = 0;
  while (r->pos < r->len && r->buf[r->pos] >= '0' && r->buf[r->pos] <= '9') {
    if (n > PLAN_MAX_SIZE) return fail(r, "token length too large");
    n = n * 10 + (size_t)(r->buf[r->pos] - '0');
    r->pos++;
    digits++;
  }
  if (digits == 0 || digits > 9) return fail(r, "expected a token length");
  if (r->pos >= r->len || r->buf[r->pos] != ':') return fail(r, "expected ':' after token length");
  r->pos++;
  if (n > r->len - r->pos || r->len - r->pos - n < 1) return fail(r, "token runs past the end");
  *out = r->buf + r->pos;
  *outlen = n;
  r->pos += n;
  if (r->buf[r->pos] != ',') return fail(r, "expected ',' after token");
  r->pos++;
  return 0;
}

/* Strings live in one arena: each token copied once, NUL-terminated. */
struct arena { char *base; size_t used, cap; };

static const char *string_token(struct reader *r, struct arena *a) {
  const unsigned char *p;
  size_t n;
  if (token(r, &p, &n) < 0) return NULL;
  if (memchr(p, 0, n)) { fail(r, "string contains a NUL byte"); return NULL; }
  if (a->used + n + 1 > a->cap) { fail(r, "plan arena overflow"); return NULL; }
  char *s = a->base + a->used;
  memcpy(s, p, n);
  s[n] = 0;
  a->used += n + 1;
  return s;
}

static int number_token(struct reader *r, struct arena *a, uint64_t max, uint64_t *out) {
  const char *s = string_token(r, a);
  if (!s) return -1;
  if (!*s) return fail(r, "empty number");
  uint64_t v = 0;
  for (const char *c = s; *c; c++) {
    if (*c < '0' || *c > '9') return fail(r, "not a decimal number: '%.40s'", s);
    if (v > (UINT64_MAX - 9) / 10) return fail(r, "number too large: '%.40s'", s);
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (v > max) return fail(r, "number out of range: '%.40s'", s);
  *out = v;
  return 0;
}

/* Absolute, no "." or ".." components, no empty components except a lone "/". */
static int valid_path(const char *p) {
  if (p[0] != '/') return 0;
  if (strlen(p) >= 4096) return 0;
  const char *c = p;
  while (*c) {
    while (*c == '/') c++;
    const char *e = c;
    while (*e && *e != '/') e++;
    size_t n = (size_t)(e - c);
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    c = e;
  }
  return 1;
}

static const char *path_token(struct reader *r, struct arena *a, const char *what) {
  const char *s = string_token(r, a);
  if (!s) return NULL;
  if (!valid_path(s)) { fail(r, "%s is not a normalised absolute path: '%.200s'", what, s); return NULL; }
  return s;
}

#define GROW(arr, n, cap, type)                                              \
  do {                                                                       \
    if ((n) >= (cap)) {                                                      \
      size_t nc = (cap) ? (cap) * 2 : 16;                                    \
      type *na = realloc((void *)(arr), nc * sizeof(type));                  \
      if (!na) return fail(&r, "out of memory");                            \
      (arr) = na;                                                            \
      (cap) = nc;                                                            \
    }                                                                        \
  } while (0)

static int plan_parse_inner(struct reader *rr, struct plan *plan) {
#define r (*rr)
  struct arena a = { malloc(rr->len + 1), 0, rr->len + 1 };
  if (!a.base) return fail(rr, "out of memory");
  plan->storage = a.base;
  size_t cap_env = 0, cap_argv = 0, cap_ops = 0, cap_fds = 0, cap_rm = 0, cap_keep = 0, cap_unset = 0, cap_inputs = 0, cap_ll = 0;
  size_t cap_locks = 0, cap_filters = 0; /* bwrap mode */
  plan->bw.info_fd = plan->bw.json_status_fd = plan->bw.sync_fd = plan->bw.block_fd = -1;
  plan->bw.userns_fd = plan->bw.userns2_fd = plan->bw.pidns_fd = plan->bw.userns_block_fd = -1;
  uint64_t v;
  int seen_end = 0, items = 0;

  const char *magic = string_token(rr, &a);
  if (!magic) return -1;
  if (strcmp(magic, "sandbox-plan") != 0) return fail(rr, "not a sandbox plan");
  if (number_token(rr, &a, 1000, &v) < 0) return -1;
  if (v != PLAN_VERSION) return fail(rr, "plan version %llu, this stage reads version %d", (unsigned long long)v, PLAN_VERSION);
  plan->hostname = "sandbox";
  plan->cwd = "/";

  while (!seen_end) {
    if (++items > PLAN_MAX_ITEMS) return fail(rr, "too many records");
    const char *kw = string_token(rr, &a);
    if (!kw) return -1;
    if (!strcmp(kw, "end")) { seen_end = 1; break; }
    if (!strcmp(kw, "share-pid")) {
      if (number_token(rr, &a, 1, &v) < 0) return -1;
      plan->share_pid = (int)v;
    } else if (!strcmp(kw, "share-net") || !strcmp(kw, "new-session") || !strcmp(kw, "die-with-parent") ||
        !strcmp(kw, "as-pid-1") || !strcmp(kw, "cwd-fallback")) {
      if (number_token(rr, &a, 1, &v) < 0) return -1;
      int *f = !strcmp(kw, "share-net") ? &plan->share_net : !strcmp(kw, "new-session") ? &plan->new_session
             : !strcmp(kw, "die-with-parent") ? &plan->die_with_parent : !strcmp(kw, "as-pid-1") ? &plan->as_pid1
             : &plan->cwd_fallback;
      *f = (int)v;
    } else if (!strcmp(kw, "env-rules") || !strcmp(kw, "env-clear")) {
      if (number_token(rr, &a, 1, &v) < 0) return -1;
      if (kw[4] == 'r') plan->env_rules = (int)v; else plan->env_clear = (int)v;
    } else if (!strcmp(kw, "env-keep") || !strcmp(kw, "env-unset")) {
      int keep = kw[4] == 'k';
      const char ***arr = keep ? &plan->env_keep : &plan->env_unset;
      size_t *n = keep ? &plan->n_env_keep : &plan->n_env_unset;
      size_t *cap = keep ? &cap_keep : &cap_unset;
      if (*n >= *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        const char **na = realloc((void *)*arr, nc * sizeof *na);
        if (!na) return fail(rr, "out of memory");
        *arr = na;
        *cap = nc;
      }
      if (!((*arr)[(*n)++] = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "input-file") || !strcmp(kw, "input-path") || !strcmp(kw, "input-node")) {
      /* input-file PATH MTIME_SEC MTIME_NSEC SIZE; input-path PATH TYPE(1 dir, 2 other) OPTIONAL 0;
       * input-node PATH DEV INO 0 */
      GROW(plan->inputs, plan->n_inputs, cap_inputs, struct plan_input);
      struct plan_input *in = &plan->inputs[plan->n_inputs++];
      in->kind = kw[6] == 'f' ? 1 : kw[6] == 'p' ? 2 : 3;
      if (!(in->path = path_token(rr, &a, "input"))) return -1;
      if (number_token(rr, &a, UINT64_MAX >> 1, &in->a) < 0 || number_token(rr, &a, UINT64_MAX >> 1, &in->b) < 0 ||
          number_token(rr, &a, UINT64_MAX >> 1, &in->c) < 0) return -1;
    } else if (!strcmp(kw, "input-boot")) {
      if (!(plan->boot_id = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "landlock-ro") || !strcmp(kw, "landlock-rw")) {
      GROW(plan->landlock_paths, plan->n_landlock_paths, cap_ll, struct landlock_path);
      struct landlock_path *l = &plan->landlock_paths[plan->n_landlock_paths++];
      l->write = kw[10] == 'w';
      if (!(l->origin = string_token(rr, &a))) return -1;
      if (!(l->path = path_token(rr, &a, "landlock path"))) return -1;
    } else if (!strcmp(kw, "landlock-scopes")) {
      if (number_token(rr, &a, 3, &v) < 0) return -1;
      plan->landlock_scopes = (unsigned)v;
    } else if (!strcmp(kw, "terminal-node")) {
      if (number_token(rr, &a, 1, &v) < 0) return -1;
      plan->terminal_node = (int)v;
    } else if (!strcmp(kw, "verbose")) {
      if (number_token(rr, &a, 1, &v) < 0) return -1;
      plan->verbose = (int)v;
    } else if (!strcmp(kw, "parent-pid")) {
      if (number_token(rr, &a, 0x3fffffff, &v) < 0) return -1;
      plan->parent_pid = (pid_t)v;
    } else if (!strcmp(kw, "uid") || !strcmp(kw, "gid")) {
      if (number_token(rr, &a, 0xfffffffeu, &v) < 0) return -1;
      if (kw[0] == 'u') plan->uid = (uid_t)v; else plan->gid = (gid_t)v;
    } else if (!strcmp(kw, "hostname")) {
      if (!(plan->hostname = string_token(rr, &a))) return -1;
      if (strlen(plan->hostname) > 64) return fail(rr, "hostname longer than 64 bytes");
    } else if (!strcmp(kw, "cwd")) {
      if (!(plan->cwd = path_token(rr, &a, "cwd"))) return -1;
    } else if (!strcmp(kw, "cap")) {
      if (number_token(rr, &a, 63, &v) < 0) return -1;
      plan->caps |= 1ull << v;
    } else if (!strcmp(kw, "keep-fd")) {
      if (number_token(rr, &a, 1u << 20, &v) < 0) return -1;
      if (v < 3) return fail(rr, "keep-fd %llu: descriptors 0-2 are always kept", (unsigned long long)v);
      GROW(plan->keep_fds, plan->n_keep_fds, cap_fds, int);
      plan->keep_fds[plan->n_keep_fds++] = (int)v;
    } else if (!strcmp(kw, "env")) {
      GROW(plan->env, plan->n_env + 1, cap_env, const char *);
      const char *e = string_token(rr, &a);
      if (!e) return -1;
      if (!strchr(e, '=') || e[0] == '=') return fail(rr, "env entry without NAME=: '%.80s'", e);
      plan->env[plan->n_env++] = e;
    } else if (!strcmp(kw, "argv")) {
      GROW(plan->argv, plan->n_argv + 1, cap_argv, const char *);
      if (!(plan->argv[plan->n_argv++] = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "seccomp")) {
      if (!(plan->seccomp_origin = string_token(rr, &a))) return -1;
      const unsigned char *p; size_t n;
      if (token(rr, &p, &n) < 0) return -1;
      if (n == 0 || n % 8 || n / 8 > 4096) return fail(rr, "seccomp program of %zu bytes is not 1 to 4096 instructions", n);
      plan->bpf = p; /* points into the caller's buffer, which outlives the plan */
      plan->bpf_len = n;
    } else if (!strcmp(kw, "join-dir")) {
      if (!(plan->join_dir = path_token(rr, &a, "join-dir"))) return -1;
    } else if (!strcmp(kw, "join-policy")) {
      if (!(plan->join_policy = string_token(rr, &a))) return -1;
      if (strlen(plan->join_policy) > 1024 || strchr(plan->join_policy, '\n')) return fail(rr, "join-policy longer than 1024 bytes or with a newline");
    } else if (!strcmp(kw, "cgroup")) {
      if (!(plan->cgroup_leaf = path_token(rr, &a, "cgroup"))) return -1;
    } else if (!strcmp(kw, "cgroup-memory-label")) {
      if (!(plan->cgroup_memory_label = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "cgroup-pids-label")) {
      if (!(plan->cgroup_pids_label = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "cgroup-remove")) {
      GROW(plan->cgroup_remove, plan->n_cgroup_remove, cap_rm, const char *);
      if (!(plan->cgroup_remove[plan->n_cgroup_remove++] = path_token(rr, &a, "cgroup-remove"))) return -1;
    /* --- bwrap mode records (issue 17; native/bwrap.c carries them out) --- */
    } else if (!strcmp(kw, "diagnostic-prefix")) {
      if (!(plan->bw.diagnostic_prefix = string_token(rr, &a))) return -1;
      if (!*plan->bw.diagnostic_prefix || strlen(plan->bw.diagnostic_prefix) > 32 || strpbrk(plan->bw.diagnostic_prefix, "\n%"))
        return fail(rr, "diagnostic-prefix empty, longer than 32 bytes, or with a newline or %%");
    } else if (!strcmp(kw, "argv0")) {
      if (!(plan->bw.argv0 = string_token(rr, &a))) return -1;
    } else if (!strcmp(kw, "info-fd") || !strcmp(kw, "json-status-fd") || !strcmp(kw, "sync-fd") || !strcmp(kw, "block-fd")) {
      if (number_token(rr, &a, 1u << 20, &v) < 0) return -1;
      int *f = kw[0] == 'i' ? &plan->bw.info_fd : kw[0] == 'j' ? &plan->bw.json_status_fd : kw[1] == 'y' ? &plan->bw.sync_fd : &plan->bw.block_fd;
      *f = (int)v;
    } else if (!strcmp(kw, "userns-fd") || !strcmp(kw, "userns2-fd") || !strcmp(kw, "pidns-fd") || !strcmp(kw, "userns-block-fd")) {
      if (number_token(rr, &a, 1u << 20, &v) < 0) return -1;
      int *f = kw[0] == 'p' ? &plan->bw.pidns_fd : kw[6] == '2' ? &plan->bw.userns2_fd : kw[7] == 'b' ? &plan->bw.userns_block_fd : &plan->bw.userns_fd;
      *f = (int)v;
    } else if (!strcmp(kw, "lock-file")) {
      GROW(plan->bw.lock_files, plan->bw.n_lock_files, cap_locks, const char *);
      if (!(plan->bw.lock_files[plan->bw.n_lock_files++] = path_token(rr, &a, "lock-file"))) return -1;
    } else if (!strcmp(kw, "seccomp-extra")) {
      GROW(plan->bw.filters, plan->bw.n_filters, cap_filters, struct bwrap_filter);
      struct bwrap_filter *f = &plan->bw.filters[plan->bw.n_filters++];
      if (!(f->origin = string_token(rr, &a))) return -1;
      if (token(rr, &f->bpf, &f->len) < 0) return -1;
      if (f->len == 0 || f->len % 8 || f->len / 8 > 4096) return fail(rr, "seccomp program of %zu bytes is not 1 to 4096 instructions", f->len);
    /* --- end of bwrap mode records --- */
    } else {
      /* mount operations: keyword, origin, then fields */
      struct op o;
      memset(&o, 0, sizeof o);
      if (!strcmp(kw, "bind")) o.kind = OP_BIND;
      else if (!strcmp(kw, "tmpfs")) o.kind = OP_TMPFS;
      else if (!strcmp(kw, "proc")) o.kind = OP_PROC;
      else if (!strcmp(kw, "dev")) o.kind = OP_DEV;
      else if (!strcmp(kw, "mqueue")) o.kind = OP_MQUEUE;
      else if (!strcmp(kw, "dir")) o.kind = OP_DIR;
      else if (!strcmp(kw, "symlink")) o.kind = OP_SYMLINK;
      else if (!strcmp(kw, "data")) o.kind = OP_DATA;
      else if (!strcmp(kw, "chmod")) o.kind = OP_CHMOD;
      else if (!strcmp(kw, "remount-ro")) o.kind = OP_REMOUNT_RO;
      else if (!strcmp(kw, "overlay")) o.kind = OP_OVERLAY;
      else return fail(rr, "unknown record '%.40s'", kw);
      if (!(o.origin = string_token(rr, &a))) return -1;
      switch (o.kind) {
      case OP_BIND:
        if (!(o.u.bind.src = path_token(rr, &a, "bind source"))) return -1;
        if (!(o.u.bind.dst = path_token(rr, &a, "bind destination"))) return -1;
        if (number_token(rr, &a, BIND_RO | BIND_DEV | BIND_TRY | BIND_NOFOLLOW, &v) < 0) return -1;
        o.u.bind.flags = (unsigned)v;
        break;
      case OP_TMPFS:
        if (!(o.u.tmpfs.dst = path_token(rr, &a, "tmpfs destination"))) return -1;
        if (number_token(rr, &a, UINT64_MAX >> 1, &o.u.tmpfs.size) < 0) return -1;
        if (number_token(rr, &a, 07777, &v) < 0) return -1;
        o.u.tmpfs.mode = (unsigned)v;
        break;
      case OP_PROC: case OP_DEV: case OP_MQUEUE: case OP_REMOUNT_RO:
        if (!(o.u.path.dst = path_token(rr, &a, "destination"))) return -1;
        break;
      case OP_DIR:
        if (!(o.u.dir.dst = path_token(rr, &a, "dir"))) return -1;
        if (number_token(rr, &a, 07777, &v) < 0) return -1;
        o.u.dir.mode = (unsigned)v;
        break;
      case OP_SYMLINK:
        if (!(o.u.symlink.target = string_token(rr, &a))) return -1;
        if (!o.u.symlink.target[0]) return fail(rr, "empty symlink target");
        if (!(o.u.symlink.dst = path_token(rr, &a, "symlink"))) return -1;
        break;
      case OP_DATA:
        if (number_token(rr, &a, 1u << 20, &v) < 0) return -1;
        o.u.data.fd = (int)v;
        if (!(o.u.data.dst = path_token(rr, &a, "data destination"))) return -1;
        if (number_token(rr, &a, 07777, &v) < 0) return -1;
        o.u.data.mode = (unsigned)v;
        if (number_token(rr, &a, DATA_MOUNT | DATA_RO | DATA_PERMS, &v) < 0) return -1;
        o.u.data.flags = (unsigned)v;
        break;
      case OP_CHMOD:
        if (number_token(rr, &a, 07777, &v) < 0) return -1;
        o.u.chmod.mode = (unsigned)v;
        if (!(o.u.chmod.path = path_token(rr, &a, "chmod path"))) return -1;
        break;
      case OP_OVERLAY: { /* overlay ORIGIN DST KIND N LOWER×N [UPPER WORK when KIND is 0] */
        struct op_overlay *ov = &o.u.overlay;
        if (!(ov->dst = path_token(rr, &a, "overlay destination"))) return -1;
        if (number_token(rr, &a, OVERLAY_RO, &v) < 0) return -1;
        ov->kind = (unsigned)v;
        if (number_token(rr, &a, 500, &v) < 0) return -1; /* the kernel stacks at most 500 lower layers */
        if (v < (ov->kind == OVERLAY_RO ? 2u : 1u)) return fail(rr, "overlay with %llu lower layers", (unsigned long long)v);
        ov->n_lower = (size_t)v;
        ov->lower = calloc(ov->n_lower, sizeof *ov->lower);
        if (!ov->lower) return fail(rr, "out of memory");
        GROW(plan->ops, plan->n_ops, cap_ops, struct op); /* owned by the plan from here, so plan_free frees it */
        plan->ops[plan->n_ops++] = o;
        struct op_overlay *kept = &plan->ops[plan->n_ops - 1].u.overlay;
        for (size_t k = 0; k < kept->n_lower; k++)
          if (!(kept->lower[k] = path_token(rr, &a, "overlay layer"))) return -1;
        if (kept->kind == OVERLAY_RW) {
          if (!(kept->upper = path_token(rr, &a, "overlay upper"))) return -1;
          if (!(kept->work = path_token(rr, &a, "overlay work"))) return -1;
        }
        continue;
      }
      }
      GROW(plan->ops, plan->n_ops, cap_ops, struct op);
      plan->ops[plan->n_ops++] = o;
    }
  }
  if (rr->pos != rr->len) return fail(rr, "trailing bytes after 'end'");
  if (plan->n_argv == 0 && !plan->env_rules) return fail(rr, "no command");
  /* NULL-terminate the vectors for execve */
  GROW(plan->argv, plan->n_argv, cap_argv, const char *);
  plan->argv[plan->n_argv] = NULL;
  GROW(plan->env, plan->n_env, cap_env, const char *);
  plan->env[plan->n_env] = NULL;
  return 0;
#undef r
}

int plan_parse(const unsigned char *buf, size_t len, struct plan *plan, char *err, size_t errlen) {
  struct reader rd = { buf, len, 0, err, errlen };
  memset(plan, 0, sizeof *plan);
  if (len > PLAN_MAX_SIZE) {
    snprintf(err, errlen, "plan: %zu bytes is larger than %u", len, PLAN_MAX_SIZE);
    return -1;
  }
  if (plan_parse_inner(&rd, plan) < 0) {
    plan_free(plan);
    return -1;
  }
  return 0;
}

void plan_free(struct plan *plan) {
  for (size_t i = 0; i < plan->n_ops; i++)
    if (plan->ops[i].kind == OP_OVERLAY) free((void *)plan->ops[i].u.overlay.lower); /* overlays */
  free(plan->storage);
  free(plan->keep_fds);
  free(plan->env);
  free(plan->argv);
  free(plan->ops);
  free(plan->cgroup_remove);
  free(plan->env_keep);
  free(plan->env_unset);
  free(plan->inputs);
  free(plan->landlock_paths);
  free(plan->bw.lock_files); /* bwrap mode */
  free(plan->bw.filters);
  memset(plan, 0, sizeof *plan);
}
