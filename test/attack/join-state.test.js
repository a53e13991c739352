// Join state (issue 12 items 8 and 9): with XDG_RUNTIME_DIR unset, --join keeps its state in /tmp/sandbox-UID.
// The reviewer's attacks, each as an unprivileged user: a symlink planted as members.new, a forged members line,
// another user's /tmp/sandbox-<victim uid>, a pid that is not (or no longer) a monitor of ours, and a joiner
// whose isolation differs from the first member's. The victim is a uid of its own (not 65534), so its
// /tmp/sandbox-UID is this test's alone while other tests run; "another user" is the usual test user 65534.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { SANDBOX, BASE, IS_ROOT, TEST_UID, cannotLaunch, ensureCheckoutReachable } = require('../lib/harness');

const why = cannotLaunch() || (!IS_ROOT && 'needs root to act as two users (the victim and another user)');
if (why) {
  t.skip(`join state: ${why}`);
  process.exit(0);
}

const VICTIM = 61000 + (process.pid % 4000);
const STATE = `/tmp/sandbox-${VICTIM}`;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-joinstate-home-'));
fs.chmodSync(home, 0o700);
fs.chownSync(home, VICTIM, VICTIM);
const bashrc = path.join(home, '.bashrc');
fs.writeFileSync(bashrc, 'original\n');
fs.chownSync(bashrc, VICTIM, VICTIM);
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' }; // no XDG_RUNTIME_DIR: /tmp/sandbox-UID

function argvAs(uid, args) {
  return ['setpriv', ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', 'env', '-u', 'NODE_OPTIONS', SANDBOX, 'run', ...args]];
}
function runAs(uid, args, opts = {}) {
  ensureCheckoutReachable();
  const [cmd, argv] = argvAs(uid, args);
  return spawnSync(cmd, argv, { cwd: opts.cwd ?? os.tmpdir(), env: opts.env ?? env, encoding: 'utf8', timeout: 30000 });
}
function startAs(uid, args, opts = {}) {
  ensureCheckoutReachable();
  const [cmd, argv] = argvAs(uid, args);
  const p = spawn(cmd, argv, { cwd: opts.cwd ?? os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  p.out = '';
  p.err = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.err += d; });
  p.done = new Promise((res) => p.on('close', (code) => res(code)));
  return p;
}
const lines = async (p, n) => {
  for (let i = 0; i < 200 && p.out.split('\n').filter(Boolean).length < n; i++) await new Promise((r) => setTimeout(r, 50));
  return p.out.split('\n').filter(Boolean);
};
const victim = (args) => runAs(VICTIM, args);
const nsOf = (r) => r.stdout.trim();
const keyDir = (key) => path.join(STATE, 'sandbox', 'join', key);
const reset = () => fs.rmSync(STATE, { recursive: true, force: true });
/** Make the state directory as the victim would (mode 0700, the victim's), down to the key. */
function makeState(key) {
  for (const d of [STATE, path.join(STATE, 'sandbox'), path.join(STATE, 'sandbox', 'join'), keyDir(key)]) {
    fs.mkdirSync(d, { mode: 0o700, recursive: true });
    fs.chmodSync(d, 0o700);
    fs.chownSync(d, VICTIM, VICTIM);
  }
}
const USERNS = ['--', 'readlink', '/proc/self/ns/user'];

t.teardown(() => {
  reset();
  fs.rmSync(home, { recursive: true, force: true });
});
t.beforeEach(reset);

t.test('a sandbox that binds /tmp can neither see nor write the join state', async (t) => {
  const member = startAs(VICTIM, [...BASE, '--join', 'k', '--', 'sh', '-c', 'echo up; sleep 20']);
  t.teardown(() => member.kill('SIGKILL'));
  await lines(member, 1);
  t.ok(fs.existsSync(path.join(keyDir('k'), 'members')), 'a member is running: the state exists');
  const plant = [
    'ls -A /tmp/sandbox-$(id -u) | wc -l',
    'mkdir -p /tmp/sandbox-$(id -u)/sandbox/join/k 2>&1 | sed "s/.*: //"',
    'ln -s ~/.bashrc /tmp/sandbox-$(id -u)/sandbox/join/k/members.new 2>&1 | sed "s/.*: //"',
  ].join('; ');
  const r = victim([...BASE, '--bind', '/tmp', '/tmp', '--bind', home, home, '--', 'sh', '-c', plant]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['0', 'Read-only file system', 'No such file or directory'], 'empty, read-only');
  t.notOk(fs.existsSync(path.join(keyDir('k'), 'members.new')), 'nothing planted');
  member.kill('SIGKILL');
  await member.done;
});

t.test('a state directory that does not exist yet is made and covered, so the program cannot make it', async (t) => {
  const r = victim([...BASE, '--bind', '/tmp', '/tmp', '--', 'sh', '-c', 'mkdir /tmp/sandbox-$(id -u)/x 2>&1 | sed "s/.*: //"; ls -A /tmp/sandbox-$(id -u) | wc -l']);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['Read-only file system', '0']);
  const st = fs.lstatSync(STATE);
  t.ok(st.isDirectory() && st.uid === VICTIM && (st.mode & 0o777) === 0o700, 'the victim\'s, mode 0700');
  // sandbox/ (the registry of running sandboxes) and plans/ (the plan cache) are the launcher's own, here when there
  // is no XDG_RUNTIME_DIR
  t.same(fs.readdirSync(STATE).filter((f) => f !== 'sandbox' && f !== 'plans' && f !== 'plan-key'), [], 'and nothing else in it');
});

