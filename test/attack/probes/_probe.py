# Shared by the python probes: run one attempt, print "KEY RESULT" where RESULT is "ok" (it worked)
# or the errno's symbolic name (how it failed). The test compares these lines with what it expects.
import ctypes, errno, os, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def name(e):
    return errno.errorcode.get(e, str(e))


def report(key, result):
    print(key, result, flush=True)


def sys_call(key, fn, *args):
    """A libc function or raw syscall through ctypes: negative means failure with errno."""
    ctypes.set_errno(0)
    r = fn(*args)
    report(key, 'ok' if r >= 0 else name(ctypes.get_errno()))
    return r


def syscall(key, nr, *args):
    return sys_call(key, libc.syscall, ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])


def attempt(key, fn):
    """A python call: OSError becomes its errno name, anything returned is 'ok'."""
    try:
        fn()
        report(key, 'ok')
    except OSError as e:
        report(key, name(e.errno))


def write_file(path, data, flags=os.O_WRONLY):
    """open + write + close with the errors of each step (a python file object would hide a failed flush)."""
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data.encode() if isinstance(data, str) else data)
    finally:
        os.close(fd)
