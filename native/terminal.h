#ifndef SANDBOX_TERMINAL_H
#define SANDBOX_TERMINAL_H
#include <sys/types.h>
#include <termios.h>
/* The user's terminal as the sandbox found it. The program shares it (fds 0-2, with --new-session too) and what it
 * sets there stays set after it ends: echo, line editing and signals off left the user's shell blind, stopped output
 * (tcflow TCOOFF) freezes it, and a foreground group of its own, gone with the sandbox, leaves a script that ran
 * sandbox reading from the background (SIGTTIN). Exclusive mode is refused by the base filter (item tiocexcl); it is
 * cleared here too, for a policy that loosened the item. */
struct saved_terminal {
  int fd;             /* the first of 0-2 that is a terminal; -1: none */
  struct termios tio;
  pid_t fg;           /* its foreground group at the start (ours, unless sandbox started in the background); 0 where
                       * it is not our controlling terminal */
  int excl;           /* exclusive mode at the start (TIOCGEXCL); -1: unknown */
};
struct saved_terminal save_terminal(void);
void restore_terminal(const struct saved_terminal *st);
#endif