t.test('the state is hidden under a bound $XDG_RUNTIME_DIR too', async (t) => {
  const rt = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-joinstate-rt-'));
  fs.chmodSync(rt, 0o700);
  fs.chownSync(rt, VICTIM, VICTIM);
  t.teardown(() => fs.rmSync(rt, { recursive: true, force: true }));
  const r = runAs(VICTIM, [...BASE, '--bind', rt, rt, '--', 'sh', '-c', `touch ${rt}/sandbox/x 2>&1 | sed "s/.*: //"; touch ${rt}/other && echo other-ok`], { env: { ...env, XDG_RUNTIME_DIR: rt } });
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['Read-only file system', 'other-ok'], 'its sandbox/ is covered, the rest of it is as bound');
});

t.test('a symlink planted as members.new does not make a --join write through it', async (t) => {
  // as if planted from an earlier sandbox before the state was covered
  makeState('k');
  fs.symlinkSync(bashrc, path.join(keyDir('k'), 'members.new'));
  const r = victim([...BASE, '--join', 'k', '--', 'true']);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(bashrc, 'utf8'), 'original\n', 'the user\'s file is unchanged');
});

t.test('a symlink planted as members or lock is not followed', async (t) => {
  makeState('k');
  fs.symlinkSync(bashrc, path.join(keyDir('k'), 'lock'));
  const r = victim([...BASE, '--join', 'k', '--', 'true']);
  t.equal(r.status, 125);
  t.match(r.stderr, /^sandbox: --join k: .*lock.*\n$/, 'one line');
  t.equal(fs.readFileSync(bashrc, 'utf8'), 'original\n');
  fs.unlinkSync(path.join(keyDir('k'), 'lock'));
  fs.symlinkSync(bashrc, path.join(keyDir('k'), 'members'));
  const r2 = victim([...BASE, '--join', 'k', '--', 'true']);
  t.equal(r2.status, 125);
  t.match(r2.stderr, /^sandbox: --join k: .*members.*\n$/);
  t.equal(fs.readFileSync(bashrc, 'utf8'), 'original\n');
});

t.test('a forged members line does not put a joiner into the forger\'s namespaces', async (t) => {
  // the forger: a program in a sandbox of the victim holding descriptors of its namespaces (host pid, host network)
  const forger = startAs(VICTIM, [...BASE, '--share-pid', '--share-net', '--', 'bash', '-c',
    'exec 3</proc/self/ns/user 4</proc/self/ns/mnt 5</proc/self/ns/ipc 6</proc/self/ns/uts 7</proc/self/ns/cgroup; readlink /proc/self/ns/user; echo $$; sleep 30']);
  t.teardown(() => forger.kill('SIGKILL'));
  const [forgedNs, pid] = await lines(forger, 2);
  const ino = forgedNs.replace(/\D/g, '');
  const start = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')')[1].trim().split(' ')[19];
  makeState('k');
  const members = path.join(keyDir('k'), 'members');
  for (const line of [
    `policy x\nmember ${pid} ${start} ${ino} 3 4 5 6 7 -1 -1\n`, // today's format, the forger's true start time
    `${pid} ${ino} 3 4 5 6 7 -1 -1\n`, // the old format
  ]) {
    fs.writeFileSync(members, line);
    fs.chownSync(members, VICTIM, VICTIM);
    const r = victim([...BASE, '--join', 'k', ...USERNS]);
    t.equal(r.status, 0, r.stderr);
    t.not(nsOf(r), forgedNs, `not joined into the forger's user namespace (${JSON.stringify(line.split('\n').slice(-2)[0])})`);
    reset();
    makeState('k');
  }
  forger.kill('SIGKILL');
  await forger.done;
});

