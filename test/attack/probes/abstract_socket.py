# An abstract unix socket (no file, no mount can hide it) that a process outside listens on: argv[1].
import socket
from _probe import attempt
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
attempt('abstract_connect', lambda: s.connect(b'\0' + __import__('sys').argv[1].encode()))
