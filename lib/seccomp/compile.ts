// The seccomp compiler: policy -> struct sock_filter[] for one architecture.
//
// Layout: (1) load arch, anything but the native audit arch kills the process; (2) load nr and
// walk a binary tree of `jge` over ranges of syscall numbers with the same answer; (3) leaves are
// shared return blocks, or, for the few syscalls whose rules test arguments, a chain of
// argument checks (64-bit values as high then low 32-bit halves). A syscall with no argument
// rule therefore reads only arch and nr on its path, which lets the kernel (5.11+) cache its
// answer and skip the filter. On x86_64 the x32 numbers (bit 30 set) answer ENOSYS, as on a
// kernel built without x32; i386 entry points carry another audit arch and are killed.
import { SandboxError, ERRNO } from '../errors';
import { Arch, NATIVE_AUDIT_ARCH, X32_SYSCALL_BIT, maxSyscall } from './arch';
import { Assembler, BPF, BPF_MAXINSNS, Label, SECCOMP_DATA, assemble, retValue } from './bpf';
import { ArgCondition, SeccompAction, SeccompPolicy } from './policy';
import { ResolveOptions, ResolvedEntry, ResolvedPolicy, effectiveChain, resolvePolicy } from './resolve';

export const X32_ACTION: SeccompAction = { kind: 'errno', errno: ERRNO.ENOSYS };
export const BAD_ARCH_ACTION: SeccompAction = { kind: 'kill-process' };

export interface CompileOptions extends ResolveOptions {}

export interface CompiledFilter {
  bytes: Buffer;
  resolved: ResolvedPolicy;
  instructions: number;
  longJumps: number;
}

type Segment = { start: number; key: string; ret?: number; entries?: ResolvedEntry[]; fallback?: number };

const M32 = 0xffffffffn;
const hiOf = (v: bigint) => Number((v >> 32n) & M32);
const loOf = (v: bigint) => Number(v & M32);

class Emitter {
  readonly asm = new Assembler();
  private rets = new Map<number, Label>();

  retLabel(k: number): Label {
    let l = this.rets.get(k >>> 0);
    if (!l) { l = `ret:${(k >>> 0).toString(16)}`; this.rets.set(k >>> 0, l); }
    return l;
  }

  emitRets(): void {
    for (const [k, l] of this.rets) { this.asm.label(l); this.asm.ret(k); }
  }

  /** Code that goes to `ok` when (arg & mask) OP value holds and to `fail` otherwise. */
  condition(c: ArgCondition, ok: Label, fail: Label): void {
    switch (c.op) {
      case '==': return this.positive('eq', c, ok, fail);
      case '>': return this.positive('gt', c, ok, fail);
      case '>=': return this.positive('ge', c, ok, fail);
      case '!=': return this.positive('eq', c, fail, ok);
      case '<=': return this.positive('gt', c, fail, ok);
      case '<': return this.positive('ge', c, fail, ok);
    }
  }

  // Unsigned 64-bit comparison in halves: decided by the high words unless they are equal.
  private positive(kind: 'eq' | 'gt' | 'ge', c: ArgCondition, ok: Label, fail: Label): void {
    const a = this.asm;
    const mh = hiOf(c.mask), ml = loOf(c.mask), vh = hiOf(c.value), vl = loOf(c.value);
    const lo = a.fresh('lo');
    if (mh === 0) {
      // The masked high word is always 0: the high comparison is known now.
      if (vh !== 0) { a.ja(fail); return; }
    } else {
      a.ld(SECCOMP_DATA.argHi(c.arg));
      if (mh !== 0xffffffff) a.and(mh);
      if (kind === 'eq') {
        a.jmp(BPF.JEQ_K, vh, lo, fail);
      } else {
        const same = a.fresh('hieq');
        a.jmp(BPF.JGT_K, vh, ok, same);
        a.label(same);
        a.jmp(BPF.JEQ_K, vh, lo, fail);
      }
    }
    a.label(lo);
    if (ml === 0) {
      const holds = kind === 'eq' ? vl === 0 : kind === 'ge' ? vl === 0 : false;
      a.ja(holds ? ok : fail);
      return;
    }
    a.ld(SECCOMP_DATA.argLo(c.arg));
    if (ml !== 0xffffffff) a.and(ml);
    a.jmp(kind === 'eq' ? BPF.JEQ_K : kind === 'gt' ? BPF.JGT_K : BPF.JGE_K, vl, ok, fail);
  }

