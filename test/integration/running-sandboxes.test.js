// Running sandboxes you can see and handle: --name and what ps shows of each process, `sandbox ps` (and the
// registry behind it, which no sandbox can read or forge), `sandbox enter` (exactly the program's confinement)
// and `sandbox stop` (SIGTERM, then everything killed after the grace period, cleanup as at any end).
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { ROOT, BASE, RUN_UID, IS_ROOT, asUser, sandboxAsync, sandboxCli, userTmpdir, cannotLaunch, cleanEnv } = require('../lib/harness');

const LANDLOCK_ABI = Number((/^landlock_abi=(-?\d+)/m.exec(spawnSync(path.join(ROOT, 'native', 'build', 'sandbox-probe'), [], { encoding: 'utf8' }).stdout || '') || [])[1] ?? -1);

const why = cannotLaunch();
if (why) {
  t.skip(`running sandboxes: ${why}`);
  process.exit(0);
}

/** A runtime directory of the test user's own (the registry's base), mode 0700 as a real one is. */
function runtimeDir() {
  const d = userTmpdir('sbx-running-');
  fs.chmodSync(d, 0o700);
  return d;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Start a named sandbox; resolves once its registry entry and enter socket are there, with the run's end. */
async function start(rt, name, args, command) {
  const env = cleanEnv({ XDG_RUNTIME_DIR: rt });
  const p = sandboxAsync([...BASE, '--name', name, ...args, '--', ...command], { env });
  let err = '';
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const ended = new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, out, err })));
  const dir = path.join(rt, 'sandbox', 'running');
  const entry = await waitFor(`${name}'s entry`, () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
    } catch {
      return null;
    }
  });
  // a sandbox that can be entered has its socket once its monitor runs; the others: once the stage has its title
  const titled = () => { try { return fs.readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').startsWith(`sandbox: ${name} `); } catch { return false; } };
  await waitFor(`${name}'s monitor`, () => (entry.enter ? fs.existsSync(path.join(dir, `${name}.sock`)) : titled()));
  return { env, entry, ended, dir };
}

const cli = (env, args, opts = {}) => sandboxCli(args, { env, ...opts });

function children(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const STATUS_KEYS = /^(Seccomp|Seccomp_filters|CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs|Uid|Gid):/;
const statusLines = (text) => text.split('\n').filter((l) => STATUS_KEYS.test(l)).join('\n');

t.test('--name: the monitor and the init say what they are in ps and /proc/PID/comm', async (t) => {
  const rt = runtimeDir();
  const s = await start(rt, 'titled', [], ['sleep', '30']);
  const pid = s.entry.pid;
  t.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sandbox:titled');
  t.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, ''), 'sandbox: titled [none]');
  const init = await waitFor('the init', () => children(pid)[0]);
  t.equal(fs.readFileSync(`/proc/${init}/comm`, 'utf8').trim(), 'init:titled');
  t.equal(fs.readFileSync(`/proc/${init}/cmdline`, 'utf8').replace(/\0+$/, ''), 'sandbox: titled [none] init');
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  if (ps.status === 0) t.equal(ps.stdout.trim(), 'sandbox: titled [none]', 'ps shows the title alone');
  t.equal(cli(s.env, ['stop', 'titled']).status, 0);
  t.equal((await s.ended).code, 143, 'the run ends as its program did: SIGTERM');
});

t.test('default name: the program\'s base name and a short id; a name in use is refused', async (t) => {
  const rt = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: rt });
  const p = sandboxAsync([...BASE, '--', '/bin/sleep', '30'], { env });
  const dir = path.join(rt, 'sandbox', 'running');
  const file = await waitFor('an entry', () => fs.existsSync(dir) && fs.readdirSync(dir).find((f) => f.endsWith('.json')));
  t.match(file, /^sleep-[0-9a-f]{4}\.json$/);
  const name = file.slice(0, -5);
  const dup = cli(env, ['run', ...BASE, '--name', name, '--', 'true']);
  t.equal(dup.status, 125);
  t.equal(dup.stderr.trim().split('\n').length, 1, dup.stderr);
  t.match(dup.stderr, new RegExp(`--name ${name}: a sandbox of that name is running`));
  const bad = cli(env, ['run', ...BASE, '--name', '1234', '--', 'true']);
  t.equal(bad.status, 125);
  t.match(bad.stderr, /^sandbox: --name 1234: a name is/);
  t.equal(cli(env, ['stop', name]).status, 0);
  await new Promise((r) => p.on('close', r));
});

