/* pivot_root and chroot tricks: both need privileges the sandbox does not have. */
#include "probe.h"
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  mkdir("/tmp/newroot", 0755);
  mkdir("/tmp/newroot/old", 0755);
  report("pivot_root", syscall(SYS_pivot_root, "/tmp/newroot", "/tmp/newroot/old"));
  report("pivot_root_dot", syscall(SYS_pivot_root, ".", "."));
  /* the classic escape: chroot into a subdirectory while the cwd stays outside it, climb, chroot(".") */
  report("chroot", chroot("/tmp/newroot"));
  for (int i = 0; i < 64; i++) chdir("..");
  report("chroot_dot_after_climb", chroot("."));
  return 0;
}
