// Cgroup discovery: where the cgroup2 hierarchy is mounted, which cgroup the caller is in, what
// it may do there, and whether a systemd user manager could hand it a delegated scope.
// The parsers are pure; readCgroupHost gathers everything once through an injectable CgroupFs.
import * as path from 'node:path';
import { CgroupFs, realCgroupFs } from './fsops';
import { SYSTEM_PROGRAM_DIRS } from '../host/system-program';
import { queryUnitOfPid, OwnUnit } from './systemd';

/** What the caller can see and do in one cgroup directory. */
export interface CgroupDir {
  /** Absolute path of the directory ("/sys/fs/cgroup/user.slice/..."). */
  path: string;
  /** cgroup.controllers: what the parent enabled for it. */
  controllers: string[];
  /** cgroup.subtree_control: what it enables for its children. */
  subtreeControl: string[];
  canWriteProcs: boolean;
  canWriteSubtreeControl: boolean;
  owner: number | null;
  /** cgroup.procs. */
  pids: number[];
  /** Children named like our leaves ("sandbox-<pid>-<random>") whose monitor is gone. */
  staleLeaves: string[];
}

export interface SystemdUserManager {
  available: boolean;
  /** Why (not): "systemd user manager at /run/user/1000/systemd/private, reached over the user bus". */
  reason: string;
}

/** Everything lib/cgroup decides from, read once. */
export interface CgroupHost {
  uid: number;
  /** The launcher's pid: it execs the monitor, so this is the monitor's pid too. */
  pid: number;
  /** cgroup2 mount point, or null on a cgroup v1 only host. */
  mount: string | null;
  /** cgroup.controllers of the cgroup2 mount's root (empty on hybrid hosts). */
  rootControllers: string[];
  /** The caller's cgroup v2 path as /proc/self/cgroup says ("/user.slice/..."), or null. */
  cgroupPath: string | null;
  /** The caller's cgroup directory, or null when it isn't reachable under the mount. */
  own: CgroupDir | null;
  /** The parent of own when own is our launcher leaf from an earlier run (its parent is the base then). */
  ownParent: CgroupDir | null;
  systemd: SystemdUserManager;
  /**
   * The user manager's unit holding the caller, asked only when the caller's cgroup is writable and a
   * manager runs (its whole subtree is the user's, delegated or not); null when it has none for us.
   */
  ownUnit: OwnUnit | null;
}

/** Leaf names we create: "sandbox-<monitor pid>-<random>". */
export const LEAF_PATTERN = /^sandbox-(\d+)-[0-9a-z]+$/;
/** Where the caller's own processes go when its cgroup must become an inner node. */
export const LAUNCHER_LEAF = 'sandbox-launcher';

/** The cgroup v2 path from /proc/self/cgroup (the "0::" line), or null without one. */
export function parseProcSelfCgroup(text: string): string | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim() || '/';
  }
  return null;
}

export interface Cgroup2Mount {
  mountPoint: string;
  /** The root of the mount inside the hierarchy ("/" unless mounted from a cgroup namespace or a subtree). */
  root: string;
}

/** Octal escapes of mountinfo ("\040" for a space). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** One line of /proc/self/mountinfo: the fields sandbox reads. */
export interface MountEntry { root: string; point: string; fstype: string; superOptions: string[] }

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    out.push({ root: unescapeMountinfo(left[3]), point: unescapeMountinfo(left[4]), fstype: right[0], superOptions: right[2].split(',') });
  }
  return out;
}

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio',
  'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

/** Which hierarchies are mounted, and the controllers cgroup v1 holds (the v2 tree can't use them then): for doctor's advice. */
export function cgroupLayout(mountinfo: string): { layout: CgroupLayout; v1Controllers: string[] } {
  const mounts = parseMountinfo(mountinfo);
  const v2 = mounts.some((m) => m.fstype === 'cgroup2');
  const v1 = mounts.filter((m) => m.fstype === 'cgroup');
  const v1Controllers = [...new Set(v1.flatMap((m) => m.superOptions.filter((o) => V1_CONTROLLERS.has(o))))].sort();
  return { layout: v2 ? (v1.length ? 'hybrid' : 'unified') : v1.length ? 'legacy' : 'none', v1Controllers };
}

/** cgroup2 mounts from /proc/self/mountinfo, in order; the first is the one used. */
export function parseCgroup2Mounts(mountinfo: string): Cgroup2Mount[] {
  return parseMountinfo(mountinfo).filter((m) => m.fstype === 'cgroup2').map((m) => ({ root: m.root, mountPoint: m.point }));
}

/** The directory of cgroup `cgroupPath` under a mount, or null when the mount doesn't show it. */
export function cgroupDirUnder(m: Cgroup2Mount, cgroupPath: string): string | null {
  const rel = path.posix.relative(m.root, cgroupPath);
  if (rel.startsWith('..') || path.posix.isAbsolute(rel)) return null;
  return rel ? path.posix.join(m.mountPoint, rel) : m.mountPoint;
}

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

