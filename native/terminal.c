/* The user's terminal, saved before the program starts and put back after the sandbox ends. */
#include "terminal.h"
#include "util.h"

#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#ifndef TIOCGEXCL
#define TIOCGEXCL _IOR('T', 0x40, int)
#endif

/* Before the program starts. Reading needs no foreground: a background sandbox is saved too. */
struct saved_terminal save_terminal(void) {
  struct saved_terminal st = { -1, { 0 }, 0, -1 };
  for (int fd = 0; fd <= 2; fd++)
    if (tcgetattr(fd, &st.tio) == 0) { st.fd = fd; break; }
  if (st.fd < 0) return st;
  pid_t fg = tcgetpgrp(st.fd); /* ENOTTY unless it is our controlling terminal: then no job control to keep */
  st.fg = fg > 0 ? fg : 0;
  int excl;
  if (ioctl(st.fd, TIOCGEXCL, &excl) == 0) st.excl = excl;
  debug("terminal on fd %d, foreground group %d (ours %d), exclusive %d", st.fd, (int)st.fg, (int)getpgrp(), st.excl);
  return st;
}

/* After the sandbox's last process is gone, however it ended. Settings are put back only where the terminal was
 * ours at the start and is again now: where another live group (the user's shell, after `bg`) holds the foreground,
 * its modes are its own, and what a sandbox started in the background saved may be the shell's line-editing modes
 * of that moment (echo off), not the ones to come back to. */
void restore_terminal(const struct saved_terminal *st) {
  if (st->fd < 0) return;
  /* a background process changing its terminal gets SIGTTOU, unless it blocks it; the program may have left us there */
  sigset_t ttou;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, NULL);
  int ours = 1;
  if (st->fg > 0) {
    pid_t fg = tcgetpgrp(st->fd);
    /* a group the program made foreground (a shell inside with job control) is empty now: give the terminal back */
    if (fg > 0 && fg != st->fg && kill(-fg, 0) < 0 && errno == ESRCH) {
      if (tcsetpgrp(st->fd, st->fg) == 0) fg = st->fg;
      else debug("give the terminal back to group %d: %s", (int)st->fg, strerror(errno));
    }
    ours = fg == getpgrp() && st->fg == getpgrp();
  }
  if (ours) {
    if (tcflow(st->fd, TCOON) < 0) debug("tcflow TCOON: %s", strerror(errno));
    if (tcsetattr(st->fd, TCSANOW, &st->tio) < 0) debug("restore the terminal's settings: %s", strerror(errno));
  }
  int excl;
  if (st->excl == 0 && ioctl(st->fd, TIOCGEXCL, &excl) == 0 && excl && ioctl(st->fd, TIOCNXCL) < 0)
    debug("TIOCNXCL: %s", strerror(errno));
}
