// A classic BPF interpreter for seccomp programs: checks a program the way the kernel's loader
// does and runs it on a seccomp_data, recording which offsets were read. Used by `explain` and
// by the tests, which run every syscall number through compiled filters.
import { BPF, SECCOMP_DATA } from './bpf';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six raw 64-bit register values. */
  args?: readonly bigint[];
}

export interface Run {
  ret: number;
  /** Offsets into seccomp_data that the path read (sorted). */
  loads: number[];
  steps: number;
}

interface Insn { code: number; jt: number; jf: number; k: number }

export function decodeProgram(bytes: Buffer): Insn[] {
  if (bytes.length % 8 !== 0 || bytes.length === 0) throw new Error(`BPF program of ${bytes.length} bytes is not a whole number of instructions`);
  const out: Insn[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    out.push({ code: bytes.readUInt16LE(o), jt: bytes.readUInt8(o + 2), jf: bytes.readUInt8(o + 3), k: bytes.readUInt32LE(o + 4) });
  }
  return out;
}

const CLASS = (c: number) => c & 0x07;

/** What the kernel's seccomp_check_filter + bpf_check_classic insist on, for the subset we emit and more. */
export function checkProgram(prog: Insn[]): void {
  if (prog.length > 4096) throw new Error(`program has ${prog.length} instructions (kernel limit 4096)`);
  prog.forEach((i, pc) => {
    switch (CLASS(i.code)) {
      case 0x00: // LD
        if (i.code === BPF.LD_W_ABS && (i.k % 4 !== 0 || i.k >= SECCOMP_DATA.SIZE)) throw new Error(`pc ${pc}: load of offset ${i.k} outside seccomp_data`);
        if (i.code !== BPF.LD_W_ABS && i.code !== BPF.LD_IMM && i.code !== BPF.LD_MEM && i.code !== 0x80 /* LD LEN */) throw new Error(`pc ${pc}: load 0x${i.code.toString(16)} not allowed in seccomp`);
        break;
      case 0x05: { // JMP
        const op = i.code & 0xf0;
        if (op === 0x00) { if (pc + 1 + i.k >= prog.length) throw new Error(`pc ${pc}: ja out of range`); }
        else if (pc + 1 + Math.max(i.jt, i.jf) >= prog.length) throw new Error(`pc ${pc}: jump out of range`);
        break;
      }
      default: break;
    }
  });
  if (CLASS(prog[prog.length - 1].code) !== BPF.RET) throw new Error('program does not end with a return');
}

function dataWord(d: SeccompData, off: number): number {
  const u64 = (v: bigint | undefined, hi: boolean) => Number((BigInt.asUintN(64, v ?? 0n) >> (hi ? 32n : 0n)) & 0xffffffffn);
  if (off === SECCOMP_DATA.NR) return d.nr >>> 0;
  if (off === SECCOMP_DATA.ARCH) return d.arch >>> 0;
  if (off === SECCOMP_DATA.IP_LO || off === SECCOMP_DATA.IP_HI) return u64(d.instructionPointer, off === SECCOMP_DATA.IP_HI);
  const i = Math.floor((off - 16) / 8);
  return u64(d.args?.[i], (off - 16) % 8 === 4);
}

/** Run a program (bytes or decoded) on one seccomp_data. Both registers are unsigned 32-bit. */
export function runFilter(program: Buffer | Insn[], d: SeccompData): Run {
  const prog = Buffer.isBuffer(program) ? decodeProgram(program) : program;
  let A = 0, X = 0, pc = 0, steps = 0;
  const mem = new Array<number>(16).fill(0);
  const loads = new Set<number>();
  for (;;) {
    if (pc >= prog.length) throw new Error(`ran off the end of the program at pc ${pc}`);
    const i = prog[pc++];
    steps++;
    const src = (i.code & 0x08) ? X : i.k;
    switch (CLASS(i.code)) {
      case 0x00: // LD
        if (i.code === BPF.LD_W_ABS) { loads.add(i.k); A = dataWord(d, i.k); }
        else if (i.code === BPF.LD_IMM) A = i.k;
        else if (i.code === BPF.LD_MEM) A = mem[i.k & 15];
        else if (i.code === 0x80) A = SECCOMP_DATA.SIZE;
        else throw new Error(`pc ${pc - 1}: unsupported load 0x${i.code.toString(16)}`);
        break;
      case 0x01: // LDX
        if (i.code === BPF.LDX_IMM) X = i.k;
        else if (i.code === BPF.LDX_MEM) X = mem[i.k & 15];
        else if (i.code === 0x81) X = SECCOMP_DATA.SIZE;
        else throw new Error(`pc ${pc - 1}: unsupported ldx 0x${i.code.toString(16)}`);
        break;
      case 0x02: mem[i.k & 15] = A; break;
      case 0x03: mem[i.k & 15] = X; break;
      case 0x04: { // ALU
        switch (i.code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case 0x20: A = Number((BigInt(A) * BigInt(src)) & 0xffffffffn); break;
          case 0x30: if (src === 0) return { ret: 0, loads: [...loads].sort((a, b) => a - b), steps }; A = Math.floor(A / src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0x50: A = (A & src) >>> 0; break;
          case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case 0x70: A = src >= 32 ? 0 : A >>> src; break;
          case 0x80: A = (-A) >>> 0; break;
          case 0x90: if (src === 0) return { ret: 0, loads: [...loads].sort((a, b) => a - b), steps }; A = (A % src) >>> 0; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          default: throw new Error(`pc ${pc - 1}: unsupported alu 0x${i.code.toString(16)}`);
        }
        break;
      }
      case 0x05: { // JMP
        const op = i.code & 0xf0;
        if (op === 0x00) { pc += i.k; break; }
        let cond: boolean;
        switch (op) {
          case 0x10: cond = A === src; break;
          case 0x20: cond = A > src; break;
          case 0x30: cond = A >= src; break;
          case 0x40: cond = (A & src) !== 0; break;
          default: throw new Error(`pc ${pc - 1}: unsupported jump 0x${i.code.toString(16)}`);
        }
        pc += cond ? i.jt : i.jf;
        break;
      }
      case 0x06: // RET
        return { ret: ((i.code & 0x18) === 0x10 ? A : i.k) >>> 0, loads: [...loads].sort((a, b) => a - b), steps };
      case 0x07: // MISC
        if ((i.code & 0xf8) === 0x00) X = A; else A = X;
        break;
    }
  }
}
