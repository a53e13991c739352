'use strict';
// Every kind of profile error is one line naming FILE:LINE:COL, what was found and what was expected.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const P = require(`${dist}/profile`);
const { SandboxError } = require(`${dist}/errors`);

/** A profile dir with the given files (in shipped/) and a context of a fake user on a fake host. */
function setup(t, files, host = {}) {
  const dir = t.testdir({ shipped: files, user: {} });
  const ctx = {
    env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', ...(host.env || {}) },
    cwd: '/home/u/proj',
    uid: 1000,
    gid: 1000,
    exists: (p) => fs.existsSync(p) || (host.paths || []).includes(p),
    shippedDir: path.join(dir, 'shipped'),
    userDir: path.join(dir, 'user'),
    dataDir: path.join(dir, 'data'),
    listDir: () => host.dev || [],
    readLink: () => null,
  };
  return { dir, ctx, file: (n) => path.join(dir, 'shipped', `${n}.json5`) };
}

/** Loads `text` as profile "p" and returns the error message (exactly one line, a SandboxError, code 125). */
function errorOf(t, text, host, others = {}) {
  const { ctx, file } = setup(t, { 'p.json5': text, ...others }, host);
  try {
    P.loadProfile('p', ctx);
  } catch (e) {
    t.ok(e instanceof SandboxError, 'a SandboxError');
    t.equal(e.exitCode, 125);
    t.notMatch(e.message, /\n/, 'one line');
    return e.message.replace(file('p'), 'P').replace(path.dirname(file('p')) + '/', '');
  }
  t.fail('no error');
  return '';
}

t.test('JSON5 syntax error', async (t) => {
  t.equal(errorOf(t, '{\n  a: 1,,\n}'), "P:2:8: JSON5 syntax error: invalid character ','");
  t.equal(errorOf(t, '{\n  a: "x\n}'), 'P:2:8: JSON5 syntax error: invalid character \'\\n\'');
});

t.test('unknown keys, at the key, listing the allowed ones', async (t) => {
  t.equal(
    errorOf(t, '{\n  filesytem: [],\n}'),
    'P:2:3: found unknown key "filesytem" in a profile, expected one of: description, programs, fileArgs, extends, namespaces, hostname, cwd, filesystem, env, capabilities, home, devices, sockets, seccomp, limits, dbus, landlock, newSession, dieWithParent, asPid1',
  );
  t.equal(errorOf(t, '{ namespaces: { net: "shared" } }'), 'P:1:17: found unknown key "net" in "namespaces", expected one of: network, pid, join, uid, gid');
  t.equal(errorOf(t, '{ filesystem: [\n  { bind: "/a", size: "1M" },\n] }'), 'P:2:17: found key "size" in a "bind" entry, expected one of: bind, dst, optional');
  t.equal(errorOf(t, '{ filesystem: [ { bind: "/a", tmpfs: "/b" } ] }'), 'P:1:31: found both "bind" and "tmpfs" in one entry, expected one operation per entry');
  t.equal(errorOf(t, '{ filesystem: [ { optional: true } ] }'), 'P:1:17: found an entry with no operation, expected one of the keys bind, ro-bind, dev-bind, tmpfs, proc, dev, mqueue, dir, symlink, chmod, remount-ro, overlay, mirror, drop');
  t.equal(errorOf(t, '{ filesystem: [ { symlink: "/bin" } ] }'), 'P:1:17: found a "symlink" entry without "target", expected "target" in it');
});

