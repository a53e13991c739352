// Runs PROGRAM in a profile the way `sandbox run --profile NAME` will once lib/cli wires loadProfile in:
// profile → spec → plan → the C stage. Usage: node profile-runner.js NAME PROGRAM [ARGS...]
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const dist = path.join(__dirname, '..', '..', 'dist', 'lib');
const P = require(`${dist}/profile`);
const { buildPlan } = require(`${dist}/plan/build`);
const { gatherPlanFacts } = require(`${dist}/host/plan-facts`);
const { serializePlan } = require(`${dist}/native/serialize`);
const { execStage } = require(`${dist}/native/handoff`);

const [name, ...argv] = process.argv.slice(2);
try {
  const which = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', argv[0]], { encoding: 'utf8' }).stdout.trim();
  const loaded = P.loadProfile(name, P.hostProfileContext(which || undefined));
  P.ensureProfileDirs(loaded);
  const caller = { uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), env: process.env };
  const plan = buildPlan(loaded.spec, argv, caller, { seccomp: null, cgroup: null }, gatherPlanFacts(loaded.spec, caller, []));
  process.exitCode = execStage(serializePlan(plan), plan.keepFds);
} catch (e) {
  process.stderr.write(`sandbox: ${e.message}\n`);
  process.exitCode = e.exitCode || 125;
}
