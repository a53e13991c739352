/* runc CVE-2019-5736: overwrite the running binary through /proc/self/exe, or the sandbox init's
   (the C stage) through /proc/1/exe, even by reopening an O_PATH descriptor for writing. */
#include "probe.h"
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  report("self_exe_write", open("/proc/self/exe", O_WRONLY));
  int p = open("/proc/self/exe", O_PATH);
  char via[64];
  snprintf(via, sizeof via, "/proc/self/fd/%d", p);
  report("self_exe_reopen_write", open(via, O_WRONLY));
  report("init_exe_write", open("/proc/1/exe", O_WRONLY));
  report("init_exe_path", open("/proc/1/exe", O_PATH));
  char target[256];
  report("init_exe_readlink", readlink("/proc/1/exe", target, sizeof target));
  return 0;
}
