/* Installed setuid root by the test and bound into the sandbox: what ids does it run with? */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
int main(void) {
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  printf("ruid %u\neuid %u\nsuid %u\n", r, e, s);
  printf("setuid0 %s\n", setuid(0) == 0 ? "ok" : "refused");
  return 0;
}
