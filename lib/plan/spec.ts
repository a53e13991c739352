// What a profile and the command line each say, before merging and resolving into a Plan.
// The profile loader produces a SandboxSpec; the CLI produces another; mergeSpecs puts the CLI on top.
import type { MountOp, Origin } from './types';
import type { SeccompPolicy } from '../seccomp/policy';
import type { DbusSpec } from '../session/dbus-rules';
import type { PulseSpec } from '../session/pulse-rules';

export interface EnvSpec {
  /** Start from an empty environment (then only `keep` survives from the host). */
  clear: boolean;
  /** Host variables kept when clear is set; glob patterns like "SLURM_*" allowed. */
  keep: string[];
  set: Record<string, string>;
  unset: string[];
}

/** One limit as asked, with where it was asked: a limit's origin is its own, not its section's. */
export interface LimitSetting<T> {
  value: T;
  /** The option as typed ("--pids 100") or the profile position of the value ("app.json5:3:5"). */
  origin: Origin;
  from: 'option' | 'profile';
}

export type LimitName = 'memory' | 'memorySwap' | 'cpus' | 'pids';
export type LimitsMode = 'strict' | 'best-effort';

/** Limits as users write them: sizes in bytes, cpus as a fraction of CPUs, pids as a count. Each one unset unless asked. */
export interface LimitsSpec {
  memory?: LimitSetting<number>;
  memorySwap?: LimitSetting<number>;
  cpus?: LimitSetting<number>;
  pids?: LimitSetting<number>;
  /** 'strict' (when unset): fail when limits can't be enforced; 'best-effort': run without them and say so. */
  mode?: LimitSetting<LimitsMode>;
}

export const LIMIT_NAMES: readonly LimitName[] = ['memory', 'memorySwap', 'cpus', 'pids'];

/** Layer limits key by key: a limit or mode `top` sets wins, every other one of `base` stays with its origin. */
export function mergeLimits(base: LimitsSpec | null, top: LimitsSpec | null): LimitsSpec | null {
  if (!top) return base;
  if (!base) return top;
  const out: LimitsSpec = { ...base };
  for (const k of [...LIMIT_NAMES, 'mode'] as const) {
    const v = top[k];
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The first origin among the limits asked, for messages about the limits as a whole. */
export function limitsOrigin(l: LimitsSpec): Origin {
  for (const k of [...LIMIT_NAMES, 'mode'] as const) if (l[k]) return l[k]!.origin;
  return 'limits';
}

export interface SandboxSpec {
  shareNet?: boolean;
  /** Keep the host's pid namespace (then /proc shows the host's processes). */
  sharePid?: boolean;
  uid?: number;
  gid?: number;
  hostname?: string;
  cwd?: string;
  /** cwd begins with this variable's value (`cwd: "${CWD}"`): see LaunchVarMark */
  cwdVar?: { name: string; value: string };
  mounts: MountOp[];
  env: EnvSpec;
  /** Capability names ("CAP_NET_ADMIN" or "net_admin") kept inside. */
  capAdd: string[];
  /** Landlock filesystem rules (paths inside): when any is given, the program reaches only what they list. */
  landlock: { path: string; write: boolean; origin: Origin }[];
  newSession?: boolean;
  dieWithParent?: boolean;
  asPid1?: boolean;
  verbose?: boolean;
  /** Share the namespaces of this user's other sandboxes on this node that name the same key. */
  join?: string;
  /** A profile's join key as written (`pmix-${PMIX_NAMESPACE}`), for a compiled plan to resolve at each launch:
   * `text` with one letter per byte in `kinds` (`l` itself, `V` the first byte of a variable's name, `v` the rest). */
  joinTemplate?: { text: string; kinds: string; origin: string };
  keepFds: number[];
  /** A profile's seccomp section or --seccomp FILE, parsed; lib/seccomp compiles it over the base filter. */
  seccomp: { policy: SeccompPolicy; origin: Origin } | null;
  limits: LimitsSpec | null;
  /** Device sets bound (dri, snd, video, nvidia), so that a --rootfs image also gets the NVIDIA driver's libraries. */
  devices?: string[];
  /** A profile's dbus section: the session bus through xdg-dbus-proxy (lib/session/dbus-proxy.ts); absent: no bus. */
  dbus?: DbusSpec | null;
  /** A profile's pulseaudio socket: the host's server through the filtering proxy (lib/session/pulse-proxy.ts), never bound raw. */
  pulse?: PulseSpec | null;
}

export function emptySpec(): SandboxSpec {
  return { mounts: [], env: { clear: false, keep: [], set: {}, unset: [] }, capAdd: [], landlock: [], keepFds: [], seccomp: null, limits: null };
}

/** Layer `top` over `base`: lists append, maps merge, scalars of `top` win. */
export function mergeSpecs(base: SandboxSpec, top: SandboxSpec): SandboxSpec {
  const pick = <K extends keyof SandboxSpec>(k: K): SandboxSpec[K] => (top[k] !== undefined ? top[k] : base[k]);
  return {
    shareNet: pick('shareNet'),
    sharePid: pick('sharePid'),
    uid: pick('uid'),
    gid: pick('gid'),
    hostname: pick('hostname'),
    cwd: pick('cwd'),
    ...(top.cwd !== undefined ? (top.cwdVar ? { cwdVar: top.cwdVar } : {}) : base.cwdVar ? { cwdVar: base.cwdVar } : {}),
    mounts: [...base.mounts, ...top.mounts],
    env: {
      clear: base.env.clear || top.env.clear,
      keep: [...base.env.keep, ...top.env.keep],
      set: { ...base.env.set, ...top.env.set },
      unset: [...base.env.unset, ...top.env.unset],
    },
    capAdd: [...base.capAdd, ...top.capAdd],
    landlock: [...base.landlock, ...top.landlock],
    newSession: pick('newSession'),
    dieWithParent: pick('dieWithParent'),
    asPid1: pick('asPid1'),
    verbose: pick('verbose'),
    join: pick('join'),
    // --join on the command line replaces the profile's key, template and all
    ...(top.joinTemplate ? { joinTemplate: top.joinTemplate } : base.joinTemplate && top.join === undefined ? { joinTemplate: base.joinTemplate } : {}),
    keepFds: [...base.keepFds, ...top.keepFds],
    seccomp: top.seccomp ?? base.seccomp,
    limits: mergeLimits(base.limits, top.limits),
    ...(base.devices || top.devices ? { devices: [...new Set([...(base.devices ?? []), ...(top.devices ?? [])])] } : {}),
    ...(top.dbus !== undefined ? { dbus: top.dbus } : base.dbus !== undefined ? { dbus: base.dbus } : {}),
    ...(top.pulse !== undefined ? { pulse: top.pulse } : base.pulse !== undefined ? { pulse: base.pulse } : {}),
  };
}
