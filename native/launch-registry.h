/* The launcher's claim of a name for a plan cache hit (launch-registry.c), as lib/running/registry.ts claims one. */
#ifndef SANDBOX_LAUNCH_REGISTRY_H
#define SANDBOX_LAUNCH_REGISTRY_H

struct launch_registry {
  const char *base;         /* the default name's base (defaultName less its random part) */
  const char *profile_json; /* the entry's profile and command, as JSON (written by Node at keep time) */
  const char *command_json;
  int enter;                /* the init serves `sandbox enter` */
  int join;                 /* a --join member: no note when the registry can't be used */
};

struct launch_claim {
  char dir[4200];
  char name[80]; /* empty: none claimed */
  char note[8600]; /* the line to say after planning's own when the registry can't be used */
};

/* 0: NAME.json written; 1: the registry can't be used: run unregistered, saying note; -1: anything else (the
 * launch goes to Node, which plans again). */
int launch_claim(const struct launch_registry *in, struct launch_claim *out);
/* Removes the entry claimed, when the stage could not be started. */
void launch_unclaim(const struct launch_claim *c);

#endif
