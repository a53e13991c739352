// lib/cgroup: cgroup v2 discovery, delegation checks, the sandbox's leaf and its limits, stale
// leaf cleanup. The CLI calls readCgroupHost → planCgroup → createCgroupLeaf (just before the
// hand-off); the C monitor places the program in plan.leaf, reports limit hits, removes the leaf.
import type { LimitsSpec } from '../plan/spec';
import { CgroupHost, readCgroupHost } from './host';
import { planCgroup } from './plan';
import { SandboxError } from '../errors';

export * from './host';
export * from './plan';
export { createCgroupLeaf, removeLeaf, CreateLeafOptions, SCOPE_MONITOR_LEAF } from './leaf';
export {
  transientScopeArgs, startTransientScope, queryUnitOfPid, unitObjectPath, unitNameOfPath, parseBusctlReply,
  CommandRunner, OwnUnit, ScopeOptions,
} from './systemd';
export { CgroupFs, realCgroupFs, writeCgroupFile } from './fsops';

/**
 * What `sandbox doctor` and `--print-plan` show: the cgroup2 mount, the caller's cgroup and what
 * it may do there, the systemd fallback, and (given limits) the cgroup a run would use and why.
 */
export function describeCgroupHost(host: CgroupHost = readCgroupHost(), limits: LimitsSpec | null = null): string[] {
  const lines: string[] = [];
  lines.push(host.mount
    ? `cgroup v2 mounted at ${host.mount}, controllers: ${host.rootControllers.join(' ') || '(none)'}`
    : 'cgroup v2: not mounted (cgroup v1 only)');
  lines.push(`caller (uid ${host.uid}) is in cgroup ${host.cgroupPath ?? '(no v2 line in /proc/self/cgroup)'}`);
  const own = host.own;
  if (own) {
    const rw = own.canWriteProcs && own.canWriteSubtreeControl ? 'writable' : 'not writable';
    lines.push(`  ${own.path}: owner uid ${own.owner ?? '?'}, ${rw}, controllers: ${own.controllers.join(' ') || '(none)'}, processes: ${own.pids.length}`);
    if (own.staleLeaves.length) lines.push(`  stale leaves: ${own.staleLeaves.join(' ')}`);
  }
  lines.push(`systemd user manager: ${host.systemd.available ? 'yes' : 'no'} (${host.systemd.reason})`);
  const opt = (flag: string) => ({ value: 1, origin: `${flag} 1`, from: 'option' as const });
  const asked: LimitsSpec = limits ?? { memory: opt('--memory'), cpus: opt('--cpus'), pids: opt('--pids') };
  try {
    const d = planCgroup(asked, 'PID-ID', host);
    const head = limits ? 'limits' : 'limits (memory, cpu, pids)';
    lines.push(`${head}: ${d.setup ? `would use ${d.setup.via === 'systemd-scope' ? 'a systemd scope' : d.setup.base}` : 'not enforced'}`);
    for (const e of d.explain) lines.push(`  ${e}`);
    for (const w of d.warnings) lines.push(`  warning: ${w}`);
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    lines.push(`limits: unavailable: ${e.message}`);
  }
  return lines;
}
