/* The `sandbox` command: arms the parent-death signal before anything else, then runs the TypeScript side
 * (node bin/sandbox.js) in the same process. It lives in native/build/ of a checkout, or at the top of the
 * prebuilt package sandbox-linux-ARCH (scripts/prebuilt.js) inside the installed sandbox package. PR_SET_PDEATHSIG survives execve, so a parent that dies while
 * Node starts up takes this process down too; Node alone would leave a window of its whole start-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "plan-cache.h"

/* "" in a prebuilt launcher (scripts/prebuilt.js): the build machine's node means nothing on the user's */
#ifndef NODE_FALLBACK
#define NODE_FALLBACK "/usr/bin/node"
#endif

/* Which node runs sandbox decides everything it does, so it never comes from a place a sandbox may have
 * written: $SANDBOX_NODE when it is an absolute path, else the node the package was built with, else the first
 * `node` in an absolute PATH entry. Relative entries (./node_modules/.bin, an empty entry meaning the working
 * directory) are skipped: the working directory is often bound read-write into the last sandbox. */
static const char *find_node(char *buf, size_t len) {
  const char *forced = getenv("SANDBOX_NODE");
  if (forced && *forced) {
    if (forced[0] == '/') return forced;
    fprintf(stderr, "sandbox: SANDBOX_NODE=%s is not an absolute path: ignored\n", forced);
  }
  if (NODE_FALLBACK[0] == '/' && access(NODE_FALLBACK, X_OK) == 0) return NODE_FALLBACK;
  const char *path = getenv("PATH");
  for (const char *p = path ? path : ""; *p;) {
    const char *e = strchrnul(p, ':');
    if (*p == '/' && (size_t)snprintf(buf, len, "%.*s/node", (int)(e - p), p) < len && access(buf, X_OK) == 0) return buf;
    p = *e ? e + 1 : e;
  }
  return NODE_FALLBACK[0] ? NODE_FALLBACK : NULL;
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  /* bin/sandbox (a shell script) ran before us in this process: the parent it started under is the one to outlive */
  char name[48];
  snprintf(name, sizeof name, "SANDBOX_PPID_%d", (int)getpid());
  const char *first = getenv(name);
  if (first) {
    char *end;
    long p = strtol(first, &end, 10);
    if (*first && !*end && p > 0) parent = (pid_t)p;
    unsetenv(name);
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 && getppid() != parent) return 125; /* already orphaned */
  char exe[PATH_MAX], script[PATH_MAX + 32], nodebuf[PATH_MAX], pid[32];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    fprintf(stderr, "sandbox: readlink /proc/self/exe: %s\n", strerror(errno));
    return 125;
  }
  exe[n] = 0;
  /* .../native/build/sandbox (a checkout) and .../sandbox/node_modules/sandbox-linux-ARCH/sandbox (nested, as
   * `npm install -g` puts it) are both three levels below the package; a hoisted install
   * (node_modules/sandbox-linux-ARCH beside node_modules/sandbox) is two below node_modules. */
  char *cut[3] = {0};
  for (int up = 0; up < 3; up++) {
    cut[up] = strrchr(exe, '/');
    if (!cut[up]) break;
    *cut[up] = 0;
  }
  snprintf(script, sizeof script, "%s/bin/sandbox.js", exe);
  if (access(script, R_OK) != 0 && cut[2]) {
    *cut[2] = '/';
    snprintf(script, sizeof script, "%s/sandbox/bin/sandbox.js", exe);
  }
  plan_cache_launch(argc, argv); /* returns unless a kept plan runs: see plan-cache.c */
  snprintf(pid, sizeof pid, "%d", (int)parent);
  setenv("SANDBOX_PARENT_PID", pid, 1);
  const char *node = find_node(nodebuf, sizeof nodebuf);
  if (!node) {
    fprintf(stderr, "sandbox: no node on PATH (install Node.js 20 or later, or set SANDBOX_NODE to its absolute path)\n");
    return 125;
  }
  /* Run under the name bwrap (a link made by `sandbox install-bwrap-link`): bwrap mode, as `sandbox bwrap ARGS`. */
  const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
  base = base ? base + 1 : argv[0] ? argv[0] : "";
  int as_bwrap = !strcmp(base, "bwrap");
  char **args = calloc((size_t)argc + 3, sizeof *args);
  if (!args) return 125;
  int k = 0;
  args[k++] = (char *)node;
  args[k++] = script;
  if (as_bwrap) args[k++] = "bwrap";
  for (int i = 1; i < argc; i++) args[k++] = argv[i];
  execv(node, args);
  fprintf(stderr, "sandbox: cannot run node (%s): %s (set SANDBOX_NODE)\n", node, strerror(errno));
  return 125;
}
