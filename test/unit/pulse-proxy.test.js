'use strict';
// The PulseAudio proxy: the policy (lib/session/pulse-rules.ts) and its command line, then the C proxy
// itself (native/build/sandbox-pulse-proxy) between a test client and a fake server that records what
// reaches it: refused commands are answered with ERROR/ACCESS by the proxy and never forwarded, AUTH's
// shared-memory bits are cleared both ways, a stream's own index is learned from the server's reply,
// shared-memory frames end the connection, descriptors are never passed on, and the proxy exits when
// the lifetime descriptor's other end closes.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const R = require(`${dist}/session/pulse-rules`);
const PX = require(`${dist}/session/pulse-proxy`);
const D = require(`${dist}/session/dbus-proxy`);

const C = R.PA_COMMANDS;
const PROXY = path.join(__dirname, '../../native/build/sandbox-pulse-proxy');

t.test('the command numbers are PulseAudio\'s', async (t) => {
  // spot checks against src/pulsecore/native-common.h (the enum's order is the wire format)
  t.same([C.ERROR, C.REPLY, C.CREATE_PLAYBACK_STREAM, C.EXIT, C.AUTH, C.SUBSCRIBE, C.LOAD_MODULE, C.UNLOAD_MODULE, C.PREBUF_PLAYBACK_STREAM, C.REQUEST, C.MOVE_SINK_INPUT, C.EXTENSION, C.SET_CARD_PROFILE, C.REGISTER_MEMFD_SHMID, C.SEND_OBJECT_MESSAGE],
    [0, 2, 3, 7, 8, 35, 51, 52, 60, 61, 67, 87, 90, 103, 104]);
  const nums = Object.values(C);
  t.same(nums, nums.map((_, i) => i), 'one name per number, 0..104 without gaps');
});

t.test('what the sandbox may ask', async (t) => {
  const allowed = ['AUTH', 'SET_CLIENT_NAME', 'CREATE_PLAYBACK_STREAM', 'DELETE_PLAYBACK_STREAM', 'CREATE_RECORD_STREAM', 'DRAIN_PLAYBACK_STREAM', 'CORK_PLAYBACK_STREAM', 'GET_PLAYBACK_LATENCY', 'GET_SERVER_INFO', 'GET_SINK_INFO', 'GET_SINK_INFO_LIST', 'GET_SOURCE_INFO_LIST', 'LOOKUP_SINK', 'SUBSCRIBE', 'UPDATE_CLIENT_PROPLIST', 'SET_PLAYBACK_STREAM_BUFFER_ATTR'];
  for (const n of allowed) t.equal(R.pulseRuleFor(C[n]), 'allow', `${n} passes`);
  const refused = ['EXIT', 'LOAD_MODULE', 'UNLOAD_MODULE', 'GET_MODULE_INFO', 'GET_MODULE_INFO_LIST', 'GET_CLIENT_INFO', 'GET_CLIENT_INFO_LIST', 'GET_SINK_INPUT_INFO_LIST', 'GET_SOURCE_OUTPUT_INFO_LIST',
    'CREATE_UPLOAD_STREAM', 'PLAY_SAMPLE', 'REMOVE_SAMPLE', 'GET_SAMPLE_INFO_LIST', 'KILL_CLIENT', 'KILL_SINK_INPUT', 'KILL_SOURCE_OUTPUT', 'MOVE_SINK_INPUT', 'MOVE_SOURCE_OUTPUT',
    'SET_DEFAULT_SINK', 'SET_DEFAULT_SOURCE', 'SET_SINK_VOLUME', 'SET_SOURCE_VOLUME', 'SET_SINK_MUTE', 'SET_SOURCE_MUTE', 'SUSPEND_SINK', 'SUSPEND_SOURCE', 'SET_CARD_PROFILE', 'GET_CARD_INFO_LIST',
    'SET_SINK_PORT', 'SET_SOURCE_PORT', 'SET_PORT_LATENCY_OFFSET', 'EXTENSION', 'SEND_OBJECT_MESSAGE', 'ENABLE_SRBCHANNEL', 'DISABLE_SRBCHANNEL', 'REGISTER_MEMFD_SHMID', 'STAT', 'REPLY', 'ERROR'];
  for (const n of refused) t.equal(R.pulseRuleFor(C[n]), 'refuse', `${n} is refused`);
  t.equal(R.pulseRuleFor(105), 'refuse', 'a command newer than this table is refused');
  t.equal(R.pulseRuleFor(1000), 'refuse');
  for (const n of ['GET_SINK_INPUT_INFO', 'SET_SINK_INPUT_VOLUME', 'SET_SINK_INPUT_MUTE']) t.equal(R.pulseRuleFor(C[n]), 'own-sink-input', `${n}: own streams only`);
  for (const n of ['GET_SOURCE_OUTPUT_INFO', 'SET_SOURCE_OUTPUT_VOLUME', 'SET_SOURCE_OUTPUT_MUTE']) t.equal(R.pulseRuleFor(C[n]), 'own-source-output', `${n}: own streams only`);
});

