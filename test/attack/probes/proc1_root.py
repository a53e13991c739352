# /proc/1/root and /proc/1/cwd: the sandbox's init, whose root is the new root anyway, and non-dumpable.
import sys
from _probe import attempt
secret = sys.argv[1]
attempt('proc1_root_secret', lambda: open('/proc/1/root' + secret).read())
attempt('proc1_root_list', lambda: __import__('os').listdir('/proc/1/root/'))
attempt('proc1_cwd_list', lambda: __import__('os').listdir('/proc/1/cwd/'))
