# Become root or rewrite the id maps after the fact.
import os
from _probe import attempt, write_file
attempt('setuid0', lambda: os.setuid(0))
attempt('setresuid0', lambda: os.setresuid(0, 0, 0))
attempt('setgid0', lambda: os.setgid(0))
attempt('uid_map_write', lambda: write_file('/proc/self/uid_map', '0 0 4294967295\n'))
attempt('gid_map_write', lambda: write_file('/proc/self/gid_map', '0 0 4294967295\n'))
