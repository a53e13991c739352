// --join KEY: sandboxes of one user on one node that name the same key share their namespaces; the first one
// creates them, the others enter them, starts at the same instant settle on one, and nothing is left at the end.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { sandboxAsync, BASE, userTmpdir, cannotLaunch, cleanEnv } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`--join: ${why}`);
  process.exit(0);
}

// the runtime directory is the base of the join state: the stage wants it the caller's, mode 0700
function runtimeDir() {
  const d = userTmpdir('sbx-join-');
  fs.chmodSync(d, 0o700);
  return d;
}

function run(args, env) {
  return new Promise((resolve) => {
    const p = sandboxAsync(args, { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const JOINED = [...BASE.filter((a) => a !== '--proc' && a !== '/proc'), '--proc', '/proc', '--tmpfs', '/tmp', '--share-pid'];

t.test('eight sandboxes started at once share one user and mount namespace', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const script = 'readlink /proc/self/ns/user /proc/self/ns/mnt; echo "$$" > /tmp/member-$$; sleep 4; ls /tmp | grep -c member-';
  const runs = await Promise.all(Array.from({ length: 8 }, () => run([...JOINED, '--join', 'race', '--', 'sh', '-c', script], env)));
  for (const r of runs) t.equal(r.code, 0, r.err);
  const ns = new Set(runs.map((r) => r.out.split('\n').slice(0, 2).join(' ')));
  t.equal(ns.size, 1, `one set of namespaces: ${[...ns].join(' | ')}`);
  t.ok(runs.some((r) => Number(r.out.trim().split('\n')[2]) > 1), 'they see each other\'s files in the shared /tmp');
  t.same(fs.readdirSync(path.join(runtime, 'sandbox', 'join')), [], 'nothing is left of the key once all have ended');
});

t.test('different keys, or none, get their own namespaces', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const hold = run([...JOINED, '--join', 'a', '--', 'sh', '-c', 'readlink /proc/self/ns/user; sleep 1'], env);
  await new Promise((r) => setTimeout(r, 300));
  const [b, none] = await Promise.all([
    run([...JOINED, '--join', 'b', '--', 'readlink', '/proc/self/ns/user'], env),
    run([...JOINED, '--', 'readlink', '/proc/self/ns/user'], env),
  ]);
  const a = await hold;
  t.not(a.out.trim(), b.out.trim());
  t.not(a.out.trim(), none.out.trim());
});

t.test('a member killed mid-way leaves the others running and the key usable', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const first = sandboxAsync([...JOINED, '--join', 'k', '--', 'sh', '-c', 'readlink /proc/self/ns/user; sleep 30'], { env });
  let firstNs = '';
  await new Promise((res) => first.stdout.once('data', (d) => { firstNs = String(d).trim(); res(); }));
  // the first is killed once the second runs (it printed its namespace), not after a fixed wait: a loaded machine
  // can take longer than any such wait to start the second
  const secondProc = sandboxAsync([...JOINED, '--join', 'k', '--', 'sh', '-c', 'readlink /proc/self/ns/user; sleep 1'], { env });
  let secondOut = '';
  const secondDone = new Promise((res) => secondProc.on('close', (code) => res(code)));
  await new Promise((res) => secondProc.stdout.on('data', (d) => { secondOut += d; if (secondOut.includes('\n')) res(); }));
  first.kill('SIGKILL');
  t.equal(await secondDone, 0, 'the second ran to its end');
  t.equal(secondOut.trim(), firstNs, 'the second joined the first');
  const third = await run([...JOINED, '--join', 'k', '--', 'readlink', '/proc/self/ns/user'], env);
  t.equal(third.code, 0, third.err);
  t.same(fs.readdirSync(path.join(runtime, 'sandbox', 'join')), [], 'nothing is left at the end');
});

t.test('a key whose members were all killed is started afresh, with the new first member\'s settings', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  // a member with other mounts, killed before it could clear the key's state
  const old = sandboxAsync([...JOINED, '--tmpfs', '/mnt', '--join', 'stale', '--', 'sh', '-c', 'echo up; sleep 30'], { env });
  await new Promise((res) => old.stdout.once('data', res));
  const gone = new Promise((res) => old.on('close', res));
  old.kill('SIGKILL');
  await gone;
  t.ok(fs.existsSync(path.join(runtime, 'sandbox', 'join', 'stale', 'members')), 'its members file is left behind');
  const first = sandboxAsync([...JOINED, '--join', 'stale', '--', 'sh', '-c', 'readlink /proc/self/ns/user; sleep 2'], { env });
  let firstOut = '';
  let firstErr = '';
  first.stderr.on('data', (d) => { firstErr += d; });
  const firstDone = new Promise((res) => first.on('close', res));
  await new Promise((res) => first.stdout.on('data', (d) => { firstOut += d; if (firstOut.includes('\n')) res(); }));
  const joiner = await run([...JOINED, '--join', 'stale', '--', 'readlink', '/proc/self/ns/user'], env);
  t.equal(joiner.code, 0, `the joiner with the new first member's settings is let in (${joiner.err.trim()})`);
  t.equal(joiner.out.trim(), firstOut.trim(), 'and joins it');
  t.equal(await firstDone, 0, firstErr);
});

t.test('a bad key is one line, exit 125', async (t) => {
  const r = await run([...JOINED, '--join', '../x', '--', 'true'], cleanEnv());
  t.equal(r.code, 125);
  t.match(r.err, /^sandbox: --join \.\.\/x: a key is 1 to 128 letters/);
});

t.test('with the host pid namespace, no process of the sandbox outlives it', async (t) => {
  const { spawnSync } = require('child_process');
  const count = (m) => spawnSync('pgrep', ['-f', m], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  const m = `sbx-orphan-${process.pid}`;
  const p = sandboxAsync([...BASE, '--share-pid', '--', 'bash', '-c', `(exec -a ${m}-a sleep 100) & (exec -a ${m}-b sleep 100 &); echo ready; sleep 100`], { env: cleanEnv() });
  await new Promise((res) => p.stdout.once('data', res));
  t.equal(count(m), 2, 'a child and an orphaned grandchild run');
  p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(count(m), 0, 'kill -9 of the monitor: the init kills every descendant');
  const done = await run([...BASE, '--share-pid', '--', 'bash', '-c', `(exec -a ${m}-c sleep 100 &); echo done`], cleanEnv());
  t.equal(done.out, 'done\n');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(count(m), 0, 'a normal exit: what the program left running is gone, as with a pid namespace');
});

// A private pid namespace is shared through the join: the first member's init is pid 1 of every member's program.
const PRIVATE_PID = [...BASE.filter((a) => a !== '--proc' && a !== '/proc'), '--proc', '/proc', '--tmpfs', '/tmp'];

t.test('with a private pid namespace, the members share it: distinct pids, each sees the others', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const first = sandboxAsync([...PRIVATE_PID, '--join', 'p', '--', 'sh', '-c', 'echo "$$ $(readlink /proc/self/ns/pid)"; sleep 2'], { env });
  let line = '';
  await new Promise((res) => first.stdout.once('data', (d) => { line = String(d).trim(); res(); }));
  const [firstPid, firstNs] = line.split(' ');
  const second = await run([...PRIVATE_PID, '--join', 'p', '--', 'sh', '-c', `echo "$$ $(readlink /proc/self/ns/pid)"; test -d /proc/${firstPid} && echo sees-first`], env);
  t.equal(second.code, 0, second.err);
  const [pid2, ns2, sees] = second.out.trim().split(/\s+/);
  t.equal(ns2, firstNs, 'one pid namespace');
  t.not(pid2, firstPid, 'distinct pids');
  t.equal(sees, 'sees-first', 'the second sees the first\'s program');
  t.not(firstNs, await run([...BASE, '--', 'readlink', '/proc/self/ns/pid'], env).then((r) => r.out.trim()), 'and it is not the host\'s');
  first.kill('SIGKILL');
});

t.test('the first member ends after the last (its init is pid 1 of them all), with its own program\'s status', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const t0 = Date.now();
  const firstDone = run([...PRIVATE_PID, '--join', 'q', '--', 'sh', '-c', 'echo up; sleep 0.3; exit 3'], env).then((r) => ({ ...r, at: Date.now() - t0 }));
  await new Promise((r) => setTimeout(r, 150));
  const second = await run([...PRIVATE_PID, '--join', 'q', '--', 'sh', '-c', 'sleep 1.5; echo second-done'], env).then((r) => ({ ...r, at: Date.now() - t0 }));
  const first = await firstDone;
  t.equal(second.code, 0, second.err);
  t.equal(second.out, 'second-done\n', 'the second was not cut short when the first\'s program ended');
  t.equal(first.code, 3, 'the first\'s own status');
  t.ok(first.at >= second.at - 100, `the first ended after the second (${first.at} ms, ${second.at} ms)`);
  t.same(fs.readdirSync(path.join(runtime, 'sandbox', 'join')), [], 'nothing is left of the key');
});

