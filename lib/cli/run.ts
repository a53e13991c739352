// `sandbox run`: options → spec (profile under the command line) → plan → hand-off to the C stage.
import { SandboxError } from '../errors';
import { parseRunArgs, runHelp } from './run-options';
import { buildPlan, type CallerContext } from '../plan/build';
import type { SandboxSpec } from '../plan/spec';
import type { Plan } from '../plan/types';
import { makeDebug } from '../debug';
import { newSandboxId, planCgroup, readCgroupHost, type CgroupDecision } from '../cgroup';

const log = makeDebug('run');

export interface RunIo {
  out(text: string): void;
  err(text: string): void;
}

function callerContext(): CallerContext {
  return {
    uid: process.getuid ? process.getuid() : 0,
    gid: process.getgid ? process.getgid() : 0,
    cwd: process.cwd(),
    env: process.env,
  };
}

function resolveSpec(profile: string | null | undefined, cli: SandboxSpec): SandboxSpec {
  if (typeof profile === 'string') throw new SandboxError(`--profile ${profile}: profiles are not available in this build yet`);
  return cli;
}

/** Decides everything and returns the plan; pure apart from reading the host (sources, profile files). */
export function planFor(argv: string[], io: RunIo): { plan: Plan; printPlan: boolean; cgroup: CgroupDecision } | { help: true } {
  const req = parseRunArgs(argv, process.cwd());
  if (req.help) return { help: true };
  const spec = resolveSpec(req.profile, req.spec);
  if (spec.seccomp) throw new SandboxError(`${spec.seccomp.origin}: seccomp policies are not available in this build yet`);
  // The sandbox id names the monitor (this pid: the launcher execs it), so a later run can tell a stale leaf.
  const cgroup = planCgroup(spec.limits, newSandboxId(process.pid), spec.limits ? readCgroupHost() : emptyHost());
  for (const w of cgroup.warnings) io.err(`sandbox: ${w}`);
  const plan = buildPlan(spec, req.command, callerContext(), { seccomp: null, cgroup: cgroup.plan });
  log('plan: %d mounts, argv %o', plan.mounts.length, plan.argv);
  return { plan, printPlan: req.printPlan, cgroup };
}

function emptyHost(): ReturnType<typeof readCgroupHost> {
  return { uid: 0, pid: process.pid, mount: null, rootControllers: [], cgroupPath: null, own: null, ownParent: null, systemd: { available: false, reason: '' } };
}

export function runCommand(argv: string[], io: RunIo): number {
  const r = planFor(argv, io);
  if ('help' in r) {
    io.out(runHelp());
    return 0;
  }
  if (r.printPlan) {
    io.out(JSON.stringify(r.plan, null, 2));
    for (const line of r.cgroup.explain) io.err(`sandbox: cgroup: ${line}`);
    return 0;
  }
  if (r.cgroup.setup) {
    const { createCgroupLeaf } = require('../cgroup/leaf') as typeof import('../cgroup/leaf');
    r.plan.cgroup = createCgroupLeaf(r.cgroup.setup);
  }
  // Loaded only on the launch path: the serializer and koffi.
  const { serializePlan } = require('../native/serialize') as typeof import('../native/serialize');
  const { execStage } = require('../native/handoff') as typeof import('../native/handoff');
  return execStage(serializePlan(r.plan), r.plan.keepFds);
}
