// The name diagnostics begin with: "sandbox", or "bwrap" in bwrap mode (lib/cli/bwrap.ts), where --level-prefix
// also puts a syslog level before each line as bubblewrap does (<3> an error, <4> a warning).
let name = 'sandbox';
let levels = false;

export function setProgram(n: string, levelPrefix = false): void {
  name = n;
  levels = levelPrefix;
}

export function programName(): string {
  return name;
}

/** One diagnostic line: level 3 an error, 4 a warning, 5 a note. */
export function diagnostic(level: 3 | 4 | 5, message: string): string {
  return `${levels ? `<${level}>` : ''}${name}: ${message}`;
}
