// `sandbox ps`, `sandbox enter` and `sandbox stop`: the caller's running sandboxes, from the registry
// (lib/running/registry.ts). `enter` hands over to the C stage's client (native/enter.c); `stop` signals the
// monitor, which ends the sandbox and cleans up as at any other end.
import minimist from 'minimist';
import { SandboxError } from '../errors';
import { cgroupUsage, findRunning, isLive, isMonitor, listRunning, type RegistryEntry, type Usage } from '../running/registry';
import type { RunIo } from './run';

/** The monitor's signal for "the grace period is over": it kills the init (native/registry.h SIG_STOP_NOW). */
const SIG_STOP_NOW = 40;

function uid(): number {
  return process.getuid ? process.getuid() : 0;
}

function strictArgs(argv: string[], opts: { boolean?: string[]; string?: string[] }, usage: string): minimist.ParsedArgs {
  return minimist(argv, {
    ...opts,
    stopEarly: true,
    unknown: (a) => {
      if (a.startsWith('-') && a !== '-') throw new SandboxError(`${a.replace(/=.*$/, '')}: unknown option (usage: ${usage})`);
      return true;
    },
  });
}

/** 3h05m, 12m03s, 42s. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function formatBytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}

function formatStart(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The command as a shell would read it back. */
function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./=:@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface PsRow {
  name: string;
  pid: number;
  profile: string;
  command: string[];
  started: string;
  uptimeSeconds: number;
  cgroup: string | null;
  usage: Usage;
}

export function psRows(entries: RegistryEntry[], now: number, usage: (leaf: string | null) => Usage = cgroupUsage): PsRow[] {
  return entries.map((e) => ({
    name: e.name,
    pid: e.pid,
    profile: e.profile,
    command: e.command,
    started: new Date(e.started).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((now - e.started) / 1000)),
    cgroup: e.cgroup,
    usage: usage(e.cgroup),
  }));
}

/** The table: limits' columns show "-" for a sandbox without a cgroup leaf of its own. */
export function formatPs(rows: PsRow[]): string {
  const header = ['NAME', 'PID', 'PROFILE', 'STARTED', 'UPTIME', 'MEM', 'CPU', 'PIDS', 'COMMAND'];
  const table = rows.map((r) => [
    r.name, String(r.pid), r.profile, formatStart(Date.parse(r.started)), formatUptime(r.uptimeSeconds),
    formatBytes(r.usage.memoryCurrent), r.usage.cpuUsageUsec === null ? '-' : `${(r.usage.cpuUsageUsec / 1e6).toFixed(2)}s`,
    r.usage.pidsCurrent === null ? '-' : String(r.usage.pidsCurrent), shellWords(r.command).replace(/[\x00-\x1f\x7f]/g, '?'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  return [header, ...table].map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

export function runPsCommand(argv: string[], io: RunIo): number {
  const usage = 'sandbox ps [--json]';
  const a = strictArgs(argv, { boolean: ['json', 'help'] }, usage);
  if (a.help) {
    io.out(`Usage: ${usage}\n\nYour running sandboxes: name, monitor pid, profile, start time, uptime, and with limits the\ncgroup's memory.current, cpu.stat usage and pids.current; then the command.`);
    return 0;
  }
  if (a._.length) throw new SandboxError(`${a._[0]}: unexpected argument (usage: ${usage})`);
  const rows = psRows(listRunning(uid(), process.env), Date.now());
  io.out(a.json ? JSON.stringify(rows, null, 2) : formatPs(rows));
  return 0;
}

export function runEnterCommand(argv: string[], io: RunIo): number {
  const usage = 'sandbox enter NAME|PID [-- COMMAND [ARGS...]]';
  const dash = argv.indexOf('--');
  const before = dash < 0 ? argv : argv.slice(0, dash);
  const a = strictArgs(before, { boolean: ['help'] }, usage);
  if (a.help) {
    io.out(`Usage: ${usage}\n\nA shell (or COMMAND) inside a running sandbox of yours, confined exactly as its program is:\nits namespaces, uid and gid, no capabilities, no_new_privs, its seccomp filter, Landlock rules and\nscopes, its environment and working directory. Exit status: the command's.`);
    return 0;
  }
  if (a._.length === 0) throw new SandboxError(`no sandbox named (usage: ${usage})`);
  const command = dash < 0 ? a._.slice(1).map(String) : argv.slice(dash + 1);
  if (dash >= 0 && a._.length > 1) throw new SandboxError(`${a._[1]}: unexpected argument before -- (usage: ${usage})`);
  const e = findRunning(String(a._[0]), uid(), process.env);
  if (!e.enter) throw new SandboxError(`${e.name}: can't be entered (it runs its program as pid 1, or joined other sandboxes with --join)`);
  const { execStageMode } = require('../native/handoff') as typeof import('../native/handoff');
  return execStageMode(['--enter', e.dir!, e.name, String(e.pid), '--', ...command]);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits up to ms for the monitor to be gone; true when it is. */
function waitGone(e: RegistryEntry, me: number, ms: number): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (!isLive(e, me)) return true;
    if (Date.now() >= end) return false;
    sleep(20);
  }
}

export function runStopCommand(argv: string[], io: RunIo): number {
  const usage = 'sandbox stop NAME|PID [--timeout SECONDS]';
  let timeoutText: string | undefined;
  const targets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      io.out(`Usage: ${usage}\n\nSIGTERM to the sandbox's program, then, after --timeout seconds (default 10), everything in the\nsandbox is killed. Its monitor cleans up and exits as at any other end. Waits until it has.`);
      return 0;
    }
    if (arg === '--timeout') {
      if (i + 1 >= argv.length) throw new SandboxError('--timeout: expects SECONDS');
      timeoutText = argv[++i];
    } else if (arg.startsWith('--timeout=')) timeoutText = arg.slice('--timeout='.length);
    else if (arg.startsWith('-')) throw new SandboxError(`${arg.replace(/=.*$/, '')}: unknown option (usage: ${usage})`);
    else targets.push(arg);
  }
  const timeout = timeoutText === undefined ? 10 : /^\d+(\.\d+)?$/.test(timeoutText) ? Number(timeoutText) : NaN;
  if (!(timeout >= 0 && timeout <= 86400)) throw new SandboxError(`--timeout ${timeoutText}: not a number of seconds (0 to 86400)`);
  if (targets.length !== 1) throw new SandboxError(targets.length ? `${targets[1]}: one sandbox at a time (usage: ${usage})` : `no sandbox named (usage: ${usage})`);
  const me = uid();
  const e = findRunning(targets[0], me, process.env);
  const signal = (sig: NodeJS.Signals | number) => {
    try {
      if (isMonitor(e, me)) process.kill(e.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw SandboxError.wrap(`${e.name}: signal the monitor (pid ${e.pid})`, err);
    }
  };
  signal('SIGTERM');
  if (waitGone(e, me, timeout * 1000)) return 0;
  signal(SIG_STOP_NOW);
  if (waitGone(e, me, 10000)) return 0;
  throw new SandboxError(`${e.name}: the monitor (pid ${e.pid}) is still running 10 s after everything in the sandbox was killed`);
}
