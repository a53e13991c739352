// Deciding where a sandbox's limits go: which delegated cgroup becomes the parent of the sandbox's
// leaf, what is written there, and, when nothing can be delegated, the one line that says why.
// Pure: everything it needs is in the CgroupHost read beforehand.
import * as path from 'node:path';
import { SandboxError } from '../errors';
import type { CgroupPlan } from '../plan/types';
import { LIMIT_NAMES, type LimitName, type LimitsSpec } from '../plan/spec';
import { formatSize, SIZE_FORMS, MEMORY_FORMS, CPUS_FORMS, PIDS_FORMS } from '../plan/units';
import { CgroupDir, CgroupHost, LAUNCHER_LEAF } from './host';

/** cpu.max period in microseconds; the quota is cpus × period. */
export const CPU_PERIOD_US = 100000;
/** The kernel refuses quotas under 1 ms. */
const CPU_MIN_QUOTA_US = 1000;

/** A limit file written in the leaf; optional ones are skipped when the kernel lacks the file. */
export interface LimitWrite {
  file: string;
  value: string;
  optional: boolean;
}

/** What createCgroupLeaf does, decided in advance. */
export interface CgroupSetup {
  /** 'delegated': the caller's (or its parent's) cgroup; 'systemd-scope': a transient scope asked of the user manager first. */
  via: 'delegated' | 'systemd-scope';
  /** The leaf's parent; for a systemd scope, known only once the scope exists (null until then). */
  base: string | null;
  leafName: string;
  /** Controllers the leaf needs, enabled in base's cgroup.subtree_control. */
  controllers: string[];
  /** Leaf name under base that the caller's processes move to, because base holds processes (no-internal-processes rule). */
  moveCallerTo: string | null;
  writes: LimitWrite[];
  /** Leaves of monitors that are gone (absolute paths): killed and removed first. */
  staleLeaves: string[];
  /** Transient scope unit name for 'systemd-scope'. */
  scopeUnit: string | null;
  /** The plan for the monitor; for a systemd scope its leaf is provisional until createCgroupLeaf. */
  plan: CgroupPlan;
}

export interface CgroupDecision {
  plan: CgroupPlan | null;
  setup: CgroupSetup | null;
  /** Why this cgroup (for --print-plan and doctor). */
  explain: string[];
  /** Lines for stderr (best-effort mode only), each already one line. */
  warnings: string[];
}

/** A sandbox id that names its monitor: "<pid>-<random>", so a later run can tell a stale leaf. */
export function newSandboxId(pid: number = process.pid): string {
  // Unique among this user's sandboxes (the pid already is while it lives); not a secret, so no crypto module
  // at start-up (loading it costs ~3 ms).
  return `${pid}-${Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0')}`;
}

export function leafNameFor(sandboxId: string): string {
  return `sandbox-${sandboxId}`;
}

export function cpuMax(cpus: number): string {
  return `${Math.round(cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`;
}

interface Asked {
  key: LimitName;
  flag: string;
  controller: string;
  shown: string;
  origin: string;
  from: 'option' | 'profile';
}

const FLAGS: Record<LimitName, [flag: string, controller: string]> = {
  memory: ['--memory', 'memory'],
  memorySwap: ['--memory-swap', 'memory'],
  cpus: ['--cpus', 'cpu'],
  pids: ['--pids', 'pids'],
};

function askedLimits(limits: LimitsSpec): Asked[] {
  const out: Asked[] = [];
  for (const key of LIMIT_NAMES) {
    const l = limits[key];
    if (!l) continue;
    const [flag, controller] = FLAGS[key];
    const shown = key === 'memory' || key === 'memorySwap' ? formatSize(l.value) : String(l.value);
    out.push({ key, flag, controller, shown, origin: l.origin, from: l.from });
  }
  return out;
}

/** A limit as its user wrote it: the option, or the profile's key. */
const short = (a: Asked): string => (a.from === 'option' ? a.flag : `limits.${a.key}`);

/** How limits are named at the head of a message: the options, or the profile position first (as profile errors are). */
function nameOf(asked: Asked[]): string {
  const names = asked.map(short).join(', ');
  const inProfile = asked.find((a) => a.from === 'profile');
  return inProfile ? `${inProfile.origin}: ${names}` : names;
}

