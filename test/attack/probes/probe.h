/* Shared by the C probes: print "KEY RESULT", RESULT being "ok" or the errno's symbolic name. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *errname(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

/* r < 0 is a failure with errno set; anything else means the attempt worked. */
static void report(const char *key, long r) {
  if (r < 0)
    printf("%s %s\n", key, errname(errno));
  else
    printf("%s ok\n", key);
  fflush(stdout);
}
