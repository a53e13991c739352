# Signal a process outside the sandbox by its host pid (argv[1]), and everything with kill(-1).
import os, signal, sys
from _probe import attempt
pid = int(sys.argv[1])
attempt('kill_outside', lambda: os.kill(pid, signal.SIGKILL))
attempt('kill_outside_probe', lambda: os.kill(pid, 0))
attempt('kill_minus_one', lambda: os.kill(-1, signal.SIGKILL))
