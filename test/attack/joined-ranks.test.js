// Joined hpc ranks (issue 12 items 7 and 11): every rank of a PMIx job joins the job's namespaces, a private pid
// namespace included, so a rank can name the other ranks (Open MPI's shared memory and single-copy CMA need that)
// and no process outside: not to signal it, prlimit it, renice it, change its scheduling or oom_score_adj, or see
// its /proc entry. The hpc profile shares the host network, so abstract unix sockets outside are refused only by
// the Landlock scope: all members run in the first member's Landlock domain, which keeps CMA between them working.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { sandboxAsync, userTmpdir, cleanEnv, cannotLaunch, have, asUser, ensureCheckoutReachable, ROOT } = require('../lib/harness');
const LANDLOCK_ABI = Number((/^landlock_abi=(-?\d+)/m.exec(require('child_process').spawnSync(path.join(ROOT, 'native', 'build', 'sandbox-probe'), [], { encoding: 'utf8' }).stdout || '') || [])[1] ?? -1);

const why = cannotLaunch() || (!have('python3') && 'python3 is missing');
if (why) {
  t.skip(`joined ranks: ${why}`);
  process.exit(0);
}

function collect(p) {
  p.out = '';
  p.err = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.err += d; });
  p.done = new Promise((res) => p.on('close', (code) => res(code)));
  return p;
}
const firstLine = async (p) => {
  for (let i = 0; i < 300 && !p.out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
  return p.out.split('\n')[0];
};
function outside(cmd, args) {
  ensureCheckoutReachable();
  const [c, a] = asUser(cmd, args);
  return collect(spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

const project = userTmpdir('sbx-ranks-');
const runtime = userTmpdir('sbx-ranks-rt-');
fs.chmodSync(runtime, 0o700);
const probes = path.join(__dirname, 'probes');
const abstractName = `sbx-ranks-${process.pid}`;
const env = cleanEnv({ HOME: project, XDG_RUNTIME_DIR: runtime, PMIX_NAMESPACE: `job${process.pid}`, PMIX_RANK: '0' });
const RANK = ['--profile', 'hpc', '--ro-bind', probes, '/attack', '--'];
t.teardown(() => [project, runtime].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

t.test('a joined hpc rank reaches the other rank, and no host process', async (t) => {
  const sleeper = outside('sh', ['-c', 'echo $$; exec sleep 300']);
  const listener = outside('python3', ['-c', [
    'import socket', 's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)', `s.bind(b"\\0${abstractName}")`, 's.listen(8)',
    'print("ready", flush=True)', 'while True:', '    c, _ = s.accept()', '    c.close()',
  ].join('\n')]);
  t.teardown(() => { sleeper.kill('SIGKILL'); listener.kill('SIGKILL'); });
  const hostPid = Number(await firstLine(sleeper));
  await firstLine(listener);
  const rank0 = collect(sandboxAsync([...RANK, 'sh', '-c', 'echo $$; exec sleep 30'], { cwd: project, env }));
  t.teardown(() => rank0.kill('SIGKILL'));
  const peer = Number(await firstLine(rank0));
  t.ok(peer > 0, `rank 0 runs (pid ${peer} in the job's pid namespace; ${rank0.err.trim()})`);
  const rank1 = collect(sandboxAsync([...RANK, 'python3', '/attack/joined_rank.py', String(hostPid), abstractName, String(peer)], { cwd: project, env: { ...env, PMIX_RANK: '1' } }));
  const code = await rank1.done;
  t.equal(code, 0, rank1.err);
  const got = Object.fromEntries(rank1.out.trim().split('\n').map((l) => l.split(' ')));
  for (const k of ['kill_host', 'kill_host_probe', 'setpriority_host', 'sched_setscheduler_host'])
    t.equal(got[k], 'ESRCH', `${k}: the host pid names nothing here`);
  // the base filter's prlimit-others answers before the kernel looks the pid up
  t.equal(got.prlimit_host, 'EPERM', 'prlimit_host: refused by the base filter (prlimit with a new limit on any pid but 0)');
  t.equal(got.oom_score_adj_host, 'ENOENT', '/proc/HOSTPID/oom_score_adj: not there');
  t.equal(got.proc_host, 'ENOENT', '/proc/HOSTPID: invisible');
  t.equal(got.kill_peer_probe, 'ok', 'the other rank can be named');
  t.equal(got.process_vm_readv_peer, 'ok', 'and read with process_vm_readv (single-copy CMA)');
  if (LANDLOCK_ABI >= 6) t.equal(got.abstract_host, 'EPERM', 'abstract socket outside: refused (the Landlock scope of the members\' one domain)');
  else t.equal(got.abstract_host, 'ok', `abstract socket outside: reachable (Landlock ABI ${LANDLOCK_ABI}: no scopes before Linux 6.12)`);
  t.ok(fs.existsSync(`/proc/${hostPid}`), 'the host process still runs');
  const st = fs.readFileSync(`/proc/${hostPid}/stat`, 'utf8').split(')')[1].trim().split(' ');
  t.equal(st[16], '0', 'its nice value unchanged');
  const lim = fs.readFileSync(`/proc/${hostPid}/limits`, 'utf8');
  t.match(lim, /Max cpu time\s+unlimited/, 'its CPU limit unchanged');
  rank0.kill('SIGKILL');
  await rank0.done;
});
