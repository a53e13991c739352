/* Forks and exits in a loop for a few seconds (argv[2], default 4), so that at any moment one fresh process carries
 * on, in a session of its own; every 256 generations it writes "GENERATION SECONDS" to argv[1], so the test can tell
 * whether it still runs after the sandbox ended. Ends by itself, so a failing test leaves nothing behind for long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *beat = argv[1];
  double secs = argc > 2 ? atof(argv[2]) : 4;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (fork() != 0) return 0;
  setsid();
  long gen = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
    if (el > secs) _exit(0);
    pid_t p = fork();
    if (p < 0) continue;
    if (p > 0) _exit(0);
    if ((++gen & 255) == 0) {
      int fd = open(beat, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        char b[64];
        int n = snprintf(b, sizeof b, "%ld %.3f\n", gen, el);
        if (write(fd, b, (size_t)n) < 0) _exit(1);
        close(fd);
      }
    }
  }
}
