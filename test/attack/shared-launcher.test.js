// Attacks through what the launcher itself takes from places a sandbox can write, and through the session
// bus proxy (issue 12, "what each profile shares"). Each runs as the unprivileged test user;
// test/attack/README.md ("What each profile shares") has the whole list.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { sandbox, sandboxCli, cannotLaunch, cleanEnv, have, userTmpdir, asUser, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`shared-launcher attacks: ${why}`);
  process.exit(0);
}

function own(p) {
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

/** A private session bus (dbus-daemon) as the test user at dir/bus; resolves { address, stop }. */
async function startBus(dir) {
  const bus = path.join(dir, 'bus');
  const [cmd, argv] = asUser('dbus-daemon', ['--session', '--nofork', '--print-address', `--address=unix:path=${bus}`]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dbus-daemon did not start in 10 s')), 10000);
    child.stdout.once('data', () => { clearTimeout(timer); resolve(); });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`dbus-daemon exited ${c}`)); });
  });
  return { address: `unix:path=${bus}`, stop: () => { try { child.kill('SIGTERM'); } catch { /* gone */ } } };
}

/**
 * The project the user works in, with a virtualenv activated: its bin is on PATH, and the default profile binds
 * the project read-write. Whatever the sandbox writes there, the next command the user types may run; the
 * launcher's own helpers must not be among them.
 */
