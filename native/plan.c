/* Plan reader: turns the wire form (PLAN.md) into struct plan, validating every field.
 * Fails closed: an unknown record, a bad number, a relative path or a truncated token is an error.
 * Which records exist and what their fields are comes from one table (lib/native/records.ts, generated into
 * plan-records.h): the fields are read and checked by their type here, then store() puts them in place. */
#include "plan.h"
#define PLAN_RECORDS_TABLE
#include "plan-records.h"

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


static int read_field(struct reader *r, struct arena *a, const char *kw, const struct plan_field_spec *f, struct plan_value *v) {
  memset(v, 0, sizeof *v);
  switch (f->type) {
  case PF_NUMBER:
    if (number_token(r, a, f->max, &v->n) < 0) return -1;
    if (v->n < f->min) return fail(r, "%s %s: number out of range: '%llu' (at least %llu)", kw, f->name, (unsigned long long)v->n, (unsigned long long)f->min);
    return 0;
  case PF_STRING: {
    if (!(v->s = string_token(r, a))) return -1;
    size_t n = strlen(v->s);
    if (n < f->min) return fail(r, "%s %s: empty", kw, f->name);
    if (n > f->max) return fail(r, "%s %s: longer than %llu bytes", kw, f->name, (unsigned long long)f->max);
    if ((f->flags & PF_ONE_LINE) && strchr(v->s, '\n')) return fail(r, "%s %s: holds a newline", kw, f->name);
    return 0;
  }
  case PF_PATH:
    if (!(v->s = string_token(r, a))) return -1;
    if (!*v->s && (f->flags & PF_OR_NONE)) { v->s = NULL; return 0; }
    if (!valid_path(v->s)) return fail(r, "%s %s is not a normalised absolute path: '%.200s'", kw, f->name, v->s);
    return 0;
  case PF_PATHS: { /* "a:b\:c": unescaped in place into "a\0b:c\0", each checked */
    char *s;
    if (!(s = (char *)string_token(r, a))) return -1;
    v->s = s;
    char *out = s, *start = s;
    for (const char *in = s;; in++) {
      if (*in == '\\' && (in[1] == '\\' || in[1] == ':')) { *out++ = *++in; continue; }
      if (*in && *in != ':') { *out++ = *in; continue; }
      char sep = *in; /* out may be in itself: the NUL below can overwrite it */
      *out++ = 0;
      if (!valid_path(start)) return fail(r, "%s %s: '%.200s' is not a normalised absolute path", kw, f->name, start);
      v->n++;
      start = out;
      if (!sep) break;
    }
    if (v->n < f->min || v->n > f->max)
      return fail(r, "%s %s: %llu paths, not %llu to %llu", kw, f->name, (unsigned long long)v->n, (unsigned long long)f->min, (unsigned long long)f->max);
    return 0;
  }
  case PF_ASSIGNMENT:
    if (!(v->s = string_token(r, a))) return -1;
    if (!strchr(v->s, '=') || v->s[0] == '=') return fail(r, "%s entry without NAME=: '%.80s'", kw, v->s);
    return 0;
  case PF_BYTES:
    if (token(r, &v->bytes, &v->len) < 0) return -1;
    if (v->len % f->unit || v->len / f->unit < f->min || v->len / f->unit > f->max)
      return fail(r, "%s program of %zu bytes is not %llu to %llu units of %u bytes", kw, v->len, (unsigned long long)f->min, (unsigned long long)f->max, f->unit);
    return 0;
  }
  return fail(r, "%s: unknown field type", kw);
}

/* Room for one more element of a repeatable record's array. */
static void *push(struct reader *r, void *arrp, size_t *n, size_t *cap, size_t size) {
  void **arr = arrp;
  if (*n >= *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * size);
    if (!na) { fail(r, "out of memory"); return NULL; }
    *arr = na;
    *cap = nc;
  }
  return (char *)*arr + (*n)++ * size;
}

struct caps { size_t env, argv, ops, fds, keep, unset, dflt, files, paths, nodes, ll, llfs, locks, filters, lvars, lguards, lops; };

/* An overlay's fields together: upper and work both or neither, read-only with no upper and two layers at least. */
static int check_overlay(struct reader *r, const struct plan_value *v) {
  int upper = v[F_OVERLAY_UPPER].s != NULL, work = v[F_OVERLAY_WORK].s != NULL, ro = (int)v[F_OVERLAY_READ_ONLY].n;
  if (upper != work) return fail(r, "overlay %s: upper and work go together", v[F_OVERLAY_DST].s);
  if (ro && upper) return fail(r, "overlay %s: read-only with an upper directory", v[F_OVERLAY_DST].s);
  if (ro && v[F_OVERLAY_LOWER].n < 2) return fail(r, "overlay %s: read-only with %llu lower layer (two at least)", v[F_OVERLAY_DST].s, (unsigned long long)v[F_OVERLAY_LOWER].n);
  return 0;
}

