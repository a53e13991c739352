// Paths the sandbox hides (issue 13, item 6): a command that exists on the host but isn't inside fails with
// exit 127 and one line that says so and how to bind it; arguments naming such files get a note; a command
// found nowhere still says "command not found". A compiled plan run by sandbox-exec (no Node) gets the same
// line from the stage's monitor, which still sees the host. Run as the unprivileged test user.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, sandbox, sandboxCli, asUser, cannotLaunch, cleanEnv, userTmpdir, TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`hidden paths: ${why}`);
  process.exit(0);
}

const dir = userTmpdir('sbx-hidden-');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.mkdirSync(path.join(dir, 'bin'));
const app = path.join(dir, 'bin', 'app');
fs.writeFileSync(app, '#!/bin/sh\necho app ran\n', { mode: 0o755 });
fs.writeFileSync(path.join(dir, 'data.txt'), 'data\n');
if (IS_ROOT) for (const f of ['bin', 'bin/app', 'data.txt']) fs.chownSync(path.join(dir, f), TEST_UID, TEST_GID);
const msg = (p) => `sandbox: ${p} exists on the host but is not visible in this sandbox; bind it with --ro-bind ${p} ${p}\n`;

t.test('a command by its path', async (t) => {
  const r = sandbox(['--profile', 'minimal', '--', app]);
  t.equal(r.status, 127, 'exit 127, as for a command not found');
  t.equal(r.stderr, msg(app), 'one line: where it is, why it is not found, how to bind it');
  t.equal(r.stdout, '', 'nothing ran');
  const ok = sandbox(['--profile', 'minimal', '--ro-bind', app, app, '--', app]);
  t.equal(ok.status, 0, `bound as the message says, it runs (${ok.stderr.trim()})`);
  t.equal(ok.stdout, 'app ran\n');
});

t.test('a relative command, from a directory the sandbox does not show', async (t) => {
  const r = sandbox(['--profile', 'minimal', '--', 'bin/app'], { cwd: dir });
  t.equal(r.status, 127);
  t.equal(r.stderr, msg(app));
});

t.test('a command found on PATH only in a host directory that is not inside', async (t) => {
  const env = cleanEnv({ PATH: `${path.join(dir, 'bin')}:/usr/local/bin:/usr/bin:/bin` });
  const r = sandbox(['--profile', 'minimal', '--', 'app'], { env });
  t.equal(r.status, 127);
  t.equal(r.stderr, msg(app));
  const sh = sandbox(['--profile', 'minimal', '--', 'sh', '-c', 'exit 3'], { env });
  t.equal(sh.status, 3, 'a command also found inside runs, with no message');
  t.equal(sh.stderr, '');
});

t.test('a command found nowhere: as before', async (t) => {
  const r = sandbox(['--profile', 'minimal', '--', 'no-such-command-13']);
  t.equal(r.status, 127);
  t.equal(r.stderr, 'sandbox: no-such-command-13: command not found\n');
  const p = sandbox(['--profile', 'minimal', '--', path.join(dir, 'nothing-here')]);
  t.equal(p.status, 127);
  t.equal(p.stderr, `sandbox: ${path.join(dir, 'nothing-here')}: No such file or directory\n`, 'not on the host either: the bare error');
});

t.test('an argument naming a host file the sandbox does not show', async (t) => {
  const data = path.join(dir, 'data.txt');
  const r = sandbox(['--profile', 'minimal', '--', 'cat', data]);
  t.equal(r.status, 1, 'the program runs, and fails on its own');
  t.equal(r.stderr, `sandbox: note: ${msg(data).slice('sandbox: '.length)}cat: ${data}: No such file or directory\n`, 'a note before the program\'s error');
  const ok = sandbox(['--profile', 'minimal', '--ro-bind', data, data, '--', 'cat', data, '/proc/self/comm']);
  t.equal(ok.stderr, '', 'bound, or the sandbox\'s own /proc: no note');
  t.equal(ok.stdout, 'data\ncat\n');
});

t.test('a script whose interpreter is not inside: said so, not taken for a hidden script', async (t) => {
  const script = path.join(dir, 'bin', 'script');
  fs.writeFileSync(script, '#!/nonexistent/interpreter\n', { mode: 0o755 });
  if (IS_ROOT) fs.chownSync(script, TEST_UID, TEST_GID);
  const r = sandbox(['--profile', 'minimal', '--ro-bind', script, script, '--', script]);
  t.equal(r.status, 127);
  t.equal(r.stderr, `sandbox: ${script}: its interpreter (#!) or dynamic loader is not in the sandbox: No such file or directory\n`);
});

t.test('a compiled plan run by sandbox-exec: the monitor names the hidden command', async (t) => {
  const plan = path.join(dir, 'minimal.plan');
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', plan], { cwd: dir });
  t.equal(c.status, 0, `compiled (${c.stderr.trim()})`);
  const exec = (args, cwd = dir) => {
    const [cmd, argv] = asUser(path.join(ROOT, 'native', 'build', 'sandbox-exec'), [plan, '--', ...args]);
    return spawnSync(cmd, argv, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 30000 });
  };
  let r = exec([app]);
  t.equal(r.status, 127);
  t.equal(r.stderr, msg(app), 'by its absolute path');
  r = exec(['bin/app']);
  t.equal(r.status, 127);
  t.equal(r.stderr, msg(app), 'relative, from the directory sandbox-exec was started in');
  r = exec([path.join(dir, 'nothing-here')]);
  t.equal(r.stderr, `sandbox: ${path.join(dir, 'nothing-here')}: No such file or directory\n`, 'not on the host either: the bare error');
  r = exec(['sh', '-c', 'echo ok']);
  t.equal(r.stdout, 'ok\n', 'a visible command runs');
});