  /** Rules tested in order; the first whose conditions all hold returns its action. */
  chain(entries: ResolvedEntry[], fallback: number): void {
    const a = this.asm;
    entries.forEach((e, i) => {
      const next = i + 1 < entries.length ? a.fresh('rule') : this.retLabel(fallback);
      e.args.forEach((c, j) => {
        const ok = j + 1 < e.args.length ? a.fresh('and') : this.retLabel(retValue(e.action));
        this.condition(c, ok, next);
        if (j + 1 < e.args.length) a.label(ok);
      });
      if (i + 1 < entries.length) a.label(next);
    });
  }
}

function segments(r: ResolvedPolicy): Segment[] {
  const segs: Segment[] = [];
  const max = maxSyscall(r.arch);
  const push = (s: Segment) => {
    const last = segs[segs.length - 1];
    if (last && last.key === s.key) return;
    segs.push(s);
  };
  for (let nr = 0; nr <= max; nr++) {
    const { entries, fallback } = effectiveChain(r, nr);
    const fb = retValue(fallback);
    if (entries.length === 0) push({ start: nr, key: `ret ${fb}`, ret: fb });
    // Identical chains (socket and socketpair, say) share one block.
    else push({ start: nr, key: `chain ${fb} ${entries.map((e) => `${e.index}:${retValue(e.action)}`).join(',')}`, entries, fallback: fb });
  }
  push({ start: max + 1, key: `ret ${retValue(r.defaultAction)}`, ret: retValue(r.defaultAction) });
  if (r.arch === 'x86_64') push({ start: X32_SYSCALL_BIT, key: `ret ${retValue(X32_ACTION)}`, ret: retValue(X32_ACTION) });
  return segs;
}

export function compileFilter(policy: SeccompPolicy, arch: Arch, opts: CompileOptions = {}): CompiledFilter {
  const resolved = resolvePolicy(policy, arch, opts);
  const em = new Emitter();
  const a = em.asm;
  const segs = segments(resolved);

  a.ld(SECCOMP_DATA.ARCH);
  a.jmp(BPF.JEQ_K, NATIVE_AUDIT_ARCH[arch], 'nr', em.retLabel(retValue(BAD_ARCH_ACTION)));
  a.label('nr');
  a.ld(SECCOMP_DATA.NR);

  // Chains get one label per distinct key; they are emitted after the tree.
  const chainLabels = new Map<string, { label: Label; seg: Segment }>();
  const leaf = (s: Segment): Label => {
    if (s.ret !== undefined) return em.retLabel(s.ret);
    let c = chainLabels.get(s.key);
    if (!c) { c = { label: a.fresh('chain'), seg: s }; chainLabels.set(s.key, c); }
    return c.label;
  };
  // Emit a balanced tree over segs[lo..hi]: node at `label` tests nr >= start of the upper half.
  const tree = (lo: number, hi: number, label: Label | null): void => {
    if (label) a.label(label);
    const mid = (lo + hi + 1) >> 1;
    const right = mid === hi ? leaf(segs[hi]) : a.fresh('node');
    const left = mid - 1 === lo ? leaf(segs[lo]) : a.fresh('node');
    a.jmp(BPF.JGE_K, segs[mid].start, right, left);
    if (mid - 1 !== lo) tree(lo, mid - 1, left);
    if (mid !== hi) tree(mid, hi, right);
  };
  if (segs.length === 1) a.ja(leaf(segs[0]));
  else tree(0, segs.length - 1, null);

  for (const { label, seg } of chainLabels.values()) {
    a.label(label);
    em.chain(seg.entries as ResolvedEntry[], seg.fallback as number);
  }
  em.emitRets();

  const out = assemble(a.code);
  if (out.length > BPF_MAXINSNS) {
    throw new SandboxError(`${policy.origin}: the seccomp filter for ${arch} needs ${out.length} instructions, more than the kernel's ${BPF_MAXINSNS}; use fewer argument rules`);
  }
  return { bytes: out.bytes, resolved, instructions: out.length, longJumps: out.longJumps };
}

/** struct sock_filter[] (u16 code, u8 jt, u8 jf, u32 k, little endian) for `arch`. */
export function compileSeccomp(policy: SeccompPolicy, arch: Arch, opts: CompileOptions = {}): Buffer {
  return compileFilter(policy, arch, opts).bytes;
}