t.test('the proxy\'s command line carries the policy as numbers', async (t) => {
  const a = R.pulseProxyArgs({ listen: '/r/sandbox/pulse-1-ab/native', upstream: '/r/pulse/native', fd: 3 });
  t.same(a.slice(0, 6), ['--listen', '/r/sandbox/pulse-1-ab/native', '--upstream', '/r/pulse/native', '--fd', '3']);
  const list = (opt) => a[a.indexOf(opt) + 1].split(',').map(Number);
  t.same(list('--allow'), R.PULSE_ALLOW.map((n) => C[n]));
  t.notOk(list('--allow').includes(C.LOAD_MODULE), 'LOAD_MODULE is not on it');
  t.same(list('--own-sink-input'), [29, 37, 69]);
  t.same(list('--own-source-output'), [31, 98, 99]);
  t.notOk(a.includes('--verbose'));
  t.ok(R.pulseProxyArgs({ listen: 'l', upstream: 'u', fd: 3, verbose: true }).includes('--verbose'));
});

t.test('where the sandbox finds the proxy', async (t) => {
  t.same(R.pulseInside({ XDG_RUNTIME_DIR: '/run/user/5/' }, '/srv/pulse'), { inside: '/run/user/5/pulse/native', env: { XDG_RUNTIME_DIR: '/run/user/5/', PULSE_SERVER: 'unix:/run/user/5/pulse/native' } });
  t.same(R.pulseInside({}, '/srv/pulse'), { inside: '/srv/pulse', env: { PULSE_SERVER: 'unix:/srv/pulse' } });
  const spec = { upstream: '/run/user/5/pulse/native', inside: '/run/user/5/pulse/native', env: { PULSE_SERVER: 'unix:/run/user/5/pulse/native' }, optional: true, origin: 'p:1:2' };
  const d = PX.describePulseProxy(spec, { XDG_RUNTIME_DIR: '/run/user/5' }, { pid: 77, uid: 5 });
  t.same(d.mounts, [{ op: 'bind', src: '/run/user/5/sandbox/pulse-77-XXXXXX/native', dst: '/run/user/5/pulse/native', readOnly: false, devices: false, optional: false, origin: 'p:1:2' }]);
});

t.test('stale proxy directories go with their monitor', async (t) => {
  const base = t.testdir({ 'pulse-999999999-ab12': {}, [`pulse-${process.pid}-cd34`]: {}, 'dbus-999999999-ef56': {}, other: {} });
  t.same(D.removeStaleProxyDirs(base).sort(), ['dbus-999999999-ef56', 'pulse-999999999-ab12']);
  t.same(fs.readdirSync(base).sort(), ['other', `pulse-${process.pid}-cd34`]);
});

// ---- the C proxy between a client and a fake server ----

if (!fs.existsSync(PROXY)) {
  t.skip(`the proxy itself: ${PROXY} is not built (npm run build)`);
  return;
}

const CONTROL = 0xffffffff;
function frame(channel, payload, flags = 0) {
  const d = Buffer.alloc(20);
  d.writeUInt32BE(payload.length, 0);
  d.writeUInt32BE(channel, 4);
  d.writeUInt32BE(flags, 16);
  return Buffer.concat([d, payload]);
}
const u32 = (v) => { const b = Buffer.alloc(5); b[0] = 0x4c; b.writeUInt32BE(v >>> 0, 1); return b; };
const packet = (command, tag, ...rest) => frame(CONTROL, Buffer.concat([u32(command), u32(tag), ...rest]));
const auth = (tag, version) => packet(C.AUTH, tag, u32(version), Buffer.from([0x78, 0, 0, 1, 0]), Buffer.alloc(256));