t.test('killing the first member ends the shared pid namespace, and the other members with it', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const first = sandboxAsync([...PRIVATE_PID, '--join', 'r', '--', 'sh', '-c', 'echo up; sleep 30'], { env });
  await new Promise((res) => first.stdout.once('data', res));
  const t0 = Date.now();
  const second = run([...PRIVATE_PID, '--join', 'r', '--', 'sh', '-c', 'echo in; sleep 30'], env);
  await new Promise((r) => setTimeout(r, 500));
  first.kill('SIGKILL');
  const s = await second;
  t.equal(s.out, 'in\n');
  t.not(s.code, 0, `the second ended too (exit ${s.code})`);
  t.ok(Date.now() - t0 < 10000, 'at once, not after its sleep');
  const again = await run([...PRIVATE_PID, '--join', 'r', '--', 'true'], env);
  t.equal(again.code, 0, `the key is usable again (${again.err.trim()})`);
});

t.test('a later member (started by the first member\'s spawner) behaves as a sandbox of its own', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const first = sandboxAsync([...PRIVATE_PID, '--join', 's', '--', 'sh', '-c', 'echo up; sleep 30'], { env });
  t.teardown(() => first.kill('SIGKILL'));
  await new Promise((res) => first.stdout.once('data', res));
  const J = [...PRIVATE_PID, '--join', 's', '--'];
  const code = await run([...J, 'sh', '-c', 'exit 7'], env);
  t.equal(code.code, 7, 'its exit status');
  const missing = await run([...J, 'no-such-program-here'], env);
  t.equal(missing.code, 127);
  t.equal(missing.err, 'sandbox: no-such-program-here: command not found\n', 'its error, one line');
  const p = sandboxAsync([...J, 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done'], { env });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  await new Promise((res) => p.stdout.once('data', res));
  p.kill('SIGTERM');
  const termCode = await new Promise((res) => p.on('close', res));
  t.equal(out, 'ready\ngot-term\n', 'a signal to its sandbox reaches its program');
  t.equal(termCode, 5);
  const m = `sbx-joined-${process.pid}`;
  const q = sandboxAsync([...J, 'bash', '-c', `(exec -a ${m} sleep 100 &); echo ready; sleep 100`], { env });
  await new Promise((res) => q.stdout.once('data', res));
  const left = () => require('child_process').spawnSync('pgrep', ['-f', m], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  t.equal(left(), 1, 'its orphaned grandchild runs');
  q.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(left(), 0, 'kill -9 of its monitor ends its processes, orphans included');
  const stdin = require('child_process').spawnSync('sh', ['-c', `echo piped | ${require('../lib/harness').asUser(require('../lib/harness').SANDBOX, ['run', ...J, 'cat']).flat().map((a) => `'${a}'`).join(' ')}`], { env, encoding: 'utf8' });
  t.equal(stdin.stdout, 'piped\n', 'its stdin and stdout');
  first.kill('SIGKILL');
});

t.test('eight sandboxes with a private pid namespace started at once: one pid namespace, all run, nothing left', async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const runs = await Promise.all(Array.from({ length: 8 }, () => run([...PRIVATE_PID, '--join', 'race', '--', 'sh', '-c', 'echo "$(readlink /proc/self/ns/pid) $$"; sleep 1'], env)));
  for (const r of runs) t.equal(r.code, 0, r.err);
  const lines = runs.map((r) => r.out.trim().split(' '));
  t.equal(new Set(lines.map((l) => l[0])).size, 1, 'one pid namespace');
  t.equal(new Set(lines.map((l) => l[1])).size, 8, 'eight distinct pids');
  t.same(fs.readdirSync(path.join(runtime, 'sandbox', 'join')), [], 'nothing is left of the key');
});

t.test('a later member gets its own kept descriptors and none of the first member\'s', async (t) => {
  const runtime = runtimeDir();
  const secret = path.join(runtime, 'first-only');
  fs.writeFileSync(secret, 'first member\'s\n');
  const mine = path.join(runtime, 'second-only');
  fs.writeFileSync(mine, 'second member\'s\n');
  if (require('../lib/harness').IS_ROOT) for (const f of [secret, mine]) fs.chownSync(f, require('../lib/harness').TEST_UID, require('../lib/harness').TEST_GID);
  const fd5 = fs.openSync(secret, 'r');
  const first = sandboxAsync([...PRIVATE_PID, '--join', 'f', '--', 'sh', '-c', 'cat /proc/self/fd/5; sleep 30'], {
    env: cleanEnv({ XDG_RUNTIME_DIR: runtime, PMI_FD: '5' }), stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd5],
  });
  t.teardown(() => first.kill('SIGKILL'));
  let firstOut = '';
  await new Promise((res) => first.stdout.once('data', (d) => { firstOut = String(d); res(); }));
  t.equal(firstOut, 'first member\'s\n', 'the first member has its descriptor 5 (PMI_FD)');
  const noFd = await run([...PRIVATE_PID, '--join', 'f', '--', 'sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "'], cleanEnv({ XDG_RUNTIME_DIR: runtime }));
  t.equal(noFd.out, '0 1 2 3 ', `a later member without PMI_FD has only stdio (and ls's own directory): ${noFd.err}`);
  const fd7 = fs.openSync(mine, 'r');
  const p = sandboxAsync([...PRIVATE_PID, '--join', 'f', '--', 'cat', '/proc/self/fd/7'], {
    env: cleanEnv({ XDG_RUNTIME_DIR: runtime, PMI_FD: '7' }), stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', fd7],
  });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((res) => p.on('close', res));
  t.equal(code, 0);
  t.equal(out, 'second member\'s\n', 'a later member with PMI_FD=7 gets its own descriptor 7');
  fs.closeSync(fd5);
  fs.closeSync(fd7);
  first.kill('SIGKILL');
});

