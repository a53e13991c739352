# Reach a host process of the same user without signals, from a sandbox in the host's pid namespace: its resource
# limits, priority, I/O priority, scheduling policy, and its /proc files. Then the same calls on the caller itself,
# which ordinary programs make (nice, ionice, setrlimit, thread affinity) and which must keep working.
# Usage: host_reach.py PID
import ctypes, os, platform, resource, sys, threading
from _probe import attempt, libc, name, report, syscall, write_file

pid = int(sys.argv[1])
NR = {'x86_64': {'ioprio_set': 251, 'sched_setattr': 314}, 'aarch64': {'ioprio_set': 30, 'sched_setattr': 274}}[platform.machine()]
IOPRIO_WHO_PROCESS, IOPRIO_CLASS_IDLE, IOPRIO_CLASS_BE = 1, 3, 2


class Rlimit(ctypes.Structure):
    _fields_ = [('cur', ctypes.c_ulong), ('max', ctypes.c_ulong)]


class SchedAttr(ctypes.Structure):
    _fields_ = [('size', ctypes.c_uint32), ('policy', ctypes.c_uint32), ('flags', ctypes.c_uint64), ('nice', ctypes.c_int32),
                ('priority', ctypes.c_uint32), ('runtime', ctypes.c_uint64), ('deadline', ctypes.c_uint64), ('period', ctypes.c_uint64)]


def prlimit(key, target, res, new):
    old = Rlimit()
    ctypes.set_errno(0)
    r = libc.prlimit(target, res, ctypes.byref(Rlimit(*new)) if new else None, ctypes.byref(old))
    report(key, 'ok' if r == 0 else name(ctypes.get_errno()))


# the host process
prlimit('prlimit_cpu', pid, resource.RLIMIT_CPU, (0, 0))
prlimit('prlimit_read', pid, resource.RLIMIT_NOFILE, None)
attempt('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, pid, 19))
attempt('setpriority_pgrp', lambda: os.setpriority(os.PRIO_PGRP, os.getpgid(pid), 19))
attempt('sched_setscheduler', lambda: os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0)))
attempt('sched_setparam', lambda: os.sched_setparam(pid, os.sched_param(0)))
attr = SchedAttr(ctypes.sizeof(SchedAttr), 5, 0, 0, 0, 0, 0, 0)  # SCHED_IDLE
syscall('sched_setattr', NR['sched_setattr'], pid, ctypes.byref(attr), 0)
syscall('ioprio_set', NR['ioprio_set'], IOPRIO_WHO_PROCESS, pid, IOPRIO_CLASS_IDLE << 13)
attempt('oom_score_adj', lambda: write_file(f'/proc/{pid}/oom_score_adj', '1000'))
attempt('coredump_filter', lambda: write_file(f'/proc/{pid}/coredump_filter', '0x7f'))
attempt('autogroup', lambda: write_file(f'/proc/{pid}/autogroup', '19'))

# the caller itself, as ordinary programs do it
prlimit('self_setrlimit', 0, resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
attempt('self_setrlimit_glibc', lambda: resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)))  # prlimit64(0, ...)
attempt('self_nice', lambda: os.nice(1))
attempt('self_setpriority', lambda: os.setpriority(os.PRIO_PROCESS, 0, 5))
attempt('self_sched_batch', lambda: os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0)))
syscall('self_ioprio', NR['ioprio_set'], IOPRIO_WHO_PROCESS, 0, (IOPRIO_CLASS_BE << 13) | 4)
cpus = sorted(os.sched_getaffinity(0))
tid = []
th = threading.Thread(target=lambda: (tid.append(threading.get_native_id()), threading.Event().wait(0.5)))
th.start()
while not tid:
    pass
attempt('thread_affinity', lambda: os.sched_setaffinity(tid[0], cpus[:1]))  # how OpenMP and MPI bind threads
th.join()
