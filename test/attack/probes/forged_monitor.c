/* A sandboxed program that can see its user's registry of running sandboxes (the directory bound in at another
 * path, which the state cover misses) poses as a sandbox's monitor: it listens on DIR/NAME.sock and writes
 * DIR/NAME.json naming itself (its pid is the host's with --share-pid, and its start time). A `sandbox enter NAME`
 * that believes it hands this program its stdin, stdout and stderr. It writes a line through the stdout it got,
 * says on its own stderr what each descriptor is, and answers as a monitor would (started, exit 0). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: forged_monitor DIR NAME\n"); return 2; }
  const char *dir = argv[1], *name = argv[2];
  char path[512], json[1024], stat[1024], start[32];
  int f = open("/proc/self/stat", O_RDONLY);
  ssize_t n = f < 0 ? -1 : read(f, stat, sizeof stat - 1);
  if (n <= 0) { perror("/proc/self/stat"); return 2; }
  stat[n] = 0;
  close(f);
  char *p = strrchr(stat, ')') + 2;
  for (int i = 0; i < 19; i++) p = strchr(p, ' ') + 1;
  sscanf(p, "%31s", start);
  snprintf(path, sizeof path, "%s/%s.sock", dir, name);
  unlink(path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0) { perror("bind"); return 2; }
  snprintf(json, sizeof json, "{\"version\":1,\"name\":\"%s\",\"pid\":%d,\"start\":\"%s\",\"profile\":\"none\",\"command\":[\"sleep\",\"60\"],"
           "\"started\":%lld,\"cgroup\":null,\"enter\":true}\n", name, (int)getpid(), start, (long long)time(NULL) * 1000);
  snprintf(path, sizeof path, "%s/%s.json", dir, name);
  f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (f < 0 || write(f, json, strlen(json)) < 0) { perror(path); return 2; }
  close(f);
  fprintf(stderr, "forged: listening\n");
  int c = accept(s, NULL, NULL);
  char buf[12], cb[CMSG_SPACE(sizeof(int) * 3)];
  struct iovec iov = { buf, sizeof buf };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb };
  if (recvmsg(c, &m, 0) <= 0 || !CMSG_FIRSTHDR(&m)) { fprintf(stderr, "forged: no descriptors\n"); return 1; }
  int fds[3];
  memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fds);
  for (int i = 0; i < 3; i++) {
    char l[256], target[256];
    snprintf(l, sizeof l, "/proc/self/fd/%d", fds[i]);
    n = readlink(l, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    fprintf(stderr, "forged: got the client's fd %d: %s\n", i, target);
  }
  dprintf(fds[1], "FORGED: written by a sandboxed program through the caller's stdout\n");
  int code = 0;
  if (write(c, "S", 1) < 0 || write(c, &code, sizeof code) < 0) return 1;
  return 0;
}
