// Building the plan: merges nothing and decides little — it resolves a SandboxSpec against the caller
// (uid, environment, current directory) and the host's facts (gathered by lib/host/plan-facts.ts, passed in
// as data) into the exact Plan the C stage will carry out. It reads nothing itself.
import * as path from 'path';
import { createHash } from 'crypto';
import { SandboxError, errnoText } from '../errors';
import type { Plan, MountOp, CgroupPlan } from './types';
import type { SandboxSpec, EnvSpec } from './spec';
import { capabilityNumber } from './capabilities';
import { envPatternMatcher } from './env-pattern';

export interface CallerContext {
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string | undefined>;
  /** The parent pid read first thing at start-up (0: unknown). */
  parentPid?: number;
}

/**
 * What the plan needs to know of the host, as data: gathered by lib/host/plan-facts.ts just before the plan is
 * built, made up in tests. Part of what a plan is a function of (a cached or compiled plan records them).
 */
export interface PlanHostFacts {
  /** Each bind source of the spec: null when it exists, else the errno name its stat failed with (ENOENT). */
  sources: Record<string, string | null>;
  /** Each writable bind source with its symlinks resolved (itself when that fails). */
  realSources: Record<string, string>;
  /** sandbox's own files (real paths) that exist now: bound read-only wherever a writable bind shows them. */
  protectedPaths: string[];
  /** sandbox's state directories (ownStateDirs): null when missing, else whether a directory and its owner. */
  stateDirs: Record<string, { isDir: boolean; uid: number } | null>;
  /** Descriptors open in this process (beside 0-2), which an environment variable may name to the program. */
  openFds: number[];
}

/** Facts for a host with nothing on it: every source present, nothing protected, no state, no descriptors. */
export function noHostFacts(): PlanHostFacts {
  return { sources: {}, realSources: {}, protectedPaths: [], stateDirs: {}, openFds: [] };
}

export interface PlanExtras {
  seccomp: Plan['seccomp'];
  cgroup: CgroupPlan | null;
  /** Launch variables the plan will take at each launch (a kept or compiled plan): their optional binds stay in the
   * plan even where the source is missing now, for the stage to skip or make at each launch. */
  launchVars?: string[];
}


/** PATH when neither the host's environment (as kept) nor the profile gives one. */
export const DEFAULT_PATH = 'PATH=/usr/local/bin:/usr/bin:/bin';

