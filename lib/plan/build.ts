// Building the plan: merges nothing and decides little — it resolves a SandboxSpec against the caller
// (uid, environment, current directory) into the exact Plan the C stage will carry out.
import * as fs from 'fs';
import * as path from 'path';
import { SandboxError, errnoMessage } from '../errors';
import type { Plan, MountOp, CgroupPlan } from './types';
import type { SandboxSpec, EnvSpec } from './spec';
import { capabilityNumber } from './capabilities';

export interface CallerContext {
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string | undefined>;
  /** The parent pid read first thing at start-up (0: unknown). */
  parentPid?: number;
}

export interface PlanExtras {
  seccomp: Plan['seccomp'];
  cgroup: CgroupPlan | null;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
}

export function buildEnv(spec: EnvSpec, host: Record<string, string | undefined>): string[] {
  const out = new Map<string, string>();
  const keep = spec.keep.map(globToRegExp);
  for (const [k, v] of Object.entries(host)) {
    if (v === undefined) continue;
    if (spec.clear && !keep.some((re) => re.test(k))) continue;
    out.set(k, v);
  }
  const unset = spec.unset.map(globToRegExp);
  for (const k of [...out.keys()]) if (unset.some((re) => re.test(k))) out.delete(k);
  for (const [k, v] of Object.entries(spec.set)) out.set(k, v);
  if (!out.has('PATH')) out.set('PATH', '/usr/local/bin:/usr/bin:/bin');
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** Missing bind sources are reported here, before anything starts, in the words of the option at fault. */
export function checkSources(mounts: MountOp[]): MountOp[] {
  const kept: MountOp[] = [];
  for (const m of mounts) {
    if (m.op === 'bind') {
      try {
        fs.statSync(m.src);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (m.optional && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) continue;
        throw new SandboxError(`${m.origin}: ${errnoMessage(code)}`);
      }
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
export function protectOwnFiles(mounts: MountOp[], protectedPaths: string[], realpath: (p: string) => string = realpathOr): MountOp[] {
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

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** A --join key names a directory: 1 to 128 of these characters, and not "." or "..". */
export const JOIN_KEY_RULE = 'a key is 1 to 128 letters, digits and . _ @ : + -';
export function isJoinKey(key: string): boolean {
  return /^[A-Za-z0-9._@:+-]{1,128}$/.test(key) && key !== '.' && key !== '..';
}

/** The state directory of a --join key: per user, in the runtime directory (else /tmp/sandbox-UID). The stage
 * creates it (mode 0700, parents too) when it takes the key's lock; a key was checked where it was read. */
export function joinDirFor(key: string, caller: CallerContext): string {
  const runtime = caller.env.XDG_RUNTIME_DIR && path.isAbsolute(caller.env.XDG_RUNTIME_DIR) ? caller.env.XDG_RUNTIME_DIR : `/tmp/sandbox-${caller.uid}`;
  return path.join(runtime, 'sandbox', 'join', key);
}

/** Descriptors the environment names and a program will look for: PMI_FD (SLURM's PMI-2 wire to the step daemon). */
function descriptorsNamedIn(env: string[]): number[] {
  const fds: number[] = [];
  for (const e of env) {
    const m = /^PMI_FD=(\d+)$/.exec(e);
    if (m && Number(m[1]) > 2 && fs.existsSync(`/proc/self/fd/${m[1]}`)) fds.push(Number(m[1]));
  }
  return fds;
}

export function buildPlan(spec: SandboxSpec, argv: string[], caller: CallerContext, extras: PlanExtras, protectedPaths: string[] = [], commandLater = false): Plan {
  if (argv.length === 0 && !commandLater) throw new SandboxError('no command given (usage: sandbox run [OPTIONS] [--] COMMAND [ARGS...])');
  const mounts = protectOwnFiles(checkSources(spec.mounts), protectedPaths.filter((p) => fs.existsSync(p)));
  const caps: number[] = [];
  for (const name of spec.capAdd) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new SandboxError(`unknown capability '${name}'`);
    if (!caps.includes(n)) caps.push(n);
  }
  // The default cwd is the caller's own, where it is visible; an explicit --chdir must exist.
  const cwd = spec.cwd ?? (pathVisibleInside(caller.cwd, mounts) ? caller.cwd : '/');
  const env = buildEnv(spec.env, caller.env);
  return {
    version: 1,
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
    // Each sandbox's Landlock domain is its own, and Landlock keeps ptrace (and process_vm_readv, which MPI's
    // single-copy transfers use) inside one domain: joined sandboxes go without the scopes.
    landlockScopes: spec.join ? 0 : 3,
    landlockPaths: spec.landlock,
    verbose: spec.verbose ?? false,
    keepFds: [...new Set([...spec.keepFds, ...descriptorsNamedIn(env)])].sort((a, b) => a - b),
    seccomp: extras.seccomp,
    cgroup: extras.cgroup,
    joinDir: spec.join ? joinDirFor(spec.join, caller) : null,
  };
}
