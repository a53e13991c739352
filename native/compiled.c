/* What sandbox-exec does before a compiled plan (sandbox compile) launches: the plan file must be the caller's and
 * unwritable by others, its inputs unchanged, and the environment is built from the launch's own by the plan's rules. */
#include "compiled.h"
#include "hmac-sha256.h"
#include "launch-paths.h"
#include "util.h"

#include <limits.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A name against a compiled pattern (records env-keep, env-unset): each byte of kinds says what the byte of text
 * at its place is: `l` itself, `?` any one character, `*` any run. The plan builder made the kinds; no glob syntax is
 * read here. */
int env_pattern_matches(const struct env_pattern *p, const char *name, size_t len) {
  size_t t = 0, n = 0, star = (size_t)-1, star_n = 0, plen = strlen(p->kinds);
  while (n < len) {
    if (t < plen && p->kinds[t] == '*') { star = t++; star_n = n; continue; }
    if (t < plen && p->kinds[t] == '?') { /* one character: a UTF-8 sequence whole, as the plan builder's RegExp */
      t++;
      n++;
      while (n < len && ((unsigned char)name[n] & 0xc0) == 0x80) n++;
      continue;
    }
    if (t < plen && p->text[t] == name[n]) { t++; n++; continue; }
    if (star == (size_t)-1) return 0;
    t = star + 1;
    n = ++star_n;
  }
  while (t < plen && p->kinds[t] == '*') t++;
  return t == plen;
}

static int has_name(const char *const *env, size_t n, const char *name, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (!strncmp(env[i], name, len) && env[i][len] == '=') return 1;
  return 0;
}

/* A compiled plan's environment: the caller's, filtered by the plan's patterns, with the plan's values on top and
 * its defaults where nothing gave the name. */
const char **build_env(const struct plan *plan) {
  extern char **environ;
  size_t n = 0;
  for (char **e = environ; *e; e++) n++;
  const char **out = calloc(n + plan->n_env + plan->n_env_default + 1, sizeof *out);
  if (!out) die(125, "out of memory");
  size_t o = 0;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t len = (size_t)(eq - *e);
    int keep = !plan->env_clear;
    for (size_t i = 0; !keep && i < plan->n_env_keep; i++) keep = env_pattern_matches(&plan->env_keep[i], *e, len);
    for (size_t i = 0; keep && i < plan->n_env_unset; i++) keep = !env_pattern_matches(&plan->env_unset[i], *e, len);
    if (keep && !has_name(plan->env, plan->n_env, *e, len)) out[o++] = *e; /* the plan's own values win */
  }
  for (size_t i = 0; i < plan->n_env; i++) out[o++] = plan->env[i];
  for (size_t i = 0; i < plan->n_env_default; i++) {
    const char *d = plan->env_default[i];
    size_t len = (size_t)(strchr(d, '=') - d);
    if (!has_name(out, o, d, len)) out[o++] = d;
  }
  out[o] = NULL;
  return out;
}


/* The profile's join key as lib/profile resolves it (an empty variable counts as unset: no joining), and the
 * directory lib/plan/build.ts joinDirFor names: under the runtime directory when it is absolute, else /tmp/sandbox-UID. */
