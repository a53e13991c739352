# Drop or add supplementary groups (a negative group ACL would stop applying): setgroups is denied.
import os
from _probe import attempt
attempt('setgroups_empty', lambda: os.setgroups([]))
attempt('setgroups_root', lambda: os.setgroups([0]))
print('proc_setgroups', open('/proc/self/setgroups').read().strip())
