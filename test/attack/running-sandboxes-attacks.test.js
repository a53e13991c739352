// Attacks on the registry of running sandboxes (`sandbox ps`, `enter`, `stop`) from inside a sandbox. The registry
// directory is covered in every sandbox where a bind shows it at its host path, but a bind of the directory itself
// (or of any directory below the state directory) at another path shows it, writable. From there a sandboxed
// program can forge entries: a listener posing as a monitor, which `sandbox enter` hands the caller's stdio to, and
// an entry naming a host process of the user's, which `sandbox stop` then kills though the program itself can't
// signal it. Each test asserts what must hold: they fail while the registry can be reached that way.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { BASE, IS_ROOT, SANDBOX, TEST_UID, TEST_GID, asUser, cannotLaunch, cleanEnv, have, sandboxAsync, sandboxCli, userTmpdir } = require('../lib/harness');

const why = cannotLaunch() || (!have('cc') && 'cc is missing');
if (why) {
  t.skip(`attacks on running sandboxes: ${why}`);
  process.exit(0);
}

const dir = userTmpdir('sbx-running-attack-');
const rt = path.join(dir, 'runtime');
fs.mkdirSync(rt, { mode: 0o700 });
if (IS_ROOT) fs.chownSync(rt, TEST_UID, TEST_GID);
const forged = path.join(dir, 'forged_monitor');
const cc = spawnSync('cc', ['-O1', '-Wall', '-o', forged, path.join(__dirname, 'probes', 'forged_monitor.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`forged_monitor.c did not compile: ${cc.stderr}`);
fs.chmodSync(forged, 0o755);
const env = cleanEnv({ XDG_RUNTIME_DIR: rt });
const registry = path.join(rt, 'sandbox', 'running');

const started = [];
t.teardown(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 15000) {
  for (const end = Date.now() + ms; ;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A sandbox of the test user's, started in the background; its output is collected. */
function launch(args) {
  const p = sandboxAsync(args, { env });
  started.push(p);
  p.out = '';
  p.err = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.err += d; });
  p.ended = new Promise((resolve) => p.on('close', (code) => resolve(code)));
  return p;
}

async function end(p) {
  if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
  await p.ended;
}

/** The registry made by a first named sandbox, so that there is a directory (and an entry) to bind. */
async function withRegistry() {
  const owner = launch([...BASE, '--name', 'owner', '--', 'sleep', '30']);
  await waitFor('the owner sandbox\'s entry', () => fs.existsSync(path.join(registry, 'owner.sock')));
  return owner;
}

t.test('a bind of the registry directory at another path shows it read-only (the user asked for it; nothing can be forged there)', async (t) => {
  const owner = await withRegistry();
  const r = sandboxCli(['run', ...BASE, '--tmpfs', '/mnt', '--bind', registry, '/mnt/reg', '--', 'sh', '-c', 'ls -A /mnt/reg; touch /mnt/reg/planted.json && echo planted'], { env });
  t.ok(r.status === 125 || !/planted/.test(r.stdout),
    `the registry is refused, covered or read-only (exit ${r.status}, saw: ${JSON.stringify(r.stdout.trim())})`);
  t.notOk(fs.existsSync(path.join(registry, 'planted.json')), 'no entry planted in the registry');
  fs.rmSync(path.join(registry, 'planted.json'), { force: true });
  await end(owner);
});

t.test('a sandboxed listener posing as a monitor gets nothing from sandbox enter', async (t) => {
  const owner = await withRegistry();
  const attacker = launch([...BASE, '--name', 'attacker', '--share-pid', '--tmpfs', '/mnt', '--bind', registry, '/mnt/reg', '--', forged, '/mnt/reg', 'forged']);
  await waitFor('the forged listener', () => /forged: listening|exited|error/i.test(attacker.err) || attacker.exitCode !== null, 15000);
  const out = path.join(dir, 'enter-stdout');
  fs.writeFileSync(out, '');
  if (IS_ROOT) fs.chownSync(out, TEST_UID, TEST_GID);
  const [cmd, argv] = asUser('sh', ['-c', `exec "$0" enter forged -- true > "$1"`, SANDBOX, out]);
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', timeout: 20000 });
  const written = fs.readFileSync(out, 'utf8');
  t.notMatch(written, /FORGED/, 'the sandboxed program did not get the caller\'s stdout');
  t.not(r.status, 0, `enter refuses a listener that is not a monitor outside every sandbox (exit ${r.status}, ${r.stderr.trim()})`);
  await Promise.race([attacker.ended, sleep(3000)]);
  t.notMatch(attacker.err, /got the client's fd/, `the forged listener got no descriptors (${attacker.err.trim()})`);
  await end(attacker);
  await end(owner);
});

t.test('sandbox stop signals no host process a sandboxed program named in a forged entry', async (t) => {
  const owner = await withRegistry();
  // a process of the user's outside every sandbox, which the program itself can't signal
  const [cmd, argv] = asUser('sleep', ['60']);
  const host = spawn(cmd, argv, { stdio: 'ignore' });
  started.push(host);
  const hostEnded = new Promise((resolve) => host.on('exit', (code, signal) => resolve(signal || code)));
  await waitFor('the host process', () => { try { return fs.readFileSync(`/proc/${host.pid}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; } });
  const script = `st=$(sed 's/.*) //' /proc/${host.pid}/stat | cut -d' ' -f20)
kill -0 ${host.pid} 2>/dev/null && echo direct-signal-allowed
printf '{"version":1,"name":"build","pid":${host.pid},"start":"%s","profile":"none","command":["make"],"started":1,"cgroup":null,"enter":true}' "$st" > /mnt/reg/build.json`;
  const r = sandboxCli(['run', ...BASE, '--share-pid', '--tmpfs', '/mnt', '--bind', registry, '/mnt/reg', '--', 'sh', '-c', script], { env });
  t.notMatch(r.stdout, /direct-signal-allowed/, 'the program itself can\'t signal the host process');
  const stop = sandboxCli(['stop', 'build', '--timeout', '1'], { env, timeout: 20000 });
  await sleep(300);
  t.same({ code: host.exitCode, signal: host.signalCode }, { code: null, signal: null },
    `the host process was not killed by sandbox stop (stop exit ${stop.status}: ${stop.stderr.trim()})`);
  fs.rmSync(path.join(registry, 'build.json'), { force: true });
  if (host.exitCode === null && host.signalCode === null) process.kill(host.pid, 'SIGKILL');
  await hostEnded;
  await end(owner);
});
