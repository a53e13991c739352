#ifndef SANDBOX_COMPILED_H
#define SANDBOX_COMPILED_H
#include <stddef.h>
#include "plan.h"
/* Does the name (len bytes, not terminated) match the compiled pattern? */
int env_pattern_matches(const struct env_pattern *p, const char *name, size_t len);
/* The program's environment for a compiled plan (env-launch): environ, filtered, with the plan's values. */
const char **build_env(const struct plan *plan);
/* join-key: the join directory of this launch's key, or NULL when one of its variables is unset or empty. */
const char *join_dir_at_launch(const struct plan *plan);
/* A plan file runs outside any sandbox: refused unless the caller's and unwritable by others. */
void check_plan_file(int fd, const char *file);
/* Refused when the list of compiled plans records other bytes for this file (buf: the whole file). */
void check_plan_outside_binds(const struct plan *plan, const char *file);
void check_plan_digest(const unsigned char *buf, size_t len, const char *file);
/* Refused when what the plan was built from changed since (profile files, bound paths). */
void check_inputs(const struct plan *plan, const char *file);
/* launch-var: each path the plan took from a variable gets this launch's value, once the value stands to every
 * launch-guard path as the planned one did; refused in one line otherwise. file: the plan file (NULL: sandbox run). */
void apply_launch_vars(struct plan *plan, const char *file, int plan_fd);
#endif
