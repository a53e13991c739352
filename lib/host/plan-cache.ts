// The plan cache's writing side (the launcher, native/plan-cache.c, reads it): while a `sandbox run` plans, every
// file-system look-up and environment variable read is recorded, as the state it found; the plan is then written
// with that list, and the next launch with the same command line, uid, gid and working directory runs it without
// Node when the launcher finds every recorded state unchanged. Recording catches what planning reads, wherever in
// lib/ it reads it, so a new input can't be forgotten here.
// the module object itself, not an import of it: recording replaces its functions while planning runs, and every
// `import * as fs` reads them from this object at each call
const fs = require('fs') as typeof import('fs');
import { errnoNumber, SandboxError } from '../errors';
import * as path from 'path';

const MAGIC = 'SBXPLANC';
export const CACHE_VERSION = 4;
/** header: magic, version, 4 bytes 0, body length, 8 bytes 0, HMAC-SHA-256 of the body */
export const HEADER = 64;

/** Where entries live: the runtime directory's sandbox/plans, else $XDG_CACHE_HOME/sandbox/plans where the user set
 * it, else /tmp/sandbox-UID/plans. Not ~/.cache by default: an entry is good for this boot only, so keeping it in the
 * home would only change the user's files (and, on a cluster, write to a shared home at every miss).
 * native/plan-cache.c chooses the same way; both need absolute paths. */
export function cacheBase(env: Record<string, string | undefined>, uid = process.getuid ? process.getuid() : 0): string {
  const abs = (p: string | undefined) => (p && path.isAbsolute(p) ? path.normalize(p) : null);
  const rt = abs(env.XDG_RUNTIME_DIR);
  if (rt) return path.join(rt, 'sandbox');
  const cache = abs(env.XDG_CACHE_HOME);
  // else the state directory of join keys and proxies (covered in every sandbox like the runtime one)
  return cache ? path.join(cache, 'sandbox') : `/tmp/sandbox-${uid}`;
}
export function cacheDir(env: Record<string, string | undefined>): string {
  return path.join(cacheBase(env), 'plans');
}

/** The launch's identity, as the launcher builds it: every argument, uid, gid, working directory. */
export function keyMaterial(argv: string[], uid: number, gid: number, cwd: string): Buffer {
  return Buffer.from([`sandbox-plan-cache ${CACHE_VERSION}`, String(uid), String(gid), cwd, ...argv].map((s) => s + '\0').join(''));
}

/** FNV-1a over little-endian 32-bit words (the last one padded with zero bytes): names the entry and checks its
 * body against truncation and damage (the launcher compares the key material itself). Word by word with Math.imul,
 * a plan's 16 kB cost well under a millisecond in a process that just started. */
export function checksum(b: Buffer): number {
  const words = new Uint32Array(Math.ceil(b.length / 4));
  new Uint8Array(words.buffer).set(b);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

/** How a path was looked at: s stat, l lstat (type, device, inode, owner), c contents (stat, plus size, mtime and ctime
 * to the nanosecond), r realpath, a access (the mode after the path), k readlink. */
type Kind = 's' | 'l' | 'c' | 'r' | 'a' | 'k';

const real = {
  statSync: fs.statSync,
  lstatSync: fs.lstatSync,
  realpathSync: fs.realpathSync,
  accessSync: fs.accessSync,
  readlinkSync: fs.readlinkSync,
};

function errnoOf(e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && errnoNumber(code)) || 0;
}

