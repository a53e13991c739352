// Talking to the caller's systemd user manager over D-Bus through busctl: whether the unit the caller
// runs in has Delegate=yes (systemd's rule: only a delegated unit's cgroup may be changed by its
// processes), and a transient scope with Delegate=yes for the sandbox when it hasn't, as container
// runtimes do. busctl comes from the system's directories only (lib/host/system-program.ts says why).
import { execFileSync } from 'node:child_process';
import { systemProgram } from '../host/system-program';
import { SandboxError } from '../errors';

/** Runs busctl with these arguments; returns its stdout, throws with `stderr` set when it fails. */
export type CommandRunner = (file: string, args: string[]) => string;

const DEST = ['org.freedesktop.systemd1'];
const MANAGER = [...DEST, '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];

/** The D-Bus object path of a unit, escaped as sd-bus does (bytes outside [A-Za-z0-9] become _XX). */
export function unitObjectPath(unit: string): string {
  let out = '';
  const bytes = Buffer.from(unit, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    out += alnum && !(i === 0 && c <= 0x39) ? String.fromCharCode(c) : `_${c.toString(16).padStart(2, '0')}`;
  }
  return `/org/freedesktop/systemd1/unit/${out || '_'}`;
}

/** The unit's name back from its object path (the inverse of unitObjectPath). */
export function unitNameOfPath(objectPath: string): string {
  const enc = objectPath.slice(objectPath.lastIndexOf('/') + 1);
  if (enc === '_') return '';
  return Buffer.from(enc.replace(/_([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

/**
 * Manager.StartTransientUnit(name, mode, properties, aux) for a scope holding `pids` with Delegate=yes.
 * OOMPolicy=continue (systemd 253+ knows it for scopes) keeps the manager from stopping the whole scope,
 * monitor included, when the kernel kills a process for the sandbox's memory limit: the monitor reports it.
 */
export function transientScopeArgs(unit: string, pids: number[], description: string, opts: { oomPolicy?: boolean } = {}): string[] {
  if (!/^[A-Za-z0-9:_.\\-]+\.scope$/.test(unit)) throw new SandboxError(`invalid scope unit name ${unit}`);
  const props: string[][] = [
    ['Description', 's', description],
    ['PIDs', 'au', String(pids.length), ...pids.map(String)],
    ['Delegate', 'b', 'true'],
    // Removed once it stops, even after a failure, so scopes of crashed sandboxes don't pile up.
    ['CollectMode', 's', 'inactive-or-failed'],
  ];
  if (opts.oomPolicy !== false) props.push(['OOMPolicy', 's', 'continue']);
  return [
    '--user', 'call', ...MANAGER,
    'StartTransientUnit', 'ssa(sv)a(sa(sv))',
    unit, 'fail',
    String(props.length), ...props.flat(),
    '0',
  ];
}

const runBusctl: CommandRunner = (file, args) => {
  // from the system's directories, never through PATH
  const exe = systemProgram(file);
  if (!exe) throw Object.assign(new Error(`found no ${file} in /usr/bin`), { stderr: `found no ${file} in /usr/bin or /bin` });
  return execFileSync(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000, encoding: 'utf8' });
};

/** busctl's first stderr line (or the error's message), for one-line errors. */
function detailOf(e: unknown): string {
  const err = e as { stderr?: Buffer | string; message?: string };
  const text = err.stderr && String(err.stderr).trim() ? String(err.stderr) : err.message ?? String(e);
  return text.trim().split('\n')[0];
}

/** The value of busctl's reply `o "/path"` / `s "text"` / `b true` / `(uo) 0 "/"` as words, quotes removed. */
export function parseBusctlReply(out: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out.trim()))) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return words.slice(1); // the signature
}

/** The unit the user manager has `pid` in and whether it has Delegate=yes; null when the manager has none for it. */
export interface OwnUnit { unit: string; delegate: boolean }

export function queryUnitOfPid(pid: number, run: CommandRunner = runBusctl): OwnUnit | null {
  let objectPath: string;
  try {
    [objectPath] = parseBusctlReply(run('busctl', ['--user', 'call', ...MANAGER, 'GetUnitByPID', 'u', String(pid)]));
  } catch (e) {
    // NoUnitForPID: the cgroup isn't the user manager's (delegated by hand or by another manager)
    if (/does not belong to any loaded unit|NoUnitForPID/i.test(detailOf(e))) return null;
    throw new SandboxError(`systemd user manager: GetUnitByPID ${pid}: ${detailOf(e)}`);
  }
  const unit = unitNameOfPath(objectPath);
  const type = /\.(service|scope|socket|mount|swap)$/.exec(unit)?.[1];
  // slices and the like hold no processes of their own; nothing there is ours to change
  if (!type) return { unit, delegate: false };
  const iface = `org.freedesktop.systemd1.${type.charAt(0).toUpperCase()}${type.slice(1)}`;
  try {
    const [, value] = parseBusctlReply(`x ${run('busctl', ['--user', 'get-property', ...DEST, objectPath, iface, 'Delegate'])}`);
    return { unit, delegate: value === 'true' };
  } catch (e) {
    throw new SandboxError(`systemd user manager: Delegate of ${unit}: ${detailOf(e)}`);
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface ScopeOptions {
  run?: CommandRunner;
  /** How long to wait for the start job. */
  timeoutMs?: number;
  /** Between two looks at the job. */
  pollMs?: number;
}

/**
 * Start the scope holding `pids` and wait for its start job to finish. busctl can't wait for the
 * JobRemoved signal itself, so the unit's Job property is watched until that job has left it, which
 * is the moment JobRemoved is sent; the scope must then be active.
 */
export function startTransientScope(unit: string, pids: number[], opts: ScopeOptions | CommandRunner = {}): void {
  const o: ScopeOptions = typeof opts === 'function' ? { run: opts } : opts;
  const run = o.run ?? runBusctl;
  const description = `sandbox ${unit.replace(/^sandbox-/, '').replace(/\.scope$/, '')}`;
  let out: string;
  try {
    out = run('busctl', transientScopeArgs(unit, pids, description));
  } catch (e) {
    // systemd before 253 has no OOMPolicy for scopes (and doesn't stop a scope on an OOM kill)
    if (!/OOMPolicy/.test(detailOf(e))) throw scopeError(unit, detailOf(e));
    try { out = run('busctl', transientScopeArgs(unit, pids, description, { oomPolicy: false })); } catch (e2) { throw scopeError(unit, detailOf(e2)); }
  }
  const [job] = parseBusctlReply(out);
  if (!job || !job.startsWith('/')) throw scopeError(unit, `unexpected reply ${JSON.stringify(out.trim())}`);
  const unitPath = unitObjectPath(unit);
  const timeoutMs = o.timeoutMs ?? 10000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let words: string[];
    try {
      words = parseBusctlReply(`x ${run('busctl', ['--user', 'get-property', ...DEST, unitPath, 'org.freedesktop.systemd1.Unit', 'Job', 'ActiveState'])}`);
    } catch (e) {
      throw scopeError(unit, detailOf(e));
    }
    // "(uo) ID PATH" then "s STATE": the job slot holds ID 0 and "/" once the start job is done
    const [, , jobPath, , state] = words;
    if (jobPath !== job) {
      if (state === 'active') return;
      throw scopeError(unit, `the scope is ${state ?? 'gone'} after its start job`);
    }
    if (Date.now() > deadline) throw scopeError(unit, `start job ${job} still running after ${timeoutMs} ms`);
    sleepMs(o.pollMs ?? 10);
  }
}

function scopeError(unit: string, detail: string): SandboxError {
  return new SandboxError(`systemd user manager: StartTransientUnit ${unit}: ${detail}`);
}
