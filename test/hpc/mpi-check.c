/* One MPI correctness check per rank: an allreduce of the ranks' numbers, and rank 0 sending 1 MiB to
   rank 1 and back (far above any transport's eager limit, so the rendezvous path and, in shared memory,
   single-copy CMA are used). Prints one "rank R of N: ..." line per rank; exits non-zero on a mismatch. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BIG (1 << 20)

int main(int argc, char **argv) {
  int rank, size, sum = 0, ok = 1;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int mine = rank + 1;
  MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (sum != size * (size + 1) / 2) ok = 0;

  unsigned char *buf = malloc(BIG);
  if (!buf) MPI_Abort(MPI_COMM_WORLD, 2);
  if (size >= 2 && rank < 2) {
    if (rank == 0) {
      for (int i = 0; i < BIG; i++) buf[i] = (unsigned char)(i * 7 + 1);
      MPI_Send(buf, BIG, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(buf, BIG, MPI_BYTE, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      for (int i = 0; i < BIG; i++)
        if (buf[i] != (unsigned char)(i * 7 + 2)) { ok = 0; break; }
    } else {
      MPI_Recv(buf, BIG, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      for (int i = 0; i < BIG; i++) {
        if (buf[i] != (unsigned char)(i * 7 + 1)) ok = 0;
        buf[i] = (unsigned char)(i * 7 + 2);
      }
      MPI_Send(buf, BIG, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    }
  }
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  printf("rank %d of %d: sum %d, 1MiB %s, pid %d\n", rank, size, sum, ok ? "ok" : "BAD", (int)getpid());
  fflush(stdout);
  free(buf);
  MPI_Finalize();
  return all_ok ? 0 : 1;
}
