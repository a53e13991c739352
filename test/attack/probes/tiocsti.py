# Push characters into the input of the terminal the sandbox was started from (stdin and /dev/tty).
import fcntl, os, termios
from _probe import attempt
attempt('tiocsti_stdin', lambda: fcntl.ioctl(0, termios.TIOCSTI, b'x'))
fd = os.open('/dev/tty', os.O_RDWR)
attempt('tiocsti_dev_tty', lambda: fcntl.ioctl(fd, termios.TIOCSTI, b'x'))
