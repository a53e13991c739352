/* sandbox-pulse-proxy: stands between a sandbox and the host's PulseAudio (or pipewire-pulse) server.
 *
 * The sandbox connects to our socket; for each client we open our own connection to the real server, so
 * the server authenticates us (same uid, by the kernel's credentials) and never sees anything the client
 * could forge. Every frame is parsed; control packets pass only when their command number is on the
 * allow-list given on the command line (lib/session/pulse-rules.ts decides it: this file holds no policy).
 * A refused command is answered here with ERROR/ACCESS and never reaches the server.
 *
 * Shared memory is never negotiated (the SHM and memfd bits of AUTH are cleared both ways), frames that
 * refer to shared memory end the connection, and descriptors passed with SCM_RIGHTS are closed, never
 * forwarded: audio travels over the socket, and no file crosses in either direction.
 *
 * Wire format (PulseAudio's pstream): a 20-byte descriptor of five big-endian u32 (length, channel,
 * offset_hi, offset_lo, flags) and `length` bytes. Channel 0xffffffff is a control packet, a tagstruct
 * starting with 'L' u32 command, 'L' u32 tag; any other channel is stream audio and passes unchanged.
 *
 * Lifetime, as for the D-Bus proxy: --fd N is the write end of a pipe whose read end the sandbox holds;
 * one byte is written there once we listen, and we exit when the read end closes (the sandbox is gone).
 * Single-threaded poll loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_CHANNEL 0xffffffffu
#define DESCRIPTOR 20
/* command, tag, and one u32 argument or reply value: all the proxy ever looks at */
#define HEAD 20
/* PulseAudio's own largest frame (a sample cache entry) */
#define FRAME_MAX (16u * 1024 * 1024)
/* the seek mode lives in the low byte; the top byte marks shared-memory blocks, releases and revokes */
#define FLAGS_SHM_MASK 0xff000000u
#define PROTOCOL_VERSION_MASK 0x0000ffffu
#define OUT_HIGH (256 * 1024)
/* PulseAudio serves 64 native clients at most: one sandbox may hold a quarter of them, no more */
#define MAX_CONNS 16
#define MAX_PENDING 64
#define MAX_OWN 256

enum { CMD_ERROR = 0, CMD_REPLY = 2, CMD_CREATE_PLAYBACK_STREAM = 3, CMD_CREATE_RECORD_STREAM = 5, CMD_AUTH = 8 };
enum { ERR_ACCESS = 1 };
enum { TAG_U32 = 'L' };

/* per command number: what the command line said */
enum { REFUSE = 0, ALLOW, OWN_SINK_INPUT, OWN_SOURCE_OUTPUT };
static unsigned char rule[256];
static int verbose;

struct buf {
  unsigned char *p;
  size_t off, len, cap;
};

/* One direction's frame parser. A control packet's descriptor and head are held back until the head is
 * complete and judged; then they, and the rest of the frame, go out (or are dropped). */
struct parser {
  enum { IN_DESCRIPTOR, IN_HEAD, IN_BODY } state;
  unsigned char desc[DESCRIPTOR];
  unsigned char head[HEAD];
  size_t got, head_need;
  uint32_t remaining;
  int drop;
};

struct conn {
  int cfd, sfd;
  int client_eof, server_eof;
  struct parser up, down;
  struct buf to_server, to_client;
  /* our ERROR replies, waiting until the server-to-client stream is between frames */
  struct buf injected;
  int authed, auth_reply_due;
  uint32_t auth_tag;
  struct { uint32_t tag; int kind; } pending[MAX_PENDING];
  int n_pending;
  uint32_t own[2][MAX_OWN];
  int n_own[2];
};

static struct conn *conns[MAX_CONNS];

