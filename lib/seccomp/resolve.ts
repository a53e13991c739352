// Settles a policy for one architecture: drops Docker rules whose includes/excludes don't hold,
// turns names into numbers (an unknown name is an error unless optional), and orders each
// syscall's rules the way the filter evaluates them. decide() is the policy's meaning, written
// directly; the compiled BPF must agree with it (the tests check every number).
import { SandboxError } from '../errors';
import { Arch, syscallNumber } from './arch';
import { capabilityName } from '../plan/capabilities';
import { ALL_ONES_64, ArgCondition, DOCKER_ARCH, SeccompAction, SeccompPolicy, SeccompRule, actionRank, sameAction } from './policy';

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
  /** nr -> entries in evaluation order, first match wins (for a policy alone: strictest action first, then as written). */
  bySyscall: Map<number, ResolvedEntry[]>;
  /** The rule entries carry where the policy's default action decides under a base filter rule. */
  defaultRule: SeccompRule;
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
  const caps = new Set((opts.keptCaps ?? []).map(capabilityName));
  // Docker's arch words are Go's (amd64, arm64); accept ours and libseccomp's too.
  const names = [arch, DOCKER_ARCH[arch].goarch, DOCKER_ARCH[arch].scmp];
  if (a.capsAll && !a.capsAll.every((c) => caps.has(c))) return false;
  if (a.capsNone && a.capsNone.some((c) => caps.has(c))) return false;
  if (a.arches && !a.arches.some((x) => names.includes(x))) return false;
  if (a.notArches && a.notArches.some((x) => names.includes(x))) return false;
  if (a.minKernel && opts.kernel && !versionAtLeast(opts.kernel, a.minKernel)) return false;
  return true;
}

/** Each syscall's entries of these rules, strictest action first, then as written (the policy's own meaning). */
function resolveRules(rules: readonly SeccompRule[], firstIndex: number, arch: Arch, opts: ResolveOptions): Map<number, ResolvedEntry[]> {
  const bySyscall = new Map<number, ResolvedEntry[]>();
  rules.forEach((rule, i) => {
    const index = firstIndex + i;
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
  return bySyscall;
}

const LOW32 = 0xffffffffn;

/**
 * False only when no argument values meet all the conditions, proven for the cases pairing a base filter
 * rule with a policy rule makes (an argument pinned by an equality, or held under 2^32 by a range and pinned
 * by a 32-bit equality); anything else counts as possible. Entries that can never match only cost instructions.
 */
function satisfiable(conds: readonly ArgCondition[]): boolean {
  for (const arg of new Set(conds.map((c) => c.arg))) {
    const on = conds.filter((c) => c.arg === arg);
    let lo = 0n;
    let hi = ALL_ONES_64;
    for (const c of on) {
      if (c.mask !== ALL_ONES_64) continue;
      if (c.op === '<') hi = c.value === 0n ? -1n : (c.value - 1n < hi ? c.value - 1n : hi);
      else if (c.op === '<=') hi = c.value < hi ? c.value : hi;
      else if (c.op === '>') lo = c.value + 1n > lo ? c.value + 1n : lo;
      else if (c.op === '>=') lo = c.value > lo ? c.value : lo;
      else if (c.op === '==') { lo = c.value > lo ? c.value : lo; hi = c.value < hi ? c.value : hi; }
    }
    if (lo > hi) return false;
    // One value the argument must have, if the conditions pin it: then they hold there or nowhere.
    const pinned = lo === hi ? lo : hi <= LOW32 ? on.find((c) => c.op === '==' && c.mask === LOW32)?.value : undefined;
    if (pinned !== undefined) {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[arg] = pinned;
      if (!on.every((c) => conditionHolds(c, args))) return false;
    }
  }
  return true;
}

/**
 * The base filter's rules (baseItem set) act as a filter installed before the policy's, as the kernel
 * stacks filters: the stricter action wins, and between actions of the same kind (two errnos) the policy's,
 * the later filter's, as the kernel answers with the most recently installed filter's value. Each syscall's
 * list is the product of the two first-match lists: policy entry (then its default) by base entry (then
 * allow), so the first entry whose conditions hold gives combine(base answer, policy answer).
 */
export function resolvePolicy(policy: SeccompPolicy, arch: Arch, opts: ResolveOptions = {}): ResolvedPolicy {
  const baseRules = policy.rules.filter((r) => r.baseItem !== undefined);
  const ownRules = policy.rules.filter((r) => r.baseItem === undefined);
  const base = resolveRules(baseRules, 0, arch, opts);
  const own = resolveRules(ownRules, baseRules.length, arch, opts);
  const defaultRule: SeccompRule = { syscalls: [], action: policy.defaultAction, args: [], origin: policy.defaultOrigin, text: 'default action' };
  const n = policy.rules.length + 2;
  const bySyscall = new Map<number, ResolvedEntry[]>();
  for (const nr of new Set([...base.keys(), ...own.keys()])) {
    const b = base.get(nr);
    const p = own.get(nr) ?? [];
    if (!b) { bySyscall.set(nr, p); continue; }
    const list: ResolvedEntry[] = [];
    const pAll: (ResolvedEntry | null)[] = [...p, null];
    for (const pe of pAll) {
      const pAction = pe ? pe.action : policy.defaultAction;
      // No base answer can beat this one (ties go to the policy): the base entries need not be tested here.
      if (b.every((be) => actionRank(be.action) <= actionRank(pAction))) {
        if (pe) list.push(pe);
        else break;
        continue;
      }
      for (const be of [...b, null]) {
        const args = [...(pe?.args ?? [])];
        for (const c of be?.args ?? []) if (!args.some((x) => x.arg === c.arg && x.op === c.op && x.mask === c.mask && x.value === c.value)) args.push(c);
        if (!satisfiable(args)) continue;
        const baseWins = be !== null && actionRank(be.action) > actionRank(pAction);
        const rule = baseWins ? be!.rule : pe ? pe.rule : defaultRule;
        // An index per (policy entry, base entry) pair: the compiler merges neighbouring syscalls with equal lists by it.
        const index = pe === null && be === null ? -1 : ((pe?.index ?? n) + 1) * n + (be?.index ?? n) + 1;
        list.push({ action: baseWins ? be!.action : pAction, args, rule, index });
      }
    }
    // The last entry (policy default, base allow) is the default itself: the chain falls back to it anyway.
    if (list.length && list[list.length - 1].index === -1) list.pop();
    bySyscall.set(nr, list);
  }
  return { arch, defaultAction: policy.defaultAction, policy, bySyscall, defaultRule };
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
