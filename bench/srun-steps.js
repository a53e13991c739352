#!/usr/bin/env node
// What a sandbox adds to an srun step, inside one allocation: `srun -n 1 true` bare, under bubblewrap, and under
// `sandbox run --profile hpc` (kept plan: every step after the first is a hit, with its own PMIx directory) and
// `--no-cache` (Node plans each step). The variants run interleaved, N rounds, in a private one-node SLURM started
// for the run (as test/hpc does: root starts the daemons, the steps run as uid 65534 with a clean environment).
//   sudo node bench/srun-steps.js [ROUNDS]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Slurm, cannotStartSlurm } = require('../test/hpc/slurm');
const { userTmpdir } = require('../test/lib/harness');

const rounds = Number(process.argv[2] ?? 21);
const SANDBOX = path.join(__dirname, '..', 'bin', 'sandbox');

async function main() {
  const why = cannotStartSlurm();
  if (why) {
    console.log(`srun-steps: ${why}`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-bench-slurm-'));
  fs.chmodSync(dir, 0o755);
  const slurm = new Slurm(dir);
  const work = userTmpdir('sbx-bench-steps-');
  try {
    await slurm.start();
    for (let i = 0; i < 5 && (await slurm.userAsync('srun', ['-n', '1', 'true'], { cwd: work, timeout: 20000 })).status !== 0; i++);
    const variants = {
      bare: 'true',
      bwrap: 'bwrap --unshare-all --share-net --ro-bind / / --dev /dev --proc /proc true',
      'sandbox hpc (kept plan)': `${SANDBOX} run --profile hpc -- true`,
      'sandbox hpc --no-cache': `${SANDBOX} run --no-cache --profile hpc -- true`,
    };
    const names = Object.keys(variants);
    // one allocation; each round runs every variant once, in turn; times in microseconds on stdout
    const script = path.join(work, 'steps.sh');
    fs.writeFileSync(script, `#!/bin/bash
t() { local s e; s=$(date +%s%N); srun -n 1 "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
${SANDBOX} cache clear >/dev/null 2>&1
srun -n 1 ${variants['sandbox hpc (kept plan)']} >/dev/null 2>&1  # the first step keeps the plan
for ((r = 0; r < ${rounds}; r++)); do
${names.map((n, i) => `  echo "${i} $(t ${variants[n]})"`).join('\n')}
done
`, { mode: 0o755 });
    fs.chownSync(script, 65534, 65534);
    const r = await slurm.userAsync('salloc', ['-n', '1', script], { cwd: work, env: { HOME: work }, timeout: 60000 + rounds * 8000 });
    const times = names.map(() => []);
    for (const line of r.stdout.split('\n')) {
      const m = /^(\d+) (\d+)$/.exec(line.trim());
      if (m) times[Number(m[1])].push(Number(m[2]) / 1000);
    }
    const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
    const med = times.map(median);
    console.log(`srun -n 1 step, medians of ${rounds} interleaved rounds in one allocation (ms; added = minus the bare step):`);
    names.forEach((n, i) => console.log(`  ${n.padEnd(26)} ${med[i].toFixed(1).padStart(7)}   added ${(med[i] - med[0]).toFixed(1).padStart(6)}`));
    console.log(`  kept plan minus bwrap: ${(med[2] - med[1]).toFixed(1)} ms per step`);
    if (r.status !== 0) console.log(`(salloc exited ${r.status}: ${r.stderr.trim().split('\n').pop()})`);
  } finally {
    await slurm.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(`srun-steps: ${e.message}`);
  process.exit(1);
});
