// Settles a policy for one architecture: drops Docker rules whose includes/excludes don't hold,
// turns names into numbers (an unknown name is an error unless optional), and orders each
// syscall's rules the way the filter evaluates them. decide() is the policy's meaning, written
// directly; the compiled BPF must agree with it (the tests check every number).
import { SandboxError } from '../errors';
import { Arch, syscallNumber } from './arch';
import { normalizeCap } from './oci';
import { ArgCondition, DOCKER_ARCH, SeccompAction, SeccompPolicy, SeccompRule, actionRank, sameAction } from './policy';

export interface ResolveOptions {
  /** Capabilities the sandbox keeps ("CAP_NET_ADMIN" or "net_admin"); Docker rules include/exclude by them. */
  keptCaps?: readonly string[];
  /** Kernel release for Docker's includes.minKernel; absent: treated as new enough. */
  kernel?: string;
}

export interface ResolvedEntry {
  action: SeccompAction;
  args: ArgCondition[];
  rule: SeccompRule;
  /** Position of the rule in the policy (ties between equally strict rules go to the lower). */
  index: number;
}

export interface ResolvedPolicy {
  arch: Arch;
  defaultAction: SeccompAction;
  policy: SeccompPolicy;
  /** nr -> entries in evaluation order: strictest action first, then as written. */
  bySyscall: Map<number, ResolvedEntry[]>;
}

function versionAtLeast(have: string, want: string): boolean {
  const h = (have.match(/^\d+(\.\d+)*/)?.[0] ?? '0').split('.').map(Number);
  const w = want.split('.').map(Number);
  for (let i = 0; i < Math.max(h.length, w.length); i++) {
    const a = h[i] ?? 0, b = w[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function ruleApplies(rule: SeccompRule, arch: Arch, opts: ResolveOptions): boolean {
  const a = rule.applies;
  if (!a) return true;
  const caps = new Set((opts.keptCaps ?? []).map(normalizeCap));
  // Docker's arch words are Go's (amd64, arm64); accept ours and libseccomp's too.
  const names = [arch, DOCKER_ARCH[arch].goarch, DOCKER_ARCH[arch].scmp];
  if (a.capsAll && !a.capsAll.every((c) => caps.has(c))) return false;
  if (a.capsNone && a.capsNone.some((c) => caps.has(c))) return false;
  if (a.arches && !a.arches.some((x) => names.includes(x))) return false;
  if (a.notArches && a.notArches.some((x) => names.includes(x))) return false;
  if (a.minKernel && opts.kernel && !versionAtLeast(opts.kernel, a.minKernel)) return false;
  return true;
}

export function resolvePolicy(policy: SeccompPolicy, arch: Arch, opts: ResolveOptions = {}): ResolvedPolicy {
  const bySyscall = new Map<number, ResolvedEntry[]>();
  policy.rules.forEach((rule, index) => {
    if (!ruleApplies(rule, arch, opts)) return;
    const seen = new Set<number>();
    for (const s of rule.syscalls) {
      const nr = syscallNumber(arch, s.name);
      if (nr === undefined) {
        if (s.optional) continue;
        throw new SandboxError(`${s.origin}: syscall "${s.name}" does not exist on ${arch} (add optional: true to the rule to skip it there)`);
      }
      if (seen.has(nr)) continue;
      seen.add(nr);
      const list = bySyscall.get(nr) ?? [];
      list.push({ action: rule.action, args: rule.args, rule, index });
      bySyscall.set(nr, list);
    }
  });
  for (const list of bySyscall.values()) list.sort((x, y) => actionRank(y.action) - actionRank(x.action) || x.index - y.index);
  return { arch, defaultAction: policy.defaultAction, policy, bySyscall };
}

export function conditionHolds(c: ArgCondition, args: readonly bigint[]): boolean {
  const a = BigInt.asUintN(64, args[c.arg] ?? 0n) & c.mask;
  switch (c.op) {
    case '==': return a === c.value;
    case '!=': return a !== c.value;
    case '<': return a < c.value;
    case '<=': return a <= c.value;
    case '>': return a > c.value;
    case '>=': return a >= c.value;
  }
}

export interface Decision {
  action: SeccompAction;
  /** The deciding rule; null when the default action decided. */
  entry: ResolvedEntry | null;
}

/** What the policy says for syscall number nr with these arguments (the reference semantics). */
export function decide(r: ResolvedPolicy, nr: number, args: readonly bigint[] = []): Decision {
  for (const e of r.bySyscall.get(nr) ?? []) {
    if (e.args.every((c) => conditionHolds(c, args))) return { action: e.action, entry: e };
  }
  return { action: r.defaultAction, entry: null };
}

/**
 * The entries the filter must actually test for nr: nothing after an unconditional entry, and no
 * trailing conditional entries whose action equals what follows them anyway. An empty list with
 * `fallback` means the answer never depends on arguments (the kernel can cache it).
 */
export function effectiveChain(r: ResolvedPolicy, nr: number): { entries: ResolvedEntry[]; fallback: SeccompAction; fallbackEntry: ResolvedEntry | null } {
  const all = r.bySyscall.get(nr) ?? [];
  const entries: ResolvedEntry[] = [];
  let fallback = r.defaultAction;
  let fallbackEntry: ResolvedEntry | null = null;
  for (const e of all) {
    if (e.args.length === 0) {
      fallback = e.action;
      fallbackEntry = e;
      break;
    }
    entries.push(e);
  }
  while (entries.length && sameAction(entries[entries.length - 1].action, fallback)) entries.pop();
  return { entries, fallback, fallbackEntry };
}

/** Layer a profile's policy over the base filter: the base's rules come first and the profile's default applies. */
export function mergeOverBase(base: SeccompPolicy, profile: SeccompPolicy | null): SeccompPolicy {
  if (!profile) return base;
  return {
    defaultAction: profile.defaultAction,
    defaultOrigin: profile.defaultOrigin,
    rules: [...base.rules, ...profile.rules],
    loosen: profile.loosen,
    format: profile.format,
    origin: profile.origin,
  };
}