function project() {
  const dir = userTmpdir('sbx-proj-');
  const bin = path.join(dir, '.venv', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  own(path.join(dir, '.venv'));
  own(bin);
  return { dir, bin, marker: path.join(dir, 'RAN-OUTSIDE') };
}

/** From inside default (cwd = the project): plants NAME in .venv/bin, a script that notes where it ran. */
function plant(p, env, names) {
  const script = names.map((n) => `printf '#!/bin/sh\\necho "${n} $(hostname)" >> ${p.marker}\\nexit 1\\n' > .venv/bin/${n} && chmod 755 .venv/bin/${n}`).join(' && ');
  const r = sandbox(['--', 'sh', '-c', `${script} && echo planted`], { env, cwd: p.dir });
  return r.stdout.trim() === 'planted';
}

const busWhy = !have('dbus-daemon') ? 'dbus-daemon is not installed (Debian package dbus-daemon)'
  : !have('xdg-dbus-proxy') ? 'xdg-dbus-proxy is not installed (Debian package xdg-dbus-proxy)'
  : !have('dbus-send') ? 'dbus-send is not installed (Debian package dbus-bin)'
  : false;

t.test('launcher helpers: an xdg-dbus-proxy planted in a PATH directory the sandbox wrote does not run outside', { skip: busWhy }, async (t) => {
  const p = project();
  const rt = userTmpdir('sbx-rt-');
  fs.chmodSync(rt, 0o700);
  const home = userTmpdir('sbx-home-');
  const bus = await startBus(rt);
  t.teardown(() => { bus.stop(); [p.dir, rt, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  const env = cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt, PATH: `${p.bin}:/usr/local/bin:/usr/bin:/bin`, VIRTUAL_ENV: path.dirname(p.bin) });
  t.ok(plant(p, env, ['xdg-dbus-proxy']), 'the program in default wrote .venv/bin/xdg-dbus-proxy');
  const r = sandbox(['--profile', 'notify', '--', 'sh', '-c', 'echo "bus=$DBUS_SESSION_BUS_ADDRESS"'], { env, cwd: home });
  t.equal(r.status, 0, `notify ran with the system's proxy (${r.stderr.trim()})`);
  t.match(r.stdout, /^bus=unix:path=/, 'and got the proxied bus');
  t.notOk(fs.existsSync(p.marker), `the planted proxy did not run (${fs.existsSync(p.marker) ? fs.readFileSync(p.marker, 'utf8').trim() : 'no marker'})`);
});

t.test('launcher helpers: desktop database tools planted in a PATH directory do not run at `sandbox desktop install`', async (t) => {
  const p = project();
  const home = userTmpdir('sbx-home-');
  const apps = path.join(home, 'src');
  fs.mkdirSync(apps);
  own(apps);
  const entry = path.join(apps, 'viewer.desktop');
  fs.writeFileSync(entry, '[Desktop Entry]\nType=Application\nName=Viewer\nExec=/usr/bin/true %f\nMimeType=image/png;\n');
  own(entry);
  t.teardown(() => [p.dir, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const env = cleanEnv({ HOME: home, PATH: `${p.bin}:/usr/local/bin:/usr/bin:/bin` });
  t.ok(plant(p, env, ['update-desktop-database', 'desktop-file-validate']), 'the program in default wrote both tools into .venv/bin');
  const r = sandboxCli(['desktop', 'install', entry, '--profile', 'image'], { env, cwd: home });
  t.equal(r.status, 0, `the entry was installed (${r.stderr.trim()})`);
  t.notOk(fs.existsSync(p.marker), `no planted tool ran (${fs.existsSync(p.marker) ? fs.readFileSync(p.marker, 'utf8').trim() : 'no marker'})`);
});

t.test('session bus through the notify proxy: the bus driver\'s methods that run code or spy are refused', { skip: busWhy }, async (t) => {
  const rt = userTmpdir('sbx-rt-');
  fs.chmodSync(rt, 0o700);
  const home = userTmpdir('sbx-home-');
  const bus = await startBus(rt);
  t.teardown(() => { bus.stop(); [rt, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  const env = cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt });
  const call = (name, dest, obj, method, ...args) =>
    `dbus-send --session --print-reply --reply-timeout=3000 --dest=${dest} ${obj} ${method} ${args.join(' ')} >"\${TMPDIR:-/tmp}/o" 2>&1; echo "${name} $? $(grep -o 'org.freedesktop.DBus.Error.[A-Za-z]*' "\${TMPDIR:-/tmp}/o" | head -1)"`;
  const D = ['org.freedesktop.DBus', '/org/freedesktop/DBus'];
  const script = [
    // sets variables (LD_PRELOAD) for every service the bus starts later, outside: code outside
    call('update-activation-environment', ...D, 'org.freedesktop.DBus.UpdateActivationEnvironment', 'dict:string:string:LD_PRELOAD,/tmp/x.so'),
    // every message on the bus
    call('become-monitor', ...D, 'org.freedesktop.DBus.Monitoring.BecomeMonitor', 'array:string:', 'uint32:0'),
    // impersonating the notification server for other apps
    call('request-name', ...D, 'org.freedesktop.DBus.RequestName', 'string:org.freedesktop.Notifications', 'uint32:0'),
    call('stats', ...D, 'org.freedesktop.DBus.Debug.Stats.GetStats'),
    // the user's service manager on the session bus runs any command (systemd-run --user)
    call('systemd-user', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager.ListUnits'),
  ].join('; ');
  // control: the same calls on the bus itself, as a sandbox with "dbus-session": true would make them
  const [c, a] = asUser('sh', ['-c', script]);
  const raw = spawnSync(c, a, { env: { ...env, DBUS_SESSION_BUS_ADDRESS: bus.address, TMPDIR: home }, encoding: 'utf8' }).stdout;
  t.match(raw, /^update-activation-environment 0 $/m, 'control: on the raw bus UpdateActivationEnvironment is accepted');
  const r = sandbox(['--profile', 'notify', '--', 'sh', '-c', script], { env, cwd: home });
  const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => { const [k, code, err] = l.split(' '); return [k, `${code} ${err ?? ''}`.trim()]; }));
  t.same(got, {
    'update-activation-environment': '1 org.freedesktop.DBus.Error.AccessDenied',
    'become-monitor': '1 org.freedesktop.DBus.Error.AccessDenied',
    'request-name': '1 org.freedesktop.DBus.Error.AccessDenied',
    stats: '1 org.freedesktop.DBus.Error.AccessDenied',
    'systemd-user': '1 org.freedesktop.DBus.Error.ServiceUnknown',
  }, `each refused by the proxy (${r.stderr.trim().split('\n').slice(-1)[0] || ''})`);
});

t.test('own files: the configuration stays read-only behind a bind whose source is a symlink (a dotfiles ~/.config)', async (t) => {
  const home = userTmpdir('sbx-home-');
  const real = path.join(home, 'dotfiles', 'config');
  const profiles = path.join(real, 'sandbox', 'profiles');
  fs.mkdirSync(profiles, { recursive: true });
  for (let d = profiles; d !== home; d = path.dirname(d)) own(d);
  fs.symlinkSync(path.join('dotfiles', 'config'), path.join(home, '.config'));
  if (IS_ROOT) fs.lchownSync(path.join(home, '.config'), TEST_UID, TEST_GID);
  const work = userTmpdir('sbx-work-');
  t.teardown(() => [home, work].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const env = cleanEnv({ HOME: home });
  const link = path.join(home, '.config');
  const r = sandbox(['--bind', link, link, '--', 'sh', '-c', `echo '{ extends: "minimal" }' 2>/dev/null > ${link}/sandbox/profiles/default.json5; echo "profile $?"; touch ${link}/other; echo "other $?"`], { env, cwd: work });
  t.equal(r.stdout, 'profile 2\nother 0\n', `the profile can't be planted through the linked source; the rest of ~/.config is writable as bound (${r.stderr.trim()})`);
  t.notOk(fs.existsSync(path.join(profiles, 'default.json5')), 'no profile appeared on the host');
});