t.test('a member line whose start time is not the process\'s (a recycled pid) is not believed', async (t) => {
  const member = startAs(VICTIM, [...BASE, '--join', 'k', '--', 'sh', '-c', 'readlink /proc/self/ns/user; sleep 20']);
  t.teardown(() => member.kill('SIGKILL'));
  const [memberNs] = await lines(member, 1);
  const members = path.join(keyDir('k'), 'members');
  const joined = victim([...BASE, '--join', 'k', ...USERNS]);
  t.equal(nsOf(joined), memberNs, 'with its record intact, a joiner joins the member');
  const text = fs.readFileSync(members, 'utf8');
  const forged = text.replace(/^member (\d+) (\d+) /m, (_, p, s) => `member ${p} ${Number(s) + 1} `);
  t.not(forged, text);
  fs.writeFileSync(members, forged);
  const r = victim([...BASE, '--join', 'k', ...USERNS]);
  t.equal(r.status, 0, r.stderr);
  t.not(nsOf(r), memberNs, 'with another start time, the pid is not taken for the member');
  member.kill('SIGKILL');
  await member.done;
});

t.test('another user\'s /tmp/sandbox-<victim uid> is refused', async (t) => {
  for (const [what, make] of [
    ['another user\'s, mode 0777', () => { fs.mkdirSync(STATE, { mode: 0o777 }); fs.chmodSync(STATE, 0o777); fs.chownSync(STATE, TEST_UID, TEST_UID); }],
    ['the victim\'s, mode 0777', () => { fs.mkdirSync(STATE); fs.chmodSync(STATE, 0o777); fs.chownSync(STATE, VICTIM, VICTIM); }],
    ['a symlink to another user\'s directory', () => {
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-joinstate-other-'));
      fs.chmodSync(other, 0o700);
      fs.chownSync(other, VICTIM, VICTIM); // even one that looks right
      t.teardown(() => fs.rmSync(other, { recursive: true, force: true }));
      fs.symlinkSync(other, STATE);
    }],
  ]) {
    reset();
    make();
    const r = victim([...BASE, '--join', 'k', '--', 'true']);
    t.equal(r.status, 125, what);
    t.match(r.stderr, new RegExp(`^sandbox: --join k: ${STATE} [^\\n]*\\n$`), `${what}: one line naming it`);
    const below = path.join(STATE, 'sandbox');
    t.notOk(fs.existsSync(below) && fs.lstatSync(STATE).isDirectory() && fs.readdirSync(below).length, `${what}: nothing made in it`);
  }
});

t.test('a joiner whose isolation differs from the first member\'s is refused', async (t) => {
  const member = startAs(VICTIM, [...BASE, '--share-net', '--share-pid', '--join', 'k', '--', 'sh', '-c', 'echo up; sleep 20']);
  t.teardown(() => member.kill('SIGKILL'));
  await lines(member, 1);
  const r = victim([...BASE, '--join', 'k', '--', 'echo', 'ran']);
  t.equal(r.status, 125);
  t.equal(r.stdout, '', 'nothing ran');
  t.match(r.stderr, /^sandbox: --join k: [^\n]*network \(here new, the members' shared\), pid \(here new, the members' shared\)[^\n]*\n$/);
  const same = victim([...BASE, '--share-net', '--share-pid', '--join', 'k', '--', 'echo', 'ran']);
  t.equal(same.status, 0, same.stderr);
  t.equal(same.stdout, 'ran\n', 'the same options join');
  const cap = victim([...BASE, '--share-net', '--share-pid', '--cap-add', 'CAP_SYS_ADMIN', '--join', 'k', '--', 'true']);
  t.equal(cap.status, 125);
  t.match(cap.stderr, /capabilities \(here 21, the members' none\)/);
  member.kill('SIGKILL');
  await member.done;
});

t.test('with an hpc member running, `--profile default --join K` is refused', async (t) => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-joinstate-proj-'));
  fs.chownSync(project, VICTIM, VICTIM);
  t.teardown(() => fs.rmSync(project, { recursive: true, force: true }));
  const member = startAs(VICTIM, ['--profile', 'hpc', '--join', 'k', '--', 'sh', '-c', 'echo up; sleep 20'], { cwd: project });
  t.teardown(() => member.kill('SIGKILL'));
  const up = await lines(member, 1);
  t.same(up, ['up'], member.err);
  const r = runAs(VICTIM, ['--profile', 'default', '--join', 'k', '--', 'echo', 'ran'], { cwd: project });
  t.equal(r.status, 125);
  t.equal(r.stdout, '', 'nothing ran');
  t.match(r.stderr, /^sandbox: --join k: [^\n]*network \(here new, the members' shared\)[^\n]*\n$/, 'one line naming the key and what differs');
  const same = runAs(VICTIM, ['--profile', 'hpc', '--join', 'k', '--', 'echo', 'ran'], { cwd: project });
  t.equal(same.stdout, 'ran\n', `another hpc one joins (${same.stderr.trim()})`);
  member.kill('SIGKILL');
  await member.done;
});