static void msg(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "sandbox-pulse-proxy: %s\n", line);
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static int buf_add(struct buf *b, const void *data, size_t n) {
  if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
  if (b->len + n > b->cap) {
    if (b->off > 0) {
      memmove(b->p, b->p + b->off, b->len - b->off);
      b->len -= b->off;
      b->off = 0;
    }
    if (b->len + n > b->cap) {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + n) cap *= 2;
      unsigned char *p = realloc(b->p, cap);
      if (!p) return -1;
      b->p = p;
      b->cap = cap;
    }
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

static size_t buf_pending(const struct buf *b) { return b->len - b->off; }

static void conn_free(struct conn *c) {
  if (c->cfd >= 0) close(c->cfd);
  if (c->sfd >= 0) close(c->sfd);
  free(c->to_server.p);
  free(c->to_client.p);
  free(c->injected.p);
  free(c);
}

static int is_own(struct conn *c, int kind, uint32_t index) {
  for (int i = 0; i < c->n_own[kind]; i++)
    if (c->own[kind][i] == index) return 1;
  return 0;
}

/* ERROR (command 0) with the refused command's tag and PA_ERR_ACCESS: the client's call fails with
 * "Access denied", as it would against a server that refused it. */
static int refuse(struct conn *c, uint32_t command, uint32_t tag) {
  unsigned char f[DESCRIPTOR + 15];
  memset(f, 0, sizeof f);
  put32(f, 15);
  put32(f + 4, CONTROL_CHANNEL);
  f[DESCRIPTOR] = TAG_U32;
  put32(f + DESCRIPTOR + 1, CMD_ERROR);
  f[DESCRIPTOR + 5] = TAG_U32;
  put32(f + DESCRIPTOR + 6, tag);
  f[DESCRIPTOR + 10] = TAG_U32;
  put32(f + DESCRIPTOR + 11, ERR_ACCESS);
  if (verbose) msg("refused command %u (tag %u)", command, tag);
  /* Between frames of the server's stream it goes out now; else after the frame in flight. */
  struct buf *to = c->down.state == IN_BODY ? &c->injected : &c->to_client;
  return buf_add(to, f, sizeof f);
}

/* A control packet from the client, judged on its head: 1 pass, 0 refused (answered), -1 end the connection. */
static int judge_up(struct conn *c) {
  unsigned char *h = c->up.head;
  if (c->up.head_need < 10 || h[0] != TAG_U32 || h[5] != TAG_U32) return -1;
  uint32_t command = get32(h + 1), tag = get32(h + 6);
  int has_arg = c->up.head_need >= 15 && h[10] == TAG_U32;
  /* Nothing is dispatched by the server before AUTH: neither is it here. */
  if (!c->authed && command != CMD_AUTH) return -1;
  /* A tag still awaiting a stream's creation reply is not reused by an honest client; reused, another
   * reply could be read as that stream's index and hand the client someone else's stream. */
  for (int i = 0; i < c->n_pending; i++)
    if (c->pending[i].tag == tag) return -1;
  int r = command < 256 ? rule[command] : REFUSE;
  if (r == REFUSE) return refuse(c, command, tag) < 0 ? -1 : 0;
  if (r == OWN_SINK_INPUT || r == OWN_SOURCE_OUTPUT) {
    int kind = r == OWN_SINK_INPUT ? 0 : 1;
    if (!has_arg || !is_own(c, kind, get32(h + 11))) return refuse(c, command, tag) < 0 ? -1 : 0;
  }
  if (command == CMD_AUTH) {
    if (!has_arg) return -1;
    /* the version's high bits offer SHM and memfd transport: offer neither */
    put32(h + 11, get32(h + 11) & PROTOCOL_VERSION_MASK);
    c->auth_tag = tag;
    c->authed = c->auth_reply_due = 1;
  } else if (command == CMD_CREATE_PLAYBACK_STREAM || command == CMD_CREATE_RECORD_STREAM) {
    if (c->n_pending == MAX_PENDING) {
      memmove(c->pending, c->pending + 1, sizeof c->pending[0] * (MAX_PENDING - 1));
      c->n_pending--;
    }
    c->pending[c->n_pending].tag = tag;
    c->pending[c->n_pending].kind = command == CMD_CREATE_PLAYBACK_STREAM ? 0 : 1;
    c->n_pending++;
  }
  return 1;
}

/* A control packet from the server: passed always; read for the AUTH reply (cleared the same way) and
 * for the replies to stream creation (the sink input or source output index becomes this client's). */
static void watch_down(struct conn *c) {
  unsigned char *h = c->down.head;
  if (c->down.head_need < 10 || h[0] != TAG_U32 || h[5] != TAG_U32) return;
  uint32_t command = get32(h + 1), tag = get32(h + 6);
  if (c->auth_reply_due && tag == c->auth_tag && (command == CMD_REPLY || command == CMD_ERROR)) {
    c->auth_reply_due = 0;
    if (command == CMD_REPLY && c->down.head_need >= 15 && h[10] == TAG_U32) put32(h + 11, get32(h + 11) & PROTOCOL_VERSION_MASK);
  }
  if (command != CMD_REPLY && command != CMD_ERROR) return;
  for (int i = 0; i < c->n_pending; i++) {
    if (c->pending[i].tag != tag) continue;
    int kind = c->pending[i].kind;
    memmove(c->pending + i, c->pending + i + 1, sizeof c->pending[0] * (size_t)(c->n_pending - i - 1));
    c->n_pending--;
    /* reply: 'L' channel, 'L' index */
    if (command == CMD_REPLY && c->down.head_need >= 20 && h[10] == TAG_U32 && h[15] == TAG_U32 && c->n_own[kind] < MAX_OWN)
      c->own[kind][c->n_own[kind]++] = get32(h + 16);
    return;
  }
}

/* Feeds bytes read from one side through that side's parser into the other side's buffer. */
static int feed(struct conn *c, int up, const unsigned char *data, size_t n) {
  struct parser *p = up ? &c->up : &c->down;
  struct buf *out = up ? &c->to_server : &c->to_client;
  while (n > 0) {
    if (p->state == IN_DESCRIPTOR) {
      size_t k = DESCRIPTOR - p->got < n ? DESCRIPTOR - p->got : n;
      memcpy(p->desc + p->got, data, k);
      p->got += k, data += k, n -= k;
      if (p->got < DESCRIPTOR) break;
      uint32_t length = get32(p->desc), channel = get32(p->desc + 4), flags = get32(p->desc + 16);
      if (length > FRAME_MAX || (flags & FLAGS_SHM_MASK)) return -1;
      p->got = 0;
      p->drop = 0;
      if (channel == CONTROL_CHANNEL) {
        if (length < 10) return -1;
        p->head_need = length < HEAD ? length : HEAD;
        p->remaining = length - (uint32_t)p->head_need;
        p->state = IN_HEAD;
      } else {
        if (buf_add(out, p->desc, DESCRIPTOR) < 0) return -1;
        p->remaining = length;
        p->state = length ? IN_BODY : IN_DESCRIPTOR;
      }
    } else if (p->state == IN_HEAD) {
      size_t k = p->head_need - p->got < n ? p->head_need - p->got : n;
      memcpy(p->head + p->got, data, k);
      p->got += k, data += k, n -= k;
      if (p->got < p->head_need) break;
      p->got = 0;
      if (up) {
        int v = judge_up(c);
        if (v < 0) return -1;
        p->drop = v == 0;
      } else {
        watch_down(c);
      }
      if (!p->drop && (buf_add(out, p->desc, DESCRIPTOR) < 0 || buf_add(out, p->head, p->head_need) < 0)) return -1;
      p->state = p->remaining ? IN_BODY : IN_DESCRIPTOR;
    } else {
      size_t k = p->remaining < n ? p->remaining : n;
      if (!p->drop && buf_add(out, data, k) < 0) return -1;
      p->remaining -= (uint32_t)k, data += k, n -= k;
      if (p->remaining == 0) p->state = IN_DESCRIPTOR;
    }
    if (!up && p->state != IN_BODY && buf_pending(&c->injected)) {
      if (buf_add(&c->to_client, c->injected.p + c->injected.off, buf_pending(&c->injected)) < 0) return -1;
      c->injected.off = c->injected.len = 0;
    }
  }
  return 0;
}

/* Reads what a side sent; descriptors that came with it are closed here and never passed on. */
static ssize_t read_side(int fd, unsigned char *data, size_t size) {
  union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int) * 64)]; } ctl;
  struct iovec iov = { data, size };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
  ssize_t r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (r < 0) return r;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfd; i++) {
      int fd2;
      memcpy(&fd2, CMSG_DATA(h) + i * sizeof(int), sizeof fd2);
      close(fd2);
    }
    if (verbose) msg("closed %zu descriptor(s) sent over the connection", nfd);
  }
  return r;
}

