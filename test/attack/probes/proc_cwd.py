# Every /proc/*/cwd and /proc/*/root this process can reach, and every fd link: does any lead to the secret?
import glob, os, sys
secret = sys.argv[1]
reached, tried = [], 0
for link in glob.glob('/proc/[0-9]*/cwd') + glob.glob('/proc/[0-9]*/root') + glob.glob('/proc/[0-9]*/fd/*'):
    for rel in ('', '/..', '/../..', '/../../..'):
        path = link + rel + secret
        tried += 1
        try:
            open(path).read()
            reached.append(path)
        except OSError:
            pass
print('proc_links_tried', 'some' if tried else 'none')
print('proc_links_reaching_secret', len(reached), *reached)
