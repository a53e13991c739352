# /proc/sysrq-trigger: one write reboots or crashes the host.
from _probe import attempt, write_file
attempt('sysrq_trigger', lambda: write_file('/proc/sysrq-trigger', 'h'))
