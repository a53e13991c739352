// The architectures sandbox filters for: syscall tables, audit arch values and name lookups.
import { SYSCALLS_X86_64 } from './tables/x86_64';
import { SYSCALLS_AARCH64 } from './tables/aarch64';

export type Arch = 'x86_64' | 'aarch64';
export const ARCHES: readonly Arch[] = ['x86_64', 'aarch64'];

// <linux/audit.h>: EM_* machine number | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000).
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** The x32 ABI marks its syscall numbers with bit 30 (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;

export const NATIVE_AUDIT_ARCH: Readonly<Record<Arch, number>> = { x86_64: AUDIT_ARCH.X86_64, aarch64: AUDIT_ARCH.AARCH64 };

const TABLES: Readonly<Record<Arch, Readonly<Record<string, number>>>> = { x86_64: SYSCALLS_X86_64, aarch64: SYSCALLS_AARCH64 };

export function syscallNumber(arch: Arch, name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(TABLES[arch], name) ? TABLES[arch][name] : undefined;
}

const NAMES_BY_NR: Record<Arch, Map<number, string>> = {
  x86_64: new Map(Object.entries(SYSCALLS_X86_64).map(([n, nr]) => [nr, n])),
  aarch64: new Map(Object.entries(SYSCALLS_AARCH64).map(([n, nr]) => [nr, n])),
};

export function syscallName(arch: Arch, nr: number): string | undefined {
  return NAMES_BY_NR[arch].get(nr);
}

/** The highest syscall number in the table (tests walk 0..max and beyond). */
export function maxSyscall(arch: Arch): number {
  return Math.max(...Object.values(TABLES[arch]));
}

/** Known on at least one architecture we filter for. */
export function isKnownSyscall(name: string): boolean {
  return ARCHES.some((a) => syscallNumber(a, name) !== undefined);
}

/** The architecture Node runs on, or null when sandbox has no table for it. */
export function hostArch(nodeArch: string = process.arch): Arch | null {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  return null;
}