export function readCgroupDir(ops: CgroupFs, dir: string): CgroupDir | null {
  let controllers: string[];
  try { controllers = words(ops.readFile(path.posix.join(dir, 'cgroup.controllers'))); } catch { return null; }
  let subtreeControl: string[] = [];
  try { subtreeControl = words(ops.readFile(path.posix.join(dir, 'cgroup.subtree_control'))); } catch { /* left empty */ }
  let pids: number[] = [];
  try { pids = words(ops.readFile(path.posix.join(dir, 'cgroup.procs'))).map(Number); } catch { /* left empty */ }
  const staleLeaves: string[] = [];
  for (const name of ops.listDirs(dir)) {
    const m = LEAF_PATTERN.exec(name);
    if (m && !ops.pidAlive(Number(m[1]))) staleLeaves.push(name);
  }
  return {
    path: dir,
    controllers,
    subtreeControl,
    canWriteProcs: ops.canWrite(path.posix.join(dir, 'cgroup.procs')),
    canWriteSubtreeControl: ops.canWrite(path.posix.join(dir, 'cgroup.subtree_control')),
    owner: ops.ownerUid(dir),
    pids,
    staleLeaves,
  };
}

/**
 * Whether a systemd user manager runs for the caller (its private socket in the runtime directory) and
 * can be reached over the user bus with busctl from the system's directories (busctl speaks to a bus,
 * not to the manager's private socket).
 */
export function detectSystemdUserManager(ops: CgroupFs, env: NodeJS.ProcessEnv, uid: number = process.getuid ? process.getuid() : 0): SystemdUserManager {
  if (!SYSTEM_PROGRAM_DIRS.some((d) => ops.exists(path.posix.join(d, 'busctl')))) {
    return { available: false, reason: `busctl not found in ${SYSTEM_PROGRAM_DIRS.join(', ')}` };
  }
  const runtime = env.XDG_RUNTIME_DIR || `/run/user/${uid}`;
  const priv = path.posix.join(runtime, 'systemd/private');
  if (!ops.exists(priv)) return { available: false, reason: `no systemd user manager (${priv} missing)` };
  if (env.DBUS_SESSION_BUS_ADDRESS) return { available: true, reason: `systemd user manager at ${priv}, reached over $DBUS_SESSION_BUS_ADDRESS` };
  if (env.XDG_RUNTIME_DIR && ops.exists(path.posix.join(runtime, 'bus'))) {
    return { available: true, reason: `systemd user manager at ${priv}, reached over ${runtime}/bus` };
  }
  return { available: false, reason: `systemd user manager at ${priv} but no user bus to reach it ($DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus)` };
}

export interface ReadHostOptions {
  ops?: CgroupFs;
  uid?: number;
  pid?: number;
  env?: NodeJS.ProcessEnv;
  /** Text of /proc/self/cgroup and /proc/self/mountinfo (read through ops when absent). */
  procSelfCgroup?: string;
  mountinfo?: string;
  /** Asks the user manager which unit holds a pid (busctl by default). */
  unitOfPid?: (pid: number) => OwnUnit | null;
}

export function readCgroupHost(opts: ReadHostOptions = {}): CgroupHost {
  const ops = opts.ops ?? realCgroupFs;
  const uid = opts.uid ?? (process.getuid ? process.getuid() : 0);
  const pid = opts.pid ?? process.pid;
  const env = opts.env ?? process.env;
  const read = (p: string): string => { try { return ops.readFile(p); } catch { return ''; } };
  const cgroupPath = parseProcSelfCgroup(opts.procSelfCgroup ?? read('/proc/self/cgroup'));
  const mounts = parseCgroup2Mounts(opts.mountinfo ?? read('/proc/self/mountinfo'));
  const systemd = detectSystemdUserManager(ops, env, uid);
  if (mounts.length === 0) {
    return { uid, pid, mount: null, rootControllers: [], cgroupPath, own: null, ownParent: null, systemd, ownUnit: null };
  }
  // Prefer the mount that shows our cgroup; with several cgroup2 mounts the first such wins.
  const m = (cgroupPath && mounts.find((x) => cgroupDirUnder(x, cgroupPath) !== null)) || mounts[0];
  const rootControllers = words(read(path.posix.join(m.mountPoint, 'cgroup.controllers')));
  const ownPath = cgroupPath ? cgroupDirUnder(m, cgroupPath) : null;
  const own = ownPath ? readCgroupDir(ops, ownPath) : null;
  const ownParent = own && path.posix.basename(own.path) === LAUNCHER_LEAF && own.path !== m.mountPoint
    ? readCgroupDir(ops, path.posix.dirname(own.path)) : null;
  // Only a writable cgroup needs systemd's word: one the caller can't write is never used anyway.
  const writable = own && own.canWriteProcs && own.canWriteSubtreeControl && own.path !== m.mountPoint;
  const ownUnit = systemd.available && writable ? (opts.unitOfPid ?? ((p: number) => queryUnitOfPid(p)))(pid) : null;
  return { uid, pid, mount: m.mountPoint, rootControllers, cgroupPath, own, ownParent, systemd, ownUnit };
}
