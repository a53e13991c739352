# The user's terminal for test/attack/terminal-node.test.js: runs `sandbox run ...` (argv[2:]) on a pty that is
# its controlling terminal, as a login shell's is, with a second terminal of the same user held open beside it.
# argv[1] "ctty": fds 0-2 are the controlling terminal; "other": stdin is /dev/null and stdout/stderr go to the
# second terminal, opened write-only (a program given such a descriptor must not get more than that).
# An argument @OTHER@ is replaced by the second terminal's path. Prints "outer-tty PATH", "outer-other PATH", then the lines the program printed.
import os, pty, sys, time
other_m, other_s = os.openpty()
print('outer-other', os.ttyname(other_s), flush=True)
mode = sys.argv[1]
argv = [a.replace('@OTHER@', os.ttyname(other_s)) for a in sys.argv[2:]]
pid, fd = pty.fork()
if pid == 0:
    print('outer-tty', os.ttyname(0), flush=True)
    if mode == 'other':
        os.dup2(os.open('/dev/null', os.O_RDONLY), 0)
        w = os.open(os.ttyname(other_s), os.O_WRONLY | os.O_NOCTTY)
        os.dup2(w, 1); os.dup2(w, 2)
    os.execvp(argv[0], argv)
out = b''
os.set_blocking(other_m, False)
deadline = time.time() + 25
# in "other" mode the pty closes at once (the child let go of it): then wait for the child, and read both
while time.time() < deadline:
    try: d = os.read(fd, 4096)
    except OSError: break
    if not d: break
    out += d
os.waitpid(pid, 0)
for f in (fd, other_m):
    try: out += os.read(f, 65536)
    except OSError: pass
sys.stdout.write(out.decode(errors='replace').replace('\r', ''))
