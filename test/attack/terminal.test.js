// The terminal a sandbox shares with the user (issue 12, item 15): TIOCSETD on it once set the N_NULL line
// discipline, and the user's terminal swallowed all input after the sandbox ended (it can also autoload a line
// discipline's module). The sandbox runs on a real pty whose other side a python process outside holds; after the
// sandbox has ended, that process checks the discipline and that a line typed on the terminal still arrives.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { BASE, IS_ROOT, SANDBOX, TEST_UID, TEST_GID, asUser, cannotLaunch, cleanEnv, have, userTmpdir } = require('../lib/harness');
const { parse } = require('./lib/world');

const why = cannotLaunch() || (!have('python3') && 'python3 is missing');
if (why) {
  t.skip(`the shared terminal: ${why}`);
  process.exit(0);
}

const PROBES = path.join(__dirname, 'probes');
const probes = userTmpdir('sbx-terminal-');
for (const f of ['_probe.py', 'tiocsetd.py']) {
  fs.copyFileSync(path.join(PROBES, f), path.join(probes, f));
  if (IS_ROOT) fs.chownSync(path.join(probes, f), TEST_UID, TEST_GID);
}
t.teardown(() => fs.rmSync(probes, { recursive: true, force: true }));

// The outside: a pty, the sandbox as session leader on its slave side, then a look at the slave once it has ended.
const OUTER = `
import fcntl, os, select, sys, termios
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
done = False
while True:
    # the parent holds the slave open, so the master never reads EOF: drain it until the child has gone, then once more
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        out += os.read(master, 4096)
    elif done:
        break
    else:
        done = os.waitpid(pid, os.WNOHANG)[0] == pid
sys.stdout.write(out.decode(errors='replace').replace('\\r\\n', '\\n'))
disc = int.from_bytes(fcntl.ioctl(slave, termios.TIOCGETD, b'\\0\\0\\0\\0'), 'little')
print('outer_discipline', disc)
os.write(master, b'ping\\n')
r, _, _ = select.select([slave], [], [], 1.0)
print('outer_input', os.read(slave, 100).decode().strip() if r else 'none')
`;

t.test('TIOCSETD on the shared terminal is refused, and the terminal still takes input afterwards', async (t) => {
  const [cmd, args] = asUser('python3', ['-c', OUTER, SANDBOX, 'run', ...BASE, '--ro-bind', probes, probes, '--',
    'python3', path.join(probes, 'tiocsetd.py')]);
  const r = spawnSync(cmd, args, { env: cleanEnv(), encoding: 'utf8', timeout: 30000 });
  t.equal(r.status, 0, `the outer process ran to its end ${r.stderr}`);
  const got = parse(r.stdout);
  t.comment(r.stdout.trim().replace(/\n/g, ', '));
  t.same({
    tiocsetd_stdin_n_tty: got.tiocsetd_stdin_n_tty, tiocsetd_stdin_n_null: got.tiocsetd_stdin_n_null,
    tiocsetd_stdin_high_bits: got.tiocsetd_stdin_high_bits, tiocsetd_dev_tty: got.tiocsetd_dev_tty,
  }, { tiocsetd_stdin_n_tty: 'EPERM', tiocsetd_stdin_n_null: 'EPERM', tiocsetd_stdin_high_bits: 'EPERM', tiocsetd_dev_tty: 'EPERM' },
  'TIOCSETD refused on stdin and /dev/tty, whatever the discipline and the command\'s upper half (base filter item tiocsetd)');
  t.equal(got.tiocgetd, '0', 'inside, the terminal keeps N_TTY');
  t.equal(got.outer_discipline, '0', 'outside, after the sandbox, the terminal has N_TTY');
  t.equal(got.outer_input, 'ping', 'and a line typed on it arrives');
});