t.test('wrong types', async (t) => {
  t.equal(errorOf(t, '{ hostname: 12 }'), 'P:1:13: found 12, expected a string');
  t.equal(errorOf(t, '{ filesystem: { bind: "/a" } }'), 'P:1:15: found an object, expected a list');
  t.equal(errorOf(t, '{ namespaces: { network: "host" } }'), 'P:1:26: found "host", expected one of "shared", "private"');
  t.equal(errorOf(t, '{ namespaces: { uid: -1 } }'), 'P:1:22: found -1, expected a uid from 0 to 4294967294');
  t.equal(errorOf(t, '{ env: { keep: "PATH" } }'), 'P:1:16: found "PATH", expected a list');
  t.equal(errorOf(t, '{ env: { set: { "A=B": "x" } } }'), 'P:1:17: found variable name "A=B", expected letters, digits and "_", not starting with a digit');
  t.equal(errorOf(t, '{ home: "ram" }'), 'P:1:9: found "ram", expected one of "none", "tmpfs", "persist", "host"');
  t.equal(errorOf(t, '{ home: { share: ["../etc"] } }'), 'P:1:19: found "../etc", expected a path inside the home like "Downloads" (relative, without "." or "..")');
  t.equal(errorOf(t, '{ capabilities: ["net admin"] }'), 'P:1:18: found "net admin", expected a capability name like "CAP_NET_ADMIN" or "net_admin"');
  t.equal(errorOf(t, '{ capabilities: ["net_admin", "!cap_fly"] }'), 'P:1:31: found "!cap_fly", expected a capability the kernel knows, like "CAP_NET_ADMIN" (see capabilities(7))');
  t.equal(errorOf(t, '[]'), 'P:1:1: found a list, expected an object (a profile)');
  t.equal(errorOf(t, '{ seccomp: [] }'), 'P:1:12: found a list, expected an object (the seccomp policy) or null');
});

t.test('sizes and modes', async (t) => {
  t.equal(errorOf(t, '{ filesystem: [ { tmpfs: "/t", size: "64Q" } ] }'), 'P:1:38: found "64Q", expected a size like 512M, 2G, 1.5G or a whole number of bytes');
  t.equal(errorOf(t, '{ filesystem: [ { tmpfs: "/t", mode: "0855" } ] }'), 'P:1:38: found "0855", expected an octal mode string like "0755"');
  t.equal(errorOf(t, '{ filesystem: [ { dir: "/t", mode: 493 } ] }'), 'P:1:36: found 493, expected an octal mode string like "0755"');
  t.equal(errorOf(t, '{ limits: {\n  memory: "2 gigs" } }'), 'P:2:11: found "2 gigs", expected a size like 512M, 2G, 1.5G or a whole number of bytes');
  t.equal(errorOf(t, '{ limits: { cpus: 0 } }'), 'P:1:19: found 0, expected a number of CPUs from 0.01 to 4096, like 1.5');
  t.equal(errorOf(t, '{ limits: { pids: 1.5 } }'), 'P:1:19: found 1.5, expected a number of processes from 1 to 4194304');
  t.equal(errorOf(t, '{ limits: { mode: "lenient" } }'), 'P:1:19: found "lenient", expected one of "strict", "best-effort"');
});

t.test('unknown devices and sockets', async (t) => {
  t.equal(errorOf(t, '{ devices: { gpu: true } }'), 'P:1:14: found unknown key "gpu" in "devices", expected one of: dri, snd, video, nvidia');
  t.equal(errorOf(t, '{ sockets: {\n    x11: true,\n    ssh: "optional" } }'), 'P:3:5: found unknown key "ssh" in "sockets", expected one of: x11, wayland, pulseaudio, pipewire, dbus-session, munge');
  t.equal(errorOf(t, '{ devices: { dri: "yes" } }'), 'P:1:19: found "yes", expected true, false or "optional"');
});

t.test('extends: missing targets and cycles', async (t) => {
  t.match(errorOf(t, '{\n  extends: ["a", "nope"] }', {}, { 'a.json5': '{}' }), /^P:2:18: found extends "nope", which names no profile; expected a profile name \(a file NAME\.json5 in .*user or .*shipped\) or a path to a \.json5 file$/);
  t.equal(errorOf(t, '{ extends: "./missing.json5" }').split(';')[0], 'P:1:12: found extends "./missing.json5", which names no profile');
  t.equal(
    errorOf(t, '{ extends: "a" }', {}, { 'a.json5': '{ extends: "b" }', 'b.json5': '{\n  description: "b",\n  extends: "p" }' }),
    'b.json5:3:12: found extends "p" making a cycle (p.json5 -> a.json5 -> b.json5 -> p.json5), expected a profile that doesn\'t extend itself',
  );
  t.equal(errorOf(t, '{ extends: "p" }'), 'P:1:12: found extends "p" making a cycle (p.json5 -> p.json5), expected a profile that doesn\'t extend itself');
  t.equal(errorOf(t, '{ description: 3 }', {}, {}).split(':').slice(1).join(':'), '1:16: found 3, expected a string');
  t.equal(errorOf(t, '{ extends: "a" }', {}, { 'a.json5': '{\n  hostname: "bad host" }' }), 'a.json5:2:13: found "bad host", expected a host name of 1 to 64 letters, digits, "-" and ".", starting with a letter or digit');
});

