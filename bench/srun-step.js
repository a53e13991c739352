// Driver for bench/srun-step.sh: starts the one-node SLURM of the tests, writes the two plans as the
// unprivileged user, runs the measuring loop inside one `salloc -n1` as that user, prints the medians
// of paired differences against plain `srun -n1 true`, and stops the daemons by pid.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Slurm, cannotStartSlurm, run } = require('../test/hpc/slurm');

const root = path.resolve(__dirname, '..');
const rounds = Number(process.argv[2] || 40);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const why = cannotStartSlurm();
  if (why) throw new Error(`no SLURM: ${why}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-bench-slurm-'));
  fs.chmodSync(dir, 0o755);
  const plans = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-bench-plans-'));
  fs.chmodSync(plans, 0o755);
  fs.chownSync(plans, 65534, 65534);
  const s = new Slurm(dir);
  try {
    await s.start();
    const S = path.join(root, 'bin/sandbox');
    const env = { PATH: '/usr/bin:/bin', HOME: plans };
    for (const [name, args] of [['hpc', ['--profile', 'hpc']], ['bare', ['--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc']]]) {
      const r = s.user(S, ['compile', ...args, '-o', path.join(plans, `${name}.plan`)], { env, cwd: plans });
      if (r.status !== 0) throw new Error(`sandbox compile ${name}: ${r.stderr}`);
    }
    const r = await s.userAsync('salloc', ['-n1', '-Q', 'bash', path.join(root, 'bench/srun-step.sh'), '--inner', String(rounds), root, plans],
      { env: { HOME: plans }, cwd: plans, timeout: 3600e3 });
    if (r.status !== 0) throw new Error(`salloc exited ${r.status ?? r.signal}: ${r.stderr}`);
    if (r.stderr.trim()) console.log(`stderr of the loop:\n${r.stderr.trim()}`);
    const byRound = new Map();
    for (const line of r.stdout.trim().split('\n')) {
      const [i, name, us] = line.split(' ');
      if (!byRound.has(i)) byRound.set(i, {});
      byRound.get(i)[name] = Number(us) / 1000;
    }
    const names = Object.keys(byRound.get('0'));
    const rows = [...byRound.values()];
    console.log(`${rows.length} rounds inside one salloc -n1 (SLURM ${run('srun', ['--version'], { env: s.env() }).stdout.trim()}, ${os.cpus().length} CPUs, kernel ${os.release()}), uid 65534, env -i + SLURM_CONF`);
    console.log(`plain srun -n1 true: median ${median(rows.map((x) => x.plain)).toFixed(1)} ms; \`true\` without srun: ${median(rows.map((x) => x['direct:plain'])).toFixed(1)} ms`);
    console.log('(direct:X is the same command without srun, paired against `true` without srun, in the same rounds)');
    for (const n of names.filter((n) => n !== 'plain' && n !== 'direct:plain').sort()) {
      const ref = n.startsWith('direct:') ? 'direct:plain' : 'plain';
      const d = rows.map((x) => x[n] - x[ref]);
      console.log(`${n.padEnd(17)} median step ${median(rows.map((x) => x[n])).toFixed(1).padStart(7)} ms, median paired difference ${median(d).toFixed(1).padStart(6)} ms`);
    }
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(plans, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(`srun-step: ${e.message}`);
  process.exitCode = 1;
});
