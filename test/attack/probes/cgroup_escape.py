# Move this process out of its cgroup (and so out of any limit) through a parent's cgroup.procs: /sys is not
# there, cgroupfs cannot be mounted, and where a profile binds the hierarchy (argv[1]), the parents'
# cgroup.procs are not writable.
import os, sys
from _probe import attempt, libc, report, sys_call, write_file
print('proc_self_cgroup', ' '.join(open('/proc/self/cgroup').read().split()))
attempt('sys_cgroup_procs', lambda: write_file('/sys/fs/cgroup/cgroup.procs', str(os.getpid())))
os.makedirs('/tmp/cg', exist_ok=True)
sys_call('mount_cgroup2', libc.mount, b'none', b'/tmp/cg', b'cgroup2', 0, None)
sys_call('mount_cgroup1', libc.mount, b'none', b'/tmp/cg', b'cgroup', 0, b'pids')
if len(sys.argv) > 1:
    results = {}
    for top, dirs, files in os.walk(sys.argv[1]):
        if top.count('/') - sys.argv[1].count('/') > 1:
            dirs[:] = []
        if 'cgroup.procs' in files:
            try:
                write_file(os.path.join(top, 'cgroup.procs'), str(os.getpid()))
                results[top] = 'ok'
            except OSError as e:
                results[top] = __import__('errno').errorcode[e.errno]
    report('bound_cgroup_procs_tried', len(results))
    report('bound_cgroup_procs_moved', ' '.join(k for k, v in results.items() if v == 'ok') or 'none')
    report('bound_cgroup_procs_errors', ' '.join(sorted(set(results.values()))))
