// The commands of sandbox, as data: `sandbox --help`, each command's own --help, "did you mean", the man
// page and the shell completions are all written from this table (and run-options.ts for `run`), so a command
// added here shows up in every one of them.

export interface CommandDef {
  name: string;
  /** what follows the name in a usage line */
  args: string;
  summary: string;
  /** options besides --help, with their argument (if any) and what each does */
  options?: { name: string; arg?: string; help: string; values?: string[] }[];
  /** words the first argument can be (profile show|check, seccomp groups|explain, desktop install|list|remove) */
  subcommands?: CommandDef[];
  /** what the positional arguments complete to */
  complete?: 'profile' | 'file' | 'command' | 'shell';
}

export const COMMANDS: CommandDef[] = [
  { name: 'run', args: '[OPTIONS] [--] PROGRAM [ARGS...]', summary: 'run PROGRAM in a new sandbox (sandbox run --help)', complete: 'command' },
  {
    name: 'compile', args: '[OPTIONS] -o FILE [-- CMD]', summary: 'write the plan once, for sandbox-exec FILE -- CMD (no Node at launch)', complete: 'command',
    options: [{ name: '--output', arg: 'FILE', help: 'where to write the plan (also -o FILE)' }],
  },
  { name: 'profiles', args: '', summary: 'list the profiles: name, shipped or user, the programs each is made for, description' },
  {
    name: 'profile', args: 'show NAME | check FILE', summary: 'show or validate a profile',
    subcommands: [
      { name: 'show', args: 'NAME', summary: 'the fully resolved profile, each entry marked with its file', complete: 'profile' },
      { name: 'check', args: 'FILE', summary: 'validate a profile', complete: 'file' },
    ],
  },
  {
    name: 'seccomp', args: 'groups | explain PROFILE SYSCALL', summary: 'the syscall groups, and what a filter does for a syscall',
    subcommands: [
      { name: 'groups', args: '', summary: 'the syscall groups (@mount, @privileged, ...)' },
      {
        name: 'explain', args: 'PROFILE SYSCALL [--arch x86_64|aarch64]', summary: 'what the compiled filter does for SYSCALL, and which rule decided', complete: 'profile',
        options: [{ name: '--arch', arg: 'ARCH', help: 'the architecture whose syscall table to use (default: this machine\'s)', values: ['x86_64', 'aarch64'] }],
      },
    ],
  },
  {
    name: 'ps', args: '[--json]', summary: 'your running sandboxes: name, pid, profile, uptime, usage, command',
    options: [{ name: '--json', help: 'the sandboxes as JSON' }],
  },
  { name: 'enter', args: 'NAME|PID [-- CMD]', summary: 'a shell (or CMD) inside a running sandbox, confined as its program is', complete: 'command' },
  {
    name: 'stop', args: 'NAME|PID [--timeout S]', summary: 'end a running sandbox: SIGTERM, then SIGKILL after S seconds (10)',
    options: [{ name: '--timeout', arg: 'S', help: 'seconds between SIGTERM and the end of everything in the sandbox (default 10)' }],
  },
  {
    name: 'doctor', args: '[--json]', summary: 'what this host allows a sandbox, and what to do about it',
    options: [{ name: '--json', help: 'the findings as JSON' }],
  },
  { name: 'bwrap', args: '[OPTIONS] [--] PROGRAM [ARGS...]', summary: 'bubblewrap\'s command line (bwrap mode; sandbox bwrap --help)', complete: 'command' },
  { name: 'install-bwrap-link', args: 'DIR', summary: 'a link DIR/bwrap to sandbox: programs that run bwrap get bwrap mode', complete: 'file' },
  {
    name: 'cache', args: 'clear', summary: 'the plans kept for repeated launches of sandbox run',
    subcommands: [{ name: 'clear', args: '', summary: 'remove every kept plan (the next launch of each plans afresh)' }],
  },
  {
    name: 'desktop', args: 'install|list|remove APP', summary: 'menu entries and ~/.local/bin wrappers that run APP in a sandbox',
    subcommands: [
      {
        name: 'install', args: 'APP [--profile P] [--wrapper] [--force]', summary: 'a menu entry that runs APP through sandbox run',
        options: [
          { name: '--profile', arg: 'P', help: 'the profile to run APP with' },
          { name: '--wrapper', help: 'also write ~/.local/bin/APP' },
          { name: '--force', help: 'replace an entry of that name that sandbox did not write' },
        ],
      },
      { name: 'list', args: '', summary: 'the entries sandbox desktop installed' },
      { name: 'remove', args: 'APP', summary: 'delete what install wrote for APP' },
    ],
  },
  { name: 'completion', args: 'bash|zsh|fish', summary: 'print the shell completion script (e.g. sandbox completion bash > ~/.local/share/bash-completion/completions/sandbox)', complete: 'shell' },
];

