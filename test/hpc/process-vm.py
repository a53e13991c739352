# process_vm_readv on its own memory: what Open MPI's single-copy CMA calls; prints the 5 bytes read or the errno.
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
class iov(ctypes.Structure): _fields_=[('base',ctypes.c_void_p),('len',ctypes.c_size_t)]
src = ctypes.create_string_buffer(b'hello'); dst = ctypes.create_string_buffer(5)
l = iov(ctypes.cast(dst,ctypes.c_void_p),5); r = iov(ctypes.cast(src,ctypes.c_void_p),5)
n = libc.process_vm_readv(os.getpid(), ctypes.byref(l),1, ctypes.byref(r),1, 0)
print('process_vm_readv', n, os.strerror(ctypes.get_errno()) if n<0 else dst.raw)
