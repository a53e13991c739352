// Building the plan: merges nothing and decides little — it resolves a SandboxSpec against the caller
// (uid, environment, current directory) into the exact Plan the C stage will carry out.
import * as fs from 'fs';
import { SandboxError, errnoMessage } from '../errors';
import type { Plan, MountOp, CgroupPlan } from './types';
import type { SandboxSpec, EnvSpec } from './spec';
import { capabilityNumber } from './capabilities';

export interface CallerContext {
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string | undefined>;
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

export function buildPlan(spec: SandboxSpec, argv: string[], caller: CallerContext, extras: PlanExtras): Plan {
  if (argv.length === 0) throw new SandboxError('no command given (usage: sandbox run [OPTIONS] [--] COMMAND [ARGS...])');
  const mounts = checkSources(spec.mounts);
  const caps: number[] = [];
  for (const name of spec.capAdd) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new SandboxError(`unknown capability '${name}'`);
    if (!caps.includes(n)) caps.push(n);
  }
  // The default cwd is the caller's own, where it is visible; an explicit --chdir must exist.
  const cwd = spec.cwd ?? (pathVisibleInside(caller.cwd, mounts) ? caller.cwd : '/');
  return {
    version: 1,
    namespaces: { net: !spec.shareNet },
    uid: spec.uid ?? caller.uid,
    gid: spec.gid ?? caller.gid,
    hostname: spec.hostname ?? 'sandbox',
    cwd,
    cwdFallback: spec.cwd === undefined,
    mounts,
    env: buildEnv(spec.env, caller.env),
    argv,
    capabilities: caps.sort((a, b) => a - b),
    newSession: spec.newSession ?? true,
    dieWithParent: spec.dieWithParent ?? true,
    asPid1: spec.asPid1 ?? false,
    keepFds: [...new Set(spec.keepFds)].sort((a, b) => a - b),
    seccomp: extras.seccomp,
    cgroup: extras.cgroup,
  };
}
