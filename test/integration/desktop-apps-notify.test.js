// The `notify` profile with libnotify's notify-send against a real dbus-daemon (run as the test user) and a
// small notification server (notification-server.py) that owns org.freedesktop.Notifications and, on the
// same connection, a second name: the notification arrives; closing notifications, asking for the server's
// capabilities, the second name and the server's unique name are refused by the proxy and never reach it.
// notify-send stands in for a mail or chat client: such clients (Thunderbird, Pidgin, ...) post through the
// same Notify call, but need accounts and a network that a test here cannot give them.
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
  if (!H.have('notify-send')) return 'notify-send is not installed (Debian package libnotify-bin)';
  const r = spawnSync(PY, ['-c', 'import dbus, dbus.service, dbus.mainloop.glib; from gi.repository import GLib'], { encoding: 'utf8' });
  if (r.status !== 0) return `${PY} lacks dbus or gi (Debian packages python3-dbus, python3-gi)`;
  return null;
}
const why = missing();
if (why) {
  t.skip(`notify profile: ${why}`);
  process.exit(0);
}

const dir = H.userTmpdir('sbx-notify-');
const rt = path.join(dir, 'rt');
const home = path.join(dir, 'home');
const hostBus = path.join(dir, 'host-bus');
const started = [];
t.teardown(() => {
  for (const p of started) {
    try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
for (const d of [rt, home]) {
  fs.mkdirSync(d, { mode: 0o700 });
  if (H.IS_ROOT) fs.chownSync(d, H.TEST_UID, H.TEST_GID);
}

/** Starts a program as the test user; resolves with its first line; the rest of stdout goes to lines. */
function startAsUser(cmd, args, env, lines) {
  H.ensureCheckoutReachable();
  const [c, argv] = H.asUser(cmd, args);
  const child = spawn(c, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let first = null;
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${err}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      let i;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i).trim();
        out = out.slice(i + 1);
        if (first === null) {
          first = line;
          clearTimeout(timer);
          resolve(line);
        } else if (lines) lines.push(line);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err}`)));
  });
}

const busEnv = H.cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt, DBUS_SESSION_BUS_ADDRESS: `unix:path=${hostBus}` });
const send = (label, dest, objPath, method, ...args) =>
  `echo "== ${label}"; dbus-send --session --print-reply --reply-timeout=5000 --dest=${dest} ${objPath} ${method} ${args.join(' ')} 2>&1; echo "rc=$?"`;

function sections(stdout) {
  const out = {};
  let cur = null;
  for (const line of stdout.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) out[(cur = m[1])] = '';
    else if (cur) out[cur] += line + '\n';
  }
  return out;
}

t.test('notify: a real bus and notification server', async (t) => {
  const calls = [];
  await startAsUser('dbus-daemon', ['--session', '--nofork', '--print-address', `--address=unix:path=${hostBus}`], H.cleanEnv());
  const unique = await startAsUser(PY, [path.join(__dirname, 'notification-server.py')], H.cleanEnv({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${hostBus}` }), calls);
  t.match(unique, /^:\d+\.\d+$/, `the server's unique name ${unique}`);
  const received = () => calls.map((l) => JSON.parse(l));

  t.test('notify-send: the notification arrives', async (t) => {
    const t0 = Date.now();
    const r = H.sandbox(['--profile', 'notify', '--', 'notify-send', '--print-id', '--app-name=mailer', 'New mail', 'from the sandbox'], { cwd: dir, env: busEnv });
    t.comment(`notify-send in the sandbox took ${Date.now() - t0} ms`);
    t.equal(r.status, 0, `notify-send exited 0 (${r.stderr.trim()})`);
    t.match(r.stdout.trim(), /^\d+$/, `the server's id came back: ${r.stdout.trim()}`);
    for (let i = 0; i < 40 && !received().some((c) => c.call === 'Notify'); i++) await new Promise((res) => setTimeout(res, 50));
    const n = received().find((c) => c.call === 'Notify');
    t.match(n, { app: 'mailer', summary: 'New mail', body: 'from the sandbox' }, 'the server got the Notify call with its text');
    t.equal(String(n && n.id), r.stdout.trim(), 'the id notify-send printed is the server\'s');
  });

  t.test('everything but Notify and GetServerInformation is refused', async (t) => {
    const before = calls.length;
    const N = ['org.freedesktop.Notifications', '/org/freedesktop/Notifications'];
    const r = H.sandbox(['--profile', 'notify', '--', 'sh', '-c', [
      send('info', ...N, 'org.freedesktop.Notifications.GetServerInformation'),
      send('caps', ...N, 'org.freedesktop.Notifications.GetCapabilities'),
      send('close', ...N, 'org.freedesktop.Notifications.CloseNotification', 'uint32:1'),
      send('other-name', 'org.sandbox.Mailbox', '/org/sandbox/Mailbox', 'org.sandbox.Mailbox.ReadAll'),
      send('other-object', 'org.freedesktop.Notifications', '/org/sandbox/Mailbox', 'org.sandbox.Mailbox.ReadAll'),
      send('unique-name', unique, '/org/sandbox/Mailbox', 'org.sandbox.Mailbox.ReadAll'),
      `echo "== host-bus"; test -e ${hostBus} && echo present || echo absent`,
    ].join('; ')], { cwd: dir, env: busEnv });
    t.equal(r.status, 0, r.stderr);
    const out = sections(r.stdout);
    t.match(out.info, /string "sandbox-test"/, 'GetServerInformation answers');
    for (const k of ['caps', 'close', 'other-name', 'other-object', 'unique-name']) {
      t.notMatch(out[k], /every-mail-42|method return/, `${k}: no reply`);
      t.match(out[k], /Error org\.freedesktop\.DBus\.Error\.(AccessDenied|ServiceUnknown|NameHasNoOwner)[\s\S]*rc=1/, `${k}: refused: ${out[k].split('\n')[0]}`);
    }
    t.equal(out['host-bus'].trim(), 'absent', 'the real bus socket is not inside');
    await new Promise((res) => setTimeout(res, 200));
    t.same(calls.slice(before).map((l) => JSON.parse(l).call), ['GetServerInformation'], 'only GetServerInformation reached the server');
  });
});
