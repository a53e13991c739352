/* The plan cache's writing end in the stage: the entry a miss made (lib/cli/plan-cache-run.ts) comes on a descriptor
 * (`--keep-fd N`), and the monitor writes it once the sandbox is on its way, so the launch doesn't wait for it. */
#ifndef SANDBOX_PLAN_CACHE_KEEP_H
#define SANDBOX_PLAN_CACHE_KEEP_H

/* Reads the handed-over entry and closes fd; a bad one is dropped (the launch goes on, nothing is kept). */
void plan_cache_keep_take(int fd);

/* Writes the entry taken, when every state it recorded is still so; never fails the launch. */
void plan_cache_keep_write(void);

#endif
