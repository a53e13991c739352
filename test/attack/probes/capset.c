/* Raise capabilities: every set is empty and the bounding set too, so capset must refuse. */
#include "probe.h"
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{~0u, ~0u, ~0u}, {~0u, ~0u, ~0u}};
  report("capset_all", syscall(SYS_capset, &h, d));
  struct __user_cap_data_struct one[2] = {{1u << CAP_SYS_ADMIN, 1u << CAP_SYS_ADMIN, 0}, {0, 0, 0}};
  report("capset_sys_admin", syscall(SYS_capset, &h, one));
  report("ambient_raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0));
  struct __user_cap_data_struct now[2];
  syscall(SYS_capget, &h, now);
  printf("cap_effective %x%08x\n", now[1].effective, now[0].effective);
  return 0;
}
