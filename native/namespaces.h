#ifndef SANDBOX_NAMESPACES_H
#define SANDBOX_NAMESPACES_H
#include <stdint.h>
#include "plan.h"
/* clone3 with flags, born in cgroup_fd's cgroup when it is >= 0; -1 with errno when clone3 can't. */
long try_clone3(uint64_t flags, int cgroup_fd);
void bring_up_loopback(void);
void write_id_maps(pid_t pid, uid_t uid, gid_t gid);
/* With CAP_SYS_ADMIN kept: a nested user and mount namespace, in which the kernel locks every mount. */
void lock_mounts(const struct plan *plan);
#endif