/** The state the launcher compares, as the same text native/plan-cache.c prints. */
export function stateOf(kind: Kind, p: string, mode = 0): string {
  try {
    switch (kind) {
      case 's':
      case 'l':
      case 'c': {
        if (kind !== 'c') {
          // numbers where they are exact: a BigInt Stats costs several times a plain one, once per look-up
          const st = (kind === 'l' ? real.lstatSync : real.statSync)(p, { throwIfNoEntry: false });
          if (!st) return '!2';
          if (Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev)) return `${(st.mode & 0o170000).toString(8)} ${st.dev} ${st.ino} ${st.uid}`;
        }
        // ENOENT as undefined: most missing paths cost no exception (and its stack)
        const st = (kind === 'l' ? real.lstatSync : real.statSync)(p, { bigint: true, throwIfNoEntry: false });
        if (!st) return '!2';
        const id = `${(st.mode & 0o170000n).toString(8)} ${st.dev} ${st.ino}`;
        // the owner too: planning decides by it (a state directory is covered only when it is the caller's), and a
        // path removed and made again by another user may get the same inode number; a read file's ctime covers it.
        // (Modes it decides by are checked again on a hit: the registry directory's, by native/launch-registry.c.)
        if (kind !== 'c') return `${id} ${st.uid}`;
        return `${id} ${st.size} ${st.mtimeNs / 1000000000n}.${st.mtimeNs % 1000000000n} ${st.ctimeNs / 1000000000n}.${st.ctimeNs % 1000000000n}`;
      }
      case 'r':
        return real.realpathSync.native(p);
      case 'a':
        real.accessSync(p, mode);
        return '0';
      case 'k':
        return String(real.readlinkSync(p));
    }
  } catch (e) {
    return kind === 'r' || kind === 'k' ? '!' : `!${errnoOf(e)}`;
  }
}

/** A stat or lstat state (stateOf's `s` and `l`: type, device, inode, owner) from Stats already at hand; undefined where numbers aren't exact. */
function idState(st: import('fs').Stats | import('fs').BigIntStats): string | undefined {
  if (typeof st.ino === 'bigint') return `${((st.mode as bigint) & 0o170000n).toString(8)} ${st.dev} ${st.ino} ${st.uid}`;
  if (!Number.isSafeInteger(st.ino) || !Number.isSafeInteger(st.dev as number)) return undefined;
  return `${((st.mode as number) & 0o170000).toString(8)} ${st.dev} ${st.ino} ${st.uid}`;
}

interface Dep { kind: Kind; path: string; mode: number; first: string }

/** Paths that say something of this process rather than of the host: never a dependency. */
function ownProcessPath(p: string): boolean {
  return /^\/proc\/(self|thread-self|\d+)(\/|$)/.test(p) || p.startsWith('/dev/fd/');
}

export class Recorder {
  deps = new Map<string, Dep>();
  env = new Map<string, string | undefined>();
  created: string[] = [];
  /** why this launch can't be cached, when something was read that the entry can't express */
  refused: string | null = null;
  paused = 0;
  private restore: (() => void)[] = [];
  private rawEnv: NodeJS.ProcessEnv = process.env;

