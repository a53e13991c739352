// Processes must not outlive the sandbox (issue 12, item 12). The program runs as the same user as the sandbox's
// init and monitor, so it goes after what they need to end it: their resource limits (a RLIMIT_NOFILE of 0 once kept
// the init from opening /proc, and a double-forked process survived), their priority and scheduling, and the init
// itself (stopped, killed). Then it leaves a double-forked `sleep 60 0.TAG` in a session of its own and a process that
// keeps forking and exiting. When the sandbox has ended, neither may run: with a pid namespace of its own (the
// kernel ends it with its init), with the host's (--share-pid: the init, a subreaper, ends them), and with the
// host's and no Landlock scopes (--join), where the program can kill the init and the monitor must end them.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { BASE, IS_ROOT, TEST_UID, TEST_GID, cannotLaunch, cleanEnv, have, sandbox, userTmpdir } = require('../lib/harness');
const { parse } = require('./lib/world');

const why = cannotLaunch() || (!have('python3') && 'python3 is missing') || (!have('cc') && 'cc is missing');
if (why) {
  t.skip(`processes outliving the sandbox: ${why}`);
  process.exit(0);
}

const PROBES = path.join(__dirname, 'probes');
const dir = userTmpdir('sbx-outlive-');
const probes = path.join(dir, 'probes');
const beats = path.join(dir, 'beats');
const runtime = path.join(dir, 'runtime');
for (const d of [probes, beats, runtime]) {
  fs.mkdirSync(d, { mode: 0o700 });
  if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
}
fs.chmodSync(probes, 0o755);
for (const f of ['_probe.py', 'outlive.py']) fs.copyFileSync(path.join(PROBES, f), path.join(probes, f));
fs.writeFileSync(path.join(probes, 'loosen-prlimit.json'), JSON.stringify({
  default: 'allow', rules: [], loosenBase: [{ item: 'prlimit-others', reason: 'test: the sandbox must end its processes even so' }],
}));
const cc = spawnSync('cc', ['-O1', '-Wall', '-o', path.join(probes, 'hopper'), path.join(PROBES, 'hopper.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`hopper.c did not compile: ${cc.stderr}`);
t.teardown(() => {
  for (const pid of leftovers()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

const TAGS = new Set();
/** Live (not zombie) processes of ours whose command line is `sleep 60 0.TAG` for a tag of this test. */
function leftovers(tag) {
  const found = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const mark = argv[0] === 'sleep' && argv[1] === '60' ? argv[2].replace(/^0\./, '') : null;
      if (!mark || !(tag ? mark === tag : TAGS.has(mark))) continue;
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${e}/status`, 'utf8'))[1];
      if (state !== 'Z' && state !== 'X') found.push(Number(e));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

function beatOf(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch { return null; }
}

const SANDBOXES = [
  { name: 'a pid namespace of its own', args: [] },
  { name: 'the host pid namespace (--share-pid)', args: ['--share-pid'] },
  // --join goes without the Landlock scopes: the program may signal the init, and the monitor takes over
  { name: 'the host pid namespace, joined (--share-pid --join)', args: ['--share-pid', '--join', `outlive-${process.pid}`], join: true },
  // with the base filter's prlimit-others loosened, the init's limits can be changed: its end must need no new
  // descriptor (RLIMIT_NOFILE 0), and when RLIMIT_CPU 0 kills it, the monitor must end what is left
  { name: 'the host pid namespace, prlimit-others loosened', args: ['--share-pid', '--seccomp', path.join(probes, 'loosen-prlimit.json')], loosened: true,
    modes: ['limits-nocpu', 'limits'] },
];

let n = 0;
for (const sb of SANDBOXES) {
  for (const mode of sb.modes ?? ['limits', 'kill']) {
    const what = { limits: 'the init\'s limits, priority and scheduling changed, then RLIMIT_CPU 0', 'limits-nocpu': 'the init\'s limits, priority and scheduling changed', kill: 'the init stopped and killed' }[mode];
    t.test(`${sb.name}, ${what}`, async (t) => {
      const tag = String(process.pid * 100 + n++);
      TAGS.add(tag);
      const beat = path.join(beats, `beat-${tag}`);
      const r = sandbox([...BASE, '--ro-bind', probes, probes, '--bind', beats, beats, ...sb.args, '--',
        'python3', path.join(probes, 'outlive.py'), mode, tag, beat, path.join(probes, 'hopper')],
      { env: cleanEnv({ XDG_RUNTIME_DIR: runtime }), timeout: 20000 });
      if (sb.join && r.status === 125 && /join/.test(r.stderr)) {
        t.skip(`--share-pid --join does not start here: ${r.stderr.trim()}`);
        return;
      }
      const got = parse(r.stdout);
      t.comment(`exit ${r.status}; ${r.stdout.trim().replace(/\n/g, ', ')}`);
      t.equal(got.left_behind, 'ok', `the program left its processes behind before it ended ${r.stderr}`);
      const limits = mode.startsWith('limits');
      if (limits && sb.loosened) {
        t.equal(got.prlimit_init_nofile, 'ok', 'prlimit(init, RLIMIT_NOFILE, 0) allowed (loosened)');
        t.equal(got.prlimit_monitor_nofile, 'ok', 'prlimit(monitor, RLIMIT_NOFILE, 0) allowed (loosened)');
      } else if (limits) {
        // the base filter's prlimit-others: the init's and the monitor's limits are theirs
        t.equal(got.prlimit_init_nofile, 'EPERM', 'prlimit(init, RLIMIT_NOFILE, 0) refused');
        t.equal(got.prlimit_init_cpu, 'EPERM', 'prlimit(init, RLIMIT_CPU, 0) refused');
        if (got.prlimit_monitor_nofile !== undefined) t.equal(got.prlimit_monitor_nofile, 'EPERM', 'prlimit(monitor, RLIMIT_NOFILE, 0) refused');
      }
      if (limits) {
        if (sb.args.includes('--share-pid')) {
          t.equal(got.renice_init, 'EPERM', 'setpriority on the init refused (host pid namespace)');
          t.equal(got.sched_idle_init, 'EPERM', 'sched_setscheduler on the init refused (host pid namespace)');
        }
      }
      t.same(leftovers(tag), [], `no \`sleep 60 0.${tag}\` runs once the sandbox has ended`);
      const before = beatOf(beat);
      t.not(before, null, 'the forking process had started');
      await new Promise((res) => setTimeout(res, 700));
      t.equal(beatOf(beat), before, 'the forking process no longer forks once the sandbox has ended');
    });
  }
}
