// The terminal a sandbox shares with the user (issue 12, "what each profile shares"): what the program can
// change on it that is still changed after the sandbox has ended. Run as the unprivileged test user under a pty
// held outside. test/attack/README.md ("What each profile shares", "The shared terminal") has the whole list.
// The monitor saves the terminal's settings, foreground group and exclusive mode before the program starts and
// puts them back when the sandbox ends; the base filter refuses TIOCEXCL (item tiocexcl).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { IS_ROOT, SANDBOX, TEST_UID, TEST_GID, cannotLaunch, cleanEnv, have, userTmpdir, asUser } = require('../lib/harness');

const why = cannotLaunch() || (have('python3') ? null : 'python3 is missing');
if (why) {
  t.skip(`shared-terminal attacks: ${why}`);
  process.exit(0);
}
const SHARED = path.join(__dirname, 'shared');
const home = userTmpdir('sbx-home-');
t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
const loosen = path.join(home, 'loosen-tiocexcl.json');
fs.writeFileSync(loosen, JSON.stringify({
  default: 'allow', rules: [], loosenBase: [{ item: 'tiocexcl', reason: 'test: the monitor clears exclusive mode even so' }],
}));
if (IS_ROOT) fs.chownSync(loosen, TEST_UID, TEST_GID);

/** tty_outer.py [OPTION] MODE around `sandbox run ARGS -- python3 tty_inner.py MODE`: what the outside saw, by key. */
function outer(outerArgs, sandboxArgs) {
  const [cmd, args] = asUser('python3', [path.join(SHARED, 'tty_outer.py'), ...outerArgs,
    SANDBOX, 'run', ...sandboxArgs, '--ro-bind', SHARED, '/attack', '--', 'python3', '/attack/tty_inner.py']);
  const r = spawnSync(cmd, args, { cwd: home, env: cleanEnv({ HOME: home, XDG_DATA_HOME: home }), encoding: 'utf8', timeout: 30000 });
  const got = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(?:inner )?(\S+) (.*)$/.exec(line);
    if (m) got[m[1]] = m[2];
  }
  got.why = r.stderr.trim().split('\n').slice(-1)[0] || '';
  return got;
}

function terminalIsBack(t, label, got) {
  t.equal(got['echo-before'], '1', `${label}: echo was on before`);
  t.same({ echo: got['echo-after'], icanon: got['icanon-after'], isig: got['isig-after'] }, { echo: '1', icanon: '1', isig: '1' },
    `${label}: echo, line editing and signals are back on after it ended (inside: tcsetattr ${got.tcsetattr})`);
  t.equal(got['output-stopped-after'], '0', `${label}: its output is not left stopped (inside: tcflow TCOOFF, last)`);
  t.equal(got['exclusive-after'], '0', `${label}: the terminal is not left in exclusive mode (inside: TIOCEXCL ${got.tiocexcl})`);
  t.equal(got.reopen, 'ok', `${label}: the terminal can be opened again after it ended`);
}

t.test('the terminal after a sandbox that changed it', async (t) => {
  for (const profile of ['default', 'browser']) {
    const got = outer(['plain'], ['--profile', profile]);
    t.same({ tiocsctty0: got.tiocsctty0, tiocsctty1: got.tiocsctty1 }, { tiocsctty0: 'EPERM', tiocsctty1: 'EPERM' },
      `${profile}: the program can't make the terminal its controlling one (${got.why})`);
    t.equal(got.tiocexcl, 'EPERM', `${profile}: TIOCEXCL refused (base filter item tiocexcl)`);
    t.equal(got['sandbox-exit'], '0', `${profile}: the sandbox exited 0`);
    terminalIsBack(t, profile, got);
  }
});

t.test('with --new-session the program still has the terminal as its descriptors: put back as well', async (t) => {
  const got = outer(['plain'], ['--profile', 'default', '--new-session']);
  t.equal(got.tcsetattr, 'ok', `tcsetattr works on a terminal that is not the program's controlling one (${got.why})`);
  t.equal(got['sandbox-exit'], '0', 'the sandbox exited 0');
  terminalIsBack(t, '--new-session', got);
});

t.test('with the tiocexcl item loosened, the monitor clears exclusive mode at the end', async (t) => {
  const got = outer(['plain'], ['--profile', 'default', '--seccomp', loosen]);
  t.equal(got.tiocexcl, 'ok', `TIOCEXCL allowed inside (${got.why})`);
  terminalIsBack(t, 'loosened', got);
});

t.test('a program that took the foreground (as a shell with job control does) gives it back', async (t) => {
  // the pty is the controlling terminal of a session whose leader runs sandbox in its own, foreground, group
  for (const profile of ['default', 'browser']) {
    const got = outer(['--leader', 'jobs'], ['--profile', profile]);
    t.equal(got.tcsetpgrp, 'ok', `${profile}: inside, a group of its own made the foreground one: job control works (${got.why})`);
    t.equal(got['leader-exit'], '0', `${profile}: the sandbox exited 0`);
    t.equal(got['leader-foreground-after'], '1', `${profile}: afterwards the group that ran sandbox has the foreground again (no SIGTTIN for the script's next read)`);
    terminalIsBack(t, `${profile}, job control`, got);
  }
});

t.test('a sandbox ended by SIGTERM to the monitor puts the terminal back too', async (t) => {
  const got = outer(['--term', 'sleep'], ['--profile', 'default']);
  t.equal(got.inner, 'sleeping', 'the program changed the terminal and went to sleep');
  t.equal(got['sandbox-exit'], '143', `the monitor passed SIGTERM on and the program died of it (${got.why})`);
  terminalIsBack(t, 'SIGTERM', got);
});
