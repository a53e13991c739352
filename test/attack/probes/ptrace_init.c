/* Attach to the sandbox's own pid 1 (the C stage's init), which is non-dumpable, and read its memory. */
#include "probe.h"
#include <fcntl.h>
#include <sys/ptrace.h>
int main(void) {
  report("ptrace_attach_init", ptrace(PTRACE_ATTACH, 1, 0, 0));
  report("open_init_mem", open("/proc/1/mem", O_RDWR));
  report("open_init_environ", open("/proc/1/environ", O_RDONLY));
  return 0;
}
