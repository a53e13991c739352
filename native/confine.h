#ifndef SANDBOX_CONFINE_H
#define SANDBOX_CONFINE_H
#include <stdint.h>
#include "plan.h"
int last_cap(void);
void drop_capabilities(uint64_t keep, int last);
void apply_landlock(const struct plan *plan);
void install_seccomp(const struct plan *plan);
#endif
