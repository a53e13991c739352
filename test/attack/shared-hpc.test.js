// What the `hpc` profile shares with the host, attacked from inside a rank as the unprivileged test user:
// the user's services in the host's /tmp (a tmux server, an ssh-agent), files in the host's /tmp and
// /dev/shm, MUNGE (job submission that runs outside any sandbox), and MPI_Comm_spawn under the mpirun line
// the README gives. test/attack/README.md ("Shared by hpc") lists each, by the id its test name starts with.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { ROOT, SANDBOX, sandbox, userTmpdir, cleanEnv, cannotLaunch, have, asUser, IS_ROOT, TEST_UID, TEST_GID, ensureCheckoutReachable } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`hpc's shared paths: ${why}`);
  process.exit(0);
}
ensureCheckoutReachable();

const work = userTmpdir('sbx-hpc-attack-'); // the job's directory (cwd)
const home = userTmpdir('sbx-hpc-home-');
t.teardown(() => [work, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A directory of the test user's in the host's /tmp itself (not under $TMPDIR), mode 0700 like tmux's. */
function hostTmpDir(prefix) {
  const d = fs.mkdtempSync(path.join('/tmp', prefix));
  fs.chmodSync(d, 0o700);
  if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** sh -c SCRIPT inside hpc, run from the job's directory. */
const inHpc = (script, env = {}, args = []) => sandbox(['--profile', 'hpc', ...args, '--', 'sh', '-c', script], { cwd: work, env: cleanEnv({ HOME: home, ...env }), timeout: 30000 });
/** A program as the test user, outside any sandbox. */
const outside = (cmd, args, env = {}) => {
  const [c, a] = asUser(cmd, args);
  // SHELL: tmux runs commands with it, and the test user's login shell is nologin
  return spawnSync(c, a, { encoding: 'utf8', env: cleanEnv({ HOME: home, SHELL: '/bin/sh', ...env }), timeout: 10000 });
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (r) => `exit ${r.status}: ${(r.stdout + r.stderr).trim().split('\n').slice(-4).join(' | ')}`;

t.test('hpc-tmux: a server of the user\'s in the host\'s /tmp runs nothing for a rank', { skip: !have('tmux') && 'tmux is missing (Debian package tmux)' }, async (t) => {
  const d = hostTmpDir('sbx-hpc-tmux-');
  const sock = path.join(d, 'default');
  const marker = path.join(d, 'ran-outside');
  const up = outside('tmux', ['-S', sock, 'new-session', '-d', '-s', 'victim', 'sleep 300']);
  t.teardown(() => outside('tmux', ['-S', sock, 'kill-server']));
  t.equal(up.status, 0, `the tmux server started outside (${show(up)})`);
  // the attack works outside: the same command from outside the sandbox runs touch
  const probe = outside('tmux', ['-S', sock, 'run-shell', `touch ${marker}.control`]);
  t.ok(probe.status === 0 && fs.existsSync(`${marker}.control`), `outside, run-shell runs the command as the user (control: ${show(probe)})`);
  const r = inHpc(`tmux -S ${sock} run-shell 'touch ${marker}'; echo "tmux exit $?"`);
  t.comment(`inside hpc: ${show(r)}`);
  t.match(r.stdout, /tmux exit [1-9]/, 'tmux can\'t reach the server from inside');
  await sleep(300);
  t.notOk(fs.existsSync(marker), 'no command ran outside');
});

t.test('hpc-ssh-agent: the user\'s agent socket in the host\'s /tmp is not reachable', { skip: !(have('ssh-agent') && have('ssh-add')) && 'ssh-agent or ssh-add is missing (Debian package openssh-client)' }, async (t) => {
  const d = hostTmpDir('sbx-hpc-ssh-');
  const sock = path.join(d, 'agent.sock');
  const [c, a] = asUser('ssh-agent', ['-D', '-a', sock]);
  const agent = spawn(c, a, { env: cleanEnv({ HOME: home }), stdio: 'ignore' });
  t.teardown(() => agent.exitCode === null && agent.kill('SIGTERM'));
  for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await sleep(100);
  // ssh-add -l: 1 "no identities" once it talks to an agent, 2 when it can't reach one
  const control = outside('ssh-add', ['-l'], { SSH_AUTH_SOCK: sock });
  t.equal(control.status, 1, `outside, ssh-add talks to the agent (control: ${show(control)})`);
  const r = inHpc(`SSH_AUTH_SOCK=${sock} ssh-add -l; echo "ssh-add exit $?"`);
  t.comment(`inside hpc: ${show(r)}`);
  t.match(r.stdout, /ssh-add exit 2/, 'ssh-add can\'t connect to the agent');
});

t.test('hpc-host-tmp: the host\'s /tmp and /dev/shm: other programs\' files are invisible (also with TMPDIR=/tmp, SLURM\'s default)', async (t) => {
  const d = hostTmpDir('sbx-hpc-secret-');
  fs.writeFileSync(path.join(d, 'secret'), 'host secret\n', { mode: 0o644 });
  if (IS_ROOT) fs.chownSync(path.join(d, 'secret'), TEST_UID, TEST_GID);
  const shm = `/dev/shm/sbx-hpc-attack-${process.pid}`;
  fs.writeFileSync(shm, 'segment\n', { mode: 0o600 });
  if (IS_ROOT) fs.chownSync(shm, TEST_UID, TEST_GID);
  t.teardown(() => fs.rmSync(shm, { force: true }));
  const script = `cat ${d}/secret 2>&1; cat ${shm} 2>&1; echo "listing: $(ls -A /tmp | tr '\\n' ' ')"; echo done`;
  for (const env of [{}, { TMPDIR: '/tmp' }]) {
    const r = inHpc(script, env);
    const label = env.TMPDIR ? 'TMPDIR=/tmp' : 'TMPDIR unset';
    t.match(r.stdout, /done/, `${label}: ran (${show(r)})`);
    t.notMatch(r.stdout, /host secret/, `${label}: a file in the host's /tmp is not readable`);
    t.match(r.stdout, new RegExp(`${d}/secret: No such file`), `${label}: nor there at all`);
    t.match(r.stdout, new RegExp(`${shm}: No such file`), `${label}: a file in the host's /dev/shm is not there`);
    const listing = (/^listing: (.*)$/m.exec(r.stdout) || [])[1] ?? '';
    t.notMatch(listing, path.basename(d), `${label}: /tmp inside doesn't list the host's entries (${listing.trim()})`);
    if (fs.existsSync('/tmp/.X11-unix')) t.notMatch(listing, /\.X11-unix/, `${label}: no X11 socket directory`);
  }
  // started from /tmp itself, ${CWD} would bind all of it read-write: refused, in one line
  const fromTmp = sandbox(['--profile', 'hpc', '--', 'true'], { cwd: '/tmp', env: cleanEnv({ HOME: home }) });
  t.equal(fromTmp.status, 125, 'run from /tmp: refused');
  t.match(fromTmp.stderr, /^sandbox: \S+hpc\.json5:\d+:\d+: found "\$\{CWD\}" naming the host's shared \/tmp, expected a directory of its own \(run sandbox from a directory of its own, or use --no-profile\)\n$/, 'one line naming the profile entry');
});

t.test('hpc-munge: no /run/munge, no /etc/munge, no credential (so no sbatch that runs outside)', async (t) => {
  // Where the host has no /run/munge yet, it is made as test/hpc/slurm.js makes it (owned by munge, and left
  // there: a SLURM test running beside this one may be using it by then), so the test can fail
  if (!fs.existsSync('/run/munge') && IS_ROOT && spawnSync('id', ['munge']).status === 0) {
    fs.mkdirSync('/run/munge', { mode: 0o755 });
    const id = (f) => Number(spawnSync('id', [f, 'munge'], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync('/run/munge', id('-u'), id('-g'));
  }
  if (!fs.existsSync('/run/munge')) {
    t.skip('the host has no /run/munge and the test is not root');
    return;
  }
  const r = inHpc('ls -d /run/munge /etc/munge 2>&1; command -v munge >/dev/null && { munge -n >/dev/null 2>&1; echo "munge exit $?"; }; echo done');
  t.match(r.stdout, /done/, show(r));
  t.match(r.stdout, /\/run\/munge'?: No such file/, '/run/munge is not there');
  t.match(r.stdout, /\/etc\/munge'?: No such file/, '/etc/munge is not there');
  t.notMatch(r.stdout, /munge exit 0/, 'no MUNGE credential can be made inside');
  // A profile that wants job submission says so by name
  const sock = '/run/munge/munge.socket.2';
  if (!fs.existsSync(sock)) {
    t.comment(`sockets { munge: true } not tried: no munged on ${sock}`);
    return;
  }
  const prof = path.join(work, 'submit.json5');
  fs.writeFileSync(prof, '{ extends: "hpc", sockets: { munge: true } }\n', { mode: 0o644 });
  const s = sandbox(['--profile', prof, '--', 'sh', '-c', `test -S ${sock} && echo socket-there`], { cwd: work, env: cleanEnv({ HOME: home }) });
  t.match(s.stdout, /socket-there/, `sockets { munge: true } binds ${sock} (${show(s)})`);
});

// MPI_Comm_spawn, and a raw PMIx spawn with an environment of the rank's choosing, under the mpirun line of the
// README's HPC section: whatever a rank spawns must stay in a sandbox.
const mpiMissing = ['mpicc', 'mpirun'].filter((p) => !have(p));
const noMpi = mpiMissing.length > 0 && `${mpiMissing.join(', ')} missing (Debian packages openmpi-bin, libopenmpi-dev)`;
const pmixFlags = () => {
  const r = spawnSync('pkg-config', ['--cflags', '--libs', 'pmix'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(/\s+/) : null;
};

/** A C file of test/hpc compiled into the job directory, owned by the test user. */
function build(t, src, out, cc, flags = []) {
  const exe = path.join(work, out);
  const r = spawnSync(cc, ['-O1', '-o', exe, path.join(ROOT, 'test', 'hpc', src), ...flags], { encoding: 'utf8', timeout: 60000 });
  t.equal(r.status, 0, `${cc} ${src} (${(r.stderr || '').trim()})`);
  if (IS_ROOT) fs.chownSync(exe, TEST_UID, TEST_GID);
  return exe;
}

t.test('hpc-spawn: MPI_Comm_spawn under the README\'s mpirun line: the spawned process is sandboxed', { skip: noMpi }, async (t) => {
  const app = build(t, 'spawn-check.c', 'spawn-check', 'mpicc');
  const d = hostTmpDir('sbx-hpc-spawn-');
  const probe = path.join(d, 'host-file'); // on the host, not bound by hpc
  fs.writeFileSync(probe, 'x\n', { mode: 0o644 });
  fs.chmodSync(d, 0o755);

  const line = readmeMpirunLine();
  t.ok(line, `the README's HPC section has an mpirun line (${line})`);
  const r = await runAsUser(mpirunArgv(line, [app, probe]), 60000);
  t.comment(`${r.ms} ms: ${show(r)}`);
  const where = (who) => new RegExp(`^${who}: uid_map lines \\d+ \\[([^\\]]*)\\], Seccomp (\\d+), probe (\\w+)$`, 'm').exec(r.stdout);
  for (const who of ['parent', 'child']) {
    const m = where(who);
    t.ok(m, `${who} reported where it runs`);
    if (!m) continue;
    t.notMatch(m[1], /^\s*0\s+0\s+4294967295\s*$/, `${who}: not the host's user namespace (uid_map ${m[1].trim().replace(/\s+/g, ' ')})`);
    t.equal(m[2], '2', `${who}: under the sandbox's seccomp filter`);
    t.equal(m[3], 'absent', `${who}: the host file is not visible`);
  }
  t.match(r.stdout, /^parent: child said 42$/m, 'parent and child talked over the intercommunicator');
});

t.test('hpc-pmix-spawn: a hostile rank\'s PMIx spawn, with SANDBOX_NODE in its environment, runs nothing outside', { skip: noMpi || (!pmixFlags() && 'no pkg-config pmix (Debian package libpmix-dev)') }, async (t) => {
  const spawner = build(t, 'pmix-spawn.c', 'pmix-spawn', 'cc', pmixFlags());
  const d = hostTmpDir('sbx-hpc-evil-');
  fs.chmodSync(d, 0o777); // the planted program (in the job directory) marks here when it runs, wherever that is
  const marker = path.join(d, 'ran');
  const evil = path.join(work, 'evil-node');
  fs.writeFileSync(evil, `#!/bin/sh\necho "evil ran: $(grep Seccomp: /proc/self/status | tr -d '\\t ')"\necho x >> ${marker}\n`, { mode: 0o755 });
  if (IS_ROOT) fs.chownSync(evil, TEST_UID, TEST_GID);
  const report = 'echo "spawned: $(grep Seccomp: /proc/self/status | tr -d \'\\t \')"';

  // the README's form: mpirun in the sandbox, so the spawn happens inside it and no launcher reads that environment
  const line = readmeMpirunLine();
  const r = await runAsUser(mpirunArgv(line, [spawner, `SANDBOX_NODE=${evil}`, '/bin/sh', '-c', report]), 60000);
  t.comment(`README form, ${r.ms} ms: ${show(r)}`);
  t.match(r.stdout, /^spawn rc=0/m, 'the spawn was carried out');
  t.match(r.stdout, /^spawned: Seccomp:2$/m, 'the spawned process runs under the sandbox\'s seccomp filter');
  t.notMatch(r.stdout, /evil ran: Seccomp:0/, 'the planted program never ran outside');
  t.notOk(fs.existsSync(marker), 'no mark in the host\'s /tmp');

  // sandbox as Open MPI's fork agent: the spawn request's environment reaches the launcher, which runs outside
  fs.rmSync(marker, { force: true });
  const agent = await runAsUser(['mpirun', '--oversubscribe', '--mca', 'orte_fork_agent', `${SANDBOX} run --profile hpc`, '-np', '1',
    spawner, `SANDBOX_NODE=${evil}`, '/bin/sh', '-c', report], 60000);
  t.comment(`fork-agent form, ${agent.ms} ms: ${show(agent)}`);
  t.notMatch(agent.stdout, /evil ran: Seccomp:0/, 'fork agent: the planted program never ran outside',
    { todo: 'the launcher trusts its environment (SANDBOX_NODE, LD_PRELOAD), which a spawn request sets: README says this form is no boundary' });
  t.notOk(fs.existsSync(marker), 'fork agent: no mark in the host\'s /tmp', { todo: 'as above' });
});

/** The `mpirun` line of the README's "HPC" section's first code block. */
function readmeMpirunLine() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## HPC'));
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(section);
  return block ? block[1].split('\n').find((l) => /\bmpirun\s/.test(l)) : undefined;
}

/** Words of a shell line (double and single quotes only, which is all the README uses). */
function words(line) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The README line with this checkout's sandbox, one rank (with room for what it spawns) and this test's program. */
function mpirunArgv(line, program) {
  const w = words(line).map((x) => x.replace(/(^|\s)sandbox(?=\s|$)/g, `$1${SANDBOX}`));
  const np = w.indexOf('-np');
  if (np >= 0) w[np + 1] = '1';
  w.splice(w.indexOf('./app'), 1, ...program);
  w.splice(w.indexOf('mpirun') + 1, 0, '--oversubscribe');
  return w;
}

function runAsUser(argv, timeout) {
  const [cmd, args] = asUser(argv[0], argv.slice(1));
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: work, env: cleanEnv({ HOME: home }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (x) => (stdout += x));
    child.stderr.on('data', (x) => (stderr += x));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

t.test('every attack here is in test/attack/README.md', async (t) => {
  const readme = fs.readFileSync(path.join(__dirname, 'README.md'), 'utf8');
  for (const id of ['hpc-tmux', 'hpc-ssh-agent', 'hpc-host-tmp', 'hpc-munge', 'hpc-spawn', 'hpc-pmix-spawn']) t.match(readme, `| \`${id}\` |`, id);
});
