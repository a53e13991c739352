/* Running sandboxes you can see and handle (`sandbox ps`, `enter`, `stop`): the registry entry's socket and
 * clean-up (registry.c), the process titles, and `enter` (enter.c): a helper the init forks per request, which starts
 * entered processes with the program's own confinement, and the client end `sandbox enter` execs. */
#ifndef SANDBOX_REGISTRY_H
#define SANDBOX_REGISTRY_H

#include "plan.h"

#include <signal.h>

/* `sandbox stop` after its grace period: the monitor kills the init (and so everything in the sandbox), then
 * ends as for any other end: cleanup, exit status 128+9. A fixed real-time number: SIGRTMIN differs between
 * C libraries, and lib/cli/stop-command.ts sends the same number. */
#define SIG_STOP_NOW 40

/* `enter`'s sockets. The monitor listens on NAME.sock in the registry directory and accepts: only a client in the
 * monitor's own user namespace (not inside any sandbox) is handed on, over a socket pair, to the init inside. */
extern int enter_listen_fd;  /* monitor: NAME.sock; -1 when the plan asks for no enter */
extern int enter_handoff[2]; /* [0] the monitor's end, [1] the init's */

/* Monitor, before the child exists: the registry directory checked, the enter socket listening (when asked). */
void registry_open(const struct plan *plan);
/* Monitor, once the child exists: the init's end of the socket pair closed here. */
void registry_after_clone(void);
/* Monitor, when NAME.sock is readable: accept, check the client, hand the connection to the init. */
void registry_accept(void);
/* Monitor, at the end: the entry and its socket removed. */
void registry_remove(void);

/* The process title: argv[0] as Node set it ("sandbox: NAME [PROFILE]"), the rest of the argument area cleared,
 * and the 15-byte comm "sandbox:NAME". role: NULL for the monitor, else a word appended ("init", "enter"). */
/* pid is in this process's user namespace (every sandbox's program is in one of its own, below it) */
int in_my_userns(pid_t pid);
void title_init(int argc, char **argv, const struct plan *plan);
void title_set(const char *role);

/* The init's signal for "a connection was handed over" (F_SETSIG on its end of the socket pair). */
#define SIG_ENTER (SIGRTMIN + 3)
/* Init, before it blocks its signals: 1 when it is to serve `enter` (SIG_ENTER then joins the signals it waits for). */
int enter_arm(void);
/* Init, on SIG_ENTER: a helper forked for each connection waiting; it starts the entered process. */
void enter_serve(const struct plan *plan);

/* `sandbox-stage --enter DIR NAME MONITOR-PID [--] [COMMAND...]`: connect, hand over stdio, relay signals, return
 * the entered command's exit status. */
int enter_client_main(int argc, char **argv);

#endif
