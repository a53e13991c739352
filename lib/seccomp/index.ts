// lib/seccomp's public face: from a parsed profile policy (or none) to the plan's BPF bytes,
// always with the base filter underneath.
import { Arch } from './arch';
import { BaseOptions, baseFilterPolicy } from './base';
import { compileSeccomp } from './compile';
import { SeccompPolicy } from './policy';
import { mergeOverBase } from './resolve';

export { Arch, ARCHES, AUDIT_ARCH, hostArch, syscallNumber, syscallName } from './arch';
export { baseFilterPolicy, BaseOptions, BASE_ITEMS, BASE_ITEM_NAMES } from './base';
export { compileSeccomp, compileFilter } from './compile';
export { explainSyscall, formatGroups } from './explain';
export { GROUPS, expandGroup } from './groups';
export { runFilter } from './interpret';
export { locatorFor as jsonLocator } from '../json5-text';
export { parseSeccompSection, SeccompPolicy, SeccompRule, SeccompAction, Locate } from './policy';
export { decide, resolvePolicy } from './resolve';

/** The policy a sandbox actually runs under: the base filter, then the profile's rules and default. */
export function sandboxPolicy(policy: SeccompPolicy | null, base: BaseOptions = {}): SeccompPolicy {
  return mergeOverBase(baseFilterPolicy(policy?.loosen ?? [], base), policy);
}

/**
 * The plan's seccomp field. keptCaps: capability names the sandbox keeps (Docker rules include
 * or exclude by them); kernel: the running kernel's release, for Docker's minKernel.
 */
export function seccompForPlan(policy: SeccompPolicy | null, arch: Arch, keptCaps: readonly string[] = [], kernel?: string, base: BaseOptions = {}): { bpf: string; origin: string } {
  const bytes = compileSeccomp(sandboxPolicy(policy, base), arch, { keptCaps, kernel });
  const loosened = policy?.loosen.length ? ` (loosened: ${policy.loosen.map((l) => l.item).join(', ')})` : '';
  return { bpf: bytes.toString('base64'), origin: policy ? `base filter${loosened} + ${policy.origin}` : 'base filter' };
}
