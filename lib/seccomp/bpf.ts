// Classic BPF as seccomp uses it: opcodes, return values, the seccomp_data layout, and a small
// assembler with symbolic labels resolved last (including the fix-up for jumps beyond 255).
import { SeccompAction } from './policy';

export const BPF = {
  LD_W_ABS: 0x20, LD_IMM: 0x00, LDX_IMM: 0x01, LD_MEM: 0x60, LDX_MEM: 0x61, ST: 0x02, STX: 0x03,
  ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  JA: 0x05, JEQ_K: 0x15, JGT_K: 0x25, JGE_K: 0x35, JSET_K: 0x45,
  AND_K: 0x54, RET_K: 0x06, RET_A: 0x16,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000, KILL_THREAD: 0x00000000, TRAP: 0x00030000, ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000, TRACE: 0x7ff00000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000,
  ACTION_FULL: 0xffff0000, DATA: 0x0000ffff,
} as const;

/** struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]. */
export const SECCOMP_DATA = {
  NR: 0, ARCH: 4, IP_LO: 8, IP_HI: 12,
  argLo: (i: number): number => 16 + 8 * i,
  argHi: (i: number): number => 20 + 8 * i,
  SIZE: 64,
} as const;

export function retValue(a: SeccompAction): number {
  switch (a.kind) {
    case 'allow': return SECCOMP_RET.ALLOW;
    case 'log': return SECCOMP_RET.LOG;
    case 'errno': return (SECCOMP_RET.ERRNO | (a.errno & SECCOMP_RET.DATA)) >>> 0;
    case 'trap': return SECCOMP_RET.TRAP;
    case 'kill-thread': return SECCOMP_RET.KILL_THREAD;
    case 'kill-process': return SECCOMP_RET.KILL_PROCESS;
  }
}

export function describeRet(k: number): string {
  const action = (k & SECCOMP_RET.ACTION_FULL) >>> 0;
  const data = k & SECCOMP_RET.DATA;
  switch (action) {
    case SECCOMP_RET.ALLOW: return 'allow';
    case SECCOMP_RET.LOG: return 'log (allowed, and logged)';
    case SECCOMP_RET.ERRNO: return `errno ${data}`;
    case SECCOMP_RET.TRAP: return 'trap (SIGSYS)';
    case SECCOMP_RET.KILL_THREAD: return 'kill the thread';
    case SECCOMP_RET.KILL_PROCESS: return 'kill the process';
    default: return `0x${k.toString(16)}`;
  }
}

export type Label = string;
export type Insn =
  | { t: 'label'; name: Label }
  | { t: 'ld'; off: number }
  | { t: 'and'; k: number }
  | { t: 'jmp'; code: number; k: number; jt: Label; jf: Label }
  | { t: 'ja'; to: Label }
  | { t: 'ret'; k: number };

export class Assembler {
  readonly code: Insn[] = [];
  private n = 0;
  fresh(prefix: string): Label {
    return `${prefix}#${this.n++}`;
  }
  label(name: Label): void { this.code.push({ t: 'label', name }); }
  ld(off: number): void { this.code.push({ t: 'ld', off }); }
  and(k: number): void { this.code.push({ t: 'and', k: k >>> 0 }); }
  jmp(code: number, k: number, jt: Label, jf: Label): void { this.code.push({ t: 'jmp', code, k: k >>> 0, jt, jf }); }
  ja(to: Label): void { this.code.push({ t: 'ja', to }); }
  ret(k: number): void { this.code.push({ t: 'ret', k: k >>> 0 }); }
}

export interface Assembled {
  bytes: Buffer;
  /** Trampolines inserted for conditional jumps longer than 255. */
  longJumps: number;
  length: number;
}

/** Resolve labels into offsets, inserting `ja` trampolines where a conditional jump can't reach. */
export function assemble(input: readonly Insn[]): Assembled {
  let code = input.slice();
  let longJumps = 0;
  const rets = new Map<Label, Insn>();
  code.forEach((i, n) => {
    if (i.t !== 'label') return;
    const next = code.slice(n + 1).find((x) => x.t !== 'label');
    if (next && next.t === 'ret') rets.set(i.name, next);
  });
  for (;;) {
    const pos = new Map<Label, number>();
    let pc = 0;
    for (const i of code) {
      if (i.t === 'label') pos.set(i.name, pc);
      else pc++;
    }
    const target = (l: Label): number => {
      const p = pos.get(l);
      if (p === undefined) throw new Error(`BPF assembler: undefined label ${l}`);
      return p;
    };
    // Give each conditional jump that can't reach trampolines right after itself (a conditional
    // jump never falls through, so the new instructions are only reached by it). Insertions only
    // lengthen other jumps, so repeat until none is too long.
    pc = 0;
    let fixed = false;
    const out: Insn[] = [];
    for (const i of code) {
      if (i.t === 'jmp') {
        const far = (l: Label) => target(l) - pc - 1 > 255;
        if (far(i.jt) || far(i.jf)) {
          const tramp: Insn[] = [];
          let { jt, jf } = i;
          // A far return is copied rather than jumped to: same size, one instruction less to run.
          const hop = (to: Label): Insn => rets.get(to) ?? { t: 'ja', to };
          if (far(i.jt)) { const l = `${i.jt}@far${longJumps++}`; tramp.push({ t: 'label', name: l }, hop(i.jt)); jt = l; }
          if (far(i.jf)) { const l = `${i.jf}@far${longJumps++}`; tramp.push({ t: 'label', name: l }, hop(i.jf)); jf = l; }
          out.push({ ...i, jt, jf }, ...tramp);
          fixed = true;
          pc++;
          continue;
        }
      }
      out.push(i);
      if (i.t !== 'label') pc++;
    }
    code = out;
    if (fixed) continue;
    const real = code.filter((i) => i.t !== 'label');
    const bytes = Buffer.alloc(real.length * 8);
    pc = 0;
    for (const i of code) {
      if (i.t === 'label') continue;
      let op = 0, jt = 0, jf = 0, k = 0;
      const rel = (l: Label) => {
        const d = target(l) - pc - 1;
        if (d < 0) throw new Error(`BPF assembler: backward jump to ${l}`);
        return d;
      };
      switch (i.t) {
        case 'ld': op = BPF.LD_W_ABS; k = i.off; break;
        case 'and': op = BPF.AND_K; k = i.k; break;
        case 'jmp': op = i.code; k = i.k; jt = rel(i.jt); jf = rel(i.jf); break;
        case 'ja': op = BPF.JA; k = rel(i.to); break;
        case 'ret': op = BPF.RET_K; k = i.k; break;
      }
      bytes.writeUInt16LE(op, pc * 8);
      bytes.writeUInt8(jt, pc * 8 + 2);
      bytes.writeUInt8(jf, pc * 8 + 3);
      bytes.writeUInt32LE(k >>> 0, pc * 8 + 4);
      pc++;
    }
    return { bytes, longJumps, length: real.length };
  }
}
