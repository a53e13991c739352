/* Kernel interfaces with a history of escapes: perf events, bpf, userfaultfd, open_by_handle_at. */
#include "probe.h"
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.type = PERF_TYPE_SOFTWARE;
  pe.size = sizeof pe;
  pe.config = PERF_COUNT_SW_CPU_CLOCK;
  report("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
  char attr[128] = {0};
  report("bpf_map_create", syscall(SYS_bpf, 0, attr, sizeof attr));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  /* a handle for the root directory of the filesystem that holds /usr; opening it needs CAP_DAC_READ_SEARCH */
  struct file_handle *fh = malloc(sizeof *fh + MAX_HANDLE_SZ);
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mnt;
  long nh = syscall(SYS_name_to_handle_at, AT_FDCWD, "/usr", fh, &mnt, 0);
  report("name_to_handle_at", nh);
  int usr = open("/usr", O_RDONLY | O_DIRECTORY);
  report("open_by_handle_at", nh == 0 ? syscall(SYS_open_by_handle_at, usr, fh, O_RDONLY) : -1);
  /* a guessed handle for inode 2 (an ext4 root) */
  fh->handle_bytes = 8;
  fh->handle_type = 1;
  memset(fh->f_handle, 0, 8);
  fh->f_handle[0] = 2;
  report("open_by_handle_at_guess", syscall(SYS_open_by_handle_at, usr, fh, O_RDONLY));
  return 0;
}
