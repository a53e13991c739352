# The user's terminal: runs `sandbox run ...` (argv[2:], with argv[1] appended: the inner probe's mode) under a
# pty held here; once the sandbox has ended, prints what stayed changed: echo, line editing and signals
# (termios), exclusive mode (TIOCEXCL), stopped output (tcflow), and whether the terminal can still be opened.
# With --leader first, the pty is the controlling terminal of a session whose leader (a stand-in for a script
# run from the user's shell) starts the sandbox in its foreground group and afterwards says whether that group
# still has the foreground. With --term first, the sandbox gets SIGTERM once the probe inside says it is sleeping,
# and its exit status is printed. Used by test/attack/shared-terminal.test.js.
import errno, os, pty, sys, termios, fcntl, struct, subprocess, time
TIOCGEXCL = 0x80045440
leader = sys.argv[1] == '--leader'
if leader: del sys.argv[1]
term = sys.argv[1] == '--term'
if term: del sys.argv[1]
master, slave = pty.openpty()
before = termios.tcgetattr(slave)
inner = sys.argv[1]
cmd = sys.argv[2:] + [inner]
if leader:
    verdict_r, verdict_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2): os.dup2(slave, fd)
        os.close(master)
        os.dup2(verdict_w, 3)
        rc = subprocess.call(cmd)
        fg = os.tcgetpgrp(0)
        # stdout is the pty: its output may be stopped, so the verdict goes out through a file descriptor of its own
        os.write(3, f'leader-foreground-after {int(fg == os.getpgrp())}\nleader-exit {rc}\n'.encode())
        os._exit(0)
    os.close(verdict_w)
    class P:
        def poll(self):
            return pid if os.waitpid(pid, os.WNOHANG)[0] == pid else None
    p = P()
else:
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave)
out = b''
deadline = time.time() + 20
os.set_blocking(master, False)
while p.poll() is None and time.time() < deadline:
    try: out += os.read(master, 4096)
    except BlockingIOError: time.sleep(0.05)
    if term and b'inner sleeping' in out:
        p.send_signal(15); term = False
if not leader: print('sandbox-exit', p.poll())
try: out += os.read(master, 65536)
except Exception: pass
after = termios.tcgetattr(slave)
excl = struct.unpack('i', fcntl.ioctl(slave, TIOCGEXCL, b'\0\0\0\0'))[0]
for line in out.decode(errors='replace').replace('\r', '').split('\n'):
    if line.startswith('inner '): print(line)
if leader:
    os.set_blocking(verdict_r, False)
    try: print(os.read(verdict_r, 4096).decode().strip())
    except BlockingIOError: print('leader-exit none')
print('echo-before', int(bool(before[3] & termios.ECHO)))
print('echo-after', int(bool(after[3] & termios.ECHO)))
print('icanon-after', int(bool(after[3] & termios.ICANON)))
print('isig-after', int(bool(after[3] & termios.ISIG)))
print('exclusive-after', excl)
# output stopped (tcflow TCOOFF): a write to the terminal can't go out
os.set_blocking(slave, False)
try: os.write(slave, b'.'); print('output-stopped-after 0')
except BlockingIOError: print('output-stopped-after 1')
# can another program open the terminal now?
try:
    os.close(os.open(os.ttyname(slave), os.O_RDWR)); print('reopen ok')
except OSError as e: print('reopen', errno.errorcode[e.errno])