  /** known: the state as the caller's own look-up found it (statSync, lstatSync), so the path isn't looked at twice */
  dep(kind: Kind, p: unknown, mode = 0, known?: string): void {
    if (this.paused) return;
    if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return; // a descriptor: its path was recorded
    const s = typeof p === 'string' ? p : p instanceof URL ? p.pathname : p.toString();
    if (ownProcessPath(s)) {
      // what is open here is looked at by lib/host/plan-facts (a plan that keeps one is not kept); a file read through
      // a descriptor (--seccomp /dev/fd/3) is this launch's alone
      if (kind === 'c' && s !== '/proc/self/fd') this.refused ??= `${s} was read`;
      return;
    }
    // a kernel file's contents change without a trace in its stat (/proc/net/unix): such a plan is made afresh each time
    if (kind === 'c' && /^\/(proc|sys)\//.test(s)) this.refused ??= `${s} was read`;
    const k = `${kind}${mode}:${s}`;
    // a path whose contents were recorded: its stat state is part of that one
    if (kind === 's' && this.deps.has(`c0:${s}`)) return;
    if (!this.deps.has(k)) this.deps.set(k, { kind, path: s, mode, first: known ?? stateOf(kind, s, mode) });
  }

  readVar(name: string | symbol): void {
    if (this.paused || typeof name !== 'string' || this.env.has(name)) return;
    this.env.set(name, this.rawEnv[name]);
  }

  /** An environment whose reads are recorded by name, over `target` (writes stay in target). */
  envProxy(target: Record<string, string | undefined>): NodeJS.ProcessEnv {
    return new Proxy(target, {
      get: (t, k) => { this.readVar(k); return Reflect.get(t, k); },
      has: (t, k) => { this.readVar(k); return Reflect.has(t, k); },
      getOwnPropertyDescriptor: (t, k) => { this.readVar(k); return Reflect.getOwnPropertyDescriptor(t, k); },
      ownKeys: (t) => {
        if (!this.paused) this.refused ??= 'the whole environment was read';
        return Reflect.ownKeys(t);
      },
    }) as NodeJS.ProcessEnv;
  }

  start(): void {
    active = this;
    const wrap = <N extends keyof typeof fs>(name: N, kind: Kind | 'mkdir', modeArg = false) => {
      const orig = fs[name] as unknown as (...a: unknown[]) => unknown;
      const patched = (...a: unknown[]) => {
        if (kind === 'mkdir') {
          const r = orig(...a);
          if (typeof a[0] === 'string') this.created.push(path.resolve(a[0]));
          return r;
        }
        this.dep(kind, a[0], modeArg && typeof a[1] === 'number' ? a[1] : kind === 'a' ? fs.constants.F_OK : 0);
        return orig(...a);
      };
      if (name === 'statSync' || name === 'lstatSync') {
        // the state from the caller's own Stats (or error): one stat and one Stats per look-up, not two
        (fs as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
          let st: unknown;
          try {
            st = orig(...a);
          } catch (e) {
            this.dep(kind as Kind, a[0], 0, `!${errnoOf(e)}`);
            throw e;
          }
          this.dep(kind as Kind, a[0], 0, st ? idState(st as import('fs').Stats | import('fs').BigIntStats) : '!2');
          return st;
        };
        this.restore.push(() => { (fs as unknown as Record<string, unknown>)[name] = orig; });
        return;
      }
      if (name === 'realpathSync') (patched as unknown as { native: unknown }).native = (...a: unknown[]) => { this.dep('r', a[0]); return (orig as unknown as { native: (...x: unknown[]) => unknown }).native(...a); };
      (fs as unknown as Record<string, unknown>)[name] = patched;
      this.restore.push(() => { (fs as unknown as Record<string, unknown>)[name] = orig; });
    };
    wrap('statSync', 's');
    wrap('existsSync', 's');
    wrap('lstatSync', 'l');
    wrap('readFileSync', 'c');
    wrap('readdirSync', 'c');
    wrap('openSync', 'c');
    wrap('realpathSync', 'r');
    wrap('accessSync', 'a', true);
    wrap('readlinkSync', 'k');
    wrap('mkdirSync', 'mkdir');
    wrap('mkdtempSync', 'mkdir');
    const env = process.env;
    this.rawEnv = env;
    process.env = this.envProxy(env);
    this.restore.push(() => { process.env = env; });
  }

  stop(): void {
    for (const r of this.restore.reverse()) r();
    this.restore = [];
    if (active === this) active = null;
  }
}

/** The dependencies with the states planning saw, for the monitor to look at again when it writes the entry
 * (native/plan-cache-keep.c: one that changed in between and the entry isn't written). Those of directories this
 * process made are taken as they are now; a stat state where the contents of the same path were
 * recorded is left out (the contents' state holds it), and so are look-ups a longer realpath implies (below). */
export function keptDeps(rec: Recorder): { kind: Kind; path: string; mode: number; state: string }[] {
  const created = rec.created.map((c) => path.resolve(c));
  const out = [];
  for (const d of rec.deps.values()) {
    if (d.kind === 's' && rec.deps.has(`c0:${d.path}`)) continue;
    let state = d.first;
    if (created.length) {
      const abs = path.resolve(d.path);
      if (created.some((c) => c === abs || c.startsWith(abs + '/') || abs.startsWith(c + '/'))) state = stateOf(d.kind, d.path, d.mode);
    }
    out.push({ kind: d.kind, path: d.path, mode: d.mode, state });
  }
  // A realpath that is the path itself says no component is a symlink, and each exists: so every shorter path's
  // realpath is itself too, and a readlink of it or of the path fails. The launcher checks the longest such path
  // at each hit; the others it implies are left out (the browser profile looks up each of its home's parents).
  const plain = out.filter((d) => d.kind === 'r' && d.state === d.path).map((d) => d.path);
  if (!plain.length) return out;
  const within = (q: string, strictly: boolean) => plain.some((p) => (p === q ? !strictly : p.startsWith(q === '/' ? '/' : q + '/')));
  return out.filter((d) => !((d.kind === 'r' && d.state === d.path && within(d.path, true)) || (d.kind === 'k' && d.state === '!' && within(d.path, false))));
}

let active: Recorder | null = null;

/** A copy of the environment to change locally (the profile context's HOME): reads of it are still recorded. */
export function copyEnv(): Record<string, string | undefined> {
  if (!active) return { ...process.env };
  const r = active;
  r.paused++;
  const copy = { ...process.env };
  r.paused--;
  return r.envProxy(copy);
}

/** An input read other than through fs (the passwd entry os.userInfo reads). */
export function recordInput(p: string): void {
  active?.dep('c', p);
}

/** An input that is neither a file nor a variable (an X server's answer): the launch planning now is not kept. */
export function refuseCaching(why: string): void {
  if (active) active.refused ??= why;
}

/** Runs fn with recording paused (work whose inputs are carried otherwise, e.g. the environment's rules). */
export function unrecorded<T>(fn: () => T): T {
  if (!active) return fn();
  active.paused++;
  try {
    return fn();
  } finally {
    active.paused--;
  }
}

const u32 = (n: number) => String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);

