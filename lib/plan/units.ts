// Sizes, modes and counts in the forms users write: "512M", "2G", "1.5G", "0755", "1.5" CPUs.
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?$/;
const FACTOR: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes, or undefined when the text isn't a size. Suffixes are binary (M = MiB), as in bubblewrap and systemd. */
export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * FACTOR[m[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** An octal mode "0755" / "755" / "1777"; undefined when not one. */
export function parseMode(text: string): number | undefined {
  if (!/^0?[0-7]{3,4}$/.test(text)) return undefined;
  const v = parseInt(text, 8);
  return v <= 0o7777 ? v : undefined;
}

export function parseCount(text: string, max = 2 ** 31 - 1): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const v = Number(text);
  return v <= max ? v : undefined;
}

/** CPUs as a positive decimal: "1.5" → 1.5. */
export function parseCpus(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const v = Number(text);
  return v > 0 && v <= 4096 ? v : undefined;
}

export function formatSize(bytes: number): string {
  for (const [s, f] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const)
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${s}`;
  return String(bytes);
}
