# The user's terminal: runs `sandbox run ...` (argv[2:], with argv[1] appended: the program inside) under a
# pty held here; once the sandbox has ended, prints what stayed changed: echo, line editing and signals
# (termios), exclusive mode (TIOCEXCL), and whether the terminal can still be opened.
# Used by test/attack/shared-terminal.test.js.
import errno, os, pty, sys, termios, fcntl, struct, subprocess, time
TIOCGEXCL = 0x80045440
master, slave = pty.openpty()
before = termios.tcgetattr(slave)
inner = sys.argv[1]
p = subprocess.Popen(sys.argv[2:] + [inner], stdin=slave, stdout=slave, stderr=slave)
out = b''
deadline = time.time() + 20
os.set_blocking(master, False)
while p.poll() is None and time.time() < deadline:
    try: out += os.read(master, 4096)
    except BlockingIOError: time.sleep(0.05)
try: out += os.read(master, 65536)
except Exception: pass
after = termios.tcgetattr(slave)
excl = struct.unpack('i', fcntl.ioctl(slave, TIOCGEXCL, b'\0\0\0\0'))[0]
for line in out.decode(errors='replace').replace('\r', '').split('\n'):
    if line.startswith('inner '): print(line)
print('echo-before', int(bool(before[3] & termios.ECHO)))
print('echo-after', int(bool(after[3] & termios.ECHO)))
print('icanon-after', int(bool(after[3] & termios.ICANON)))
print('isig-after', int(bool(after[3] & termios.ISIG)))
print('exclusive-after', excl)
# can another program open the terminal now?
try:
    os.close(os.open(os.ttyname(slave), os.O_RDWR)); print('reopen ok')
except OSError as e: print('reopen', errno.errorcode[e.errno])
