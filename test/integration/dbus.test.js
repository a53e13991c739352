// The session bus through xdg-dbus-proxy, against a real dbus-daemon and a service that owns a public
// and a hidden name on one connection: what a `call` rule lets through, what it refuses, what `talk`
// gives away, a sandbox with no dbus section seeing no bus at all, and the proxy ending with the sandbox.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const H = require('../lib/harness');

const PY = '/usr/bin/python3';
function missing() {
  const why = H.cannotLaunch();
  if (why) return why;
  for (const p of ['xdg-dbus-proxy', 'dbus-daemon', 'dbus-send']) if (!H.have(p)) return `${p} is not installed (Debian packages xdg-dbus-proxy, dbus-daemon, dbus-bin)`;
  const r = spawnSync(PY, ['-c', 'import dbus, dbus.service, dbus.mainloop.glib; from gi.repository import GLib'], { encoding: 'utf8' });
  if (r.status !== 0) return `${PY} lacks dbus or gi (Debian packages python3-dbus, python3-gi)`;
  return null;
}
const why = missing();
if (why) {
  t.skip(`dbus: ${why}`);
  process.exit(0);
}

const SERVICE = `
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
class Test(dbus.service.Object):
    @dbus.service.method('org.sandbox.Test', in_signature='', out_signature='s')
    def Hello(self): return 'hello from test'
class Hidden(dbus.service.Object):
    @dbus.service.method('org.sandbox.Hidden', in_signature='', out_signature='s')
    def Secret(self): return 'the-secret-42'
# one connection owns both names: its unique name reaches both objects
names = [dbus.service.BusName('org.sandbox.Test', bus), dbus.service.BusName('org.sandbox.Hidden', bus)]
Test(bus, '/org/sandbox/Test')
Hidden(bus, '/org/sandbox/Hidden')
print(bus.get_unique_name(), flush=True)
GLib.MainLoop().run()
`;

const dir = H.userTmpdir('sbx-dbus-');
const rt = path.join(dir, 'rt');
const hostBus = path.join(dir, 'host-bus');
const started = [];
t.teardown(() => {
  for (const p of started) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {}
  }
});

function write(name, text) {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  if (H.IS_ROOT) fs.chownSync(f, H.TEST_UID, H.TEST_GID);
  return f;
}

