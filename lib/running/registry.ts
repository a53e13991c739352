// The registry of running sandboxes: one entry NAME.json per sandbox in BASE/sandbox/running, where BASE is
// $XDG_RUNTIME_DIR, else /tmp/sandbox-UID (as --join's state). `sandbox run` claims the name under the directory's
// lock just before the hand-off (this process becomes the monitor, so its pid and start time are the monitor's);
// the monitor (native/registry.c) adds NAME.sock for `enter` and removes both at its end. An entry whose monitor
// is gone (killed with -9) is removed by the next reader: a pid counts only with the start time it had when the
// entry was written. The directory is the caller's, mode 0700, and hidden in every sandbox (lib/plan/build.ts
// hideOwnState covers BASE/sandbox), so no sandboxed program can read, write or forge an entry.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { SandboxError, describeError, ERRNO } from '../errors';

export interface RegistryEntry {
  version: 1;
  name: string;
  /** The monitor: the pid `sandbox run` had, which the C stage keeps. */
  pid: number;
  /** Its start time in clock ticks after boot (/proc/PID/stat field 22): with the pid, it names one process. */
  start: string;
  profile: string;
  command: string[];
  /** When it started, ms since the epoch. */
  started: number;
  /** The cgroup leaf holding the sandbox (with limits), else null. */
  cgroup: string | null;
  /** Whether the init serves `enter` (not with --as-pid-1 or --join). */
  enter: boolean;
  /** The registry directory the entry is in (not stored: where it was read). */
  dir?: string;
}

export const NAME_RULE = 'a name is 1 to 64 letters, digits and . _ - (not starting with ., not all digits)';
export function isSandboxName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name) && !/^[0-9]+$/.test(name);
}

/** A default name: the program's base name and a short id. */
export function defaultName(command: string[], random: () => string = () => randomBytes(2).toString('hex')): string {
  const base = path.basename(command[0] ?? 'sandbox').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 59) || 'sandbox';
  return `${base}-${random()}`;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Every registry directory the user's entries may be in, the one new entries go to first. $XDG_RUNTIME_DIR counts
 * only when it is a directory of the caller's: one inherited from another user (sudo, su) or gone since is passed
 * over for /tmp/sandbox-UID, as if unset, rather than failing every launch.
 */
export function registryBases(uid: number, env: Record<string, string | undefined>, lstat: (p: string) => fs.Stats | null = lstatOrNull): string[] {
  const out: string[] = [];
  const rt = env.XDG_RUNTIME_DIR;
  const st = rt && path.isAbsolute(rt) ? lstat(path.normalize(rt)) : null;
  if (rt && st && st.isDirectory() && st.uid === uid) out.push(path.join(path.normalize(rt), 'sandbox', 'running'));
  out.push(path.join(`/tmp/sandbox-${uid}`, 'sandbox', 'running'));
  return [...new Set(out)];
}

/** The registry directory can't be used (not the caller's, open to others): a launch may go on unregistered. */
export class RegistryUnavailable extends SandboxError {}

/** BASE must be the caller's, no symlink, not writable by others; below it, sandbox/ and running/ are made 0700. */
function checkedDir(p: string, uid: number, strict: boolean): void {
  const st = lstatOrNull(p);
  const what = 'sandbox\'s registry of running sandboxes';
  if (!st) throw new RegistryUnavailable(`${p}: missing (${what})`);
  if (!st.isDirectory()) throw new RegistryUnavailable(`${p}: not a directory (${what})`);
  if (st.uid !== uid) throw new RegistryUnavailable(`${p}: owned by uid ${st.uid}, not by you (${what})`);
  if (st.mode & (strict ? 0o077 : 0o022)) throw new RegistryUnavailable(`${p}: mode ${(st.mode & 0o777).toString(8)}, open to others (${what}): chmod ${strict ? '700' : 'go-w'} it`);
}

