# Write into each path in argv[1:] given as KEY=PATH (a file there, appended to or created).
import os, sys
from _probe import attempt, write_file
for spec in sys.argv[1:]:
    key, path = spec.split('=', 1)
    attempt(key, lambda: write_file(path, 'x', os.O_WRONLY | os.O_APPEND | os.O_CREAT))