/** Splits a byte stream into frames: { channel, flags, payload, command, tag, args: [u32...] }. */
class Frames {
  constructor(sock) {
    this.buf = Buffer.alloc(0);
    this.list = [];
    this.waiters = [];
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 20 && this.buf.length >= 20 + this.buf.readUInt32BE(0)) {
        const len = this.buf.readUInt32BE(0);
        const f = { channel: this.buf.readUInt32BE(4), flags: this.buf.readUInt32BE(16), payload: this.buf.subarray(20, 20 + len) };
        if (f.channel === CONTROL) {
          f.command = f.payload.readUInt32BE(1);
          f.tag = f.payload.readUInt32BE(6);
          f.args = [];
          for (let o = 10; o + 5 <= f.payload.length && f.payload[o] === 0x4c; o += 5) f.args.push(f.payload.readUInt32BE(o + 1));
        }
        this.buf = this.buf.subarray(20 + len);
        this.list.push(f);
      }
      this.waiters = this.waiters.filter((w) => !w());
    });
  }
  next(ms = 2000) {
    return new Promise((resolve, reject) => {
      const take = () => (this.list.length ? (resolve(this.list.shift()), true) : false);
      if (take()) return;
      const timer = setTimeout(() => reject(new Error('no frame')), ms);
      this.waiters.push(() => { if (take()) { clearTimeout(timer); return true; } return false; });
    });
  }
}

async function waitUntil(cond, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startProxy(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pxunit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const upstream = path.join(dir, 'server');
  const listen = path.join(dir, 'proxy');
  const server = { conns: [] };
  server.srv = net.createServer((s) => { s.on('error', () => {}); server.conns.push({ sock: s, frames: new Frames(s) }); });
  await new Promise((r) => server.srv.listen(upstream, r));
  t.teardown(() => { server.conns.forEach((c) => c.sock.destroy()); server.srv.close(); });
  const args = R.pulseProxyArgs({ listen, upstream, fd: 3 });
  const child = spawn(PROXY, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const ready = await new Promise((resolve) => { child.stdio[3].once('data', (d) => resolve(String(d))); child.once('exit', () => resolve('')); });
  t.equal(ready, 'x', `the proxy reports readiness (${stderr.trim()})`);
  t.teardown(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  const connect = async () => {
    const n = server.conns.length;
    const sock = net.createConnection(listen);
    const frames = new Frames(sock);
    await new Promise((r) => sock.once('connect', r));
    await waitUntil(() => server.conns.length > n, 'the proxy to connect to the server');
    const up = server.conns[n];
    t.teardown(() => sock.destroy());
    return { sock, frames, up };
  };
  return { child, connect, listen, stderrOf: () => stderr, serverConns: () => server.conns };
}

async function authed(p) {
  const c = await p.connect();
  c.sock.write(auth(1, 35 | 0x80000000 | 0x40000000));
  const a = await c.up.frames.next();
  c.up.sock.write(packet(C.REPLY, 1, u32(35 | 0x80000000 | 0x40000000)));
  const reply = await c.frames.next();
  return { ...c, authSeen: a, authReply: reply };
}

t.test('AUTH is forwarded without the SHM and memfd offers, and so is its reply', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  t.equal(c.authSeen.command, C.AUTH);
  t.equal(c.authSeen.args[0], 35, 'the server sees version 35 with no flags');
  t.equal(c.authSeen.payload.length, 10 + 5 + 5 + 256, 'the cookie passes as it came (the server trusts the proxy by its uid)');
  t.equal(c.authReply.command, C.REPLY);
  t.equal(c.authReply.args[0], 35, 'the client sees no SHM/memfd offer either');
});

t.test('a command before AUTH ends the connection', async (t) => {
  const p = await startProxy(t);
  const c = await p.connect();
  c.sock.write(packet(C.GET_SERVER_INFO, 1));
  await new Promise((r) => c.sock.once('close', r));
  t.same(c.up.frames.list, [], 'nothing reached the server');
});

t.test('a refused command is answered by the proxy and never reaches the server', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  const name = Buffer.concat([Buffer.from('t'), Buffer.from('module-ladspa-sink\0')]);
  c.sock.write(packet(C.LOAD_MODULE, 7, name, Buffer.from('tplugin=/x.so label=x\0')));
  c.sock.write(packet(C.EXIT, 8));
  c.sock.write(packet(C.GET_SERVER_INFO, 9));
  const e1 = await c.frames.next();
  const e2 = await c.frames.next();
  t.same([e1.command, e1.tag, e1.args[0]], [C.ERROR, 7, 1], 'LOAD_MODULE: ERROR, its tag, PA_ERR_ACCESS');
  t.same([e2.command, e2.tag, e2.args[0]], [C.ERROR, 8, 1], 'EXIT: the same');
  const f = await c.up.frames.next();
  t.same([f.command, f.tag], [C.GET_SERVER_INFO, 9], 'the server saw only the allowed command');
  await new Promise((r) => setTimeout(r, 100));
  t.same(c.up.frames.list, []);
});

t.test('volume and info of sink inputs: the connection\'s own only', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  c.sock.write(packet(C.CREATE_PLAYBACK_STREAM, 20, u32(0)));
  const create = await c.up.frames.next();
  t.equal(create.command, C.CREATE_PLAYBACK_STREAM);
  c.up.sock.write(packet(C.REPLY, 20, u32(0), u32(42), u32(4096)));
  t.same((await c.frames.next()).args, [0, 42, 4096], 'the reply passes unchanged');
  c.sock.write(packet(C.SET_SINK_INPUT_VOLUME, 21, u32(42)));
  c.sock.write(packet(C.SET_SINK_INPUT_VOLUME, 22, u32(41)));
  c.sock.write(packet(C.GET_SINK_INPUT_INFO, 23, u32(7)));
  c.sock.write(packet(C.SET_SOURCE_OUTPUT_MUTE, 24, u32(42)));
  const passed = await c.up.frames.next();
  t.same([passed.command, passed.tag, passed.args[0]], [C.SET_SINK_INPUT_VOLUME, 21, 42], 'its own stream 42: passed');
  const refusals = [await c.frames.next(), await c.frames.next(), await c.frames.next()];
  t.same(refusals.map((f) => [f.command, f.tag, f.args[0]]), [[C.ERROR, 22, 1], [C.ERROR, 23, 1], [C.ERROR, 24, 1]], 'another stream, and 42 as a source output: refused');
});