t.test('a later member keeps the CPUs, limits, umask and nice value its launcher gave it, not the first\'s', { skip: require('os').cpus().length < 2 && 'needs two CPUs' }, async (t) => {
  const runtime = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
  const J = [...PRIVATE_PID, '--join', 'g', '--'];
  const { SANDBOX: S, asUser: as } = require('../lib/harness');
  const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const line = (args) => as(S, ['run', ...args]).flat().map(quote).join(' ');
  const first = require('child_process').spawn('sh', ['-c', `taskset -c 0 ${line([...J, 'sh', '-c', 'echo up; sleep 30'])}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => first.kill('SIGKILL'));
  await new Promise((res) => first.stdout.once('data', res));
  const probe = 'echo "$(grep Cpus_allowed_list /proc/self/status | cut -f2) $(ulimit -n) $(umask) $(cut -d" " -f19 /proc/self/stat)"';
  const r = require('child_process').spawnSync('sh', ['-c', `ulimit -n 512; umask 027; taskset -c 1 nice -n 5 ${line([...J, 'sh', '-c', probe])}`], { env, encoding: 'utf8' });
  t.equal(r.stdout, '1 512 0027 5\n', `CPU 1, 512 descriptors, umask 027, nice 5 (${r.stderr.trim()})`);
  first.kill('SIGKILL');
});
