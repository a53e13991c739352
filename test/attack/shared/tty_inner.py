# Inside the sandbox, on the user's terminal (stdin): what a program can change there that outlives it.
# Prints "inner KEY ok" or "inner KEY ERRNO". Used by test/attack/shared-terminal.test.js.
import errno, fcntl, termios, os, sys
TIOCEXCL, TIOCSCTTY = 0x540C, 0x540E
def t(name, f):
    try: f(); print('inner', name, 'ok')
    except OSError as e: print('inner', name, errno.errorcode[e.errno])
a = termios.tcgetattr(0); a[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG)
t('tcsetattr', lambda: termios.tcsetattr(0, termios.TCSANOW, a))
t('tiocexcl', lambda: fcntl.ioctl(0, TIOCEXCL))
# steal the terminal as its controlling one: refused, the program runs in a session of its own
t('tiocsctty0', lambda: fcntl.ioctl(0, TIOCSCTTY, 0))
t('tiocsctty1', lambda: fcntl.ioctl(0, TIOCSCTTY, 1))
sys.stdout.flush()