t.test('a tag reused while a stream\'s creation is pending ends the connection', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  c.sock.write(packet(C.CREATE_PLAYBACK_STREAM, 40, u32(0)));
  t.equal((await c.up.frames.next()).tag, 40);
  // with the same tag, the record stream's reply (channel, source output index) could be taken for the playback one's
  c.sock.write(packet(C.CREATE_RECORD_STREAM, 40, u32(0)));
  await new Promise((r) => c.sock.once('close', r));
  t.pass('closed');
  await new Promise((r) => setTimeout(r, 100));
  t.same(c.up.frames.list, [], 'the second create did not reach the server');
});

t.test('a refusal waits for the end of the server\'s frame in flight', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  const audio = frame(5, Buffer.alloc(1000, 0xaa));
  c.up.sock.write(audio.subarray(0, 300));
  await new Promise((r) => setTimeout(r, 100));
  c.sock.write(packet(C.LOAD_MODULE, 30, Buffer.from('tx\0')));
  await new Promise((r) => setTimeout(r, 100));
  c.up.sock.write(audio.subarray(300));
  const first = await c.frames.next();
  const second = await c.frames.next();
  t.same([first.channel, first.payload.length], [5, 1000], 'the audio frame arrives whole');
  t.same([second.command, second.tag], [C.ERROR, 30], 'then the refusal');
});

t.test('audio frames pass; shared-memory frames end the connection', async (t) => {
  const p = await startProxy(t);
  const c = await authed(p);
  c.sock.write(frame(3, Buffer.alloc(4096, 1)));
  const f = await c.up.frames.next();
  t.same([f.channel, f.payload.length], [3, 4096]);
  c.sock.write(frame(3, Buffer.alloc(16, 0), 0x80000000));
  await new Promise((r) => c.sock.once('close', r));
  t.pass('a frame flagged SHMDATA closed the connection');
  await new Promise((r) => setTimeout(r, 100));
  t.same(c.up.frames.list, [], 'and did not reach the server');
});