t.test('ps lists the caller\'s sandboxes; one killed with -9 disappears and leaves nothing', async (t) => {
  const rt = runtimeDir();
  const a = await start(rt, 'alpha', [], ['sleep', '30']);
  const b = await start(rt, 'beta', ['--chdir', '/tmp'], ['sh', '-c', 'sleep 30']);
  const table = cli(a.env, ['ps']);
  t.equal(table.status, 0, table.stderr);
  // other tests' sandboxes of the same user may be running (ps also reads /tmp/sandbox-UID): look at ours
  const lines = table.stdout.trim().split('\n').filter((l, i) => i === 0 || /^(alpha|beta)\s/.test(l));
  t.match(lines[0], /^NAME\s+PID\s+PROFILE\s+STARTED\s+UPTIME\s+MEM\s+CPU\s+PIDS\s+COMMAND$/);
  t.match(lines[1], new RegExp(`^alpha\\s+${a.entry.pid}\\s+none\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\d+s\\s+-\\s+-\\s+-\\s+sleep 30$`));
  t.match(lines[2], /^beta\s.*sh -c 'sleep 30'$/);
  const ours = (rows) => rows.filter((r) => ['alpha', 'beta'].includes(r.name));
  const json = ours(JSON.parse(cli(a.env, ['ps', '--json']).stdout));
  t.same(json.map((r) => r.name), ['alpha', 'beta']);
  t.same(Object.keys(json[0]).sort(), ['cgroup', 'command', 'name', 'pid', 'profile', 'started', 'uptimeSeconds', 'usage']);
  t.same(json[0].usage, { memoryCurrent: null, cpuUsageUsec: null, pidsCurrent: null }, 'no limits: no cgroup leaf to read');

  // an entry naming another user's process (pid 1, its real start time) is not the caller's: not listed, removed
  const stat = fs.readFileSync('/proc/1/stat', 'utf8');
  const forged = { version: 1, name: 'forged', pid: 1, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19], profile: 'x', command: ['x'], started: Date.now(), cgroup: null, enter: true };
  fs.writeFileSync(path.join(a.dir, 'forged.json'), JSON.stringify(forged), { mode: 0o600 });
  if (IS_ROOT) fs.chownSync(path.join(a.dir, 'forged.json'), RUN_UID, RUN_UID);
  t.notMatch(cli(a.env, ['ps']).stdout, /forged/);
  t.notOk(fs.existsSync(path.join(a.dir, 'forged.json')), 'the entry of a process that is not ours is removed');

  process.kill(a.entry.pid, 'SIGKILL');
  await a.ended;
  const after = cli(a.env, ['ps', '--json']);
  t.same(ours(JSON.parse(after.stdout)).map((r) => r.name), ['beta']);
  t.same(fs.readdirSync(a.dir).filter((f) => f.startsWith('alpha')), [], 'no entry or socket of the killed one is left');
  t.equal(cli(b.env, ['stop', 'beta']).status, 0);
  await b.ended;
  t.same(fs.readdirSync(b.dir), [], 'a normal end removes its entry and socket');
});

