# A PulseAudio client speaking the native protocol itself (no libpulse needed): creates one playback stream,
# sets its own sink input's volume to 25%, then tries the volume and the description of the sink inputs named
# on the command line (another program's). Prints what the server, or the proxy, answered to each: command
# 2 is REPLY, 0 is ERROR followed by the error code (1: access). Then holds the stream for $HOLD seconds.
import os, socket, struct, sys
def L(v): return b'L' + struct.pack('>I', v)
def s(x): return b't' + x.encode() + b'\0'
def arb(b): return b'x' + struct.pack('>I', len(b)) + b
def plist(d):
    out = b'P'
    for k, v in d.items():
        vb = v.encode() + b'\0'
        out += s(k) + L(len(vb)) + arb(vb)
    return out + b'N'
F, T = b'0', b'1'
sock = socket.socket(socket.AF_UNIX)
sock.connect(os.environ['PULSE_SERVER'][5:])
tag = 0
def send(cmd, body=b''):
    global tag
    tag += 1
    p = L(cmd) + L(tag) + body
    sock.sendall(struct.pack('>IIIII', len(p), 0xffffffff, 0, 0, 0) + p)
    return tag
buf = b''
def recv_for(t):
    global buf
    while True:
        while len(buf) >= 20 and len(buf) >= 20 + struct.unpack('>I', buf[:4])[0]:
            n, ch = struct.unpack('>II', buf[:8])
            body = buf[20:20 + n]; buf = buf[20 + n:]
            if ch != 0xffffffff: continue
            cmd, tg = struct.unpack('>I', body[1:5])[0], struct.unpack('>I', body[6:10])[0]
            if tg == t and cmd in (0, 2): return cmd, body[10:]
        d = sock.recv(65536)
        if not d: raise SystemExit('closed')
        buf += d
def vals(b):
    out = []
    while len(b) >= 5 and b[0:1] == b'L':
        out.append(struct.unpack('>I', b[1:5])[0]); b = b[5:]
    return out
c, r = recv_for(send(8, L(35) + arb(bytes(256)))); print('auth', c, vals(r), flush=True)
c, r = recv_for(send(9, plist({'application.name': 'own-test'}))); print('name', c, vals(r))
body = (b'a' + bytes([3, 1]) + struct.pack('>I', 44100) + b'm' + bytes([1, 0]) + L(0xffffffff) + b'N'
        + L(0xffffffff) + T + L(0xffffffff) + L(0xffffffff) + L(0xffffffff) + L(0)
        + b'v' + bytes([1]) + struct.pack('>I', 0x10000)
        + F * 7 + F + F + plist({'media.name': 'own'}) + F + F + F + F + F + F + F + b'B' + bytes([0]))
c, r = recv_for(send(3, body)); v = vals(r); print('create', c, v)
own = v[1]
c, r = recv_for(send(37, L(own) + b'v' + bytes([1]) + struct.pack('>I', 0x4000))); print('own-volume', c, vals(r))
for other in sys.argv[1:]:
    c, r = recv_for(send(37, L(int(other)) + b'v' + bytes([1]) + struct.pack('>I', 0x4000))); print('other-volume', other, c, vals(r))
    c, r = recv_for(send(29, L(int(other)))); print('other-info', other, c, vals(r)[:1])
print('holding', flush=True)
import time; time.sleep(float(os.environ.get('HOLD', '0')))
