# Raise a hard resource limit above what the launcher gave (only a privileged process may).
import ctypes, resource
from _probe import libc, name, report
class Rlimit(ctypes.Structure):
    _fields_ = [('cur', ctypes.c_ulong), ('max', ctypes.c_ulong)]
for key, res in (('rlimit_nofile', resource.RLIMIT_NOFILE), ('rlimit_nproc', resource.RLIMIT_NPROC),
                 ('rlimit_memlock', resource.RLIMIT_MEMLOCK), ('rlimit_rtprio', resource.RLIMIT_RTPRIO)):
    soft, hard = resource.getrlimit(res)
    if hard == resource.RLIM_INFINITY:
        report(key, 'unlimited-already')
        continue
    new = Rlimit(hard + 1, hard + 1)
    ctypes.set_errno(0)
    r = libc.prlimit(0, res, ctypes.byref(new), None)
    report(key, 'ok' if r == 0 else name(ctypes.get_errno()))