t.test('descriptors sent with a message are not passed on', { skip: spawnSync('python3', ['-c', 'import socket; socket.send_fds']).status !== 0 && 'python3 with socket.send_fds is needed' }, async (t) => {
  const p = await startProxy(t);
  const script = [
    'import socket, struct, sys, os',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
    's.connect(sys.argv[1])',
    'def u32(v): return b"L" + struct.pack(">I", v)',
    'def pkt(cmd, tag, rest=b""):',
    '    p = u32(cmd) + u32(tag) + rest',
    '    return struct.pack(">IIIII", len(p), 0xffffffff, 0, 0, 0) + p',
    'fd = os.open("/etc/hostname", os.O_RDONLY)',
    's.sendall(pkt(8, 1, u32(35) + b"x" + struct.pack(">I", 256) + bytes(256)))',
    'socket.send_fds(s, [pkt(20, 2)], [fd, fd])',
    's.recv(100)',
  ].join('\n');
  const n = p.serverConns().length;
  const py = spawn('python3', ['-c', script, p.listen], { stdio: 'ignore' });
  t.teardown(() => py.kill());
  await waitUntil(() => p.serverConns()[n] && p.serverConns()[n].frames.list.length >= 2, 'two frames at the server').catch(() => {});
  const seen = (p.serverConns()[n]?.frames.list ?? []).map((f) => f.command);
  t.same(seen, [C.AUTH, C.GET_SERVER_INFO], 'the message itself passed');
  // the proxy sends with plain send(), so nothing rides along; and what it received it closed at once
  const fds = fs.readdirSync(`/proc/${p.child.pid}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${p.child.pid}/fd/${f}`); } catch { return ''; } });
  t.notOk(fds.some((l) => l.includes('hostname')), `the proxy holds none of the descriptors it was sent (${fds.join(' ')})`);
});

t.test('random frames from many clients: the proxy lives on, and no refused command reaches the server', async (t) => {
  const p = await startProxy(t);
  const allowed = new Set([...R.PULSE_ALLOW, ...R.PULSE_OWN_SINK_INPUT, ...R.PULSE_OWN_SOURCE_OUTPUT].map((n) => C[n]));
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => rnd(256)));
  const got = [];
  for (let round = 0; round < 120; round++) {
    const n = p.serverConns().length;
    const sock = net.createConnection(p.listen);
    sock.on('error', () => {});
    sock.on('data', () => {});
    await new Promise((r) => sock.once('connect', r));
    const parts = [auth(1, 35 | 0xc0000000)];
    for (let i = 0; i < 20; i++) {
      const k = rnd(40) === 0 ? 3 : rnd(3);
      if (k === 0) parts.push(frame(CONTROL, Buffer.concat([u32(rnd(110)), u32(2 + rnd(50)), u32(rnd(5)), Buffer.alloc(rnd(40))])));
      else if (k === 1) parts.push(frame(rnd(4), Buffer.alloc(rnd(5000), 7), rnd(8) === 0 ? 0x80000000 : 0));
      else if (k === 2) parts.push(frame(CONTROL, Buffer.concat([u32(rnd(256)), u32(rnd(1000)), u32(rnd(4))])));
      else parts.push(bytes(rnd(60)));
    }
    const all = Buffer.concat(parts);
    for (let off = 0; off < all.length && !sock.destroyed; off += 300) sock.write(all.subarray(off, off + 300));
    await new Promise((r) => setTimeout(r, 5));
    sock.destroy();
    // the server answers half of what reaches it, echoing the packet as if it were a reply
    const up = p.serverConns()[n];
    if (up) for (const f of up.frames.list.splice(0)) {
      got.push(f);
      if (f.channel === CONTROL && rnd(2)) up.sock.write(frame(CONTROL, f.payload));
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  const seen = got.concat(p.serverConns().flatMap((c) => c.frames.list)).filter((f) => f.channel === CONTROL);
  t.ok(seen.length > 20, `${seen.length} control packets reached the server`);
  t.equal(p.child.exitCode, null, 'the proxy still runs');
  t.same(seen.filter((f) => !allowed.has(f.command)).map((f) => f.command), [], 'every control packet the server got was an allowed one');
  const c = await authed(p);
  t.equal(c.authReply.command, C.REPLY, 'and it still serves a new client');
});

