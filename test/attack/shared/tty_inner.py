# Inside the sandbox, on the user's terminal (stdin): what a program can change there that outlives it.
# Prints "inner KEY ok" or "inner KEY ERRNO". With "jobs" as argument, it first does what a shell with job
# control does: a process group of its own, made the terminal's foreground group (and left so); with "sleep",
# it waits at the end to be ended by a signal.
# Used by test/attack/shared-terminal.test.js.
import errno, fcntl, signal, termios, os, sys, time
TIOCEXCL, TIOCSCTTY = 0x540C, 0x540E
def t(name, f):
    try: f(); print('inner', name, 'ok')
    except OSError as e: print('inner', name, errno.errorcode[e.errno])
mode = sys.argv[1] if len(sys.argv) > 1 else 'plain'
if mode == 'jobs':
    signal.signal(signal.SIGTTOU, signal.SIG_IGN) # as a shell does: from a background group, tcsetpgrp stops it
    os.setpgid(0, 0)
    t('tcsetpgrp', lambda: os.tcsetpgrp(0, os.getpgrp()))
a = termios.tcgetattr(0); a[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG)
t('tcsetattr', lambda: termios.tcsetattr(0, termios.TCSANOW, a))
t('tiocexcl', lambda: fcntl.ioctl(0, TIOCEXCL))
# steal the terminal as its controlling one: refused, the program is not a session leader
t('tiocsctty0', lambda: fcntl.ioctl(0, TIOCSCTTY, 0))
t('tiocsctty1', lambda: fcntl.ioctl(0, TIOCSCTTY, 1))
if mode == 'sleep': print('inner sleeping')
sys.stdout.flush()
# last, as nothing can be written once it is done: stop the terminal's output
termios.tcflow(0, termios.TCOOFF)
if mode == 'sleep': time.sleep(30)