/** For the monitor's messages (memory ran out, pids hit the limit): the option, or the value and its position. */
function label(a: Asked | undefined): string | null {
  if (!a) return null;
  return a.from === 'option' ? `${a.flag} ${a.shown}` : `limits.${a.key} ${a.shown} (${a.origin})`;
}

/** The parsers on both paths already enforce these; a LimitsSpec built elsewhere gets the same rules here. */
function validate(asked: Asked[], limits: LimitsSpec): void {
  for (const a of asked) {
    const v = limits[a.key]!.value;
    const bad =
      a.key === 'memory' ? !(Number.isSafeInteger(v) && v > 0)
        : a.key === 'memorySwap' ? !(Number.isSafeInteger(v) && v >= 0)
          : a.key === 'cpus' ? !(Number.isFinite(v) && v * CPU_PERIOD_US >= CPU_MIN_QUOTA_US)
            : !(Number.isSafeInteger(v) && v > 0);
    const forms = { memory: MEMORY_FORMS, memorySwap: SIZE_FORMS, cpus: CPUS_FORMS, pids: PIDS_FORMS }[a.key];
    if (bad) throw new SandboxError(`${nameOf([a])}: must be ${forms}, got ${v}`);
  }
}

const usable = (d: CgroupDir | null): boolean => !!d && d.canWriteProcs && d.canWriteSubtreeControl;

/** Why the host offers no delegated subtree, as a parenthesised clause. */
function whyNoDelegation(host: CgroupHost, needed: string[]): string {
  if (!host.mount) return 'host has no cgroup v2 hierarchy, only cgroup v1';
  const missingAtRoot = needed.filter((c) => !host.rootControllers.includes(c));
  if (missingAtRoot.length) {
    return `host has cgroup v2 at ${host.mount} with no ${missingAtRoot.join(', ')} controller${missingAtRoot.length > 1 ? 's' : ''}`;
  }
  if (!host.own) return `cgroup ${host.cgroupPath ?? '(none)'} is not visible under ${host.mount}`;
  const own = host.own;
  if (host.systemd.available && host.ownUnit && !host.ownUnit.delegate) {
    return `${own.path} belongs to ${host.ownUnit.unit}, which the systemd user manager manages (no Delegate=yes)`;
  }
  if (!usable(own)) {
    const owner = own.owner === null ? '' : ` is owned by uid ${own.owner} and`;
    return `${own.path}${owner} is not writable; ${host.systemd.reason}`;
  }
  const missing = needed.filter((c) => !own.controllers.includes(c));
  return `${own.path} lacks the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}; ${host.systemd.reason}`;
}

/**
 * Decide the sandbox's cgroup. Throws SandboxError when limits are strict and can't be enforced;
 * in best-effort mode returns plan null (or a partial plan) and one warning line.
 */
