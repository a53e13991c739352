# Change the host name: the UTS namespace is the sandbox's own and no capability is left to change even that.
import socket
from _probe import attempt
attempt('sethostname', lambda: socket.sethostname('pwned-by-sandbox'))
print('hostname', socket.gethostname())