/** The directory new entries go to, made where missing. Every step is checked without following symlinks. */
export function ensureRegistryDir(uid: number, env: Record<string, string | undefined>): string {
  const running = registryBases(uid, env)[0];
  const sandboxDir = path.dirname(running);
  const base = path.dirname(sandboxDir);
  if (base === `/tmp/sandbox-${uid}` && !lstatOrNull(base)) {
    try {
      fs.mkdirSync(base, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RegistryUnavailable(`${base}: can't be made (${describeError(e)})`);
    }
  }
  checkedDir(base, uid, base === `/tmp/sandbox-${uid}`);
  for (const [d, strict] of [[sandboxDir, false], [running, true]] as const) {
    if (!lstatOrNull(d)) {
      try {
        fs.mkdirSync(d, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RegistryUnavailable(`${d}: can't be made (${describeError(e)})`);
      }
    }
    checkedDir(d, uid, strict);
  }
  return running;
}

/**
 * Field 22 of /proc/PID/stat (after the command's parenthesis), or null when there is no such process. A zombie
 * counts as gone: a monitor that has exited stays one until whoever started it (a shell's background job) reaps it.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null; // fields 3.. follow the parenthesis: 22 is the 20th of them
  } catch {
    return null;
  }
}

export function processOwner(pid: number): number | null {
  try {
    return fs.statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}

/** The entry's monitor is alive: the same pid, the same start time, ours. */
export function isLive(e: RegistryEntry, uid: number): boolean {
  return processStart(e.pid) === e.start && processOwner(e.pid) === uid;
}

function readOr(p: string, how: (p: string) => string): string | null {
  try {
    return how(p);
  } catch {
    return null;
  }
}

/**
 * The entry's process is a running sandbox's monitor: alive, ours, named as the stage names a monitor
 * (`sandbox:NAME` in comm), and in the caller's user namespace, as a monitor is (a program inside a sandbox is in
 * one of its own). An entry that names any other process (forged, or a launch still in Node) is neither listed
 * nor signalled, so `stop` never reaches a process the stage did not make.
 */
export function isMonitor(e: RegistryEntry, uid: number): boolean {
  if (!isLive(e, uid)) return false;
  const comm = readOr(`/proc/${e.pid}/comm`, (p) => fs.readFileSync(p, 'utf8'))?.replace(/\n$/, '');
  if (comm !== `sandbox:${e.name}`.slice(0, 15)) return false;
  const ns = readOr(`/proc/${e.pid}/ns/user`, fs.readlinkSync);
  return ns !== null && ns === readOr('/proc/self/ns/user', fs.readlinkSync);
}

function parseEntry(text: string, file: string): RegistryEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const o = v as Partial<RegistryEntry>;
  if (o?.version !== 1 || typeof o.name !== 'string' || `${o.name}.json` !== path.basename(file) || !Number.isInteger(o.pid) ||
      typeof o.start !== 'string' || !Array.isArray(o.command) || typeof o.started !== 'number') return null;
  return { version: 1, name: o.name, pid: o.pid!, start: o.start, profile: String(o.profile ?? ''), command: o.command.map(String),
    started: o.started, cgroup: typeof o.cgroup === 'string' ? o.cgroup : null, enter: o.enter === true };
}

/** The directory's lock (flock on the directory itself), held while fn runs: claims and prunes don't cross. */
function withLock<T>(dir: string, fn: (dirFd: number) => T): T {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    const { libc } = require('../native/libc') as typeof import('../native/libc');
    const c = libc();
    const LOCK_EX = 2;
    while (c.flock(fd, LOCK_EX) < 0) {
      const err = c.errno();
      if (err !== ERRNO.EINTR) throw SandboxError.errno(`${dir}: lock`, err);
    }
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function removeEntryFiles(dir: string, name: string): void {
  for (const f of [`${name}.sock`, `${name}.json`]) {
    try {
      fs.unlinkSync(path.join(dir, f));
    } catch {
      /* gone already */
    }
  }
}

/** The live entries of one directory; the dead ones are removed (under the lock) as they are met. */
function readDir(dir: string, uid: number): RegistryEntry[] {
  const st = lstatOrNull(dir);
  if (!st || !st.isDirectory() || st.uid !== uid || st.mode & 0o077) return [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const out: RegistryEntry[] = [];
  const dead: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      const fst = fs.lstatSync(path.join(dir, f));
      if (!fst.isFile() || fst.uid !== uid) continue;
      text = fs.readFileSync(path.join(dir, f), 'utf8');
    } catch {
      continue;
    }
    const e = parseEntry(text, f);
    if (e && isLive(e, uid)) out.push({ ...e, dir });
    else dead.push(f.slice(0, -'.json'.length));
  }
  if (dead.length) {
    withLock(dir, () => {
      for (const name of dead) {
        // read again under the lock: a launch may have claimed the name since
        try {
          const e = parseEntry(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'), `${name}.json`);
          if (e && isLive(e, uid)) continue;
        } catch {
          /* unreadable or gone: nothing of a live sandbox */
        }
        removeEntryFiles(dir, name);
      }
    });
  }
  return out;
}

/** The entries whose process is alive and the caller's (a monitor, or a launch still in Node), oldest first. */
function listLive(uid: number, env: Record<string, string | undefined>): RegistryEntry[] {
  const seen = new Set<number>();
  const out: RegistryEntry[] = [];
  for (const dir of registryBases(uid, env))
    for (const e of readDir(dir, uid)) if (!seen.has(e.pid)) { seen.add(e.pid); out.push(e); }
  return out.sort((a, b) => a.started - b.started || a.pid - b.pid);
}

/** The caller's running sandboxes, oldest first: entries whose process is a monitor now. */
export function listRunning(uid: number, env: Record<string, string | undefined>): RegistryEntry[] {
  return listLive(uid, env).filter((e) => isMonitor(e, uid));
}

/** A launch claims its name in Node, before the stage starts and names itself: wait that long for a monitor. */
function monitorSoon(e: RegistryEntry, uid: number, ms = 3000): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (isMonitor(e, uid)) return true;
    if (!isLive(e, uid) || Date.now() >= end) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/**
 * Claims NAME for this process (which becomes the monitor) and writes its entry, 0600, renamed into place. A live
 * sandbox of that name is an error; a dead one's entry is replaced. With no name asked for, a default one is made
 * (another random part if it is taken). Returns the entry written.
 */
export function claimName(asked: string | undefined, entry: Omit<RegistryEntry, 'version' | 'name' | 'pid' | 'start' | 'dir'>, uid: number, env: Record<string, string | undefined>): RegistryEntry & { dir: string } {
  const dir = ensureRegistryDir(uid, env);
  const start = processStart(process.pid);
  if (!start) throw new SandboxError('/proc/self/stat: unreadable (the registry of running sandboxes needs /proc)');
  const live = listRunning(uid, env);
  return withLock(dir, () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const name = asked ?? defaultName(entry.command);
      const other = live.find((e) => e.name === name && e.dir !== dir);
      let here: RegistryEntry | null = null;
      try {
        here = parseEntry(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'), `${name}.json`);
      } catch {
        here = null;
      }
      const taken = other ?? (here && isLive(here, uid) ? here : null);
      if (taken) {
        if (asked !== undefined) throw new SandboxError(`--name ${name}: a sandbox of that name is running (monitor pid ${taken.pid}): choose another name, or sandbox stop ${name}`);
        continue;
      }
      removeEntryFiles(dir, name);
      const full: RegistryEntry = { version: 1, name, pid: process.pid, start, ...entry };
      const tmp = path.join(dir, `.${name}.${process.pid}.new`);
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(full) + '\n');
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, path.join(dir, `${name}.json`));
      return { ...full, dir };
    }
    throw new SandboxError('could not find a free default name: give one with --name');
  });
}