/** Starts a program as the test user and resolves with its first line of output. */
function startAsUser(cmd, args, env) {
  H.ensureCheckoutReachable();
  const [c, argv] = H.asUser(cmd, args);
  const child = spawn(c, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${err}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0].trim());
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err}`)));
  });
}

fs.mkdirSync(rt, { mode: 0o700 });
if (H.IS_ROOT) fs.chownSync(rt, H.TEST_UID, H.TEST_GID);
const PROFILES = {
  call: write('call.json5', '{ extends: "minimal", dbus: { call: { "org.sandbox.Test": ["org.sandbox.Test.Hello@/org/sandbox/Test"] } } }'),
  talk: write('talk.json5', '{ extends: "minimal", dbus: { talk: ["org.sandbox.Test"] } }'),
  none: write('none.json5', '{ extends: "minimal" }'),
};
const busEnv = H.cleanEnv({ XDG_RUNTIME_DIR: rt, DBUS_SESSION_BUS_ADDRESS: `unix:path=${hostBus}` });

const send = (label, dest, objPath, method, ...args) =>
  `echo "== ${label}"; dbus-send --session --print-reply --reply-timeout=5000 --dest=${dest} ${objPath} ${method} ${args.join(' ')} 2>&1; echo "rc=$?"`;

/** Runs the script in a profile; returns { label: output }. */
function sections(profile, script) {
  const r = H.sandbox(['--profile', PROFILES[profile], '--', 'sh', '-c', script], { cwd: dir, env: busEnv });
  const out = {};
  let cur = null;
  for (const line of r.stdout.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) out[(cur = m[1])] = '';
    else if (cur) out[cur] += line + '\n';
  }
  return { r, out };
}

// one connection: the proxy tracks which unique name owns a talk name per client, from the replies it relays
const TALK_CLIENT = [
  'import dbus',
  'bus = dbus.SessionBus()',
  'owner = bus.get_name_owner("org.sandbox.Test")',
  'print("owner", owner)',
  'print("hello", bus.call_blocking("org.sandbox.Test", "/org/sandbox/Test", "org.sandbox.Test", "Hello", "", []))',
  'try:',
  '    print("secret", bus.call_blocking(owner, "/org/sandbox/Hidden", "org.sandbox.Hidden", "Secret", "", []))',
  'except dbus.DBusException as e:',
  '    print("refused", e.get_dbus_name())',
].join('\n');

t.test('a real bus', async (t) => {
  await startAsUser('dbus-daemon', ['--session', '--nofork', '--print-address', `--address=unix:path=${hostBus}`], H.cleanEnv());
  const unique = await startAsUser(PY, ['-c', SERVICE], H.cleanEnv({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${hostBus}` }));
  t.match(unique, /^:\d+\.\d+$/, `the service's unique name ${unique}`);

  t.test('call: the listed method works, everything else is refused', async (t) => {
    const { r, out } = sections('call', [
      send('hello', 'org.sandbox.Test', '/org/sandbox/Test', 'org.sandbox.Test.Hello'),
      send('hidden-name', 'org.sandbox.Hidden', '/org/sandbox/Hidden', 'org.sandbox.Hidden.Secret'),
      send('unique-name', unique, '/org/sandbox/Hidden', 'org.sandbox.Hidden.Secret'),
      send('hidden-object-via-public-name', 'org.sandbox.Test', '/org/sandbox/Hidden', 'org.sandbox.Hidden.Secret'),
      send('introspect', 'org.sandbox.Test', '/org/sandbox/Test', 'org.freedesktop.DBus.Introspectable.Introspect'),
      send('own', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.RequestName', 'string:org.sandbox.Mine', 'uint32:0'),
      send('list', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.ListNames'),
      'echo "== env"; echo "$DBUS_SESSION_BUS_ADDRESS"',
      `echo "== host-bus"; test -e ${hostBus} && echo present || echo absent`,
    ].join('; '));
    t.equal(r.status, 0, r.stderr);
    t.match(out.hello, /string "hello from test"/, 'Hello through the call rule');
    for (const k of ['hidden-name', 'unique-name', 'hidden-object-via-public-name', 'introspect', 'own']) {
      t.notMatch(out[k], /the-secret-42|method return/, `${k}: no reply`);
      t.match(out[k], /Error org\.freedesktop\.DBus\.Error\.(AccessDenied|ServiceUnknown|NameHasNoOwner)[\s\S]*rc=1/, `${k}: refused: ${out[k].split('\n')[0]}`);
    }
    t.match(out.list, /org\.sandbox\.Test/, 'ListNames shows the public name');
    t.notMatch(out.list, /org\.sandbox\.Hidden/, 'ListNames hides the hidden name');
    t.equal(out.env.trim(), `unix:path=${rt}/bus`, 'DBUS_SESSION_BUS_ADDRESS names the proxy socket');
    t.equal(out['host-bus'].trim(), 'absent', 'the real bus socket is not inside');
    // the attack that works under talk (next test), on one connection
    const p = H.sandbox(['--profile', PROFILES.call, '--', PY, '-c', TALK_CLIENT], { cwd: dir, env: busEnv });
    t.equal(p.status, 0, p.stderr);
    t.match(p.stdout, /hello hello from test/);
    t.notMatch(p.stdout, /the-secret-42/);
    t.match(p.stdout, /refused org\.freedesktop\.DBus\.Error\.(AccessDenied|NameHasNoOwner)/, `the owner's unique name is refused: ${p.stdout.trim().split('\n').pop()}`);
  });

  t.test('talk: the whole connection, hidden name included (why profiles should use call)', async (t) => {
    const r = H.sandbox(['--profile', PROFILES.talk, '--', PY, '-c', TALK_CLIENT], { cwd: dir, env: busEnv });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, new RegExp(`owner ${unique.replace('.', '\\.')}`), 'the owner of the talk name is visible');
    t.match(r.stdout, /hello hello from test/);
    t.match(r.stdout, /secret the-secret-42/, `the unique name reaches the hidden object: ${r.stdout.trim().split('\n').pop()}`);
  });

  t.test('no dbus section: no bus socket at all', async (t) => {
    const { r, out } = sections('none', [
      `echo "== files"; ls ${rt}/bus ${hostBus} 2>&1`,
      send('hello', 'org.sandbox.Test', '/org/sandbox/Test', 'org.sandbox.Test.Hello'),
    ].join('; '));
    t.equal(r.status, 0, r.stderr);
    t.match(out.files, /No such file or directory[\s\S]*No such file or directory/, 'neither socket exists inside');
    t.notMatch(out.hello, /hello from test/);
    t.match(out.hello, /rc=1/);
  });

  t.test('the proxy ends with the sandbox; its directory goes at the next start', async (t) => {
    const child = H.sandboxAsync(['--profile', PROFILES.call, '--', 'sh', '-c', 'read x'], { cwd: dir, env: busEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let proxy = null;
    for (let i = 0; i < 200 && !proxy; i++) {
      await new Promise((res) => setTimeout(res, 25));
      for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
        try {
          const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
          if (/^Name:\s+xdg-dbus-proxy$/m.test(st) && new RegExp(`^PPid:\\s+${child.pid}$`, 'm').test(st)) proxy = Number(p);
        } catch {}
      }
    }
    t.ok(proxy, `the proxy runs beside the sandbox (pid ${proxy})`);
    const dirs = fs.readdirSync(path.join(rt, 'sandbox')).filter((n) => n.startsWith(`dbus-${child.pid}-`));
    t.equal(dirs.length, 1, `its directory ${dirs[0]}`);
    t.equal(fs.statSync(path.join(rt, 'sandbox', dirs[0])).mode & 0o777, 0o700, 'mode 0700');
    child.stdin.end('\n');
    const code = await new Promise((res) => child.on('exit', res));
    t.equal(code, 0);
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      try {
        gone = /^State:\s+Z/m.test(fs.readFileSync(`/proc/${proxy}/status`, 'utf8'));
      } catch {
        gone = true;
      }
      if (!gone) await new Promise((res) => setTimeout(res, 20));
    }
    t.ok(gone, 'the proxy has exited once the sandbox ended');
    const again = H.sandbox(['--profile', PROFILES.call, '--', 'true'], { cwd: dir, env: busEnv });
    t.equal(again.status, 0, again.stderr);
    t.notOk(fs.existsSync(path.join(rt, 'sandbox', dirs[0])), 'the next start removed the ended sandbox\'s directory');
  });

  t.test('no session bus: one line, or nothing with optional: true', async (t) => {
    const env = H.cleanEnv({ XDG_RUNTIME_DIR: rt, DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/no-such-bus` });
    const r = H.sandbox(['--profile', PROFILES.call, '--', 'true'], { cwd: dir, env });
    t.equal(r.status, 125);
    t.match(r.stderr, /^sandbox: .*call\.json5:1:\d+: found no session bus on this host \(.*no-such-bus: No such file or directory\), expected one for the dbus section; write optional: true in dbus to run without it\n$/);
    const opt = write('opt.json5', '{ extends: "minimal", dbus: { optional: true, talk: ["org.sandbox.Test"] } }');
    const o = H.sandbox(['--profile', opt, '--', 'sh', '-c', `test -e ${rt}/bus && echo bus || echo nobus`], { cwd: dir, env });
    t.equal(o.status, 0, o.stderr);
    t.equal(o.stdout.trim(), 'nobus');
  });

  t.test('--print-plan describes the bind without starting a proxy', async (t) => {
    const r = H.sandbox(['--profile', PROFILES.call, '--print-plan', '--', 'true'], { cwd: dir, env: busEnv });
    t.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const bind = plan.mounts.find((m) => m.dst === `${rt}/bus`);
    t.ok(bind, 'the proxy socket\'s bind is in the plan');
    t.match(bind.src, new RegExp(`^${rt}/sandbox/dbus-\\d+-XXXXXX/bus$`));
    t.ok(plan.env.includes(`DBUS_SESSION_BUS_ADDRESS=unix:path=${rt}/bus`));
  });
});