t.test('enter: the program\'s namespaces, ids, capabilities, no_new_privs, filter, environment and cwd', async (t) => {
  const rt = runtimeDir();
  const work = userTmpdir('sbx-enter-');
  const out = path.join(work, 'program');
  // the program records what it is; enter must be the same
  const script = `{ cat /proc/self/status; echo ==; readlink /proc/self/ns/user /proc/self/ns/mnt /proc/self/ns/pid /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/cgroup; echo ==; pwd; echo ==; env | grep -v -E '^(PWD|SHLVL|_|OLDPWD)=' | sort; } > ${out}.tmp; mv ${out}.tmp ${out}; sleep 30`;
  const s = await start(rt, 'inside', ['--bind', work, work, '--chdir', '/usr', '--setenv', 'MARK', 'set-by-run', '--unsetenv', 'LANG'], ['sh', '-c', script]);
  await waitFor('the program\'s record', () => fs.existsSync(out));
  const e = cli(s.env, ['enter', 'inside', '--', 'sh', '-c', script.replace(/ ; sleep 30$|; sleep 30$/, '').replace(new RegExp(out, 'g'), `${out}-enter`)]);
  t.equal(e.status, 0, e.stderr);
  const [pStatus, pNs, pCwd, pEnv] = fs.readFileSync(out, 'utf8').split('==\n');
  const [eStatus, eNs, eCwd, eEnv] = fs.readFileSync(`${out}-enter`, 'utf8').split('==\n');
  t.equal(statusLines(eStatus), statusLines(pStatus), 'Seccomp, Seccomp_filters, capabilities, NoNewPrivs, ids');
  t.match(pStatus, /^Seccomp:\s+2$/m);
  t.match(pStatus, /^NoNewPrivs:\s+1$/m);
  t.match(pStatus, /^CapEff:\s+0+$/m);
  t.equal(eNs, pNs, 'the same namespaces');
  t.equal(eCwd.trim(), '/usr');
  t.equal(eCwd, pCwd);
  t.equal(eEnv, pEnv, 'the same environment');
  t.match(eEnv, /^MARK=set-by-run$/m);
  t.notMatch(eEnv, /^LANG=/m);

  // the exit status is the command's; a missing command is 127
  t.equal(cli(s.env, ['enter', 'inside', '--', 'sh', '-c', 'exit 7']).status, 7);
  const missing = cli(s.env, ['enter', 'inside', '--', 'no-such-command']);
  t.equal(missing.status, 127);
  t.match(missing.stderr, /no-such-command: command not found/);
  // by pid too, and the default is a shell, reading the caller's stdin
  const shell = cli(s.env, ['enter', String(s.entry.pid)], { input: 'echo from-the-shell $$\n' });
  t.equal(shell.status, 0, shell.stderr);
  t.match(shell.stdout, /^from-the-shell \d+$/m);
  // an entered process sees the program (one pid namespace) but has a Landlock domain of its own, with the same
  // scopes: where the kernel has them, neither can signal the other
  const kill = cli(s.env, ['enter', 'inside', '--', 'sh', '-c', 'ps -o comm= -p 1,2; kill -0 2 2>/dev/null; echo kill=$?']);
  t.match(kill.stdout, /^init:inside\nsh\n/, 'the init is pid 1, the program pid 2');
  t.match(kill.stdout, LANDLOCK_ABI >= 6 ? /kill=1/ : /kill=[01]/);
  t.equal(cli(s.env, ['stop', 'inside']).status, 0);
  await s.ended;
});

t.test('enter reaches no more than the sandbox: files not bound, Landlock rules, the seccomp filter', async (t) => {
  const rt = runtimeDir();
  const secret = userTmpdir('sbx-secret-');
  fs.writeFileSync(path.join(secret, 'file'), 'secret\n');
  if (IS_ROOT) fs.chownSync(path.join(secret, 'file'), RUN_UID, RUN_UID);
  const shown = userTmpdir('sbx-shown-');
  const args = ['--tmpfs', secret, '--bind', shown, shown, '--landlock-ro', '/usr', '--landlock-ro', '/bin', '--landlock-ro', '/lib', '--landlock-ro', '/lib64', '--landlock-ro', '/etc', '--landlock-rw', '/proc', '--landlock-rw', '/dev'];
  const s = await start(rt, 'narrow', args, ['sleep', '30']);
  t.ok(fs.readFileSync(path.join(secret, 'file'), 'utf8'), 'the host file is there');
  const r = cli(s.env, ['enter', 'narrow', '--', 'sh', '-c', `cat ${secret}/file; echo cat=$?; touch ${shown}/x; echo touch=$?; unshare -U true; echo unshare=$?`]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /cat=1/, 'a host path the sandbox covers stays covered');
  t.match(r.stdout, /touch=1/, 'Landlock: a bound directory outside the rules is not writable');
  t.notOk(fs.existsSync(path.join(shown, 'x')));
  t.match(r.stdout, /unshare=1/, 'the filter refuses a new user namespace');
  t.equal(cli(s.env, ['stop', 'narrow']).status, 0);
  await s.ended;
});