/** Records as bytes: a type byte, a field count, then each field as a 32-bit length and its bytes. In a process that
 * just started this runs once, in the interpreter, where each call into C++ (a Buffer write per field), each array
 * per record and each per-field check costs microseconds: the text between binary fields is built as one string,
 * lengths taken as if it were ASCII, and one look at the whole says whether it was (else it is built again, each
 * field measured). */
class RecordWriter {
  private chunks: (string | Buffer)[] = [];
  private text = '';
  constructor(private readonly measured: boolean) {}
  record(type: string, fields: number): this {
    this.text += type + String.fromCharCode(fields);
    return this;
  }
  field(f: string | Buffer): this {
    if (typeof f !== 'string') {
      this.chunks.push(this.text + u32(f.length), f);
      this.text = '';
    } else if (!this.measured) this.text += u32(f.length) + f;
    else {
      const bytes = Buffer.from(f).toString('latin1');
      this.text += u32(bytes.length) + bytes;
    }
    return this;
  }
  /** null when a field taken as ASCII was not */
  done(): Buffer | null {
    this.chunks.push(this.text);
    // eslint-disable-next-line no-control-regex
    if (!this.measured && this.chunks.some((c) => typeof c === 'string' && /[^\x00-\x7f]/.test(c))) return null;
    return Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c)));
  }
}

function encodeRecords(write: (w: RecordWriter) => void): Buffer {
  const fast = new RecordWriter(false);
  write(fast);
  const out = fast.done();
  if (out) return out;
  const measured = new RecordWriter(true);
  write(measured);
  return measured.done() as Buffer;
}

/** The records after the key and the boot, as both the entry and the hand-over have them. */
function writeRest(w: RecordWriter, e: Omit<CacheEntry, 'boot' | 'key'>): void {
  for (const [name, value] of e.env) w.record('E', 2).field(name).field(value === undefined ? '0' : '1' + value);
  for (const v of e.setVars ?? []) w.record('S', 2).field(v.name).field(v.set ? '1' : '0');
  for (const l of e.launch ?? []) w.record('V', 3).field(l.name).field(l.planned).field(l.guards.map((g) => `${g.relation} ${g.path}\n`).join(''));
  for (const d of e.deps) w.record('D', 4).field(d.kind).field(d.path).field(String(d.mode)).field(d.state);
  if (e.stderr) w.record('O', 1).field(e.stderr);
  const r = e.registry;
  if (r) w.record('R', 5).field(r.base).field(r.label).field(r.profileJson).field(r.commandJson).field(r.flags);
  w.record('X', 1).field(e.stage).record('P', 1).field(e.plan);
}

export interface CacheEntry {
  key: Buffer;
  deps: { kind: Kind; path: string; mode: number; state: string }[];
  env: Map<string, string | undefined>;
  stderr: string;
  stage: string;
  plan: Buffer;
  /** this boot's id: device and inode numbers mean nothing in another */
  boot: string;
  /** What the launcher needs to claim a fresh name in the registry of running sandboxes at each hit
   * (native/launch-registry.c): the default name's base, the profile label, the entry's profile and command as JSON,
   * flags (`e`: the init serves enter; `j`: a --join member, no note when the registry can't be used). */
  registry?: { base: string; label: string; profileJson: string; commandJson: string; flags: string };
  /** Variables the kept plan takes from each launch (launch-var records): any value that stands to the guard paths as
   * the planned one did and is in the same directory (the recorded states of the directories above it hold then). */
  launch?: { name: string; planned: string; guards: { relation: string; path: string }[] }[];
  /** Variables only whether set (non-empty) or not decides for: the join key's, which the stage resolves. */
  setVars?: { name: string; set: boolean }[];
}

