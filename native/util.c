/* What every part of the stage shares: the one way a failure is reported (die, die_errno: one line, through the
 * monitor when in the sandbox's init), debug output, and errno hints. */
#include "util.h"

#include <signal.h>
#include <sys/signalfd.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

int error_fd = -1;
int debug_on = 0;

const char *errno_hint(int err) {
  switch (err) {
  case EPERM: return " (unprivileged user namespaces may be disabled: see `sandbox doctor`)";
  case ENOSPC: return " (user.max_user_namespaces or another namespace limit reached)";
  default: return "";
  }
}

/* One line always: control characters in a path or a command name are shown escaped. */
void one_line(char *out, size_t len, const char *msg) {
  size_t o = 0;
  for (const unsigned char *c = (const unsigned char *)msg; *c && o + 5 < len; c++) {
    if (*c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (*c < 0x20 || *c == 0x7f) o += (size_t)snprintf(out + o, len - o, "\\x%02x", *c);
    else out[o++] = (char)*c;
  }
  out[o] = 0;
}

const char *diagnostic_prefix = "sandbox";

static void report(int code, const char *raw) {
  char msg[1020];
  one_line(msg, sizeof msg, raw);
  if (error_fd >= 0) {
    struct error_record rec;
    memset(&rec, 0, sizeof rec);
    rec.exit_code = code;
    snprintf(rec.message, sizeof rec.message, "%s", msg);
    ssize_t n;
    do n = write(error_fd, &rec, sizeof rec); while (n < 0 && errno == EINTR);
  } else {
    fprintf(stderr, "%s: %s\n", diagnostic_prefix, msg);
  }
}

void die(int code, const char *fmt, ...) {
  char msg[1000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  report(code, msg);
  _exit(code);
}

void die_errno(int code, const char *fmt, ...) {
  int err = errno;
  char msg[1000];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  report(code, msg);
  _exit(code);
}

void debug(const char *fmt, ...) {
  if (!debug_on) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sandbox:stage[%d] ", getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}


void write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno(125, "open %s", path);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) die_errno(125, "write %s", path);
  close(fd);
}

void signals_to_default(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int sigchld_fd(void) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  return signalfd(-1, &mask, SFD_CLOEXEC);
}

int write_all(int fd, const void *buf, size_t len) {
  for (size_t put = 0; put < len;) {
    ssize_t n = write(fd, (const char *)buf + put, len - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    put += (size_t)n;
  }
  return 0;
}

int read_all(int fd, void *buf, size_t len) {
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

int received_fds(struct msghdr *m, int *fds, int max) {
  int got = 0;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k; i++, got++) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + (size_t)i * sizeof(int), sizeof fd);
      if (got < max) fds[got] = fd;
      else close(fd);
    }
  }
  return got;
}