static const struct launch_var *launch_var_named(const struct plan *plan, const char *name) {
  for (size_t i = 0; i < plan->n_launch_vars; i++)
    if (!strcmp(plan->launch_vars[i].name, name)) return &plan->launch_vars[i];
  return NULL;
}

static int begins_with_path(const char *p, const char *dir) {
  size_t n = strlen(dir);
  return !strncmp(p, dir, n) && (p[n] == 0 || p[n] == '/' || !strcmp(dir, "/"));
}

/* The launch records among themselves and with the mounts: every name a launch-var, every launch-op a bind that
 * begins with the variable's planned value. */
static int check_launch_records(struct reader *r, const struct plan *plan) {
  for (size_t i = 0; i < plan->n_launch_vars; i++)
    for (size_t j = 0; j < i; j++)
      if (!strcmp(plan->launch_vars[i].name, plan->launch_vars[j].name)) return fail(r, "launch-var %.80s: given twice", plan->launch_vars[i].name);
  for (size_t i = 0; i < plan->n_launch_guards; i++)
    if (!launch_var_named(plan, plan->launch_guards[i].name)) return fail(r, "launch-guard: no launch-var %.80s", plan->launch_guards[i].name);
  for (size_t i = 0; i < plan->n_launch_ops; i++) {
    const struct launch_op *o = &plan->launch_ops[i];
    const struct launch_var *l = launch_var_named(plan, o->name);
    if (!l) return fail(r, "launch-op: no launch-var %.80s", o->name);
    if (o->index >= plan->n_ops || plan->ops[o->index].kind != MOUNT_BIND) return fail(r, "launch-op %.80s: mount %zu is not a bind", o->name, o->index);
    const struct op *m = &plan->ops[o->index];
    if (!begins_with_path(m->v[F_BIND_SRC].s, l->planned) || (o->dst && !begins_with_path(m->v[F_BIND_DST].s, l->planned)))
      return fail(r, "launch-op %.80s: mount %zu does not begin with %.200s", o->name, o->index, l->planned);
  }
  if (plan->launch_cwd) {
    const struct launch_var *l = launch_var_named(plan, plan->launch_cwd);
    if (!l) return fail(r, "launch-cwd: no launch-var %.80s", plan->launch_cwd);
    if (!begins_with_path(plan->cwd, l->planned)) return fail(r, "launch-cwd: cwd %.200s does not begin with %.200s", plan->cwd, l->planned);
  }
  return 0;
}

/* Put one record's checked fields in place. Every record of the table has its case: the switch has no default,
 * so a record added to the table and not stored here is a compiler warning (an error with -Werror=switch). */
