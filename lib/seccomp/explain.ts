// Human answers about a compiled filter: `sandbox seccomp explain` (what happens to one syscall
// and which rule decided) and `sandbox seccomp groups`.
import { SandboxError } from '../errors';
import { Arch, NATIVE_AUDIT_ARCH, isKnownSyscall, syscallNumber } from './arch';
import { SECCOMP_DATA, describeRet, retValue } from './bpf';
import { CompileOptions, compileFilter } from './compile';
import { GROUPS, expandGroup } from './groups';
import { errnoName, formatAction, formatCondition, SeccompPolicy } from './policy';
import { effectiveChain } from './resolve';
import { runFilter } from './interpret';

function retText(k: number): string {
  const d = describeRet(k);
  const m = /^errno (\d+)$/.exec(d);
  return m ? `errno ${errnoName(Number(m[1]))}` : d;
}

/** What the compiled filter does for one syscall on `arch`, and which rule decided. */
export function explainSyscall(policy: SeccompPolicy, arch: Arch, name: string, opts: CompileOptions = {}): string {
  const nr = syscallNumber(arch, name);
  if (nr === undefined) {
    if (!isKnownSyscall(name)) throw new SandboxError(`unknown syscall "${name}"`);
    return `${name} does not exist on ${arch}; nothing can call it there.`;
  }
  const c = compileFilter(policy, arch, opts);
  // The verdict comes from running the program itself, not from the policy.
  const run = runFilter(c.bytes, { nr, arch: NATIVE_AUDIT_ARCH[arch], args: [0n, 0n, 0n, 0n, 0n, 0n] });
  const argLoads = run.loads.filter((o) => o >= SECCOMP_DATA.argLo(0));
  const { entries, fallback, fallbackEntry } = effectiveChain(c.resolved, nr);
  const byDefault = (e: { rule: unknown } | null): boolean => !e || e.rule === c.resolved.defaultRule;
  const src = (e: { rule: { text: string; origin: string } } | null) =>
    !byDefault(e) ? `rule "${e!.rule.text}" (${e!.rule.origin})` : `the default action (${c.resolved.policy.defaultOrigin})`;
  const lines: string[] = [];
  if (argLoads.length === 0) {
    lines.push(`${name} (${arch} nr ${nr}): ${retText(run.ret)}, whatever the arguments.`);
    lines.push(`  decided by ${src(fallbackEntry)}`);
    lines.push('  the filter reads only the architecture and the number on this path, so the kernel caches the answer');
    const overridden = (c.resolved.bySyscall.get(nr) ?? []).filter((e) => e !== fallbackEntry);
    for (const e of overridden) lines.push(`  also matched, but not deciding: "${e.rule.text}" (${e.rule.origin}) -> ${formatAction(e.action)}`);
  } else {
    // every argument a rule tests: a run with zero arguments stops at the first condition that fails
    const tested = [...argLoads.map((o) => Math.floor((o - 16) / 8)), ...entries.flatMap((e) => e.args.map((a) => a.arg))];
    const args = [...new Set(tested)].sort((a, b) => a - b).map((i) => `arg${i}`);
    lines.push(`${name} (${arch} nr ${nr}): depends on ${args.join(', ')}; rules tested in this order, first match wins:`);
    entries.forEach((e, i) => {
      lines.push(`  ${i + 1}. if ${e.args.map(formatCondition).join(' && ')}: ${formatAction(e.action)}  (rule "${e.rule.text}", ${e.rule.origin})`);
    });
    lines.push(`  otherwise: ${formatAction(fallback)}  (${!byDefault(fallbackEntry) ? `rule "${fallbackEntry!.rule.text}", ${fallbackEntry!.rule.origin}` : `default action, ${c.resolved.policy.defaultOrigin}`})`);
    lines.push(`  with all arguments 0 the filter answers: ${retText(run.ret)}`);
  }
  if (run.ret !== retValue(fallback) && argLoads.length === 0) {
    throw new Error(`explain: filter answered ${retText(run.ret)} but the policy says ${formatAction(fallback)}`);
  }
  return lines.join('\n');
}

/** The text of `sandbox seccomp groups`: each group, what it is for, and its members. */
export function formatGroups(width = 100): string {
  const out: string[] = [];
  for (const g of GROUPS.values()) {
    out.push(`${g.name}: ${g.summary}`);
    const direct = g.members.filter((m) => m.startsWith('@'));
    const all = expandGroup(g.name);
    const words = [...direct, ...all.filter((m) => !direct.length || !direct.some((d) => expandGroup(d).includes(m)))];
    let line = '   ';
    for (const w of words) {
      if (line.length + w.length + 1 > width) { out.push(line); line = '   '; }
      line += ` ${w}`;
    }
    if (line.trim()) out.push(line);
  }
  return out.join('\n');
}
