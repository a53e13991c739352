/* The new mount API (fsopen, open_tree, move_mount, mount_setattr) as a way around mount(2). */
#include "probe.h"
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
  report("open_tree_clone", syscall(SYS_open_tree, AT_FDCWD, "/usr", OPEN_TREE_CLONE));
  int fd = open("/usr", O_PATH | O_DIRECTORY);
  report("move_mount", syscall(SYS_move_mount, fd, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH));
  struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
  report("mount_setattr_rw", syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &attr, sizeof attr));
  return 0;
}