export function planCgroup(limits: LimitsSpec | null, sandboxId: string, host: CgroupHost): CgroupDecision {
  const asked = limits ? askedLimits(limits) : [];
  if (!limits || asked.length === 0) return { plan: null, setup: null, explain: ['no limits asked: no cgroup'], warnings: [] };
  validate(asked, limits);
  const mode = limits.mode?.value ?? 'strict';
  const explain: string[] = [];
  const warnings: string[] = [];
  const needed = [...new Set(asked.map((a) => a.controller))];
  const leafName = leafNameFor(sandboxId);

  // The base: our launcher leaf's parent (an earlier run moved the caller there), else the caller's cgroup.
  let base: CgroupDir | null = null;
  let moveCallerTo: string | null = null;
  // systemd's rule: below a unit of the user manager only a unit with Delegate=yes is ours to change
  // (a terminal's or an app's scope is the manager's, though the user owns its files).
  const managed = host.systemd.available && host.ownUnit !== null && !host.ownUnit.delegate;
  if (managed) {
    explain.push(`caller's cgroup ${host.own?.path} belongs to ${host.ownUnit!.unit}, which the systemd user manager manages (no Delegate=yes): nothing is made there`);
  } else if (host.ownParent && usable(host.ownParent) && host.own && path.posix.basename(host.own.path) === LAUNCHER_LEAF) {
    base = host.ownParent;
    explain.push(`caller is in ${host.own.path}, made by an earlier run; leaf goes beside it`);
  } else if (host.own && usable(host.own)) {
    base = host.own;
    explain.push(`caller's cgroup ${host.own.path} is writable by uid ${host.uid}${host.ownUnit ? ` (${host.ownUnit.unit} has Delegate=yes)` : ''}`);
    if (host.own.pids.length > 0 && host.own.path !== host.mount) {
      moveCallerTo = LAUNCHER_LEAF;
      explain.push(`it holds processes (${host.own.pids.length}), so they move to ${LAUNCHER_LEAF} beside the leaf (no internal processes)`);
    }
  }

  let via: CgroupSetup['via'] = 'delegated';
  let enforce = asked;
  const rootHasAll = !!host.mount && needed.every((c) => host.rootControllers.includes(c));
  const baseMissing = base ? needed.filter((c) => !base!.controllers.includes(c)) : needed;
  if (base && baseMissing.length && rootHasAll && !host.systemd.available) {
    // Delegated, but without some controllers: enforce what we can only when asked for best effort.
    const lacking = asked.filter((a) => baseMissing.includes(a.controller));
    const plural = baseMissing.length > 1;
    const line = `${nameOf(lacking)}: ${base.path} lacks the ${baseMissing.join(', ')} controller${plural ? 's' : ''} (its parent doesn't delegate ${plural ? 'them' : 'it'})`;
    if (mode === 'strict') {
      throw new SandboxError(`${line}; ask your admin to delegate ${baseMissing.join(', ')} or use --limits=best-effort`);
    }
    warnings.push(`${line}; running without ${lacking.map(short).join(', ')}`);
    enforce = asked.filter((a) => !baseMissing.includes(a.controller));
  } else if (baseMissing.length && rootHasAll && host.systemd.available) {
    via = 'systemd-scope';
    const why = managed ? explain[0] : `caller's cgroup isn't delegated with ${needed.join(', ')} (${whyNoDelegation(host, needed)})`;
    base = null;
    moveCallerTo = null;
    explain.length = 0;
    explain.push(`${why}; asking the systemd user manager for scope sandbox-${sandboxId}.scope with Delegate=yes`);
  } else if (baseMissing.length) {
    const line = `${nameOf(asked)}: no delegated cgroup v2 subtree for uid ${host.uid} (${whyNoDelegation(host, needed)})`;
    if (mode === 'strict') {
      throw new SandboxError(`${line}; run under a systemd user session, ask your admin to delegate one, or use --limits=best-effort`);
    }
    warnings.push(`${line}; running without limits (--limits=best-effort)`);
    return { plan: null, setup: null, explain: [...explain, line], warnings };
  }

  const controllers = [...new Set(enforce.map((a) => a.controller))];
  const has = (key: LimitName): Asked | undefined => enforce.find((a) => a.key === key);
  const writes: LimitWrite[] = [];
  if (has('memory')) writes.push({ file: 'memory.max', value: String(limits.memory!.value), optional: false });
  if (has('memorySwap')) writes.push({ file: 'memory.swap.max', value: String(limits.memorySwap!.value), optional: false });
  // No swap beyond the memory limit unless asked: a limit that spills into swap isn't the limit asked for.
  else if (has('memory')) writes.push({ file: 'memory.swap.max', value: '0', optional: true });
  if (has('cpus')) writes.push({ file: 'cpu.max', value: cpuMax(limits.cpus!.value), optional: false });
  if (has('pids')) writes.push({ file: 'pids.max', value: String(limits.pids!.value), optional: false });

  const scopeUnit = via === 'systemd-scope' ? `sandbox-${sandboxId}.scope` : null;
  const basePath = base ? base.path : null;
  const leaf = basePath ? path.posix.join(basePath, leafName) : `<scope ${scopeUnit}>/${leafName}`;
  const plan: CgroupPlan = {
    leaf,
    memoryLabel: label(has('memory')),
    pidsLabel: label(has('pids')),
  };
  explain.push(`leaf ${leaf}: ${writes.map((w) => `${w.file}=${w.value}`).join(', ')}`);
  const staleLeaves = base ? base.staleLeaves.map((n) => path.posix.join(base!.path, n)) : [];
  if (staleLeaves.length) explain.push(`stale leaves of gone monitors to remove: ${staleLeaves.join(', ')}`);
  return {
    plan,
    setup: { via, base: basePath, leafName, controllers, moveCallerTo, writes, staleLeaves, scopeUnit, plan },
    explain,
    warnings,
  };
}