/**
 * NAME or PID (a monitor's, as `sandbox ps` shows it) → the caller's live entry. Anything else is one line,
 * exit 125, and nothing touched: a name none of the caller's sandboxes has, another user's process, a process
 * that is not a sandbox's monitor.
 */
export function findRunning(target: string, uid: number, env: Record<string, string | undefined>): RegistryEntry {
  const running = listLive(uid, env);
  if (/^[0-9]+$/.test(target)) {
    const pid = Number(target);
    const e = running.find((r) => r.pid === pid);
    if (e && monitorSoon(e, uid)) return e;
    const owner = processOwner(pid);
    if (owner === null) throw new SandboxError(`pid ${target}: no such process`);
    if (owner !== uid) throw new SandboxError(`pid ${target}: a process of uid ${owner}, not yours`);
    throw new SandboxError(`pid ${target}: not the monitor of a running sandbox of yours (see sandbox ps)`);
  }
  if (!isSandboxName(target)) throw new SandboxError(`${target}: not a sandbox name or pid (${NAME_RULE})`);
  const e = running.find((r) => r.name === target);
  if (!e || !monitorSoon(e, uid)) throw new SandboxError(`${target}: no running sandbox of yours has that name (see sandbox ps)`);
  return e;
}

/** What the sandbox's cgroup leaf says it uses now; null where there is no leaf or the file is not there. */
export interface Usage {
  memoryCurrent: number | null;
  cpuUsageUsec: number | null;
  pidsCurrent: number | null;
}

export function cgroupUsage(leaf: string | null, read: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): Usage {
  const num = (file: string, key?: string): number | null => {
    if (!leaf) return null;
    try {
      const text = read(path.join(leaf, file));
      if (!key) return /^\d+/.test(text) ? Number.parseInt(text, 10) : null;
      const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  };
  return { memoryCurrent: num('memory.current'), cpuUsageUsec: num('cpu.stat', 'usage_usec'), pidsCurrent: num('pids.current') };
}

/** Rewrites this process's own entry with some fields changed (the cgroup leaf, known once it is made). */
export function updateEntry(entry: RegistryEntry & { dir: string }, changes: Partial<Pick<RegistryEntry, 'cgroup'>>): void {
  const { dir: _d, ...stored } = { ...entry, ...changes };
  const tmp = path.join(entry.dir, `.${entry.name}.${process.pid}.new`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(stored) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(entry.dir, `${entry.name}.json`));
}

/** This process's own entry, removed when the launch fails before the hand-off. */
export function removeEntry(entry: RegistryEntry & { dir: string }): void {
  if (entry.pid === process.pid) removeEntryFiles(entry.dir, entry.name);
}
