# AF_VSOCK talks to the hypervisor, and no network namespace stands in the way.
import socket
from _probe import attempt
attempt('vsock_socket', lambda: socket.socket(40, socket.SOCK_STREAM))