/** The entry's bytes: header (magic, version, body length, checksum of the body), then records, the plan last. */
function mac(key: Buffer, body: Buffer): Buffer {
  const { createHmac } = require('crypto') as typeof import('crypto');
  return createHmac('sha256', key).update(body).digest();
}

const macKeyName = 'plan-key';

/** Whether the key is there, made when it is not (keeping a plan): one look-up on a miss that finds it, since the
 * monitor reads and checks it where it signs the entry. */
export function ensureMacKey(uid: number): boolean {
  const st = fs.lstatSync(path.join(`/tmp/sandbox-${uid}`, macKeyName), { throwIfNoEntry: false });
  return st ? st.isFile() : macKey(uid, true) !== null;
}

/** The secret that signs this user's entries: /tmp/sandbox-UID/plan-key, 32 random bytes, 0600. It lies in the one
 * state directory every sandbox has covered whatever its environment (ownStateDirs), so no program in a sandbox can
 * read it, and an entry it wrote (wherever a later launch's XDG_RUNTIME_DIR or XDG_CACHE_HOME points) is never run.
 * make: create it when missing (keeping a plan); else null when it is missing or not sound. */
export function macKey(uid: number, make: boolean): Buffer | null {
  const dir = `/tmp/sandbox-${uid}`;
  const file = path.join(dir, macKeyName);
  const read = (): Buffer | null => {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.uid !== uid || st.mode & 0o077 || st.size !== 32) return null;
      const b = Buffer.alloc(32);
      return fs.readSync(fd, b, 0, 32, 0) === 32 ? b : null;
    } finally {
      fs.closeSync(fd);
    }
  };
  const have = read();
  if (have || !make) return have;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || st.mode & 0o077) return null;
  const tmp = path.join(dir, `.plan-key.${process.pid}`);
  const { randomBytes } = require('crypto') as typeof import('crypto');
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, randomBytes(32));
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // not over one another launch made meanwhile
  } catch {
    /* that one is read below */
  } finally {
    fs.unlinkSync(tmp);
  }
  return read();
}

export function encodeEntry(e: CacheEntry, macKey: Buffer): Buffer {
  const body = encodeRecords((w) => writeRest(w.record('K', 1).field(e.key).record('B', 1).field(e.boot), e));
  const head = Buffer.alloc(HEADER);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(CACHE_VERSION, 8);
  head.writeBigUInt64LE(BigInt(body.length), 16);
  mac(macKey, body).copy(head, 32);
  return Buffer.concat([head, body]);
}

/** Kept plans per launch identity (native/plan-cache.c tries each): one per set of conditions, as inside a job and
 * outside it. */
export const CACHE_SLOTS = 4;

/** The environment an entry was kept for (its E and S records, as one text), or null when it is not a sound entry
 * of this version: what tells a stale entry of the same conditions, which a new one replaces. */
export function entryConditions(b: Buffer, macKey: Buffer): string | null {
  if (b.length < HEADER || b.toString('latin1', 0, 8) !== MAGIC || b.readUInt32LE(8) !== CACHE_VERSION) return null;
  const body = b.subarray(HEADER);
  if (Number(b.readBigUInt64LE(16)) !== body.length || !b.subarray(32, HEADER).equals(mac(macKey, body))) return null;
  const out: string[] = [];
  for (let o = 0; o < body.length;) {
    if (body.length - o < 2) return null;
    const type = String.fromCharCode(body[o]);
    const n = body[o + 1];
    o += 2;
    const fields: string[] = [];
    for (let i = 0; i < n; i++) {
      if (body.length - o < 4) return null;
      const len = body.readUInt32LE(o);
      if (body.length - o - 4 < len) return null;
      fields.push(body.toString('latin1', o + 4, o + 4 + len));
      o += 4 + len;
    }
    if (type === 'E' || type === 'S' || type === 'V') out.push(`${type}${type === 'V' ? fields[0] : fields.join('=')}`);
  }
  return out.join('\n');
}

/** The name of the slot a new entry of `conditions` (conditionsOf) goes to: one holding no sound entry (damaged,
 * foreign, a symlink) first, else the entry kept for the same environment (stale now, or this launch would have used
 * it), else a free one, else the least recently used (the launcher touches an entry it runs). */
