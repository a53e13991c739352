# Inside the sandbox, for test/attack/terminal-node.test.js: what the terminal's node at its host path gives.
# argv[1]: the path of another terminal of the same user, held open outside. Prints "inner KEY VALUE".
import errno, fcntl, os, pty, subprocess, sys
TIOCSTI, TIOCGSID = 0x5412, 0x5429
def err(e): return errno.errorcode.get(e.errno, str(e.errno))
def say(k, v): print('inner', k, v, flush=True)
try: name = os.ttyname(0)
except OSError as e: name = err(e)
say('ttyname', name)
say('tty', subprocess.run(['tty'], capture_output=True, text=True).stdout.strip())
say('gpg-tty', subprocess.run(['sh', '-c', 'GPG_TTY=$(tty) && echo "$GPG_TTY"'], capture_output=True, text=True).stdout.strip() or '-')
say('pts', ','.join(sorted(os.listdir('/dev/pts'))))
# the user's other terminal: not there, not by its path, not by trying the numbers near it
try: os.close(os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)); say('other', 'opened')
except OSError as e: say('other', err(e))
opened = []
for n in range(0, 64):
    p = '/dev/pts/%d' % n
    if name.startswith('/dev/pts/') and p == name: continue
    try: os.close(os.open(p, os.O_RDWR | os.O_NOCTTY)); opened.append(p)
    except OSError: pass
say('scan', ','.join(opened) or 'none')
if name.startswith('/dev/'):
    fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
    # the node is the terminal fd 0 already is, the one /dev/tty opens read-write (the session's controlling one)
    say('same-as-stdin', int(os.path.samestat(os.fstat(fd), os.fstat(0))))
    try: fcntl.ioctl(fd, TIOCGSID, b'\0\0\0\0'); say('controlling', 1)
    except OSError as e: say('controlling', err(e))
    try: fcntl.ioctl(fd, TIOCSTI, b'x'); say('tiocsti', 'ok')
    except OSError as e: say('tiocsti', err(e))
    try: os.unlink(name); say('unlink', 'ok')
    except OSError as e: say('unlink', err(e))
# ptys of the sandbox's own: they work, and never take the terminal's number
got = []
for _ in range(6):
    m, s = pty.openpty(); got.append(os.ttyname(s))
say('own-ptys', ','.join(got))
say('own-has-terminal', int(name in got))
try: say('ttyname-after', os.ttyname(0))
except OSError as e: say('ttyname-after', err(e))
