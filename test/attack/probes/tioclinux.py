# TIOCLINUX subcode 2/3 (set and paste the console selection) lets a program type into a Linux console.
import fcntl
from _probe import attempt
attempt('tioclinux_paste', lambda: fcntl.ioctl(0, 0x541C, bytes([3])))
attempt('tioclinux_select', lambda: fcntl.ioctl(0, 0x541C, bytes([2]) + bytes(10)))
