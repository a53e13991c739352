# Try to leave processes behind when the sandbox ends: a double-forked `sleep 60 0.TAG` in a session of its own, and
# (with BEAT) a process that keeps forking and exiting. Around that, MODE "limits" goes after what the init and the
# monitor need to end them (their resource limits, priority, scheduling; RLIMIT_CPU 0 kills the init);
# "limits-nocpu" the same but the init lives on; MODE "kill" stops and kills the init.
# Usage: outlive.py MODE TAG [BEAT HOPPER]
import ctypes, os, resource, signal, sys, time
from _probe import attempt, libc, name, report

mode, tag = sys.argv[1], sys.argv[2]
beat, hopper = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
init = os.getppid()


def parent_of(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return int(f.read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


class Rlimit(ctypes.Structure):
    _fields_ = [('cur', ctypes.c_ulong), ('max', ctypes.c_ulong)]


def set_limit(key, pid, res, value):
    new = Rlimit(value, value)
    ctypes.set_errno(0)
    r = libc.prlimit(pid, res, ctypes.byref(new), None)
    report(key, 'ok' if r == 0 else name(ctypes.get_errno()))


def spawn_detached(argv):
    """argv in a child whose standard streams are /dev/null, so that only the process itself can outlive us."""
    child = os.fork()
    if child == 0:
        null = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execv(argv[0], argv)
    os.waitpid(child, 0)


def leave_behind():
    # a sleep of 60 s at most: a test that fails leaves it running no longer; the tag in the arguments names it
    spawn_detached([sys.executable, '-c', 'import os, sys\nos.setsid()\nif os.fork() == 0: os.execvp("sleep", ["sleep", "60", sys.argv[1]])', '0.' + tag])
    if hopper:
        spawn_detached([hopper, beat, '2'])
        for _ in range(200):  # until it has written once
            if os.path.exists(beat):
                break
            time.sleep(0.01)
    report('left_behind', 'ok')


# the monitor is the init's parent where the host's pid namespace shows it (0 inside a pid namespace of our own)
monitor = parent_of(init) if init != 1 else 0
if mode in ('limits', 'limits-nocpu'):
    set_limit('prlimit_init_nofile', init, resource.RLIMIT_NOFILE, 0)
    if monitor > 1:
        set_limit('prlimit_monitor_nofile', monitor, resource.RLIMIT_NOFILE, 0)
    attempt('renice_init', lambda: os.setpriority(os.PRIO_PROCESS, init, 19))
    attempt('sched_idle_init', lambda: os.sched_setscheduler(init, os.SCHED_IDLE, os.sched_param(0)))
    leave_behind()
    if mode == 'limits':
        # last: a hard RLIMIT_CPU of 0 has the kernel SIGKILL the init at its next tick (and us with it)
        set_limit('prlimit_init_cpu', init, resource.RLIMIT_CPU, 0)
        time.sleep(0.5)
elif mode == 'kill':
    leave_behind()
    attempt('stop_init', lambda: os.kill(init, signal.SIGSTOP))
    attempt('kill_init', lambda: os.kill(init, signal.SIGKILL))
    time.sleep(0.5)  # a killed init takes us with it (its death signal)
else:
    sys.exit(f'unknown mode {mode}')
