# personality(READ_IMPLIES_EXEC) makes every readable mapping executable; ADDR_NO_RANDOMIZE turns off ASLR.
import ctypes
from _probe import libc, name, report
for key, flag in (('personality_read_implies_exec', 0x0400000), ('personality_addr_no_randomize', 0x0040000)):
    ctypes.set_errno(0)
    r = libc.personality(flag)
    now = libc.personality(0xffffffff)
    report(key, name(ctypes.get_errno()) if r < 0 else ('ok' if now & flag else 'ignored'))
