#ifndef SANDBOX_MOUNTS_H
#define SANDBOX_MOUNTS_H
#include "plan.h"
/* Build the new root from the plan's operations and pivot into it; dies with a record on any failure. */
void build_root(const struct plan *plan);
#endif
