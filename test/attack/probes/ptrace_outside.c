/* Attach to a process outside the sandbox (its host pid in argv[1]): it is not in this pid namespace. */
#include "probe.h"
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
int main(int argc, char **argv) {
  pid_t pid = (pid_t)atoi(argv[1]);
  report("ptrace_attach", ptrace(PTRACE_ATTACH, pid, 0, 0));
  report("ptrace_seize", ptrace(PTRACE_SEIZE, pid, 0, 0));
  char buf[8] = "pwned!!";
  struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
  report("process_vm_writev", process_vm_writev(pid, &local, 1, &remote, 1, 0));
  return 0;
}