static int store(struct reader *r, struct plan *plan, struct caps *c, enum plan_record id, const struct plan_value *v) {
  switch (id) {
  case REC_SHARE_NET: plan->share_net = (int)v[0].n; return 0;
  case REC_SHARE_PID: plan->share_pid = (int)v[0].n; return 0;
  case REC_UID: plan->uid = (uid_t)v[0].n; return 0;
  case REC_GID: plan->gid = (gid_t)v[0].n; return 0;
  case REC_HOSTNAME: plan->hostname = v[0].s; return 0;
  case REC_CWD: plan->cwd = v[0].s; return 0;
  case REC_CWD_FALLBACK: plan->cwd_fallback = (int)v[0].n; return 0;
  case REC_NEW_SESSION: plan->new_session = (int)v[0].n; return 0;
  case REC_DIE_WITH_PARENT: plan->die_with_parent = (int)v[0].n; return 0;
  case REC_PARENT_PID: plan->parent_pid = (pid_t)v[0].n; return 0;
  case REC_AS_PID_1: plan->as_pid1 = (int)v[0].n; return 0;
  case REC_TERMINAL_NODE: plan->terminal_node = (int)v[0].n; return 0;
  case REC_VERBOSE: plan->verbose = (int)v[0].n; return 0;
  case REC_CAP: plan->caps |= 1ull << v[0].n; return 0;
  case REC_KEEP_FD: {
    int *fd = push(r, &plan->keep_fds, &plan->n_keep_fds, &c->fds, sizeof *fd);
    if (!fd) return -1;
    *fd = (int)v[0].n;
    return 0;
  }
  case REC_ENV: {
    const char **e = push(r, &plan->env, &plan->n_env, &c->env, sizeof *e);
    if (!e) return -1;
    *e = v[0].s;
    return 0;
  }
  case REC_ARGV: {
    const char **a = push(r, &plan->argv, &plan->n_argv, &c->argv, sizeof *a);
    if (!a) return -1;
    *a = v[0].s;
    return 0;
  }
  case REC_SECCOMP:
    plan->seccomp_origin = v[F_SECCOMP_ORIGIN].s;
    plan->bpf = v[F_SECCOMP_PROGRAM].bytes; /* points into the caller's buffer, which outlives the plan */
    plan->bpf_len = v[F_SECCOMP_PROGRAM].len;
    return 0;
  case REC_LANDLOCK_SCOPES: plan->landlock_scopes = (unsigned)v[0].n; return 0;
  case REC_LANDLOCK_FS: {
    struct landlock_fs *l = push(r, &plan->landlock_fs, &plan->n_landlock_fs, &c->llfs, sizeof *l);
    if (!l) return -1;
    *l = (struct landlock_fs){ (unsigned)v[F_LANDLOCK_FS_ABI].n, v[F_LANDLOCK_FS_RIGHTS].n };
    return 0;
  }
  case REC_LANDLOCK_PATH: {
    struct landlock_path *l = push(r, &plan->landlock_paths, &plan->n_landlock_paths, &c->ll, sizeof *l);
    if (!l) return -1;
    *l = (struct landlock_path){ v[F_LANDLOCK_PATH_ORIGIN].s, v[F_LANDLOCK_PATH_PATH].s, v[F_LANDLOCK_PATH_DIR_RIGHTS].n, v[F_LANDLOCK_PATH_FILE_RIGHTS].n };
    return 0;
  }
  case REC_JOIN_DIR: plan->join_dir = v[0].s; return 0;
  case REC_JOIN_POLICY: plan->join_policy = v[0].s; return 0;
  case REC_JOIN_KEY:
    plan->join_key_origin = v[F_JOIN_KEY_ORIGIN].s;
    plan->join_key_text = v[F_JOIN_KEY_TEXT].s;
    plan->join_key_kinds = v[F_JOIN_KEY_KINDS].s;
    if (strlen(plan->join_key_text) != strlen(plan->join_key_kinds) || strspn(plan->join_key_kinds, "lVv") != strlen(plan->join_key_kinds) || plan->join_key_kinds[0] == 'v')
      return fail(r, "join-key: kinds '%.80s' do not describe '%.80s'", plan->join_key_kinds, plan->join_key_text);
    return 0;
  case REC_CGROUP: plan->cgroup_leaf = v[0].s; return 0;
  case REC_CGROUP_MEMORY_LABEL: plan->cgroup_memory_label = v[0].s; return 0;
  case REC_CGROUP_PIDS_LABEL: plan->cgroup_pids_label = v[0].s; return 0;
  case REC_REGISTRY: {
    const char *name = v[F_REGISTRY_NAME].s;
    size_t n = strlen(name);
    if (name[0] == '.' || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
      return fail(r, "registry name '%.80s' is not 1 to 64 letters, digits and . _ - (not starting with .)", name);
    plan->registry_dir = v[F_REGISTRY_DIR].s;
    plan->registry_name = name;
    plan->registry_enter = (int)v[F_REGISTRY_ENTER].n;
    return 0;
  }
  case REC_ENV_LAUNCH: plan->env_launch = 1; plan->env_clear = (int)v[F_ENV_LAUNCH_CLEAR].n; return 0;
  case REC_ENV_KEEP: case REC_ENV_UNSET: {
    int keep = id == REC_ENV_KEEP;
    struct env_pattern *e = keep ? push(r, &plan->env_keep, &plan->n_env_keep, &c->keep, sizeof *e)
                                 : push(r, &plan->env_unset, &plan->n_env_unset, &c->unset, sizeof *e);
    if (!e) return -1;
    *e = (struct env_pattern){ v[0].s, v[1].s };
    if (strlen(e->text) != strlen(e->kinds) || strspn(e->kinds, "l?*") != strlen(e->kinds))
      return fail(r, "%s: kinds '%.80s' do not describe '%.80s'", keep ? "env-keep" : "env-unset", e->kinds, e->text);
    return 0;
  }
  case REC_ENV_DEFAULT: {
    const char **e = push(r, &plan->env_default, &plan->n_env_default, &c->dflt, sizeof *e);
    if (!e) return -1;
    *e = v[0].s;
    return 0;
  }
  case REC_INPUT_FILE: {
    struct input_file *f = push(r, &plan->input_files, &plan->n_input_files, &c->files, sizeof *f);
    if (!f) return -1;
    *f = (struct input_file){ v[F_INPUT_FILE_PATH].s, v[F_INPUT_FILE_MTIME_S].n, v[F_INPUT_FILE_MTIME_NS].n, v[F_INPUT_FILE_SIZE].n };
    return 0;
  }
  case REC_INPUT_PATH: {
    struct input_path *p = push(r, &plan->input_paths, &plan->n_input_paths, &c->paths, sizeof *p);
    if (!p) return -1;
    *p = (struct input_path){ v[F_INPUT_PATH_PATH].s, (int)v[F_INPUT_PATH_DIRECTORY].n, (int)v[F_INPUT_PATH_OPTIONAL].n };
    return 0;
  }
  case REC_INPUT_BOOT: plan->boot_id = v[0].s; return 0;
  case REC_LAUNCH_VAR: {
    struct launch_var *l = push(r, &plan->launch_vars, &plan->n_launch_vars, &c->lvars, sizeof *l);
    if (!l) return -1;
    *l = (struct launch_var){ v[F_LAUNCH_VAR_ORIGIN].s, v[F_LAUNCH_VAR_NAME].s, v[F_LAUNCH_VAR_PLANNED].s };
    return 0;
  }
  case REC_LAUNCH_GUARD: {
    struct launch_guard *g = push(r, &plan->launch_guards, &plan->n_launch_guards, &c->lguards, sizeof *g);
    if (!g) return -1;
    const char *rel = v[F_LAUNCH_GUARD_RELATION].s;
    if (!strchr("ndL", rel[0])) return fail(r, "launch-guard: relation '%.8s' is not n, d or L", rel);
    *g = (struct launch_guard){ v[F_LAUNCH_GUARD_NAME].s, rel[0], v[F_LAUNCH_GUARD_PATH].s };
    return 0;
  }
  case REC_LAUNCH_OP: {
    struct launch_op *o = push(r, &plan->launch_ops, &plan->n_launch_ops, &c->lops, sizeof *o);
    if (!o) return -1;
    *o = (struct launch_op){ v[F_LAUNCH_OP_NAME].s, (size_t)v[F_LAUNCH_OP_INDEX].n, (int)v[F_LAUNCH_OP_DST].n };
    return 0;
  }
  case REC_LAUNCH_CWD: plan->launch_cwd = v[0].s; return 0;
  case REC_INPUT_NODE: {
    struct input_node *n = push(r, &plan->input_nodes, &plan->n_input_nodes, &c->nodes, sizeof *n);
    if (!n) return -1;
    *n = (struct input_node){ v[F_INPUT_NODE_PATH].s, v[F_INPUT_NODE_DEVICE].n, v[F_INPUT_NODE_INODE].n };
    return 0;
  }
  case REC_DIAGNOSTIC_PREFIX:
    if (strchr(v[0].s, '%')) return fail(r, "diagnostic-prefix '%.40s' holds a %%", v[0].s);
    plan->bw.diagnostic_prefix = v[0].s;
    return 0;
  case REC_ARGV0: plan->bw.argv0 = v[0].s; return 0;
  case REC_INFO_FD: plan->bw.info_fd = (int)v[0].n; return 0;
  case REC_JSON_STATUS_FD: plan->bw.json_status_fd = (int)v[0].n; return 0;
  case REC_SYNC_FD: plan->bw.sync_fd = (int)v[0].n; return 0;
  case REC_BLOCK_FD: plan->bw.block_fd = (int)v[0].n; return 0;
  case REC_USERNS_BLOCK_FD: plan->bw.userns_block_fd = (int)v[0].n; return 0;
  case REC_USERNS_FD: plan->bw.userns_fd = (int)v[0].n; return 0;
  case REC_USERNS2_FD: plan->bw.userns2_fd = (int)v[0].n; return 0;
  case REC_PIDNS_FD: plan->bw.pidns_fd = (int)v[0].n; return 0;
  case REC_LOCK_FILE: {
    const char **l = push(r, &plan->bw.lock_files, &plan->bw.n_lock_files, &c->locks, sizeof *l);
    if (!l) return -1;
    *l = v[0].s;
    return 0;
  }
  case REC_SECCOMP_EXTRA: {
    struct bwrap_filter *f = push(r, &plan->bw.filters, &plan->bw.n_filters, &c->filters, sizeof *f);
    if (!f) return -1;
    *f = (struct bwrap_filter){ v[F_SECCOMP_EXTRA_ORIGIN].s, v[F_SECCOMP_EXTRA_PROGRAM].bytes, v[F_SECCOMP_EXTRA_PROGRAM].len };
    return 0;
  }
  PLAN_MOUNT_RECORD_CASES {
    if (id == REC_OVERLAY && check_overlay(r, v) < 0) return -1;
    struct op *o = push(r, &plan->ops, &plan->n_ops, &c->ops, sizeof *o);
    if (!o) return -1;
    o->kind = (enum mount_kind)plan_records[id].mount;
    o->origin = v[0].s;
    memcpy(o->v, v, sizeof o->v);
    return 0;
  }
  case N_PLAN_RECORDS: break;
  }
  return fail(r, "record %d has no place in the plan", (int)id);
}

static int plan_parse_inner(struct reader *r, struct plan *plan) {
  struct arena a = { malloc(r->len + 1), 0, r->len + 1 };
  if (!a.base) return fail(r, "out of memory");
  plan->storage = a.base;
  struct caps c;
  memset(&c, 0, sizeof c);
  uint64_t version;
  int items = 0;

  const char *magic = string_token(r, &a);
  if (!magic) return -1;
  if (strcmp(magic, "sandbox-plan") != 0) return fail(r, "not a sandbox plan");
  if (number_token(r, &a, 1000, &version) < 0) return -1;
  if (version != PLAN_VERSION) return fail(r, "plan version %llu, this stage reads version %d (written by another version of sandbox: compile or run it again with this one)", (unsigned long long)version, PLAN_VERSION);
  plan->hostname = "sandbox";
  plan->cwd = "/";
  plan->bw.info_fd = plan->bw.json_status_fd = plan->bw.sync_fd = plan->bw.block_fd = -1;
  plan->bw.userns_fd = plan->bw.userns2_fd = plan->bw.pidns_fd = plan->bw.userns_block_fd = -1;

  for (;;) {
    if (++items > PLAN_MAX_ITEMS) return fail(r, "too many records");
    const char *kw = string_token(r, &a);
    if (!kw) return -1;
    if (!strcmp(kw, "end")) break;
    int id = 0;
    while (id < N_PLAN_RECORDS && strcmp(plan_records[id].keyword, kw)) id++;
    if (id == N_PLAN_RECORDS) return fail(r, "unknown record '%.40s'", kw);
    const struct plan_record_spec *spec = &plan_records[id];
    struct plan_value v[PLAN_MAX_FIELDS];
    memset(v, 0, sizeof v);
    for (unsigned i = 0; i < spec->n_fields; i++)
      if (read_field(r, &a, kw, &spec->fields[i], &v[i]) < 0) return -1;
    if (store(r, plan, &c, (enum plan_record)id, v) < 0) return -1;
  }
  if (r->pos != r->len) return fail(r, "trailing bytes after 'end'");
  if (plan->n_argv == 0 && !plan->env_launch) return fail(r, "no command");
  if (check_launch_records(r, plan) < 0) return -1;
  /* NULL-terminate the vectors for execve */
  const char **end;
  size_t n_argv = plan->n_argv, n_env = plan->n_env;
  if (!(end = push(r, &plan->argv, &n_argv, &c.argv, sizeof *end))) return -1;
  *end = NULL;
  if (!(end = push(r, &plan->env, &n_env, &c.env, sizeof *end))) return -1;
  *end = NULL;
  return 0;
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
  free(plan->storage);
  free(plan->keep_fds);
  free(plan->env);
  free(plan->argv);
  free(plan->ops);
  free(plan->env_keep);
  free(plan->env_unset);
  free(plan->env_default);
  free(plan->input_files);
  free(plan->input_paths);
  free(plan->input_nodes);
  free(plan->launch_vars);
  free(plan->launch_guards);
  free(plan->launch_ops);
  free(plan->landlock_fs);
  free(plan->landlock_paths);
  free(plan->bw.lock_files);
  free(plan->bw.filters);
  memset(plan, 0, sizeof *plan);
}

const struct plan_record_spec *plan_record_of_mount(enum mount_kind kind) {
  for (int id = 0; id < N_PLAN_RECORDS; id++)
    if (plan_records[id].mount == (int)kind) return &plan_records[id];
  return NULL;
}

const char *plan_keyword(enum plan_record id) {
  return plan_records[id].keyword;
}