const char *join_dir_at_launch(const struct plan *plan) {
  char key[129], name[256];
  size_t k = 0, n = strlen(plan->join_key_text);
  for (size_t i = 0; i < n;) {
    if (plan->join_key_kinds[i] == 'l') {
      if (k + 1 >= sizeof key) die(125, "%s: the join key is longer than 128 characters", plan->join_key_origin);
      key[k++] = plan->join_key_text[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < n && plan->join_key_kinds[j] == 'v') j++;
    if (j - i >= sizeof name) die(125, "%s: variable name too long", plan->join_key_origin);
    memcpy(name, plan->join_key_text + i, j - i);
    name[j - i] = 0;
    const char *v = getenv(name);
    if (!v || !*v) return NULL; /* outside a job: nothing to join */
    size_t vl = strlen(v);
    if (k + vl >= sizeof key) die(125, "%s: the join key is longer than 128 characters", plan->join_key_origin);
    memcpy(key + k, v, vl);
    k += vl;
    i = j;
  }
  key[k] = 0;
  if (!k || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@:+-") != k || !strcmp(key, ".") || !strcmp(key, ".."))
    die(125, "%s: found \"%s\", expected a join key: a key is 1 to 128 letters, digits and . _ @ : + -", plan->join_key_origin, key);
  const char *rt = getenv("XDG_RUNTIME_DIR");
  char *dir;
  int r;
  if (rt && rt[0] == '/') {
    size_t rl = strlen(rt);
    while (rl > 1 && rt[rl - 1] == '/') rl--;
    r = asprintf(&dir, "%.*s/sandbox/join/%s", (int)(rl == 1 ? 0 : rl), rt, key);
  } else {
    r = asprintf(&dir, "/tmp/sandbox-%u/sandbox/join/%s", (unsigned)getuid(), key);
  }
  if (r < 0) die(125, "out of memory");
  return dir;
}

/* This boot's id: device and inode numbers of bound paths hold only within one boot of one machine (a tmpfs
 * /tmp is new at each boot, another node has its own). */
static int same_boot(const char *boot_id) {
  char buf[64] = { 0 };
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || !boot_id) { if (fd >= 0) close(fd); return 0; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
  return n > 0 && !strcmp(buf, boot_id);
}

/* A compiled plan refuses to run when what it was built from changed: a profile file edited, a bound path gone
 * or, in the boot it was compiled in, replaced by another one (a directory swapped for a symlink to the home). */
void check_inputs(const struct plan *plan, const char *file) {
  struct stat st;
  for (size_t i = 0; i < plan->n_input_files; i++) {
    const struct input_file *in = &plan->input_files[i];
    if (stat(in->path, &st) < 0 || (uint64_t)st.st_mtim.tv_sec != in->mtime_s || (uint64_t)st.st_mtim.tv_nsec != in->mtime_ns || (uint64_t)st.st_size != in->size)
      die(125, "%s: %s changed since the plan was compiled (run sandbox compile again)", file, in->path);
  }
  for (size_t i = 0; i < plan->n_input_paths; i++) {
    const struct input_path *in = &plan->input_paths[i];
    if (stat(in->path, &st) < 0) {
      if (in->optional) continue; /* optional and missing: the -try bind is skipped */
      die(125, "%s: %s is gone since the plan was compiled", file, in->path);
    }
    if (in->directory != (S_ISDIR(st.st_mode) != 0))
      die(125, "%s: %s is %s now, not %s as when the plan was compiled", file, in->path, S_ISDIR(st.st_mode) ? "a directory" : "a file", in->directory ? "a directory" : "a file");
  }
  if (!same_boot(plan->boot_id)) return;
  for (size_t i = 0; i < plan->n_input_nodes; i++) {
    const struct input_node *in = &plan->input_nodes[i];
    if (stat(in->path, &st) == 0 && ((uint64_t)st.st_dev != in->dev || (uint64_t)st.st_ino != in->ino))
      die(125, "%s: %s is not the one the plan was compiled with (another file or directory is there now, or a symlink leads elsewhere): run sandbox compile again", file, in->path);
  }
}

/* A plan file runs outside any sandbox: one that someone else could have written decides what runs as us. */
void check_plan_file(int fd, const char *file) {
  struct stat st;
  if (fstat(fd, &st) < 0) die_errno(125, "%s", file);
  if (!S_ISREG(st.st_mode)) die(125, "%s: not a regular file", file);
  if (st.st_uid != getuid()) die(125, "%s: owned by uid %u, not by you (uid %u): a plan runs only for the user who compiled it", file, (unsigned)st.st_uid, (unsigned)getuid());
  if (st.st_mode & 022) die(125, "%s: writable by others (mode %03o): chmod go-w it, or compile it again", file, (unsigned)(st.st_mode & 0777));
}

/* The list of compiled plans records each plan's digest when it was written (lib/host/own-files.ts planDigest): the
 * file at a listed path runs only with those bytes. A sandbox sees a listed plan covered read-only, but it could rename
 * the directory holding it; the next sandbox, which no longer found the plan at its path to cover it, could then
 * rewrite it, and the user would run the attacker's plan outside any sandbox. A plan not on the list (moved, or
 * listed under another XDG_CONFIG_HOME) is not checked. */
void check_plan_digest(const unsigned char *buf, size_t len, const char *file) {
  const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  char *list, real[PATH_MAX], want[65], have[65];
  int r;
  if (config && config[0] == '/') r = asprintf(&list, "%s/sandbox/compiled-plans", config);
  else if (home && home[0] == '/') r = asprintf(&list, "%s/.config/sandbox/compiled-plans", home);
  else return;
  if (r < 0) die(125, "out of memory");
  if (realpath(file, real) && launch_list_digest_of(list, real, want)) {
    unsigned char mac[32];
    static const char key[] = "sandbox compiled plan";
    hmac_sha256((const unsigned char *)key, sizeof key - 1, buf, len, mac);
    for (int i = 0; i < 32; i++) snprintf(have + 2 * i, 3, "%02x", mac[i]);
    if (strcmp(have, want)) die(125, "%s: changed since sandbox compile wrote it (its digest in %s differs): not run; compile it again", file, list);
  }
  free(list);
}

static char *joined(const char *value, const char *rest) {
  char *s;
  if (asprintf(&s, "%s%s", value, rest) < 0) die(125, "out of memory");
  return s;
}

/* The join-policy word launch-NAME=VALUE (VALUE as encodeURIComponent writes it) with this launch's value: members
 * of one join must have bound the same directory. */
static const char *policy_with(const char *policy, const char *name, const char *value) {
  char *word;
  if (!policy || asprintf(&word, "launch-%s=", name) < 0) return policy;
  size_t wl = strlen(word);
  const char *at = policy;
  while ((at = strstr(at, word)) && at != policy && at[-1] != ' ') at += wl;
  if (!at) { free(word); return policy; }
  const char *end = strchrnul(at + wl, ' ');
  size_t n = 0, cap = strlen(policy) + 3 * strlen(value) + 1;
  char *out = malloc(cap);
  if (!out) die(125, "out of memory");
  memcpy(out, policy, (size_t)(at - policy) + wl);
  n = (size_t)(at - policy) + wl;
  for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
    if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || strchr("-_.!~*'()", *v)) out[n++] = (char)*v;
    else n += (size_t)sprintf(out + n, "%%%02X", *v);
  }
  strcpy(out + n, end);
  free(word);
  return out;
}

