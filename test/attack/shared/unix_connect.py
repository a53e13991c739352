# Connects to each unix socket named on the command line ('@name' is abstract) and prints "NAME ok" or
# "NAME ERRNO": what a hostile program in the sandbox can reach of the host's X server.
import errno
import socket
import sys

for name in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect('\0' + name[1:] if name.startswith('@') else name)
        print(name, 'ok')
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)))
    finally:
        s.close()
