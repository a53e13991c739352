// Sizes, modes and counts in the forms users write: "512M", "2G", "1.5G", "0755", "1.5" CPUs.
// The one parser and formatter of sizes, for the command line and profiles alike.
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:I?B)?|B)?$/i;
const FACTOR: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** What each value may look like, for the messages of both paths (options and profiles). */
export const SIZE_FORMS = 'a size like 512M, 2G, 1.5G or a whole number of bytes';
export const MEMORY_FORMS = 'a size above 0, like 512M, 2G or 1.5G';
export const CPUS_FORMS = 'a number of CPUs from 0.01 to 4096, like 1.5';
/** The kernel's PID_MAX_LIMIT: no pids.max above it means anything. */
export const PIDS_MAX = 4194304;
export const PIDS_FORMS = `a number of processes from 1 to ${PIDS_MAX}`;

/**
 * Bytes (0 included; callers that need more say so), or why the value isn't a size. Suffixes are binary
 * (M = MiB), as in bubblewrap and systemd; a fraction needs a unit (1.5G), since a plain number counts bytes.
 * Profiles may also give a plain JSON integer.
 */
export function readSize(v: unknown): { bytes: number } | { problem: string } {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) && v >= 0 ? { bytes: v } : { problem: `not ${SIZE_FORMS}` };
  }
  if (typeof v !== 'string') return { problem: `not ${SIZE_FORMS}` };
  const m = SIZE_RE.exec(v.trim());
  if (!m) return { problem: `not ${SIZE_FORMS}` };
  const unit = (m[2] ?? '').toLowerCase();
  if (!unit && m[1].includes('.')) return { problem: `a fraction of a byte (a plain number counts bytes): write a unit, like ${m[1]}G` };
  const bytes = Math.round(Number(m[1]) * FACTOR[unit]);
  return Number.isSafeInteger(bytes) ? { bytes } : { problem: 'too large' };
}

/** Bytes, or undefined when the value isn't a size (see readSize for why). */
export function parseSize(v: unknown): number | undefined {
  const r = readSize(v);
  return 'bytes' in r ? r.bytes : undefined;
}

/** Bytes in the largest unit that divides them: 67108864 → "64M". */
export function formatSize(bytes: number): string {
  for (const [s, f] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const)
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${s}`;
  return String(bytes);
}

/** An octal mode "0755" / "755" / "1777"; undefined when not one. */
export function parseMode(text: string): number | undefined {
  if (!/^0?[0-7]{3,4}$/.test(text)) return undefined;
  const v = parseInt(text, 8);
  return v <= 0o7777 ? v : undefined;
}

export function parseCount(text: string, max = 2 ** 31 - 1, min = 0): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const v = Number(text);
  return v >= min && v <= max ? v : undefined;
}

/** CPUs as a decimal ("1.5", or 1.5 in a profile); cpu.max refuses quotas under 1 ms of a 100 ms period. */
export function parseCpus(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return v >= 0.01 && v <= 4096 ? v : undefined;
}