t.test('at most 16 connections at once (PulseAudio serves 64 clients in all)', async (t) => {
  const p = await startProxy(t);
  const socks = [];
  // a full listen backlog (a slow machine) refuses a connect with EAGAIN rather than queueing it: try again
  const connect = async () => {
    for (let tries = 0; ; tries++) {
      const s = net.createConnection(p.listen);
      const err = await new Promise((r) => { s.once('connect', () => r(null)); s.once('error', r); });
      if (!err) {
        s.on('error', () => {});
        s.on('close', () => { s.gone = true; });
        return s;
      }
      if (err.code !== 'EAGAIN' || tries >= 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  for (let i = 0; i < 20; i++) socks.push(await connect());
  // the test's own server accepts in this event loop: wait for it too, not only for the refused ones to close
  await waitUntil(() => socks.filter((s) => s.gone).length >= 4 && p.serverConns().length >= 16, 'the extra connections to be closed and the server to see the rest').catch(() => {});
  t.equal(socks.filter((s) => !s.gone).length, 16, '16 stay open');
  t.equal(p.serverConns().length, 16, 'the server saw 16');
  socks.forEach((s) => s.destroy());
});

t.test('the proxy exits when the lifetime descriptor\'s other end closes', async (t) => {
  const p = await startProxy(t);
  const exited = new Promise((r) => p.child.once('exit', (code) => r(code)));
  p.child.stdio[3].destroy();
  t.equal(await exited, 0, 'exit 0');
});

t.test('bad command lines are one line and exit 2', async (t) => {
  for (const args of [[], ['--allow', '1,x', '--listen', 'a', '--upstream', 'b', '--fd', '3'], ['--bogus', '1']]) {
    const r = spawnSync(PROXY, args, { encoding: 'utf8' });
    t.equal(r.status, 2);
    t.match(r.stderr, /^sandbox-pulse-proxy: [^\n]+\n$/);
  }
});

// PulseAudio turns SO_PASSCRED on for a connection after accepting it, and lets a client in by its credentials
// (same uid) before it looks at the cookie. Credentials the kernel adds by itself reach the server only where that
// option was on when the bytes were written: an AUTH written before then arrived with none (pid 0 and the overflow
// uid 65534, which passed for the test user uid 65534 and failed as "Access denied", now and then, for a real uid).
const PY_SERVER = `
import json, os, socket, struct, sys, time
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(1)
print('ready', flush=True)
c, _ = srv.accept()
time.sleep(0.5)  # the proxy writes the client's AUTH meanwhile
c.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
data, anc, _, _ = c.recvmsg(4096, socket.CMSG_SPACE(12))
creds = [struct.unpack('iII', d[:12]) for (lvl, typ, d) in anc if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS]
print(json.dumps({'bytes': len(data), 'creds': creds}), flush=True)
`;
t.test('the AUTH reaches the server with the proxy\'s credentials, also where the server turns SO_PASSCRED on late', { skip: spawnSync('python3', ['-c', '1']).status === 0 ? false : 'python3 is missing' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pxcred-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const upstream = path.join(dir, 'server');
  const listen = path.join(dir, 'proxy');
  const server = spawn('python3', ['-c', PY_SERVER, upstream], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { server.kill('SIGKILL'); } catch { /* gone */ } });
  let out = '';
  server.stdout.on('data', (d) => { out += d; });
  await waitUntil(() => out.startsWith('ready'), 'the python server');
  const child = spawn(PROXY, R.pulseProxyArgs({ listen, upstream, fd: 3 }), { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  await new Promise((resolve) => { child.stdio[3].once('data', resolve); child.once('exit', resolve); });
  const sock = net.createConnection(listen);
  t.teardown(() => sock.destroy());
  await new Promise((r) => sock.once('connect', r));
  sock.write(auth(1, 35));
  await waitUntil(() => out.includes('{'), 'the server\'s report', 5000);
  const seen = JSON.parse(out.slice(out.indexOf('{'))); t.comment(JSON.stringify(seen));
  t.equal(seen.bytes, 20 + 10 + 5 + 5 + 256, 'the whole AUTH frame');
  t.equal(seen.creds.length, 1, 'with credentials');
  const [pid, uid, gid] = seen.creds[0] ?? [];
  t.same([pid, uid, gid], [child.pid, process.getuid(), process.getgid()], 'the proxy\'s own: its pid, uid and gid');
});
