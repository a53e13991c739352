# /proc/self/mountinfo names the host paths behind each bind: climb from each mount point towards the
# secret by the host path's shape, and try the host path of each bind's source as such.
import os, sys
secret = sys.argv[1]
found = []
hints = 0
for line in open('/proc/self/mountinfo'):
    f = line.split()
    root, point = f[3], f[4]
    hints += 1
    depth = root.count('/') + point.count('/') + 2
    for p in (point + '/..' * depth + secret, root + '/' + os.path.relpath(secret, '/'), point + '/' + os.path.relpath(secret, root) if secret.startswith(root) else None):
        if not p:
            continue
        try:
            open(p).read()
            found.append(p)
        except OSError:
            pass
print('mountinfo_hints', 'some' if hints else 'none')
print('mountinfo_secret_reached', len(found), *found)
print('secret_path_in_mountinfo', 'yes' if secret in open('/proc/self/mountinfo').read() else 'no')
