// bwrap mode's own inputs, as a hostile caller or a planted file can shape them: a descriptor that never ends
// (/dev/zero) on --seccomp, --add-seccomp-fd and --args, an --args file of 60000 arguments, and a FIFO at a
// --lock-file path. Each must end in one line and exit 125, or run, and never fill memory or hang.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, cannotLaunch, have } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`bwrap inputs: ${why}`);
  process.exit(0);
}

const ROOT_RO = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'];
const bwrap = (args, opts) => sandboxCli(['bwrap', ...args], { timeout: 20000, ...opts });
const dir = userTmpdir('sbx-bwrap-inputs-');

t.test('a descriptor that never ends is read no further than its option allows', async (t) => {
  for (const [flag, max] of [['--seccomp', 32768], ['--add-seccomp-fd', 32768], ['--args', 16 << 20]]) {
    const zero = fs.openSync('/dev/zero', 'r');
    const r = bwrap([flag, '3', ...ROOT_RO, '--', 'true'], { stdio: ['pipe', 'pipe', 'pipe', zero] });
    fs.closeSync(zero);
    t.equal(r.status, 125, `${flag} on /dev/zero: exit 125 (${r.stderr.trim()})`);
    t.equal(r.stderr.trim(), `bwrap: ${flag} 3: more than ${max} bytes of ${flag === '--args' ? '--args data' : 'seccomp data'}`, `${flag}: one line naming the option`);
  }
});

t.test('an --args file of 60000 arguments is read without overflowing the stack', async (t) => {
  const f = path.join(dir, 'many-args');
  fs.writeFileSync(f, Buffer.from('--setenv\0A\0b\0'.repeat(60000)));
  const fd = fs.openSync(f, 'r');
  const r = bwrap(['--args', '3', ...ROOT_RO, '--', 'sh', '-c', 'echo $A'], { stdio: ['pipe', 'pipe', 'pipe', fd] });
  fs.closeSync(fd);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'b\n');
});

t.test('a FIFO at a --lock-file path does not hang the launch', { skip: have('mkfifo') ? false : 'mkfifo is missing' }, async (t) => {
  const fifo = path.join(dir, 'lock');
  t.equal(spawnSync('mkfifo', ['-m', '0666', fifo]).status, 0);
  const r = bwrap([...ROOT_RO, '--lock-file', fifo, '--', 'echo', 'ran']);
  t.equal(r.signal, null, 'not killed by the test\'s timeout');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'ran\n');
});

t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
