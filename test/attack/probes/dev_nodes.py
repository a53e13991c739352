# /dev: no block devices, no memory, no kernel log, no fuse; only the harmless nodes.
import os, stat
from _probe import attempt
blocks = [n for n in os.listdir('/dev') if stat.S_ISBLK(os.lstat('/dev/' + n).st_mode)]
print('block_devices', ' '.join(blocks) or 'none')
for n in ('sda', 'vda', 'nvme0n1', 'mem', 'kmem', 'port', 'kmsg', 'fuse', 'net/tun', 'loop-control'):
    attempt('dev_' + n.replace('/', '_').replace('-', '_'), lambda: os.open('/dev/' + n, os.O_RDONLY))