export function chooseSlot(dir: string, key: Buffer, conditions: string, uid: number, secret: () => Buffer | null): string {
  const base = checksum(key).toString(16).padStart(8, '0');
  const slots: { name: string; rank: number; mtime: number }[] = [];
  // slots fill from the first: the first free one ends the look (a miss has no more to read than it needs)
  for (let i = 0; i < CACHE_SLOTS && !slots.some((s) => s.rank === 2); i++) {
    const name = `${base}.${i}`;
    let st: import('fs').Stats | undefined;
    try {
      st = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
    } catch {
      slots.push({ name, rank: 0, mtime: 0 });
      continue;
    }
    if (!st) slots.push({ name, rank: 2, mtime: 0 });
    else if (!st.isFile() || st.uid !== uid || st.mode & 0o022) slots.push({ name, rank: 0, mtime: 0 });
    else {
      let held: string | null = null;
      try {
        const k = secret();
        held = k && entryConditions(fs.readFileSync(path.join(dir, name)), k);
      } catch {
        /* unreadable: replaced */
      }
      slots.push({ name, rank: held === null ? 0 : held === conditions ? 1 : 3, mtime: st.mtimeMs });
    }
  }
  return slots.reduce((a, b) => (b.rank < a.rank || (b.rank === a.rank && b.mtime < a.mtime) ? b : a)).name;
}

/** An entry's conditions as entryConditions reads them back: its E, S and V records in the order they are written. */
export function conditionsOf(e: Pick<CacheEntry, 'env' | 'setVars' | 'launch'>): string {
  const out: string[] = [];
  for (const [name, value] of e.env) out.push(`E${name}=${value === undefined ? '0' : '1' + value}`);
  for (const v of e.setVars ?? []) out.push(`S${v.name}=${v.set ? '1' : '0'}`);
  for (const l of e.launch ?? []) out.push(`V${l.name}`);
  return Buffer.from(out.join('\n'), 'utf8').toString('latin1');
}

/** What a miss hands the stage (native/plan-cache-keep.c) to write once the sandbox is on its way: `W` (the cache
 * base, where the monitor finds plans/, and the slot's name), then the entry's records less the boot's (the monitor
 * adds it after the key), no header (the monitor counts the body and signs it with the user's key). */
export function encodeHandover(base: string, slot: string, e: Omit<CacheEntry, 'boot'>): Buffer {
  return encodeRecords((w) => writeRest(w.record('W', 2).field(base).field(slot).record('K', 1).field(e.key), e));
}

/** The directory made before planning, so the plan (which covers it in every sandbox that would show it) is the
 * one of a host where it exists, as at every later launch. */
export function ensureCacheDir(dir: string): void {
  if (fs.existsSync(dir)) return; // the common case: no mkdir and its EEXIST exception
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Throws unless dir and its parent are directories of uid's, reached without a symlink at their last component
 * and closed to others, as the launcher and writeEntry take them; false when one is missing. */
export function checkedCacheDir(dir: string, uid: number): boolean {
  for (const d of [path.dirname(dir), dir]) {
    let st: import('fs').Stats;
    try {
      st = fs.lstatSync(d);
    } catch {
      return false;
    }
    if (!st.isDirectory() || st.uid !== uid || st.mode & 0o022) {
      const what = st.isSymbolicLink() ? 'a symlink' : !st.isDirectory() ? 'not a directory' : st.uid !== uid ? `owned by uid ${st.uid}` : `mode ${(st.mode & 0o777).toString(8)}, open to others`;
      throw new SandboxError(`${d}: ${what}, not a plan cache directory of yours: no kept plan removed`);
    }
  }
  return true;
}

/** `sandbox cache clear`: every entry removed (the directory stays). Only in a directory the launcher would use: one
 * that another user made (/tmp/sandbox-UID before the user's first launch), its plans a symlink to the user's files,
 * would have them removed. */
export function clearCache(env: Record<string, string | undefined>, uid = process.getuid ? process.getuid() : 0): number {
  const dir = cacheDir(env);
  if (!dir || !checkedCacheDir(dir, uid)) return 0;
  let n = 0;
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      fs.unlinkSync(path.join(dir, name));
      n++;
    } catch {
      /* gone already */
    }
  }
  return n;
}
