// A sandbox in the host's pid namespace (--share-pid) must not reach the user's host processes without signals
// either (issue 12, item 11): their resource limits (RLIMIT_CPU 0 killed one), priority, I/O priority, scheduling
// policy, and the per-process files of the host's /proc (oom_score_adj, coredump_filter, autogroup). The calls on
// the caller itself that ordinary programs make (nice, ionice, setrlimit, binding a thread to a CPU) keep working.
// sched_setaffinity on another pid is left allowed (OpenMP and MPI bind threads by thread id): see the README.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { BASE, IS_ROOT, TEST_UID, TEST_GID, asUser, cannotLaunch, cleanEnv, have, sandbox, userTmpdir } = require('../lib/harness');
const { parse } = require('./lib/world');

const why = cannotLaunch() || (!have('python3') && 'python3 is missing') || (!have('setsid') && 'setsid is missing');
if (why) {
  t.skip(`host processes from --share-pid: ${why}`);
  process.exit(0);
}

const PROBES = path.join(__dirname, 'probes');
const probes = userTmpdir('sbx-sharedpid-');
for (const f of ['_probe.py', 'host_reach.py']) {
  fs.copyFileSync(path.join(PROBES, f), path.join(probes, f));
  if (IS_ROOT) fs.chownSync(path.join(probes, f), TEST_UID, TEST_GID);
}

// a host process of the test user, in a session (and autogroup) of its own
const [cmd, args] = asUser('setsid', ['sleep', '300']);
const outside = spawn(cmd, args, { stdio: 'ignore' });
t.teardown(() => {
  outside.kill('SIGKILL');
  fs.rmSync(probes, { recursive: true, force: true });
});

/** What the host process's /proc says about the things the probe goes after. */
function looks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const read = (f) => { try { return fs.readFileSync(`/proc/${pid}/${f}`, 'utf8').trim(); } catch { return null; } };
  return {
    state: stat[0], nice: stat[16], policy: stat[38], oom_score_adj: read('oom_score_adj'), coredump_filter: read('coredump_filter'),
    autogroup: read('autogroup'), cpuLimit: /^Max cpu time\s+(\S+)/m.exec(read('limits') || '')?.[1],
  };
}

t.test('calls on a host process of the same user are refused; the same calls on oneself work', async (t) => {
  await new Promise((res) => setTimeout(res, 200)); // setpriv and env have exec'd sleep
  const before = looks(outside.pid);
  const r = sandbox([...BASE, '--share-pid', '--ro-bind', probes, probes, '--', 'python3', path.join(probes, 'host_reach.py'), String(outside.pid)],
    { env: cleanEnv() });
  t.equal(r.status, 0, `the probe ran to its end ${r.stderr}`);
  const got = parse(r.stdout);
  t.comment(r.stdout.trim().replace(/\n/g, ', '));
  t.same({
    prlimit_cpu: got.prlimit_cpu, setpriority: got.setpriority, setpriority_pgrp: got.setpriority_pgrp,
    sched_setscheduler: got.sched_setscheduler, sched_setparam: got.sched_setparam, sched_setattr: got.sched_setattr, ioprio_set: got.ioprio_set,
  }, {
    prlimit_cpu: 'EPERM', setpriority: 'EPERM', setpriority_pgrp: 'EPERM',
    sched_setscheduler: 'EPERM', sched_setparam: 'EPERM', sched_setattr: 'EPERM', ioprio_set: 'EPERM',
  }, 'the base filter refuses them for any pid but 0 (prlimit-others, priority-others, scheduler-others)');
  t.equal(got.prlimit_read, 'ok', 'reading its limits is allowed (nothing changes)');
  t.equal(got.oom_score_adj, 'EROFS', 'its oom_score_adj: the host\'s /proc is read-only inside');
  t.equal(got.coredump_filter, 'EROFS', 'its coredump_filter');
  t.ok(got.autogroup === 'EROFS' || (got.autogroup === 'ENOENT' && before.autogroup === null), `its autogroup: ${got.autogroup}`);
  t.same(looks(outside.pid), before, 'the host process is as it was: running, nice, policy, oom_score_adj, limits');
  t.same({
    self_setrlimit: got.self_setrlimit, self_setrlimit_glibc: got.self_setrlimit_glibc, self_nice: got.self_nice, self_setpriority: got.self_setpriority,
    self_sched_batch: got.self_sched_batch, self_ioprio: got.self_ioprio, thread_affinity: got.thread_affinity,
  }, { self_setrlimit: 'ok', self_setrlimit_glibc: 'ok', self_nice: 'ok', self_setpriority: 'ok', self_sched_batch: 'ok', self_ioprio: 'ok', thread_affinity: 'ok' },
  'setrlimit, nice, setpriority(0), SCHED_BATCH, ionice and a thread\'s affinity on oneself work');
});