/* The plan file being run, in the launch's directory: the guards name where it was compiled, but a plan moved or
 * hard-linked since (or a symlink to it) may lie inside the directory this launch binds, where its program could
 * rewrite what the user runs next outside any sandbox. Another name of the file could be anywhere: refused too. */
static const char *plan_file_inside(int fd, const char *file, const char *value, char *found, size_t len) {
  char real[PATH_MAX], dir[PATH_MAX];
  struct stat st;
  if (fstat(fd, &st) < 0) return "can't be looked at";
  if (st.st_nlink != 1) {
    snprintf(found, len, "%s", file);
    return "has other names (hard links) that could be inside it";
  }
  const char *slash = strrchr(file, '/');
  const char *base = slash ? slash + 1 : file;
  if (slash) snprintf(real, sizeof real, "%.*s", (int)(slash == file ? 1 : slash - file), file);
  else snprintf(real, sizeof real, ".");
  if (!realpath(real, dir)) return "can't be looked at";
  if ((size_t)snprintf(found, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) >= len) return "can't be looked at";
  if (launch_relation(found, value) != 'd') return "is inside it";
  if (!realpath(file, real)) return "can't be looked at";
  snprintf(found, len, "%s", real);
  if (launch_relation(found, value) != 'd') return "is inside it";
  return NULL;
}

/* A plan file inside one of its own read-write binds (sandbox compile refuses to write one there; moved or copied
 * there since, or the launch's directory): its program could rewrite what the user runs next outside any sandbox. */
void check_plan_outside_binds(const struct plan *plan, const char *file) {
  char name[PATH_MAX], real[PATH_MAX], dir[PATH_MAX];
  const char *slash = strrchr(file, '/');
  const char *base = slash ? slash + 1 : file;
  if (slash) snprintf(real, sizeof real, "%.*s", (int)(slash == file ? 1 : slash - file), file);
  else snprintf(real, sizeof real, ".");
  if (!realpath(real, dir) || (size_t)snprintf(name, sizeof name, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) >= sizeof name || !realpath(file, real))
    die(125, "%s: can't find where the plan file is", file);
  for (size_t i = 0; i < plan->n_ops; i++) {
    const struct op *m = &plan->ops[i];
    if (m->kind != MOUNT_BIND || m->v[F_BIND_READ_ONLY].n) continue;
    const char *src = m->v[F_BIND_SRC].s;
    char a = launch_relation(name, src), b = launch_relation(real, src);
    if (a == 'b' || a == 'e' || b == 'b' || b == 'e')
      die(125, "%s: %s: the plan file %s is inside %s, which the plan binds read-write: its program could rewrite the plan; move the plan elsewhere", file, m->origin, a == 'b' || a == 'e' ? name : real, src);
  }
}

