# Signals to pid 1 from inside its namespace. The kernel drops those init has no handler for (SIGKILL,
# SIGSTOP, SIGSEGV); the ones init forwards come back to the program, which could be signalled directly anyway.
# The program ignores the forwarded ones, so that it lives to tell whether init survived.
import os, signal, time
from _probe import attempt
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
    signal.signal(s, signal.SIG_IGN)
for sig in ('SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGTERM', 'SIGINT', 'SIGHUP'):
    attempt('kill_init_' + sig, lambda: os.kill(1, getattr(signal, sig)))
time.sleep(0.2)
state = [l for l in open('/proc/1/status') if l.startswith('State:')][0].split()[1]
print('init_state', state)
