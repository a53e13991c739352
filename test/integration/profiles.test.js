// The shipped profiles running real programs as the unprivileged test user.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { asUser, userTmpdir, cannotLaunch, ensureCheckoutReachable, have, IS_ROOT, TEST_UID, RUN_USER } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`profiles: ${why}`);
  process.exit(0);
}
const RUNNER = path.join(__dirname, 'profile-runner.js');

/** Runs `sh -c script` in profile `name` from directory cwd, as the test user. */
function inProfile(name, script, { cwd, env = {} } = {}) {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(process.execPath, [RUNNER, name, 'sh', '-c', script]);
  const r = spawnSync(cmd, argv, {
    cwd,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  if (r.error) throw r.error;
  return r;
}

t.test('minimal: /usr and /etc basics, no network, no home, a clean environment', async (t) => {
  const dir = userTmpdir();
  const r = inProfile('minimal', 'ls /; echo; ls /etc; echo; cat /proc/net/dev | tail -n +3 | cut -d: -f1; echo; id -un; echo "secret=${SECRET:-gone}"; test -e /home || echo nohome; touch /usr/x 2>/dev/null || echo usr-ro', {
    cwd: dir, env: { HOME: '/home/sbx', SECRET: 'x' },
  });
  t.equal(r.status, 0, r.stderr);
  const [root, etc, net, rest] = r.stdout.split('\n\n');
  const mirrored = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].filter((n) => fs.existsSync(`/${n}`));
  t.same(root.split('\n').sort(), [...mirrored, 'dev', 'etc', 'proc', 'tmp', 'usr'].sort(), 'the top-level links as the host has them');
  t.match(etc, /ld\.so\.cache/);
  t.match(etc, /passwd/);
  t.same(net.trim().split('\n').map((s) => s.trim()), ['lo'], 'only a loopback');
  t.equal(rest.split('\n').slice(0, 4).join('\n'), `${RUN_USER}\nsecret=gone\nnohome\nusr-ro`, 'the caller\'s own name, no secret, no home, /usr read-only');
  fs.rmSync(dir, { recursive: true });
});

const tools = ['python3', 'git', 'gcc', 'make'].filter((p) => !have(p));
t.test('default: python3, git, gcc and make work on a project in the current directory', { skip: tools.length ? `missing: ${tools.join(', ')}` : false }, async (t) => {
  const dir = userTmpdir();
  fs.writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello from gcc"); return 0; }\n');
  fs.writeFileSync(path.join(dir, 'Makefile'), 'hello: hello.c\n\tgcc -o hello hello.c\n');
  if (IS_ROOT) for (const f of ['hello.c', 'Makefile']) fs.chownSync(path.join(dir, f), TEST_UID, TEST_UID);
  const script = [
    '/usr/bin/python3 -c "print(6*7)"',
    'make -s && ./hello',
    'git init -q . && git -c user.email=a@b -c user.name=t add hello.c Makefile && git -c user.email=a@b -c user.name=t commit -qm first && git log --oneline | wc -l',
    'echo "home=$HOME $(ls -A $HOME | wc -l)"',
    'pwd',
  ].join(' && ');
  const r = inProfile('default', script, { cwd: dir, env: { HOME: '/home/sbx' } });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `42\nhello from gcc\n1\nhome=/home/sbx 0\n${dir}\n`);
  t.ok(fs.existsSync(path.join(dir, 'hello')) && fs.existsSync(path.join(dir, '.git')), 'the project directory was written');
  fs.rmSync(dir, { recursive: true });
});

t.test('hpc: the job environment kept, home read-only, a /tmp of its own', async (t) => {
  const home = userTmpdir('sbx-home-');
  const dir = userTmpdir();
  fs.writeFileSync(path.join(home, 'in-home'), 'x');
  const r = inProfile('hpc', 'echo "$SLURM_JOB_ID $OMPI_X ${OTHER:-dropped}"; cat $HOME/in-home; touch $HOME/new 2>/dev/null || echo home-ro; touch /tmp/from-hpc-$$ && echo tmp-writable; ls /proc/net/dev >/dev/null && echo ok', {
    cwd: dir, env: { HOME: home, SLURM_JOB_ID: '17', OMPI_X: 'y', OTHER: 'z' },
  });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^17 y dropped\nxhome-ro\ntmp-writable\nok\n$/);
  const leaked = fs.readdirSync('/tmp').filter((n) => n.startsWith('from-hpc-'));
  t.same(leaked, [], 'what the program wrote to /tmp is not in the host\'s /tmp');
  for (const f of leaked) fs.rmSync(path.join('/tmp', f));
  fs.rmSync(home, { recursive: true });
  fs.rmSync(dir, { recursive: true });
});

t.test('browser: a persistent private home with only ~/Downloads of the real one', async (t) => {
  const home = userTmpdir('sbx-home-');
  const data = userTmpdir('sbx-data-');
  fs.mkdirSync(path.join(home, 'Downloads'));
  fs.writeFileSync(path.join(home, 'secret'), 'x');
  if (IS_ROOT) fs.chownSync(path.join(home, 'Downloads'), TEST_UID, TEST_UID);
  const env = { HOME: home, XDG_DATA_HOME: data };
  const r1 = inProfile('browser', 'ls -A $HOME; echo kept > $HOME/.profile-state; echo dl > $HOME/Downloads/file', { cwd: '/', env });
  t.equal(r1.status, 0, r1.stderr);
  t.equal(r1.stdout, 'Downloads\n', 'the real home is not visible, only Downloads');
  const persist = path.join(data, 'sandbox/homes/browser');
  t.equal(fs.statSync(persist).mode & 0o777, 0o700);
  t.equal(fs.readFileSync(path.join(persist, '.profile-state'), 'utf8'), 'kept\n');
  t.equal(fs.readFileSync(path.join(home, 'Downloads/file'), 'utf8'), 'dl\n');
  const r2 = inProfile('browser', 'cat $HOME/.profile-state', { cwd: '/', env });
  t.equal(r2.stdout, 'kept\n', 'the home persists');
  fs.rmSync(home, { recursive: true });
  fs.rmSync(data, { recursive: true });
});
