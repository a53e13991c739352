# Device nodes made inside would reach the host's disks and memory.
import os, stat
from _probe import attempt
attempt('mknod_block', lambda: os.mknod('/tmp/sda', 0o600 | stat.S_IFBLK, os.makedev(8, 0)))
attempt('mknod_char_mem', lambda: os.mknod('/tmp/mem', 0o600 | stat.S_IFCHR, os.makedev(1, 1)))
attempt('mknod_in_cwd', lambda: os.mknod('sda', 0o600 | stat.S_IFBLK, os.makedev(8, 0)))
