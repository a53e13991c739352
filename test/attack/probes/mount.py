# mount(2) in every flavour: a tmpfs, a bind of /, and remounting a read-only bind read-write.
import ctypes
from _probe import libc, sys_call
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
sys_call('mount_tmpfs', libc.mount, b'none', b'/tmp', b'tmpfs', 0, None)
sys_call('mount_bind_root', libc.mount, b'/', b'/tmp', None, MS_BIND | MS_REC, None)
sys_call('remount_usr_rw', libc.mount, None, b'/usr', None, MS_REMOUNT | MS_BIND, None)
sys_call('umount_proc_mask', libc.umount2, b'/proc/keys', 2)
sys_call('umount_usr', libc.umount2, b'/usr', 2)
