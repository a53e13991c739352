# Change the line discipline of the terminal the sandbox was started from (stdin and /dev/tty): N_NULL would leave
# the user's terminal swallowing all input after the sandbox ended. N_TTY (what it has already) answers 0 where the
# call is allowed, so a refusal can't be mistaken for a discipline the kernel lacks; the command's upper 32 bits are
# ignored by the kernel, so a filter that compared them could be walked around.
import ctypes, fcntl, os, termios
from _probe import report, syscall

TIOCSETD = getattr(termios, 'TIOCSETD', 0x5423)
N_TTY, N_NULL = 0, 27
SYS_IOCTL = {'x86_64': 16, 'aarch64': 29}[os.uname().machine]


def setd(key, fd, disc, cmd=TIOCSETD):
    arg = ctypes.c_int(disc)
    syscall(key, SYS_IOCTL, fd, cmd, ctypes.byref(arg))


setd('tiocsetd_stdin_n_tty', 0, N_TTY)
setd('tiocsetd_stdin_n_null', 0, N_NULL)
setd('tiocsetd_stdin_high_bits', 0, N_NULL, 0xdead_0000_0000 | TIOCSETD)
tty = os.open('/dev/tty', os.O_RDWR)
setd('tiocsetd_dev_tty', tty, N_NULL)
report('tiocgetd', str(int.from_bytes(fcntl.ioctl(0, termios.TIOCGETD if hasattr(termios, 'TIOCGETD') else 0x5424, b'\0\0\0\0'), 'little')))
