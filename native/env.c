/* A compiled plan's environment, built at each launch from the launch's own and the plan's rules. */
#include "env.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A name against a compiled pattern (records env-keep, env-unset): each byte of kinds says what the byte of text
 * at its place is: `l` itself, `?` any one byte, `*` any run. The plan builder made the kinds; no glob syntax is
 * read here. */
int env_pattern_matches(const struct env_pattern *p, const char *name, size_t len) {
  size_t t = 0, n = 0, star = (size_t)-1, star_n = 0, plen = strlen(p->kinds);
  while (n < len) {
    if (t < plen && p->kinds[t] == '*') { star = t++; star_n = n; continue; }
    if (t < plen && (p->kinds[t] == '?' || p->text[t] == name[n])) { t++; n++; continue; }
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

