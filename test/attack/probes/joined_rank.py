# From a joined hpc rank: reach a process outside (argv[1], its host pid) without ptrace (issue 12 items 7, 11),
# connect to an abstract socket outside (argv[2]), and, for contrast, reach the other rank (argv[3], its pid here).
import ctypes, os, resource, signal, socket, sys
from _probe import attempt, report, syscall
host, name, peer = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
attempt('kill_host', lambda: os.kill(host, signal.SIGKILL))
attempt('kill_host_probe', lambda: os.kill(host, 0))
attempt('prlimit_host', lambda: resource.prlimit(host, resource.RLIMIT_CPU, (0, 0)))
attempt('setpriority_host', lambda: os.setpriority(os.PRIO_PROCESS, host, 19))
attempt('sched_setscheduler_host', lambda: os.sched_setscheduler(host, os.SCHED_IDLE, os.sched_param(0)))
attempt('oom_score_adj_host', lambda: open('/proc/%d/oom_score_adj' % host, 'w').write('1000'))
attempt('proc_host', lambda: os.stat('/proc/%d' % host))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
attempt('abstract_host', lambda: s.connect(b'\0' + name.encode()))
attempt('kill_peer_probe', lambda: os.kill(peer, 0))
# single-copy read of the other rank's memory, as Open MPI's CMA does
start = int(next(l for l in open('/proc/%d/maps' % peer) if l.split()[1].startswith('r')).split('-')[0], 16)
class iov(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
buf = ctypes.create_string_buffer(4)
local, remote = iov(ctypes.cast(buf, ctypes.c_void_p), 4), iov(start, 4)
syscall('process_vm_readv_peer', 310 if os.uname().machine == 'x86_64' else 270, peer, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