t.test('variables', async (t) => {
  t.equal(errorOf(t, '{ filesystem: [ { bind: "$SCRATCH/x" } ] }'), 'P:1:25: found "$SCRATCH/x" with SCRATCH unset, expected SCRATCH in the environment, a default (${SCRATCH:-...}) or optional: true');
  t.equal(errorOf(t, '{ filesystem: [ { bind: "/a", dst: "${PROGRAM_DIR}/b" } ] }'), 'P:1:36: found "${PROGRAM_DIR}/b" with PROGRAM_DIR unset, expected the program\'s directory, known only when a program is run');
  t.equal(errorOf(t, '{ cwd: "${NOPE" }'), 'P:1:8: found "${NOPE", expected a closing "}" after "${"');
  t.equal(errorOf(t, '{ cwd: "${A:=b}" }'), 'P:1:8: found "${A:=b}", expected ${NAME} or ${NAME:-default}, not "${A:=b}"');
  t.equal(errorOf(t, '{ cwd: "~root/x" }'), 'P:1:8: found "~root/x", expected "~" or "~/..." (other users\' homes can\'t be named with ~)');
  t.equal(errorOf(t, '{ cwd: "/a$" }'), 'P:1:8: found "/a$", expected $NAME, ${NAME}, ${NAME:-default} or $$ after "$"');
  t.equal(errorOf(t, '{ cwd: "${REL:-rel}/x" }'), 'P:1:8: found "rel/x" (from "${REL:-rel}/x"), expected an absolute path');
  t.equal(errorOf(t, '{ env: { set: { A: "$NOPE" } } }'), 'P:1:20: found "$NOPE" with NOPE unset, expected NOPE in the environment, a default (${NOPE:-...}) or optional: true');
});

t.test('host resources that are required but missing', async (t) => {
  t.equal(errorOf(t, '{ sockets: { x11: true } }'), 'P:1:19: found no X11 display socket on this host (DISPLAY is unset), expected one for sockets "x11"; write "x11": "optional" in sockets to run without it');
  t.equal(errorOf(t, '{ sockets: { x11: true } }', { env: { DISPLAY: ':3' } }), 'P:1:19: found no X11 display socket on this host (/tmp/.X11-unix/X3 does not exist), expected one for sockets "x11"; write "x11": "optional" in sockets to run without it');
  t.equal(errorOf(t, '{ sockets: { "dbus-session": true } }', { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x' } }), 'P:1:30: found no D-Bus session bus socket on this host (DBUS_SESSION_BUS_ADDRESS names an abstract socket, which no bind can carry into a sandbox), expected one for sockets "dbus-session"; write "dbus-session": "optional" in sockets to run without it');
  t.equal(errorOf(t, '{ devices: { nvidia: true } }'), 'P:1:22: found none of /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools, /dev/nvidia-modeset, /dev/nvidia-caps, /dev/nvidiaN on this host, expected them for device set "nvidia"; write "nvidia": "optional" in devices to run without it');
  t.equal(errorOf(t, '{ filesystem: [ { mirror: "/nonexistent-x" } ] }'), 'P:1:27: found no /nonexistent-x on this host, expected it for "mirror" (or optional: true)');
  t.equal(errorOf(t, '{ filesystem: [ { bind: "${CWD}" } ] }'.replace('${CWD}', '/')), 'P:1:25: found a read-write bind of the host\'s /, expected a narrower directory (run sandbox from a project directory, or use --no-profile)');
  t.equal(errorOf(t, '{ home: "tmpfs" }', { env: { HOME: '' } }), 'P:1:9: found HOME unset, expected an absolute HOME in the environment for home "tmpfs"');
});

t.test('--profile names that find nothing', async (t) => {
  const { ctx } = setup(t, {});
  t.throws(() => P.loadProfile('nope', ctx), { message: /^--profile nope: found no profile "nope", expected a profile name \(a file NAME\.json5 in / });
  t.throws(() => P.loadProfile('./nope.json5', ctx), { message: '--profile ./nope.json5: found no file /home/u/proj/nope.json5, expected a profile file' });
});
