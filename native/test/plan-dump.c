/* plan-dump: parses a plan (stdin) with the stage's own parser and prints what the stage would act on, one
 * fact a line, the seccomp program decoded as the kernel reads it (struct sock_filter). Built for another
 * architecture (test/unit/aarch64-build.test.js runs it under qemu-user) it shows that a cross-built stage
 * reads plans, and the filter in them, exactly as the host's does. A test tool: not installed. */
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plan.h"

int main(void) {
  static unsigned char buf[1 << 22];
  size_t len = fread(buf, 1, sizeof buf, stdin);
  struct plan p;
  char err[512];
  if (plan_parse(buf, len, &p, err, sizeof err) < 0) {
    printf("error %s\n", err);
    return 125;
  }
  printf("uid %u\ngid %u\nhostname %s\nshare_net %d\nops %zu\nkeep_fds %zu\nenv %zu\n", (unsigned)p.uid, (unsigned)p.gid,
         p.hostname ? p.hostname : "-", p.share_net, p.n_ops, p.n_keep_fds, p.n_env);
  for (size_t i = 0; i < p.n_argv; i++) printf("argv %s\n", p.argv[i]);
  printf("seccomp %s %zu\n", p.seccomp_origin ? p.seccomp_origin : "-", p.bpf_len / sizeof(struct sock_filter));
  for (size_t i = 0; i < p.bpf_len / sizeof(struct sock_filter); i++) {
    struct sock_filter f;
    memcpy(&f, p.bpf + i * sizeof f, sizeof f);
    printf("%04x %u %u %08x\n", f.code, f.jt, f.jf, f.k);
  }
  return 0;
}
