/* The plan cache's reading side, in the `sandbox` launcher (launch.c): a launch whose entry is there and whose
 * recorded inputs are all unchanged runs the kept plan without starting Node. lib/host/plan-cache.ts writes the
 * entries and describes their format. */
#ifndef SANDBOX_PLAN_CACHE_H
#define SANDBOX_PLAN_CACHE_H

/* Returns when there is no usable entry (Node then plans as ever); on a hit it becomes the stage. */
void plan_cache_launch(int argc, char **argv);

#endif
