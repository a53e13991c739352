/* io_uring: its operations never pass through the syscall filter. IORING_OP_SOCKET (Linux 5.19) creates a
   socket without socket(2), so it is tried here with the families the base filter refuses. */
#include "probe.h"
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static int setup(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  ring = (int)syscall(SYS_io_uring_setup, 4, &p);
  if (ring < 0) return -1;
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_len > sq_len) sq_len = cq_len; /* one mapping for both rings (IORING_FEAT_SINGLE_MMAP) */
  char *sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
  if (sq == MAP_FAILED || sqes == MAP_FAILED) return -1;
  sq_tail = (unsigned *)(sq + p.sq_off.tail);
  sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  sq_array = (unsigned *)(sq + p.sq_off.array);
  cq_head = (unsigned *)(sq + p.cq_off.head);
  cq_tail = (unsigned *)(sq + p.cq_off.tail);
  cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
  return 0;
}

/* One IORING_OP_SOCKET: the new descriptor, or -1 with errno set. */
static long uring_socket(int domain, int type) {
  unsigned tail = *sq_tail, i = tail & *sq_mask;
  struct io_uring_sqe *e = &sqes[i];
  memset(e, 0, sizeof *e);
  e->opcode = IORING_OP_SOCKET;
  e->fd = domain;
  e->off = (unsigned)type;
  sq_array[i] = i;
  atomic_store_explicit((_Atomic unsigned *)sq_tail, tail + 1, memory_order_release);
  if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0) return -1;
  unsigned head = atomic_load_explicit((_Atomic unsigned *)cq_head, memory_order_acquire);
  if (head == atomic_load_explicit((_Atomic unsigned *)cq_tail, memory_order_acquire)) { errno = EAGAIN; return -1; }
  int res = cqes[head & *cq_mask].res;
  atomic_store_explicit((_Atomic unsigned *)cq_head, head + 1, memory_order_release);
  if (res < 0) { errno = -res; return -1; }
  return res;
}

int main(void) {
  report("io_uring_setup", setup());
  if (ring < 0) return 0;
  report("uring_socket_unix", uring_socket(AF_UNIX, SOCK_STREAM));
  report("uring_socket_vsock", uring_socket(AF_VSOCK, SOCK_STREAM));
  report("uring_socket_alg", uring_socket(AF_ALG, SOCK_SEQPACKET));
  report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
  return 0;
}