/* Bytes to the server up to the AUTH reply go with our credentials (SCM_CREDENTIALS), as libpulse sends its AUTH: the kernel adds
 * them by itself only where the server had turned SO_PASSCRED on before we wrote, and PulseAudio does that after
 * accepting. Without them (our AUTH written before then) the server falls back to the client's cookie, which a
 * sandbox doesn't have: an intermittent "Access denied" for a legitimate player. */
static ssize_t send_with_creds(int fd, const void *p, size_t n) {
  struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof cred)]; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_CREDENTIALS;
  h->cmsg_len = CMSG_LEN(sizeof cred);
  memcpy(CMSG_DATA(h), &cred, sizeof cred);
  return sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int flush(int fd, struct buf *b, int creds) {
  while (buf_pending(b)) {
    ssize_t w = creds ? send_with_creds(fd, b->p + b->off, buf_pending(b)) : send(fd, b->p + b->off, buf_pending(b), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    b->off += (size_t)w;
  }
  b->off = b->len = 0;
  return 0;
}

static int connect_upstream(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  memcpy(a.sun_path, path, strlen(path) + 1);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    if (verbose) msg("connect %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

static int listen_on(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  memcpy(a.sun_path, path, strlen(path) + 1);
  mode_t old = umask(077);
  int r = bind(fd, (struct sockaddr *)&a, sizeof a);
  umask(old);
  if (r < 0 || listen(fd, 16) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* No files at all from here on: the proxy parses what a hostile program sends, so a bug in it should reach
 * nothing. Landlock handles every filesystem right this kernel knows and grants none (connecting to the
 * server's socket by path is not a filesystem right), no TCP, and the scopes. Best effort: without Landlock
 * the proxy still works. */
static void confine(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1u);
  if (abi < 1) return;
  uint64_t fs = (1ull << 13) - 1;
  if (abi >= 2) fs |= 1ull << 13;
  if (abi >= 3) fs |= 1ull << 14;
  if (abi >= 5) fs |= 1ull << 15;
  struct { uint64_t fs, net, scoped; } attr = { fs, abi >= 4 ? 3u : 0u, abi >= 6 ? 3u : 0u };
  size_t size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
  int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) return;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) syscall(SYS_landlock_restrict_self, rs, 0);
  close(rs);
}

static int parse_list(const char *s, int value) {
  while (*s) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (end == s || errno || n > 255 || (*end && *end != ',')) return -1;
    rule[n] = (unsigned char)value;
    s = *end ? end + 1 : end;
  }
  return 0;
}

static void usage_exit(const char *why) {
  msg("%s (usage: sandbox-pulse-proxy --listen PATH --upstream PATH --fd N --allow N,N... [--own-sink-input N,...] [--own-source-output N,...] [--verbose])", why);
  exit(2);
}

int main(int argc, char **argv) {
  const char *listen_path = NULL, *upstream = NULL;
  int life = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--verbose")) { verbose = 1; continue; }
    if (i + 1 >= argc) usage_exit("an option lacks its value");
    const char *v = argv[++i];
    int bad = 0;
    if (!strcmp(a, "--listen")) listen_path = v;
    else if (!strcmp(a, "--upstream")) upstream = v;
    else if (!strcmp(a, "--fd")) { char *e; long n = strtol(v, &e, 10); if (*e || n < 3 || n > INT_MAX) bad = 1; else life = (int)n; }
    else if (!strcmp(a, "--allow")) bad = parse_list(v, ALLOW);
    else if (!strcmp(a, "--own-sink-input")) bad = parse_list(v, OWN_SINK_INPUT);
    else if (!strcmp(a, "--own-source-output")) bad = parse_list(v, OWN_SOURCE_OUTPUT);
    else usage_exit("unknown option");
    if (bad) { msg("%s %s: expected a list of command numbers 0-255 (or a descriptor for --fd)", a, v); exit(2); }
  }
  if (!listen_path || !upstream || life < 0) usage_exit("--listen, --upstream and --fd are required");
  if (strlen(listen_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) || strlen(upstream) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    msg("socket path too long");
    exit(2);
  }
  signal(SIGPIPE, SIG_IGN);
  int lfd = listen_on(listen_path);
  if (lfd < 0) {
    msg("listen on %s: %s", listen_path, strerror(errno));
    exit(1);
  }
  confine();
  if (write(life, "x", 1) != 1) exit(1);

  static unsigned char chunk[65536];
  struct pollfd pfd[2 + 2 * MAX_CONNS];
  for (;;) {
    int n = 0;
    pfd[n++] = (struct pollfd){ .fd = life, .events = 0 };
    pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
    for (int i = 0; i < MAX_CONNS; i++) {
      struct conn *c = conns[i];
      if (!c) continue;
      /* read a side only while what it would produce has room: the other side's buffer, and for the
       * client also ours toward it (refusals) */
      short ce = 0, se = 0;
      if (!c->client_eof && buf_pending(&c->to_server) < OUT_HIGH && buf_pending(&c->to_client) + buf_pending(&c->injected) < OUT_HIGH) ce |= POLLIN;
      if (!c->server_eof && buf_pending(&c->to_client) < OUT_HIGH) se |= POLLIN;
      if (buf_pending(&c->to_client)) ce |= POLLOUT;
      if (buf_pending(&c->to_server)) se |= POLLOUT;
      /* a side that hung up is left out, or its POLLHUP would spin the loop */
      pfd[n++] = (struct pollfd){ .fd = c->client_eof ? -1 : c->cfd, .events = ce };
      pfd[n++] = (struct pollfd){ .fd = c->server_eof ? -1 : c->sfd, .events = se };
    }
    if (poll(pfd, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      msg("poll: %s", strerror(errno));
      exit(1);
    }
    if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) exit(0);
    int k = 2;
    for (int i = 0; i < MAX_CONNS; i++) {
      struct conn *c = conns[i];
      if (!c) continue;
      /* pfd was built from the same conns[], in the same order */
      short cr = pfd[k].revents, sr = pfd[k + 1].revents;
      k += 2;
      int fail = 0;
      if (cr & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read_side(c->cfd, chunk, sizeof chunk);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) c->client_eof = 1;
        else if (r > 0 && feed(c, 1, chunk, (size_t)r) < 0) fail = 1;
      }
      if (!fail && (sr & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = read_side(c->sfd, chunk, sizeof chunk);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) c->server_eof = 1;
        else if (r > 0 && feed(c, 0, chunk, (size_t)r) < 0) fail = 1;
      }
      if (!fail && (flush(c->sfd, &c->to_server, !c->authed || c->auth_reply_due) < 0 || flush(c->cfd, &c->to_client, 0) < 0)) fail = 1;
      /* one side gone: what is left toward the other is delivered, then both close */
      if (c->client_eof && !buf_pending(&c->to_server)) fail = 1;
      if (c->server_eof && !buf_pending(&c->to_client)) fail = 1;
      if (fail) {
        if (verbose && !c->client_eof && !c->server_eof) msg("closed a connection that broke the protocol");
        conn_free(c);
        conns[i] = NULL;
      }
    }
    /* after the connections polled above, so that a new one is polled before it is served */
    if (pfd[1].revents & POLLIN) {
      int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (cfd >= 0) {
        int slot = -1;
        for (int i = 0; i < MAX_CONNS && slot < 0; i++)
          if (!conns[i]) slot = i;
        int sfd = slot >= 0 ? connect_upstream(upstream) : -1;
        struct conn *c = sfd >= 0 ? calloc(1, sizeof *c) : NULL;
        if (!c) {
          if (sfd >= 0) close(sfd);
          close(cfd);
        } else {
          c->cfd = cfd;
          c->sfd = sfd;
          conns[slot] = c;
        }
      }
    }
  }
}
