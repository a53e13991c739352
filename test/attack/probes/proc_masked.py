# What /proc would tell about the host kernel: kcore, kallsyms, keys, timer_list, sched_debug, kmsg.
from _probe import report
for p in ('kcore', 'kallsyms', 'keys', 'timer_list', 'sched_debug', 'kmsg', 'sysrq-trigger'):
    try:
        with open('/proc/' + p, 'rb') as f:
            data = f.read(4096)
        report('proc_' + p, 'empty' if not data else 'readable')
    except OSError as e:
        report('proc_' + p, __import__('errno').errorcode[e.errno])
