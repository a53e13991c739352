// The terminal inside (issue 13, item 5): with the terminal shared, the caller's controlling terminal, a pts of
// the host, is at its host path inside, so ttyname(), `tty` and GPG_TTY=$(tty) work. Attacked as a hostile
// program would: the user's other terminals stay out of reach (the devpts inside is the sandbox's own), TIOCSTI
// through the node is still refused, the node is the descriptor the program already had, and a terminal that
// is not the controlling one (a write-only descriptor to another pty) gets no node at all.
// Run as the unprivileged test user under a pty held outside (test/attack/shared/tty_node_outer.py).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { SANDBOX, BASE, cannotLaunch, cleanEnv, have, userTmpdir, asUser } = require('../lib/harness');

const why = cannotLaunch() || (have('python3') ? null : 'python3 is missing') || (have('tty') ? null : 'tty (coreutils) is missing');
if (why) {
  t.skip(`terminal node: ${why}`);
  process.exit(0);
}
const SHARED = path.join(__dirname, 'shared');

/** Run the inner probe under a fresh pty; returns {outer: {tty, other}, inner: {KEY: VALUE}, stderr}. */
function probe(t, mode, runArgs) {
  const home = userTmpdir('sbx-home-');
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const [cmd, args] = asUser('python3', [path.join(SHARED, 'tty_node_outer.py'), mode,
    SANDBOX, 'run', ...runArgs, ...(runArgs === BASE ? [] : ['--ro-bind', SHARED, SHARED]), '--', 'python3', path.join(SHARED, 'tty_node_inner.py'), '@OTHER@']);
  const r = spawnSync(cmd, args, { cwd: home, env: cleanEnv({ HOME: home }), encoding: 'utf8', timeout: 60000 });
  const outer = {}, inner = {};
  for (const line of (r.stdout || '').split('\n')) {
    let m = /^outer-(\S+) (.*)$/.exec(line);
    if (m) outer[m[1]] = m[2];
    m = /^inner (\S+) (.*)$/.exec(line);
    if (m) inner[m[1]] = m[2];
  }
  return { outer, inner, stderr: r.stderr || '', status: r.status };
}

const CASES = [
  ['the default profile', []],
  ['browser', ['--profile', 'browser']],
  ['--no-profile with --dev /dev', BASE],
];
for (const [name, runArgs] of CASES) {
  t.test(`${name}: the terminal at its path, and nothing more`, async (t) => {
    const { outer, inner, stderr } = probe(t, 'ctty', runArgs);
    t.match(outer.tty, /^\/dev\/pts\/\d+$/, `the outer terminal is a pts (${stderr.trim().split('\n').slice(-1)[0] || ''})`);
    t.not(outer.tty, outer.other, 'two terminals of the user');
    t.equal(inner.ttyname, outer.tty, 'ttyname(0) inside is the terminal\'s host path');
    t.equal(inner.tty, outer.tty, '`tty` prints it');
    t.equal(inner['gpg-tty'], outer.tty, 'GPG_TTY=$(tty) works');
    t.equal(inner.pts, `${outer.tty.split('/').pop()},ptmx`, 'the devpts inside shows only that node and its own ptmx');
    t.equal(inner.other, 'ENOENT', `the user's other terminal ${outer.other} is not there`);
    t.equal(inner.scan, 'none', 'no other /dev/pts/N inside opens');
    t.equal(inner['same-as-stdin'], '1', 'the node opens the terminal fd 0 already was');
    t.equal(inner.controlling, '1', 'which is the session\'s controlling terminal, the one /dev/tty opens read-write anyway');
    t.equal(inner.tiocsti, 'EPERM', 'TIOCSTI through the node is refused');
    t.equal(inner.unlink, 'EACCES', 'the node can\'t be removed');
    t.match(inner['own-ptys'], /^\/dev\/pts\/\d+(,\/dev\/pts\/\d+){5}$/, 'ptys of the sandbox\'s own still work');
    t.equal(inner['own-has-terminal'], '0', 'and never take the terminal\'s number');
    t.equal(inner['ttyname-after'], outer.tty, 'the node is still there after they were opened and closed');
  });
}

t.test('a descriptor to a terminal that is not the controlling one gets no node', async (t) => {
  const { outer, inner } = probe(t, 'other', []);
  t.match(outer.other, /^\/dev\/pts\/\d+$/, 'the other terminal is a pts');
  t.equal(inner.ttyname, 'ENOTTY', 'stdin is /dev/null');
  t.equal(inner.pts, 'ptmx', 'no node of the write-only terminal (it could be opened read-write, to read its input)');
  t.equal(inner.other, 'ENOENT', 'the other terminal is not there');
});

for (const [name, flags, why] of [['--new-session', ['--new-session'], 'the terminal is not shared'],
  ['--as-pid-1', ['--as-pid-1'], 'no init outlives the exec to hold the reserved pty'],
  ['--join', ['--join', `tty-node-${process.pid}`], 'the members share one /dev: one member\'s terminal is not the others\'']]) {
  t.test(`${name}: no node (${why})`, async (t) => {
    const { inner } = probe(t, 'ctty', flags);
    const flag = flags[0];
    t.equal(inner.pts, 'ptmx', 'only the devpts\'s own ptmx');
    if (flag === '--new-session') t.equal(inner.tty, 'not a tty', '`tty` says so, as before');
  });
}
