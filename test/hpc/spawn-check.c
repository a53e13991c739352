/* MPI_Comm_spawn from inside a rank: a parent (started by the launcher) spawns one copy of itself with the
   argument "child", and each says where it runs: /proc/self/uid_map (the host's is "0 0 4294967295", a
   sandbox's maps only the user), its Seccomp mode, and whether a host file named as argument 1 is visible.
   The child then sends the parent one integer over the intercommunicator, so a spawn counts only when both
   ends work. A refused spawn prints "parent: spawn refused: ..." and exits 3. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void where(const char *who, const char *probe) {
  char line[256], uidmap[256] = "";
  int lines = 0, seccomp = -1;
  FILE *f = fopen("/proc/self/uid_map", "r");
  if (f) {
    while (fgets(line, sizeof line, f)) {
      if (!lines) {
        snprintf(uidmap, sizeof uidmap, "%s", line);
        uidmap[strcspn(uidmap, "\n")] = 0;
      }
      lines++;
    }
    fclose(f);
  }
  f = fopen("/proc/self/status", "r");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "Seccomp:", 8)) seccomp = atoi(line + 8);
    fclose(f);
  }
  printf("%s: uid_map lines %d [%s], Seccomp %d, probe %s\n", who, lines, uidmap, seccomp,
         probe && *probe ? (access(probe, F_OK) == 0 ? "visible" : "absent") : "none");
  fflush(stdout);
}

int main(int argc, char **argv) {
  MPI_Comm parent, inter;
  int rank, value = 0;
  const char *probe = argc > 1 ? argv[1] : "";
  MPI_Init(&argc, &argv);
  MPI_Comm_get_parent(&parent);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (parent == MPI_COMM_NULL) {
    where("parent", probe);
    char *args[] = { (char *)probe, "child", NULL };
    int err = MPI_SUCCESS;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_spawn(argv[0], args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, &err);
    if (rc != MPI_SUCCESS || err != MPI_SUCCESS) {
      char msg[MPI_MAX_ERROR_STRING];
      int len = 0;
      MPI_Error_string(rc != MPI_SUCCESS ? rc : err, msg, &len);
      printf("parent: spawn refused: %s\n", msg);
      fflush(stdout);
      MPI_Finalize();
      return 3;
    }
    if (rank == 0) MPI_Recv(&value, 1, MPI_INT, 0, 7, inter, MPI_STATUS_IGNORE);
    printf("parent: child said %d\n", value);
    fflush(stdout);
    MPI_Comm_disconnect(&inter);
  } else {
    where("child", probe);
    value = 42;
    if (rank == 0) MPI_Send(&value, 1, MPI_INT, 0, 7, parent);
    MPI_Comm_disconnect(&parent);
  }
  MPI_Finalize();
  return 0;
}