void apply_launch_vars(struct plan *plan, const char *file, int plan_fd) {
  const char *where = file ? file : "sandbox";
  char *drop = plan->n_ops ? calloc(plan->n_ops, 1) : NULL;
  if (plan->n_ops && !drop) die(125, "out of memory");
  int dropped = 0;
  for (size_t i = 0; i < plan->n_launch_vars; i++) {
    const struct launch_var *l = &plan->launch_vars[i];
    char buf[PATH_MAX], found[PATH_MAX];
    const char *value = launch_value(l->name, buf, sizeof buf);
    if (!value) {
      for (size_t k = 0; k < plan->n_launch_ops; k++) {
        const struct launch_op *o = &plan->launch_ops[k];
        if (strcmp(o->name, l->name)) continue;
        if (!plan->ops[o->index].v[F_BIND_OPTIONAL].n)
          die(125, "%s: %s: %s is unset at this launch, and the plan binds it (it was %s when planned)", where, plan->ops[o->index].origin, l->name, l->planned);
        drop[o->index] = 1;
        dropped = 1;
      }
      continue;
    }
    if (!strcmp(value, l->planned)) continue;
    const char *what = !strcmp(l->name, "CWD") ? "the working directory" : l->name;
    int binds = 0;
    for (size_t k = 0; k < plan->n_launch_ops; k++) binds |= !strcmp(plan->launch_ops[k].name, l->name);
    /* the cwd alone: where the program starts (cwd-fallback where it is not inside) */
    const char *problem = binds ? launch_value_problem(value) : value[0] == '/' ? NULL : "not an absolute path";
    if (problem) die(125, "%s: %s: %s %s is %s (the plan was made for %s)", where, l->origin, what, value, problem, l->planned);
    for (size_t g = 0; g < plan->n_launch_guards; g++) {
      const struct launch_guard *gd = &plan->launch_guards[g];
      if (strcmp(gd->name, l->name)) continue;
      if (gd->relation == 'L') {
        if (launch_list_names_plan_under(gd->path, value, found, sizeof found))
          die(125, "%s: %s: %s %s holds the compiled plan %s, which its program could rewrite: launch from another directory", where, l->origin, what, value, found);
        continue;
      }
      char rel = launch_relation(value, gd->path);
      if (!launch_relation_allowed(rel, gd->relation)) {
        const char *now = rel == 'e' ? "is" : rel == 'a' ? "holds" : rel == 'b' ? "is inside" : "is outside";
        die(125, "%s: %s: %s %s %s %s, which the plan (made for %s) does not allow for: %s", where, l->origin, what, value, now, gd->path, l->planned,
            file ? "compile a plan for it (sandbox compile there) or use sandbox run" : "planned again");
      }
    }
    const char *inside = file && binds ? plan_file_inside(plan_fd, file, value, found, sizeof found) : NULL;
    if (inside) die(125, "%s: %s: %s %s: the plan file %s %s, and the plan binds it writable: launch from another directory", where, l->origin, what, value, found, inside);
    size_t pl = strlen(l->planned);
    for (size_t k = 0; k < plan->n_launch_ops; k++) {
      const struct launch_op *o = &plan->launch_ops[k];
      if (strcmp(o->name, l->name)) continue;
      struct op *m = &plan->ops[o->index];
      m->v[F_BIND_SRC].s = joined(value, m->v[F_BIND_SRC].s + pl);
      if (o->dst) m->v[F_BIND_DST].s = joined(value, m->v[F_BIND_DST].s + pl);
    }
    if (plan->launch_cwd && !strcmp(plan->launch_cwd, l->name)) plan->cwd = joined(value, plan->cwd + pl);
    plan->join_policy = policy_with(plan->join_policy, l->name, value);
  }
  if (dropped) {
    size_t n = 0;
    for (size_t i = 0; i < plan->n_ops; i++)
      if (!drop[i]) plan->ops[n++] = plan->ops[i];
    plan->n_ops = n;
  }
  free(drop);
}