t.test('a sandboxed program can\'t reach the registry: no reading, no forged entry, no entering', async (t) => {
  const rt = runtimeDir();
  const v = await start(rt, 'victim', [], ['sleep', '30']);
  const stage = path.join(ROOT, 'native', 'build', 'sandbox-stage');
  const dir = v.dir;
  const script = [
    `ls ${dir} 2>&1; echo ls=$?`,
    `echo '{}' > ${dir}/forged.json; echo write=$?`,
    `mkdir -p ${rt}/sandbox/running 2>&1; echo mkdir=$?`,
    `${stage} --enter ${dir} victim ${v.entry.pid} -- id; echo enter=$?`,
  ].join('; ');
  // the runtime directory bound writable, the checkout (and its stage and bin/sandbox) visible
  const r = cli(v.env, ['run', ...BASE, '--bind', rt, rt, '--', 'sh', '-c', script]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /ls=[12]/);
  t.notMatch(r.stdout, /victim/);
  t.match(r.stdout, /write=[12]/);
  t.match(r.stdout, /mkdir=1/);
  t.match(r.stdout, /enter=125/);
  t.notOk(fs.existsSync(path.join(dir, 'forged.json')));
  t.same(fs.readdirSync(dir).sort(), ['victim.json', 'victim.sock'], 'the registry is as it was');
  // where a sandbox does see the socket (the registry bound in by hand: nothing hides a bind of a directory below
  // it), its monitor refuses a client from inside any sandbox
  const shown = cli(v.env, ['run', ...BASE, '--share-pid', '--ro-bind', dir, '/mnt', '--', stage, '--enter', '/mnt', 'victim', String(v.entry.pid), '--', 'id']);
  t.equal(shown.status, 125, shown.stderr);
  // the client refuses a monitor outside its own user namespace, and the monitor a client inside any sandbox
  t.match(shown.stderr, /^sandbox: victim: (refused: sandbox enter works only from outside every sandbox|its socket is not served by the sandbox's monitor \(pid \d+\))$/m);
  t.notMatch(shown.stdout, /uid=/);
  // `sandbox enter` run inside another sandbox finds nothing of the host's
  const inner = cli(v.env, ['run', ...BASE, '--bind', rt, rt, '--', path.join(ROOT, 'bin', 'sandbox'), 'enter', 'victim']);
  t.equal(inner.status, 125, inner.stderr);
  t.equal(cli(v.env, ['stop', 'victim']).status, 0);
  await v.ended;
});

t.test('stop: SIGTERM first, everything killed after --timeout, the monitor cleans up and exits as usual', async (t) => {
  const rt = runtimeDir();
  const s = await start(rt, 'stubborn', [], ['sh', '-c', 'trap "" TERM; sleep 60 & sleep 60 & wait; wait; sleep 60']);
  const init = await waitFor('the init', () => children(s.entry.pid)[0]);
  const t0 = Date.now();
  const r = cli(s.env, ['stop', '--timeout', '1', 'stubborn']);
  t.equal(r.status, 0, r.stderr);
  t.ok(Date.now() - t0 >= 900, 'waited for the grace period');
  const end = await s.ended;
  t.equal(end.code, 137, 'the monitor reports the program killed by SIGKILL');
  t.notOk(fs.existsSync(`/proc/${init}`), 'the init is gone');
  t.same(fs.readdirSync(s.dir), [], 'the entry and socket are removed');
  // an entered shell goes with the sandbox
  const s2 = await start(rt, 'with-guest', [], ['sleep', '60']);
  const guest = spawn(...asUser(path.join(ROOT, 'bin', 'sandbox'), ['enter', 'with-guest', '--', 'sleep', '60']), { env: s2.env, stdio: 'ignore' });
  const guestEnd = new Promise((r) => guest.on('close', (code) => r(code)));
  await sleep(500);
  t.equal(cli(s2.env, ['stop', 'with-guest']).status, 0);
  t.equal((await s2.ended).code, 143);
  t.not(await guestEnd, 0, 'the entered command ended with the sandbox');
});

t.test('stop of a --join member: its membership given up, the others go on', async (t) => {
  const rt = runtimeDir();
  const J = ['--tmpfs', '/tmp', '--join', 'stopkey'];
  const members = () => fs.readFileSync(path.join(rt, 'sandbox', 'join', 'stopkey', 'members'), 'utf8').split('\n').filter((l) => l.startsWith('member ')).map((l) => Number(l.split(' ')[1]));
  const first = await start(rt, 'first', J, ['sleep', '30']);
  const second = await start(rt, 'second', J, ['sh', '-c', 'trap "" TERM; sleep 30; sleep 30']);
  await waitFor('two members', () => members().length === 2);
  t.equal(cli(second.env, ['stop', '--timeout', '1', 'second']).status, 0);
  t.equal((await second.ended).code, 137, 'killed after the grace period');
  t.same(members(), [first.entry.pid], 'only the first member is left');
  t.ok(fs.existsSync(`/proc/${first.entry.pid}`), 'the first member goes on');
  t.equal(cli(first.env, ['stop', 'first']).status, 0);
  t.equal((await first.ended).code, 143);
  t.notOk(fs.existsSync(path.join(rt, 'sandbox', 'join', 'stopkey')), 'the key\'s state is gone with its last member');
  t.same(fs.readdirSync(first.dir), []);
});

t.test('a registry directory open to others: unnamed runs go on unregistered, --name is refused', async (t) => {
  const rt = runtimeDir();
  const dir = path.join(rt, 'sandbox', 'running');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(rt, 'sandbox'), 0o700);
  fs.chmodSync(dir, 0o755);
  if (IS_ROOT) for (const d of [path.join(rt, 'sandbox'), dir]) fs.chownSync(d, RUN_UID, RUN_UID);
  const env = cleanEnv({ XDG_RUNTIME_DIR: rt });
  const plain = cli(env, ['run', ...BASE, '--', 'echo', 'ran']);
  t.equal(plain.status, 0, plain.stderr);
  t.equal(plain.stdout, 'ran\n');
  t.match(plain.stderr, /^sandbox: note: .*running: mode 755, open to others .*: this sandbox runs without a name/);
  const named = cli(env, ['run', ...BASE, '--name', 'x', '--', 'true']);
  t.equal(named.status, 125);
  t.match(named.stderr, /^sandbox: .*running: mode 755, open to others/);
  t.same(fs.readdirSync(dir), [], 'nothing written there');
});

t.test('bad input: one line, exit 125, nothing touched', async (t) => {
  const rt = runtimeDir();
  const s = await start(rt, 'keep', [], ['sleep', '30']);
  const other = spawn(...asUser('sleep', ['30']), { stdio: 'ignore' }); // the test user's, not a sandbox
  await sleep(200);
  const cases = [
    [['enter', 'nosuch'], /^sandbox: nosuch: no running sandbox of yours has that name/],
    [['stop', 'nosuch'], /^sandbox: nosuch: no running sandbox of yours has that name/],
    [['stop', '1'], /^sandbox: pid 1: a process of uid 0, not yours/],
    [['enter', String(other.pid)], /not the monitor of a running sandbox of yours|a process of uid/],
    [['stop', '4194303'], /^sandbox: pid 4194303: no such process/],
    [['enter', '../x'], /^sandbox: \.\.\/x: not a sandbox name or pid/],
    [['stop', '--timeout', 'soon', 'keep'], /^sandbox: --timeout soon: not a number of seconds/],
    [['stop'], /^sandbox: no sandbox named/],
    [['ps', '--all'], /^sandbox: --all: unknown option/],
  ];
  for (const [args, re] of cases) {
    const r = cli(s.env, args);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, re, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
  t.ok(fs.existsSync(`/proc/${s.entry.pid}`), 'the sandbox still runs');
  t.ok(fs.existsSync(`/proc/${other.pid}`), 'the other process still runs');
  other.kill('SIGKILL');
  t.equal(cli(s.env, ['stop', 'keep']).status, 0);
  await s.ended;
});

t.test('bwrap mode registers nothing: no entry, no registry directory, not in ps', async (t) => {
  const rt = runtimeDir();
  const env = cleanEnv({ XDG_RUNTIME_DIR: rt });
  const { SANDBOX, ensureCheckoutReachable } = require('../lib/harness');
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(SANDBOX, ['bwrap', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'sh', '-c', 'echo up; sleep 2']);
  const p = spawn(cmd, argv, { cwd: '/tmp', env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const ended = new Promise((resolve) => p.on('close', (code) => resolve(code)));
  await waitFor('the bwrap-mode sandbox', () => out.includes('up'));
  t.same(fs.readdirSync(rt), [], 'nothing made in the runtime directory while it runs');
  const ps = cli(env, ['ps', '--json']);
  t.equal(ps.status, 0, ps.stderr);
  // the monitor is the process spawned here (setpriv, env, the launcher and Node exec in turn)
  t.same(JSON.parse(ps.stdout).filter((r) => r.pid === p.pid), [], 'sandbox ps does not list it');
  t.equal(await ended, 0);
});
