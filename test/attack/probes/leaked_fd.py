# Descriptors the launcher was given (a directory holding the secret): none may be open in here.
import os
from _probe import attempt
mine = set(int(n) for n in os.listdir('/proc/self/fd'))
# listdir's own descriptor is gone by now; anything above 2 is inherited
print('inherited_fds', ' '.join(str(n) for n in sorted(mine) if n > 2 and os.path.exists(f'/proc/self/fd/{n}')) or 'none')
for fd in (3, 4, 5):
    attempt(f'openat_fd{fd}', lambda: os.open('secret.txt', os.O_RDONLY, dir_fd=fd))
