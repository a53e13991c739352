/* Paths taken at each launch (plan records launch-var, launch-guard): the checks the stage (compiled.c) and the
 * launcher's plan cache (plan-cache.c) both make of a launch's value before a plan made for another value runs. */
#ifndef SANDBOX_LAUNCH_PATHS_H
#define SANDBOX_LAUNCH_PATHS_H

#include <stddef.h>

/* How x stands to s: 'e' the same, 'b' x strictly under s, 'a' s strictly under x, 'd' neither. */
char launch_relation(const char *x, const char *s);
/* Whether relation rel (launch_relation) is what guard allows: `d` neither, `n` not the same nor above. */
int launch_relation_allowed(char rel, char guard);
/* NULL when value can stand in for a planned path: absolute and normalised, not "/", a directory, no symlink on
 * its way (its real path is itself); else why not, in words. */
const char *launch_value_problem(const char *value);
/* 1 when the list of compiled plans at list (one JSON object a line, {"plan":"PATH",...}) names a plan under
 * value, its path then in found; 0 when none is (or there is no list). */
int launch_list_names_plan_under(const char *list, const char *value, char *found, size_t len);
/* The digest the list records for the plan at path (64 hex digits and a NUL in hex): 1 when it records one. */
int launch_list_digest_of(const char *list, const char *path, char hex[65]);
/* The value of launch variable name: the working directory for CWD, else the environment's (NULL: unset or
 * empty), trailing slashes dropped as the plan builder drops them. buf holds it. */
const char *launch_value(const char *name, char *buf, size_t len);

#endif
