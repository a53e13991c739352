#ifndef SANDBOX_ENV_H
#define SANDBOX_ENV_H
#include <stddef.h>
#include "plan.h"
/* Does the name (len bytes, not terminated) match the compiled pattern? */
int env_pattern_matches(const struct env_pattern *p, const char *name, size_t len);
/* The program's environment for a compiled plan (env-launch): environ, filtered, with the plan's values. */
const char **build_env(const struct plan *plan);
#endif
