/* A hostile rank's spawn: PMIx_Spawn straight to the launcher's PMIx server (no MPI library in between), with an
   environment of the rank's choosing. Usage: pmix-spawn NAME=VALUE CMD [ARG...]: spawns one CMD whose
   environment gets NAME=VALUE. Prints "spawn rc=N" and exits 0 once the spawn call returned. */
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  pmix_proc_t me;
  pmix_app_t app;
  char nspace[PMIX_MAX_NSLEN + 1];
  if (argc < 3) {
    fprintf(stderr, "usage: pmix-spawn NAME=VALUE CMD [ARG...]\n");
    return 2;
  }
  if (PMIx_Init(&me, NULL, 0) != PMIX_SUCCESS) {
    printf("spawn rc=init-failed\n");
    return 1;
  }
  PMIX_APP_CONSTRUCT(&app);
  app.cmd = strdup(argv[2]);
  app.argv = &argv[2];
  char *env[] = { argv[1], NULL };
  app.env = env;
  app.maxprocs = 1;
  pmix_status_t rc = PMIx_Spawn(NULL, 0, &app, 1, nspace);
  printf("spawn rc=%d (%s)\n", rc, PMIx_Error_string(rc));
  fflush(stdout);
  sleep(2); /* the spawned process reports on the launcher's stdout */
  app.argv = NULL;
  app.env = NULL;
  PMIx_Finalize(NULL, 0);
  return 0;
}
