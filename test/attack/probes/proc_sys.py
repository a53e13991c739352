# /proc/sys: core_pattern (a host-side program run as root), drop_caches, ASLR, and the host name through sysctl.
import os
from _probe import attempt, write_file
for key, path, value in (('core_pattern', '/proc/sys/kernel/core_pattern', '|/tmp/x'),
                         ('drop_caches', '/proc/sys/vm/drop_caches', '3'),
                         ('sysctl_hostname', '/proc/sys/kernel/hostname', 'pwned'),
                         ('randomize_va_space', '/proc/sys/kernel/randomize_va_space', '0')):
    attempt(key, lambda: write_file(path, value))
# the files are root's, so the permission check refuses first; the read-only mount is the second wall
ro = [l.split()[5].split(',')[0] for l in open('/proc/self/mountinfo') if l.split()[4] == '/proc/sys']
print('proc_sys_mount', ro[0] if ro else 'none')