export const GLOBAL_OPTIONS = [
  { name: '--help', short: '-h', help: 'this help' },
  { name: '--version', short: '-V', help: 'the version' },
];

export const findCommand = (name: string | undefined): CommandDef | undefined => COMMANDS.find((c) => c.name === name);

/** The usage lines of a command, and of each of its subcommands. */
export function usageLines(cmd: CommandDef): string[] {
  if (!cmd.subcommands) return [`sandbox ${cmd.name}${cmd.args ? ' ' + cmd.args : ''}`];
  return cmd.subcommands.map((s) => `sandbox ${cmd.name} ${s.name}${s.args ? ' ' + s.args : ''}`);
}

/** `sandbox --help`. */
export function mainHelp(): string {
  const rows: [string, string][] = [];
  for (const c of COMMANDS) {
    if (c.subcommands && c.name !== 'desktop') for (const s of c.subcommands) rows.push([`${c.name} ${s.name}${s.args ? ' ' + s.args : ''}`, s.summary]);
    else rows.push([`${c.name}${c.args ? ' ' + c.args : ''}`, c.summary]);
  }
  for (const g of GLOBAL_OPTIONS) rows.push([g.name, g.help]);
  return ['Usage: sandbox COMMAND [OPTIONS]', '',
    'A rootless sandbox launcher: programs run in new namespaces on a root built from a profile,',
    'with a seccomp filter and cgroup limits, as an ordinary user (no setuid, no daemon).', '',
    'Commands:', ...rows.map(([l, r]) => `  ${l.padEnd(38)} ${r}`), '',
    'Examples:',
    '  sandbox run --no-profile --ro-bind / / --dev /dev --proc /proc -- id',
    '  sandbox run --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib64 /lib64 --symlink usr/lib /lib sh -c \'ls /\'',
    '', 'Every command takes --help. The manual: man sandbox; the profile format: man sandbox-profile.'].join('\n');
}

/** `sandbox CMD [SUB] --help` for the commands without a help text of their own. */
export function commandHelp(cmd: CommandDef, sub?: CommandDef): string {
  const target = sub ?? cmd;
  const lines = (sub ? [`sandbox ${cmd.name} ${sub.name}${sub.args ? ' ' + sub.args : ''}`] : usageLines(cmd)).map((l, i) => `${i ? '       ' : 'Usage: '}${l}`);
  lines.push('', target.summary);
  if (!sub && cmd.subcommands) {
    lines.push('', 'Subcommands:', ...cmd.subcommands.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`));
  }
  const opts = [...(target.options ?? []), { name: '--help', help: 'this help' }];
  lines.push('', 'Options:', ...opts.map((o) => `  ${(o.name + ('arg' in o && o.arg ? ' ' + o.arg : '')).padEnd(20)} ${o.help}`));
  return lines.join('\n');
}

/** True when args ask for help: --help or -h before any "--". */
export function asksHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
