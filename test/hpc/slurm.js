// A one-node SLURM for a test file: munged, slurmctld and slurmd of our own, started as root with a
// configuration, state and spool directories in a temp dir, stopped by pid at the end. Jobs are submitted
// as the unprivileged test user (uid 65534). Open MPI under SLURM speaks PMIx only (srun --mpi=pmix).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { TEST_UID, TEST_GID, IS_ROOT } = require('../lib/harness');

const PROGRAMS = ['munged', 'munge', 'slurmctld', 'slurmd', 'scontrol', 'sinfo', 'srun', 'sbatch', 'squeue', 'mpicc', 'mpirun'];

function which(p) {
  const r = spawnSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Why a SLURM can't be started here, or null. */
function cannotStartSlurm() {
  if (!IS_ROOT) return 'the SLURM daemons need root (the tests start them as root and run jobs as uid 65534)';
  const missing = PROGRAMS.filter((p) => !which(p));
  if (missing.length) return `${missing.join(', ')} missing (Debian packages slurm-wlm munge openmpi-bin libopenmpi-dev)`;
  if (spawnSync('id', ['munge']).status !== 0) return 'no munge user (Debian package munge)';
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Run a command with a hard timeout; never throws. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 5000, env: opts.env, cwd: opts.cwd, input: opts.input });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

class Slurm {
  constructor(dir) {
    this.dir = dir;
    this.conf = path.join(dir, 'slurm.conf');
    this.daemons = []; // {name, child, log}
    this.host = os.hostname().split('.')[0];
    this.cpus = os.cpus().length;
  }

