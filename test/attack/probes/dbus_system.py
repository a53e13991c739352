# The system bus: root daemons (systemd, polkit, NetworkManager) listen there.
import socket
from _probe import attempt
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
attempt('dbus_system_connect', lambda: s.connect('/run/dbus/system_bus_socket'))
attempt('run_dbus_list', lambda: __import__('os').listdir('/run/dbus'))