export function buildEnv(spec: EnvSpec, host: Record<string, string | undefined>): string[] {
  const out = new Map<string, string>();
  const keep = spec.keep.map(envPatternMatcher);
  for (const [k, v] of Object.entries(host)) {
    if (v === undefined) continue;
    if (spec.clear && !keep.some((re) => re.test(k))) continue;
    out.set(k, v);
  }
  const unset = spec.unset.map(envPatternMatcher);
  for (const k of [...out.keys()]) if (unset.some((re) => re.test(k))) out.delete(k);
  for (const [k, v] of Object.entries(spec.set)) out.set(k, v);
  if (!out.has('PATH')) out.set('PATH', DEFAULT_PATH.slice(5));
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/**
 * Missing bind sources are reported here, before anything starts, in the words of the option at fault.
 * sources: the stat result of each source (null: there); a source with no entry was not looked at and counts
 * as there, for the stage to judge.
 */
export function checkSources(mounts: MountOp[], sources: PlanHostFacts['sources'], launchVars: string[] = []): MountOp[] {
  const kept: MountOp[] = [];
  for (const m of mounts) {
    const code = m.op === 'bind' ? sources[m.src] ?? null : null;
    if (m.op === 'bind' && code !== null) {
      const missing = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES';
      // ${CWD}/.git missing where the plan was made may be there where it launches: the stage decides then
      if (m.optional && missing && m.launchVar && launchVars.includes(m.launchVar.name)) {
        kept.push(m);
        continue;
      }
      if (m.optional && missing) continue;
      throw new SandboxError(`${m.origin}: ${errnoText(code)}`);
    }
    kept.push(m);
  }
  return kept;
}

function pathVisibleInside(cwd: string, mounts: MountOp[]): boolean {
  return mounts.some((m) => {
    const dst = m.op === 'chmod' ? m.path : m.dst;
    if (m.op !== 'bind' && m.op !== 'tmpfs') return false;
    return cwd === dst || dst === '/' || cwd.startsWith(dst + '/');
  });
}

/**
 * sandbox's own files (its package and the user's profile directory) must stay read-only in every sandbox,
 * or a program could weaken the next run. Wherever a writable bind shows one of them, bind it again
 * read-only on top, at the end of the plan.
 */
export function protectOwnFiles(mounts: MountOp[], protectedPaths: string[], realpath: (p: string) => string): MountOp[] {
  const under = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(dir + '/');
  const dstOf = (m: MountOp) => (m.op === 'chmod' ? m.path : m.dst);
  const extra: MountOp[] = [];
  // The kernel binds what a source resolves to: a source that is (or passes through) a symlink, such as a
  // ~/.config linked into a dotfiles checkout, shows the protected paths (which are real paths) all the same.
  const realSrc = mounts.map((m) => (m.op === 'bind' && !m.readOnly ? realpath(m.src) : ''));
  for (const host of protectedPaths) {
    mounts.forEach((m, i) => {
      if (m.op !== 'bind' || m.readOnly || !under(host, realSrc[i])) return;
      const src = realSrc[i];
      const rel = src === '/' ? host : host.slice(src.length);
      const inside = m.dst === '/' ? rel || '/' : m.dst + rel;
      // a later mount over the same place decides what is seen there
      if (mounts.slice(i + 1).some((later) => later.op !== 'chmod' && later.op !== 'symlink' && under(inside, dstOf(later)))) return;
      if (!extra.some((e) => e.op === 'bind' && e.dst === inside))
        extra.push({ op: 'bind', src: host, dst: inside, readOnly: true, devices: false, optional: true, origin: `read-only ${host} (sandbox's own files)` });
    });
  }
  return [...mounts, ...extra];
}

/** A --join key names a directory: 1 to 128 of these characters, and not "." or "..". */
export const JOIN_KEY_RULE = 'a key is 1 to 128 letters, digits and . _ @ : + -';
export function isJoinKey(key: string): boolean {
  return /^[A-Za-z0-9._@:+-]{1,128}$/.test(key) && key !== '.' && key !== '..';
}

/** Where --join keeps its state: the base directory (the runtime directory, else /tmp/sandbox-UID) and, under it,
 * sandbox/join/KEY. The stage checks the base (the caller's, mode 0700, no symlink on the way) and creates what is
 * missing when it takes the key's lock; a key was checked where it was read. */
export function joinBaseFor(caller: CallerContext): string {
  return caller.env.XDG_RUNTIME_DIR && path.isAbsolute(caller.env.XDG_RUNTIME_DIR) ? path.normalize(caller.env.XDG_RUNTIME_DIR) : `/tmp/sandbox-${caller.uid}`;
}
export function joinDirFor(key: string, caller: CallerContext): string {
  return path.join(joinBaseFor(caller), 'sandbox', 'join', key);
}

/** sandbox's state directories on the host (join keys, proxy sockets), whatever this run's environment: a batch job
 * without XDG_RUNTIME_DIR uses /tmp/sandbox-UID even when this run has one. */
export function ownStateDirs(caller: CallerContext): string[] {
  const dirs = [`/tmp/sandbox-${caller.uid}`];
  const rt = caller.env.XDG_RUNTIME_DIR;
  if (rt && path.isAbsolute(rt)) dirs.push(path.join(path.normalize(rt), 'sandbox'));
  // The plan cache's other home (lib/host/plan-cache.ts cacheBase), used by a later launch without a runtime
  // directory: an entry planted there is that launch's plan, before any sandbox exists. So it is covered
  // (and made, where a writable bind shows where it would be) even when this launch keeps its plans elsewhere or
  // has no XDG_CACHE_HOME: then as the XDG default, ~/.cache/sandbox, which a launch setting XDG_CACHE_HOME uses.
  const cache = caller.env.XDG_CACHE_HOME;
  if (cache && path.isAbsolute(cache)) dirs.push(path.join(path.normalize(cache), 'sandbox'));
  const home = caller.env.HOME;
  if (home && path.isAbsolute(home)) dirs.push(path.join(path.normalize(home), '.cache', 'sandbox'));
  return [...new Set(dirs)];
}

/**
 * A sandbox must neither read nor write sandbox's state (a forged members file puts the next joiner into the
 * forger's namespaces): wherever a bind shows a state directory, an empty read-only tmpfs covers it. When it does
 * not exist yet and a writable bind shows where it would be, it is made first (mode 0700, through that bind), or
 * the program could make it and fill it. A directory that is not the caller's is left alone: nothing of ours is in
 * it, and the stage refuses to keep state there.
 */
export function hideOwnState(mounts: MountOp[], stateDirs: PlanHostFacts['stateDirs'], uid: number): MountOp[] {
  const under = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(dir + '/');
  const dstOf = (m: MountOp) => (m.op === 'chmod' ? m.path : m.dst);
  const extra: MountOp[] = [];
  for (const [host, st] of Object.entries(stateDirs)) {
    if (st && (!st.isDir || st.uid !== uid)) continue;
    mounts.forEach((m, i) => {
      // an overlay shows each of its layers at its dst as a bind would (a lower read-only, the upper writable)
      const shown = m.op === 'bind' ? [{ src: m.src, readOnly: m.readOnly }]
        : m.op === 'overlay' ? [...m.lower.map((l) => ({ src: l, readOnly: true })), ...(m.upper ? [{ src: m.upper, readOnly: m.readOnly }] : [])]
        : [];
      const at = m.op === 'bind' || m.op === 'overlay' ? m.dst : '/';
      for (const { src, readOnly } of shown) {
        if (!under(host, src)) continue;
        if (!st && readOnly) continue;
        const rel = src === '/' ? host : host.slice(src.length);
        const inside = at === '/' ? rel || '/' : at + rel;
        if (mounts.slice(i + 1).some((later) => later.op !== 'chmod' && later.op !== 'symlink' && under(inside, dstOf(later)))) continue;
        if (extra.some((e) => e.op === 'tmpfs' && e.dst === inside)) continue;
        const origin = `hidden ${host} (sandbox's own state)`;
        if (!st) extra.push({ op: 'dir', dst: inside, mode: 0o700, origin });
        extra.push({ op: 'tmpfs', dst: inside, size: 4096, mode: 0o500, origin }, { op: 'remount-ro', dst: inside, origin });
      }
    });
    // A bind of a directory inside the state (the registry bound in by hand) shows it where it was asked to,
    // but read-only: a program that could write there could forge an entry `sandbox stop` or `enter` acts on.
    if (!st) continue;
    mounts.forEach((m) => {
      if (m.op === 'overlay' && !m.readOnly && m.upper && under(m.upper, host) && m.upper !== host) {
        extra.push({ op: 'remount-ro', dst: m.dst, origin: `${m.origin}: read-only, as ${host} is sandbox's own state` });
        return;
      }
      if (m.op !== 'bind' || m.readOnly || m.src === host || !under(m.src, host)) return;
      extra.push({ op: 'remount-ro', dst: m.dst, origin: `${m.origin}: read-only, as ${host} is sandbox's own state` });
    });
  }
  return [...mounts, ...extra];
}

/**
 * What a --join joiner can't apply itself, as "key=value" words: it enters the first member's namespaces, so it
 * gets that member's root, hostname, uid map and namespace choices, and (in one user namespace) its capabilities
 * and filters bound what the others can do to it. The stage refuses a joiner whose words differ from the ones the
 * first member recorded, naming the keys.
 */
/** p is dir or below it (dir and p normalised, absolute). */
export function beginsWith(p: string, dir: string): boolean {
  return p === dir || dir === '/' || p.startsWith(dir + '/');
}

export function joinPolicy(p: Omit<Plan, 'joinDir' | 'joinPolicy'>): string {
  const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
  // origins name where an entry was written, not what it does; a data op's descriptor number is per launch
  // a launch variable's value is a word of its own, which the stage sets to the launch's (launch-var)
  const launch = new Map<string, string>();
  const mounts = p.mounts.map((m) => {
    const { origin: _o, ...rest } = m as MountOp & { fd?: number };
    if (rest.op === 'data') return { ...rest, fd: undefined };
    if (rest.op === 'bind' && rest.launchVar) {
      // the mark's value is the word's; the digest has the variable's name in its place
      const { launchVar: { name, value, dst }, ...bind } = rest;
      if (!beginsWith(bind.src, value)) return bind;
      launch.set(name, value);
      const n = value.length;
      return { ...bind, src: '${' + name + '}' + bind.src.slice(n), dst: dst && beginsWith(bind.dst, value) ? '${' + name + '}' + bind.dst.slice(n) : bind.dst };
    }
    return rest;
  });
  return [
    `network=${p.namespaces.net ? 'new' : 'shared'}`,
    `pid=${p.namespaces.pid ? 'new' : 'shared'}`,
    `uid=${p.uid}`,
    `gid=${p.gid}`,
    `hostname=${encodeURIComponent(p.hostname)}`,
    `mounts=${digest(mounts)}`,
    `capabilities=${p.capabilities.join(',') || 'none'}`,
    `seccomp=${p.seccomp ? digest(p.seccomp.bpf) : 'none'}`,
    `landlock=${p.landlockScopes}:${p.landlockPaths.length ? digest(p.landlockPaths.map((l) => [l.path, l.write])) : 'none'}`,
    // with a private pid namespace every member runs in the first one's cgroup, under its limits
    `limits=${p.cgroup ? encodeURIComponent(`${p.cgroup.memoryLabel ?? ''}|${p.cgroup.pidsLabel ?? ''}`) : 'none'}`,
    ...[...launch].map(([name, value]) => `launch-${name}=${encodeURIComponent(value)}`),
  ].join(' ');
}

/** Descriptors the environment names and a program will look for, among those open: PMI_FD (SLURM's PMI-2 wire to the step daemon). */
function descriptorsNamedIn(env: string[], openFds: number[]): number[] {
  const fds: number[] = [];
  for (const e of env) {
    const m = /^PMI_FD=(\d+)$/.exec(e);
    if (m && Number(m[1]) > 2 && openFds.includes(Number(m[1]))) fds.push(Number(m[1]));
  }
  return fds;
}

export function buildPlan(spec: SandboxSpec, argv: string[], caller: CallerContext, extras: PlanExtras, host: PlanHostFacts, commandLater = false): Plan {
  if (argv.length === 0 && !commandLater) throw new SandboxError('no command given (usage: sandbox run [OPTIONS] [--] COMMAND [ARGS...])');
  const own = protectOwnFiles(checkSources(spec.mounts, host.sources, extras.launchVars), host.protectedPaths, (p) => host.realSources[p] ?? p);
  // the state cover depends on what exists now, so it stays out of the join policy (a joiner finds it made)
  const mounts = hideOwnState(own, host.stateDirs, caller.uid);
  const caps: number[] = [];
  for (const name of spec.capAdd) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new SandboxError(`unknown capability '${name}'`);
    if (!caps.includes(n)) caps.push(n);
  }
  // The default cwd is the caller's own, where it is visible; an explicit --chdir must exist.
  const cwd = spec.cwd ?? (pathVisibleInside(caller.cwd, mounts) ? caller.cwd : '/');
  const env = buildEnv(spec.env, caller.env);
  const plan: Omit<Plan, 'joinDir' | 'joinPolicy'> = {
    version: 2,
    namespaces: { net: !spec.shareNet, pid: !spec.sharePid },
    uid: spec.uid ?? caller.uid,
    gid: spec.gid ?? caller.gid,
    hostname: spec.hostname ?? 'sandbox',
    cwd,
    cwdFallback: spec.cwd === undefined,
    mounts,
    env,
    argv,
    capabilities: caps.sort((a, b) => a - b),
    newSession: spec.newSession ?? false,
    // not for --join: the members share one /dev, and one member's terminal is no business of the others'
    terminalNode: !(spec.newSession ?? false) && !spec.join && mounts.some((m) => m.op === 'dev' && m.dst === '/dev'),
    dieWithParent: spec.dieWithParent ?? true,
    parentPid: caller.parentPid ?? 0,
    asPid1: spec.asPid1 ?? false,
    // Landlock keeps ptrace (and process_vm_readv, which MPI's single-copy transfers use) inside one domain. Joined
    // sandboxes with a private pid namespace all run in the first member's domain (the stage's spawner); with the
    // host's pid namespace each would have its own, so those go without the scopes.
    landlockScopes: spec.join && spec.sharePid ? 0 : 3,
    landlockPaths: spec.landlock,
    verbose: spec.verbose ?? false,
    keepFds: [...new Set([...spec.keepFds, ...descriptorsNamedIn(env, host.openFds)])].sort((a, b) => a - b),
    seccomp: extras.seccomp,
    cgroup: extras.cgroup,
  };
  if (!spec.join) return { ...plan, joinDir: null, joinPolicy: null };
  return { ...plan, joinDir: joinDirFor(spec.join, caller), joinPolicy: joinPolicy({ ...plan, mounts: own }) };
}