  /** Environment for SLURM clients (as root or as the test user): our slurm.conf. */
  env(extra = {}) {
    return { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8', HOME: os.tmpdir(), SLURM_CONF: this.conf, ...extra };
  }

  /** The command line that runs a program as the test user. */
  asUser(cmd, args) {
    return ['setpriv', ['--reuid', String(TEST_UID), '--regid', String(TEST_GID), '--clear-groups', cmd, ...args]];
  }

  /** Run a client as the test user, synchronously (short things: squeue, sbatch). */
  user(cmd, args, opts = {}) {
    const [c, a] = this.asUser(cmd, args);
    return run(c, a, { timeout: opts.timeout ?? 60000, env: this.env(opts.env), cwd: opts.cwd });
  }

  /** Run a client as the test user without blocking the event loop; resolves to {status, signal, stdout, stderr, ms}. */
  userAsync(cmd, args, opts = {}) {
    const [c, a] = this.asUser(cmd, args);
    const limit = opts.timeout ?? 60000;
    return new Promise((resolve) => {
      const t0 = Date.now();
      const child = spawn(c, a, { env: this.env(opts.env), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\n[test] killed after ${limit} ms`;
        child.kill('SIGKILL');
      }, limit);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
      });
    });
  }

  writeConfig() {
    const state = path.join(this.dir, 'state');
    const spool = path.join(this.dir, 'spool');
    for (const d of [state, spool]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    // The cluster name is unique per run: a state dir left by another cluster makes slurmctld exit.
    const cluster = `sbxtest${process.pid}`;
    const lines = [
      `ClusterName=${cluster}`,
      `SlurmctldHost=${this.host}(127.0.0.1)`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      'MpiDefault=pmix',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'SchedulerType=sched/builtin',
      'ReturnToService=2',
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${this.port}`,
      `SlurmdPort=${this.port + 1}`,
      `StateSaveLocation=${state}`,
      `SlurmdSpoolDir=${spool}`,
      `SlurmctldPidFile=${path.join(this.dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(this.dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(this.dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(this.dir, 'slurmd.log')}`,
      'SlurmctldDebug=info',
      'SlurmdDebug=info',
      'JobCompType=jobcomp/none',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'InactiveLimit=0',
      'KillWait=5',
      'MinJobAge=300',
      `NodeName=${this.host} NodeAddr=127.0.0.1 CPUs=${this.cpus} State=UNKNOWN`,
      `PartitionName=test Nodes=${this.host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES`,
    ];
    fs.writeFileSync(this.conf, lines.join('\n') + '\n', { mode: 0o644 });
  }

  daemon(name, cmd, args, opts = {}) {
    const log = path.join(this.dir, `${name}.out`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(cmd, args, { env: opts.env ?? this.env(), stdio: ['ignore', fd, fd], uid: opts.uid, gid: opts.gid });
    fs.closeSync(fd);
    child.on('exit', (code, sig) => (child.exitInfo = `exited ${code ?? sig}`));
    this.daemons.push({ name, child, log });
    return child;
  }

  logs() {
    const daemonLogs = ['slurmctld.log', 'slurmd.log', 'munge/munged.log'].map((f) => `--- ${f}\n${tail(path.join(this.dir, f), 15)}`);
    return [...this.daemons.map((d) => `--- ${d.name}: ${d.child.exitInfo ?? 'running'}\n${tail(d.log, 10)}`), ...daemonLogs].join('\n');
  }

  /** munged as user munge on the default socket (/run/munge, owned by munge), with a key of our own. */
  async startMunge() {
    const uid = Number(run('id', ['-u', 'munge']).stdout.trim());
    const gid = Number(run('id', ['-g', 'munge']).stdout.trim());
    // The clients (slurmctld, slurmd, srun as the test user) find munged through the default socket
    // /run/munge/munge.socket.2: an already running munged there is used as it is.
    fs.mkdirSync('/run/munge', { recursive: true, mode: 0o755 });
    fs.chownSync('/run/munge', uid, gid);
    fs.chmodSync('/run/munge', 0o755);
    const socket = '/run/munge/munge.socket.2';
    if (fs.existsSync(socket) && run('munge', ['-n'], { timeout: 3000 }).status === 0) {
      this.note = 'an existing munged answers on /run/munge: using it';
      return;
    }
    const mdir = path.join(this.dir, 'munge');
    fs.mkdirSync(mdir, { mode: 0o700 });
    const key = path.join(mdir, 'munge.key');
    fs.writeFileSync(key, require('crypto').randomBytes(1024), { mode: 0o400 });
    fs.chownSync(key, uid, gid);
    fs.chownSync(mdir, uid, gid);
    this.daemon('munged', 'munged', ['--foreground', `--key-file=${key}`, `--socket=${socket}`,
      `--pid-file=${path.join(mdir, 'munged.pid')}`, `--log-file=${path.join(mdir, 'munged.log')}`,
      `--seed-file=${path.join(mdir, 'munged.seed')}`, '--force'], { uid, gid });
    for (let i = 0; i < 50; i++) {
      if (fs.existsSync(socket) && run('munge', ['-n'], { timeout: 2000 }).status === 0) return;
      await sleep(100);
    }
    throw new Error(`munged did not come up\n${this.logs()}`);
  }

  async start(timeoutMs = 30000) {
    const t0 = Date.now();
    this.port = 26817 + (process.pid % 500) * 2;
    this.writeConfig();
    await this.startMunge();
    this.daemon('slurmctld', 'slurmctld', ['-D', '-i', '-f', this.conf]);
    this.daemon('slurmd', 'slurmd', ['-D', '-f', this.conf]);
    while (Date.now() - t0 < timeoutMs) {
      for (const d of this.daemons) {
        if (!alive(d.child.pid) || d.child.exitInfo) throw new Error(`${d.name} died while starting\n${this.logs()}`);
      }
      // scontrol ping can block for seconds while the controller is down: a short timeout per try.
      const ping = run('scontrol', ['ping'], { timeout: 3000, env: this.env() });
      if (/UP/.test(ping.stdout)) {
        const st = run('sinfo', ['-h', '-o', '%T'], { timeout: 3000, env: this.env() }).stdout.trim();
        if (/^idle/.test(st)) {
          this.startMs = Date.now() - t0;
          return this;
        }
      }
      await sleep(200);
    }
    throw new Error(`SLURM did not become ready in ${timeoutMs} ms\n${this.logs()}`);
  }

  /** Stop our daemons by pid (SIGTERM, then SIGKILL), newest first, never by name. */
  async stop() {
    for (const d of [...this.daemons].reverse()) {
      const running = () => d.child.exitCode === null && d.child.signalCode === null;
      if (!running()) continue;
      try {
        process.kill(d.child.pid, 'SIGTERM');
      } catch {}
      for (let i = 0; i < 50 && running(); i++) await sleep(100);
      if (running()) {
        try {
          process.kill(d.child.pid, 'SIGKILL');
        } catch {}
      }
    }
  }

  /** Wait for a batch job to finish; returns its final state and exit code from scontrol. */
  async waitJob(id, timeoutMs) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const show = run('scontrol', ['show', 'job', id], { env: this.env(), timeout: 3000 }).stdout;
      const m = /JobState=(\S+)/.exec(show);
      const state = m ? m[1] : 'GONE';
      if (!/PENDING|RUNNING|CONFIGURING|COMPLETING/.test(state)) {
        const ex = /\bExitCode=(\S+)/.exec(show);
        return { state, exit: ex ? ex[1] : '?', ms: Date.now() - t0 };
      }
      await sleep(250);
    }
    run('scancel', [id], { env: this.env() });
    return { state: 'TEST-TIMEOUT', exit: '?', ms: Date.now() - t0 };
  }
}

/** Start a SLURM for this tap test file: resolves to a Slurm, or null after a visible skip. */
async function startSlurm(t) {
  const why = cannotStartSlurm();
  if (why) {
    t.skip(`SLURM: ${why}`);
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-slurm-'));
  fs.chmodSync(dir, 0o755);
  const s = new Slurm(dir);
  t.teardown(async () => {
    await s.stop();
    if (!process.env.SBX_KEEP_SLURM) fs.rmSync(dir, { recursive: true, force: true });
  });
  await s.start();
  // The first step after the daemons come up is sometimes refused at launch ("aborted before step completely
  // launched"), sandbox or not: a plain warm-up step, tried a few times, so the tests start on a working cluster.
  for (let i = 0; i < 5; i++) {
    const w = await s.userAsync('srun', ['-n', '1', 'true'], { cwd: dir, timeout: 20000 });
    if (w.status === 0) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  t.comment(`SLURM up in ${s.startMs} ms (node ${s.host}, ${s.cpus} CPUs, ${dir})${s.note ? `; ${s.note}` : ''}`);
  return s;
}

module.exports = { Slurm, startSlurm, cannotStartSlurm, run, tail };
