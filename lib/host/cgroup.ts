// The cgroup layout as the doctor reports it: which hierarchies are mounted (unified, hybrid, legacy),
// the caller's cgroup v2 directory, and how much of the tree above it the caller may manage (delegation).
// Read-only: it never creates a cgroup. (lib/cgroup owns the cgroups the sandbox makes, and the parsers shared with it.)
import * as path from 'path';
import type { HostReader } from './reader';
import { cgroupDirUnder, parseMountinfo, parseProcSelfCgroup } from '../cgroup/host';

export { parseMountinfo };

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

export interface CgroupHost {
  layout: CgroupLayout;
  /** Where cgroup2 is mounted, or null. */
  v2Mount: string | null;
  /** Controllers bound to cgroup v1 hierarchies (they can't be used on v2 at the same time). */
  v1Controllers: string[];
  /** The caller's cgroup, from the 0:: line of /proc/self/cgroup, or null. */
  ownPath: string | null;
  /** ownPath under v2Mount. */
  ownDir: string | null;
  /** Controllers available in the caller's cgroup (its cgroup.controllers). */
  controllers: string[];
  /** The highest directory from ownDir up that the caller may create cgroups in and move processes into, or null. */
  delegatedRoot: string | null;
  /** Controllers available in delegatedRoot. */
  delegatedControllers: string[];
  /** Controllers delegatedRoot already enables for its children (cgroup.subtree_control). */
  subtreeControl: string[];
  /** Whether the caller may change delegatedRoot's cgroup.subtree_control. */
  canEnableControllers: boolean;
}

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio',
  'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

function words(text: string | null): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}

export function inspectCgroupHost(host: HostReader): CgroupHost {
  const mounts = parseMountinfo(host.readFile('/proc/self/mountinfo') ?? '');
  const v2 = mounts.filter((m) => m.fstype === 'cgroup2');
  const v1 = mounts.filter((m) => m.fstype === 'cgroup');
  const v2m = v2.find((m) => m.point === '/sys/fs/cgroup') ?? v2[0] ?? null;
  const v1Controllers = [...new Set(v1.flatMap((m) => m.superOptions.filter((o) => V1_CONTROLLERS.has(o))))].sort();
  const layout: CgroupLayout = v2m ? (v1.length ? 'hybrid' : 'unified') : v1.length ? 'legacy' : 'none';
  const result: CgroupHost = {
    layout, v2Mount: v2m ? v2m.point : null, v1Controllers, ownPath: null, ownDir: null, controllers: [],
    delegatedRoot: null, delegatedControllers: [], subtreeControl: [], canEnableControllers: false,
  };
  result.ownPath = parseProcSelfCgroup(host.readFile('/proc/self/cgroup') ?? '');
  if (!v2m || !result.ownPath) return result;
  const ownDir = cgroupDirUnder({ root: v2m.root, mountPoint: v2m.point }, result.ownPath);
  if (!ownDir) return result;
  result.ownDir = ownDir;
  result.controllers = words(host.readFile(path.posix.join(ownDir, 'cgroup.controllers')));
  const manageable = (dir: string) => host.writable(dir) && host.writable(path.posix.join(dir, 'cgroup.procs'));
  for (let dir = ownDir; manageable(dir); dir = path.posix.dirname(dir)) {
    result.delegatedRoot = dir;
    if (dir === v2m.point || dir === '/') break;
  }
  if (result.delegatedRoot) {
    const d = result.delegatedRoot;
    result.delegatedControllers = words(host.readFile(path.posix.join(d, 'cgroup.controllers')));
    result.subtreeControl = words(host.readFile(path.posix.join(d, 'cgroup.subtree_control')));
    result.canEnableControllers = host.writable(path.posix.join(d, 'cgroup.subtree_control'));
  }
  return result;
}
