// One profile file as read: JSON5 parsed, every value checked against lib/profile/tables.ts, and turned
// into a ProfileDoc whose entries each remember "file:line:col". Nothing here looks at the host or at
// other files; `extends` is only recorded. All errors are one line: FILE:LINE:COL: found X, expected Y.
import { parseJson5Text, quoted, positionMapFrom, scanPositionData, scanPositions, type JsonPath, type PositionMap, type ScannedPositions } from '../json5-text';
import { SandboxError } from '../errors';
import { capabilityName, capabilityNumber } from '../plan/capabilities';
import { HOSTNAME_RULE, isHostname } from '../plan/hostname';
import { readSize, parseCpus, SIZE_FORMS, MEMORY_FORMS, CPUS_FORMS, PIDS_FORMS, PIDS_MAX } from '../plan/units';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../paths';
import { parseTemplate, type Template } from './template';
import { busNameProblem, ruleProblem } from '../session/dbus-rules';
import {
  DEVICE_NAMES,
  ENV_KEYS,
  FS_OPS,
  FS_OP_NAMES,
  FS_REQUIRED,
  HOME_BASES,
  HOME_KEYS,
  HOME_SHARE_KEYS,
  LIMITS_KEYS,
  LIMITS_MODES,
  NAMESPACES_KEYS,
  NETWORK_VALUES,
  LANDLOCK_KEYS,
  SOCKET_NAMES,
  TOP_KEYS,
  DBUS_KEYS,
  FILE_ARG_MODES,
  PROGRAM_NAME_RE,
  type FileArgMode,
  type DeviceName,
  type FsOpName,
  type SocketName,
} from './tables';

/** Turns a path inside one document into "file:line:col" (the value's position, or the nearest parent's). */
export type Locate = (path: JsonPath) => string;

export interface Marked<T> {
  value: T;
  at: string;
}

export interface FsEntry {
  op: FsOpName;
  /** The operation key's value: the source of a bind, the place inside for the others. */
  path: Template;
  dst?: Template;
  target?: Template;
  /** Bytes; 0 means the kernel's default. */
  size?: number;
  mode?: number;
  /** overlay: the host directories under it, bottom first; where writes go (upper and work), or none (readOnly) */
  lower?: Template[];
  upper?: Template;
  work?: Template;
  readOnly?: boolean;
  optional: boolean;
  at: string;
  /** The entry as written, for `profile show`. */
  written: Record<string, unknown>;
}

export interface HomeShare {
  /** Relative to $HOME. */
  path: string;
  readOnly: boolean;
  optional: boolean;
  at: string;
  /** A "!path" entry: removes an inherited share of that path. */
  remove: boolean;
}

export type HomeBase = (typeof HOME_BASES)[number];
export type Want = true | false | 'optional';
export type LimitsMode = (typeof LIMITS_MODES)[number];

export interface LimitsDoc {
  memory?: Marked<number> | null;
  memorySwap?: Marked<number> | null;
  cpus?: Marked<number> | null;
  pids?: Marked<number> | null;
  mode?: Marked<LimitsMode> | null;
  at: string;
}

export interface SeccompDoc {
  policy: unknown;
  at: string;
  /** Positions inside the seccomp section: locate([]) is the section itself. */
  locate: Locate;
}

export interface DbusDoc {
  /** Name lists: "!NAME" removes an inherited entry. */
  see: Marked<string>[];
  talk: Marked<string>[];
  own: Marked<string>[];
  /** NAME → rules; null removes an inherited NAME. */
  call: Record<string, Marked<string[]> | null>;
  broadcast: Record<string, Marked<string[]> | null>;
  optional?: Marked<boolean>;
  at: string;
}

export interface ProfileDoc {
  file: string;
  description?: Marked<string>;
  /** The programs this file's profile is made for (never inherited: chromium extends browser but isn't for firefox). */
  programs?: Marked<string>[];
  /** How files named on the command line are bound (inherited). */
  fileArgs?: Marked<FileArgMode>;
  extends: Marked<string>[];
  network?: Marked<'shared' | 'private'>;
  pid?: Marked<'shared' | 'private'>;
  /** --join's key, a template: no joining when one of its variables is unset (outside a SLURM step, say). */
  join?: Template;
  uid?: Marked<number>;
  gid?: Marked<number>;
  hostname?: Marked<string>;
  cwd?: Template;
  newSession?: Marked<boolean>;
  dieWithParent?: Marked<boolean>;
  asPid1?: Marked<boolean>;
  filesystem: FsEntry[];
  env: {
    clear?: Marked<boolean>;
    /** Entries starting with "!" remove an inherited entry equal to the rest. */
    keep: Marked<string>[];
    /** null removes an inherited variable. */
    set: Record<string, Marked<Template | null>>;
    unset: Marked<string>[];
  };
  capabilities: Marked<string>[];
  /** Landlock filesystem rules, a second layer under the mounts: lists append across extends. */
  landlock: { readOnly: Template[]; readWrite: Template[] };
  home?: { base?: Marked<HomeBase>; readOnly?: Marked<boolean>; share: HomeShare[]; at: string };
  devices: Partial<Record<DeviceName, Marked<Want>>>;
  sockets: Partial<Record<SocketName, Marked<Want>>>;
  /** null: drop an inherited seccomp section. */
  seccomp?: SeccompDoc | null;
  /** null: drop all inherited limits. */
  limits?: LimitsDoc | null;
  /** null: drop an inherited dbus section. */
  dbus?: DbusDoc | null;
}

/** Modes as octal strings ("0755", "1777", "700"); numbers are refused because 755 and 0o755 differ. */
export function parseMode(v: unknown): number | null {
  if (typeof v !== 'string' || !/^0?[0-7]{3,4}$/.test(v)) return null;
  const n = parseInt(v, 8);
  return n <= 0o7777 ? n : null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return quoted(v, 80);
  return String(v);
}

const oneOf = (names: readonly unknown[]): string => names.map((n) => (typeof n === 'string' ? `"${n}"` : String(n))).join(', ');

/** Wraps a position map with the file name and error helpers; exported for the seccomp section's parser. */
export class DocumentReader {
  constructor(
    readonly file: string,
    private readonly positions: PositionMap,
  ) {}

  at(path: JsonPath): string {
    for (let p = path; ; p = p.slice(0, -1)) {
      const pos = this.positions.value(p);
      if (pos) return `${this.file}:${pos.line}:${pos.col}`;
      if (p.length === 0) return `${this.file}:1:1`;
    }
  }

  keyAt(path: JsonPath): string {
    const pos = this.positions.key(path);
    return pos ? `${this.file}:${pos.line}:${pos.col}` : this.at(path);
  }

  fail(path: JsonPath, found: string, expected: string, onKey = false): never {
    throw new SandboxError(`${onKey ? this.keyAt(path) : this.at(path)}: found ${found}, expected ${expected}`);
  }

  wrong(v: unknown, path: JsonPath, expected: string): never {
    return this.fail(path, describe(v), expected);
  }

  object(v: unknown, path: JsonPath, allowed: readonly string[], what: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.wrong(v, path, `an object (${what})`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown key "${k}" in ${what}`, `one of: ${allowed.join(', ')}`, true);
    }
    return o;
  }

  list(v: unknown, path: JsonPath): unknown[] {
    if (!Array.isArray(v)) this.wrong(v, path, 'a list');
    return v as unknown[];
  }

  string(v: unknown, path: JsonPath, expected = 'a string'): string {
    if (typeof v !== 'string') this.wrong(v, path, expected);
    return v as string;
  }

  bool(v: unknown, path: JsonPath): boolean {
    if (typeof v !== 'boolean') this.wrong(v, path, 'true or false');
    return v as boolean;
  }

  choice<T extends string>(v: unknown, path: JsonPath, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.wrong(v, path, `one of ${oneOf(values)}`);
    return v as T;
  }

  /** A size by the one parser the command line uses too (lib/plan/units.ts). */
  size(v: unknown, path: JsonPath): number {
    const r = readSize(v);
    if ('bytes' in r) return r.bytes;
    return this.wrong(v, path, `${SIZE_FORMS}${r.problem.startsWith('not ') ? '' : `; ${describe(v)} is ${r.problem}`}`);
  }

  integer(v: unknown, path: JsonPath, min: number, max: number, what: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.wrong(v, path, what);
    return v as number;
  }

  template(v: unknown, path: JsonPath, expected = 'a path', allowEmpty = false): Template {
    const s = this.string(v, path, expected);
    if (s === '' && !allowEmpty) this.wrong(v, path, expected);
    const t = parseTemplate(s, this.at(path));
    if ('error' in t) this.fail(path, JSON.stringify(s), t.error);
    return t;
  }

  marked<T>(value: T, path: JsonPath): Marked<T> {
    return { value, at: this.at(path) };
  }
}

/** Parses JSON5 text; syntax errors become "FILE:LINE:COL: message". */
export function parseJson5(file: string, text: string): unknown {
  return parseJson5Text(file, text);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_GLOB = /^[A-Za-z0-9_*?]{1,256}$/;
const CAP_NAME = /^(CAP_)?[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Shipped profiles parsed at build time (dist/profiles.cache.json, written by scripts/bundle.js): json5
 * reads a character at a time and costs milliseconds per launch. Used only when the text is identical.
 */
interface PreparedProfile { text: string; raw: unknown; positions: ScannedPositions }
let prepared: Record<string, PreparedProfile> | null | undefined;

function preparedFor(file: string, text: string): PreparedProfile | undefined {
  if (prepared === undefined) {
    try {
      prepared = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'dist', 'profiles.cache.json'), 'utf8')) as Record<string, PreparedProfile>;
    } catch {
      prepared = null;
    }
  }
  const p = prepared?.[path.relative(packageRoot(), file)];
  return p && p.text === text ? p : undefined;
}

/** What the build-time cache holds for one file. */
export function prepareProfileText(file: string, text: string): PreparedProfile {
  return { text, raw: parseJson5(file, text), positions: scanPositionData(text) };
}

export function readProfileText(file: string, text: string): ProfileDoc {
  const pre = preparedFor(file, text);
  const raw = pre ? pre.raw : parseJson5(file, text);
  const r = new DocumentReader(file, pre ? positionMapFrom(pre.positions) : scanPositions(text));
  const top = r.object(raw, [], TOP_KEYS, 'a profile');
  const doc: ProfileDoc = { file, extends: [], filesystem: [], env: { keep: [], set: {}, unset: [] }, capabilities: [], landlock: { readOnly: [], readWrite: [] }, devices: {}, sockets: {} };

  for (const [key, v] of Object.entries(top)) {
    const p: JsonPath = [key];
    switch (key as (typeof TOP_KEYS)[number]) {
      case 'description':
        doc.description = r.marked(r.string(v, p), p);
        break;
      case 'programs': {
        const what = 'a program name as typed on a command line, like "firefox-esr" (no "/" or spaces)';
        doc.programs = r.list(v, p).map((e, i) => {
          const s = r.string(e, [key, i], what);
          if (!PROGRAM_NAME_RE.test(s)) r.wrong(e, [key, i], what);
          return r.marked(s, [key, i]);
        });
        break;
      }
      case 'fileArgs':
        doc.fileArgs = r.marked(r.choice(v, p, FILE_ARG_MODES), p);
        break;
      case 'extends':
        if (typeof v === 'string') doc.extends.push(r.marked(v, p));
        else r.list(v, p).forEach((e, i) => doc.extends.push(r.marked(r.string(e, [key, i], 'a profile name or path'), [key, i])));
        for (const e of doc.extends) if (e.value === '') throw new SandboxError(`${e.at}: found "", expected a profile name or path`);
        break;
      case 'namespaces': {
        const ns = r.object(v, p, NAMESPACES_KEYS, '"namespaces"');
        if ('network' in ns) doc.network = r.marked(r.choice(ns.network, [key, 'network'], NETWORK_VALUES), [key, 'network']);
        if ('pid' in ns) doc.pid = r.marked(r.choice(ns.pid, [key, 'pid'], NETWORK_VALUES), [key, 'pid']);
        if ('join' in ns) doc.join = r.template(ns.join, [key, 'join']);
        for (const id of ['uid', 'gid'] as const) {
          if (id in ns) doc[id] = r.marked(r.integer(ns[id], [key, id], 0, 0xfffffffe, `a ${id} from 0 to 4294967294`), [key, id]);
        }
        break;
      }
      case 'landlock': {
        const ll = r.object(v, p, LANDLOCK_KEYS, '"landlock"');
        for (const k of LANDLOCK_KEYS) {
          if (k in ll) r.list(ll[k], [key, k]).forEach((e, i) => doc.landlock[k].push(r.template(e, [key, k, i])));
        }
        break;
      }
      case 'hostname': {
        const h = r.string(v, p);
        if (!isHostname(h)) r.wrong(v, p, HOSTNAME_RULE);
        doc.hostname = r.marked(h, p);
        break;
      }
      case 'cwd':
        doc.cwd = r.template(v, p);
        break;
      case 'newSession':
      case 'dieWithParent':
      case 'asPid1':
        doc[key as 'newSession'] = r.marked(r.bool(v, p), p);
        break;
      case 'filesystem':
        r.list(v, p).forEach((e, i) => doc.filesystem.push(readFsEntry(r, e, [key, i])));
        break;
      case 'env':
        readEnv(r, v, doc);
        break;
      case 'capabilities':
        r.list(v, p).forEach((e, i) => {
          const s = r.string(e, [key, i], 'a capability name like "CAP_NET_ADMIN" or "net_admin"');
          const name = s.startsWith('!') ? s.slice(1) : s;
          if (!CAP_NAME.test(name)) r.wrong(e, [key, i], 'a capability name like "CAP_NET_ADMIN" or "net_admin"');
          if (capabilityNumber(name) === undefined) r.wrong(e, [key, i], 'a capability the kernel knows, like "CAP_NET_ADMIN" (see capabilities(7))');
          doc.capabilities.push(r.marked((s.startsWith('!') ? '!' : '') + capabilityName(name), [key, i]));
        });
        break;
      case 'home':
        doc.home = readHome(r, v);
        break;
      case 'devices':
      case 'sockets': {
        const names: readonly string[] = key === 'devices' ? DEVICE_NAMES : SOCKET_NAMES;
        const o = r.object(v, p, names, `"${key}"`);
        const out: Record<string, Marked<Want>> = {};
        for (const [name, want] of Object.entries(o)) {
          if (want !== true && want !== false && want !== 'optional') r.wrong(want, [key, name], 'true, false or "optional"');
          out[name] = r.marked(want as Want, [key, name]);
        }
        if (key === 'devices') doc.devices = out;
        else doc.sockets = out;
        break;
      }
      case 'seccomp': {
        if (v === null) {
          doc.seccomp = null;
          break;
        }
        if (typeof v !== 'object' || Array.isArray(v)) r.wrong(v, p, 'an object (the seccomp policy) or null');
        doc.seccomp = { policy: v, at: r.at(p), locate: (sub) => r.at([key, ...sub]) };
        break;
      }
      case 'limits':
        doc.limits = v === null ? null : readLimits(r, v);
        break;
      case 'dbus':
        doc.dbus = v === null ? null : readDbus(r, v);
        break;
    }
  }
  return doc;
}

function readFsEntry(r: DocumentReader, e: unknown, p: JsonPath): FsEntry {
  const o = r.object(e, p, [...FS_OP_NAMES, 'dst', 'target', 'size', 'mode', 'lower', 'upper', 'work', 'readOnly', 'optional'], 'a filesystem entry');
  const ops = Object.keys(o).filter((k): k is FsOpName => (FS_OP_NAMES as string[]).includes(k));
  if (ops.length === 0) r.fail(p, 'an entry with no operation', `one of the keys ${FS_OP_NAMES.join(', ')}`);
  if (ops.length > 1) r.fail([...p, ops[1]], `both "${ops[0]}" and "${ops[1]}" in one entry`, 'one operation per entry', true);
  const op = ops[0];
  const allowed: readonly string[] = [op, ...FS_OPS[op]];
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) r.fail([...p, k], `key "${k}" in a "${op}" entry`, `one of: ${allowed.join(', ')}`, true);
  }
  for (const k of FS_REQUIRED[op] ?? []) {
    if (!(k in o)) r.fail(p, `a "${op}" entry without "${k}"`, `"${k}" in it`);
  }
  const entry: FsEntry = { op, path: r.template(o[op], [...p, op]), optional: false, at: r.at(p), written: o };
  if ('dst' in o) entry.dst = r.template(o.dst, [...p, 'dst']);
  if ('target' in o) entry.target = r.template(o.target, [...p, 'target'], 'a symlink target');
  if ('optional' in o) entry.optional = r.bool(o.optional, [...p, 'optional']);
  if ('lower' in o) {
    const lower = r.list(o.lower, [...p, 'lower']);
    if (lower.length === 0) r.wrong(o.lower, [...p, 'lower'], 'a list of one or more host directories, the bottom layer first');
    entry.lower = lower.map((l, i) => r.template(l, [...p, 'lower', i], 'a host directory'));
  }
  if ('upper' in o) entry.upper = r.template(o.upper, [...p, 'upper'], 'a host directory the writes go to');
  if ('work' in o) entry.work = r.template(o.work, [...p, 'work'], 'an empty host directory on the same filesystem as "upper"');
  if ('readOnly' in o) entry.readOnly = r.bool(o.readOnly, [...p, 'readOnly']);
  if (op === 'overlay' && ('upper' in o) !== ('work' in o)) r.fail(p, 'an overlay with only one of "upper" and "work"', 'both (writes kept in upper) or neither (writes thrown away)');
  if (op === 'overlay' && entry.readOnly && 'upper' in o) r.fail([...p, 'readOnly'], 'a read-only overlay with "upper"', 'one or the other');
  if (op === 'overlay' && entry.readOnly && (entry.lower?.length ?? 0) < 2) r.fail([...p, 'lower'], 'a read-only overlay of one layer', 'two layers at least (or a ro-bind)');
  if ('size' in o) {
    entry.size = r.size(o.size, [...p, 'size']);
  }
  if ('mode' in o) {
    const mode = parseMode(o.mode);
    if (mode === null) r.wrong(o.mode, [...p, 'mode'], 'an octal mode string like "0755"');
    entry.mode = mode;
  }
  return entry;
}

function readEnv(r: DocumentReader, v: unknown, doc: ProfileDoc): void {
  const o = r.object(v, ['env'], ENV_KEYS, '"env"');
  if ('clear' in o) doc.env.clear = r.marked(r.bool(o.clear, ['env', 'clear']), ['env', 'clear']);
  if ('keep' in o) {
    r.list(o.keep, ['env', 'keep']).forEach((e, i) => {
      const p = ['env', 'keep', i];
      const s = r.string(e, p, 'a variable name or glob like "SLURM_*"');
      if (!ENV_GLOB.test(s.replace(/^!/, ''))) r.wrong(e, p, 'a variable name or glob like "SLURM_*" (a leading "!" removes an inherited one)');
      doc.env.keep.push(r.marked(s, p));
    });
  }
  if ('unset' in o) {
    r.list(o.unset, ['env', 'unset']).forEach((e, i) => {
      const p = ['env', 'unset', i];
      const s = r.string(e, p, 'a variable name');
      if (!ENV_NAME.test(s.replace(/^!/, ''))) r.wrong(e, p, 'a variable name (a leading "!" removes an inherited one)');
      doc.env.unset.push(r.marked(s, p));
    });
  }
  if ('set' in o) {
    const set = o.set;
    if (set === null || typeof set !== 'object' || Array.isArray(set)) r.wrong(set, ['env', 'set'], 'an object of NAME: "value"');
    for (const [name, value] of Object.entries(set as Record<string, unknown>)) {
      const p = ['env', 'set', name];
      if (!ENV_NAME.test(name)) r.fail(p, `variable name "${name}"`, 'letters, digits and "_", not starting with a digit', true);
      doc.env.set[name] = r.marked(value === null ? null : r.template(value, p, 'a string, or null to remove an inherited value', true), p);
    }
  }
}

function readHome(r: DocumentReader, v: unknown): NonNullable<ProfileDoc['home']> {
  const p: JsonPath = ['home'];
  if (typeof v === 'string') return { base: r.marked(r.choice(v, p, HOME_BASES), p), share: [], at: r.at(p) };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) r.wrong(v, p, `one of ${oneOf(HOME_BASES)} or an object with ${HOME_KEYS.join(', ')}`);
  const o = r.object(v, p, HOME_KEYS, '"home"');
  const home: NonNullable<ProfileDoc['home']> = { share: [], at: r.at(p) };
  if ('base' in o) home.base = r.marked(r.choice(o.base, ['home', 'base'], HOME_BASES), ['home', 'base']);
  if ('readOnly' in o) home.readOnly = r.marked(r.bool(o.readOnly, ['home', 'readOnly']), ['home', 'readOnly']);
  if ('share' in o) {
    r.list(o.share, ['home', 'share']).forEach((e, i) => {
      const sp: JsonPath = ['home', 'share', i];
      let share: HomeShare;
      if (typeof e === 'string') {
        share = { path: e.replace(/^!/, ''), readOnly: false, optional: false, at: r.at(sp), remove: e.startsWith('!') };
      } else {
        const so = r.object(e, sp, HOME_SHARE_KEYS, 'a home share entry');
        if (!('path' in so)) r.fail(sp, 'a share entry without "path"', '"path" in it');
        share = {
          path: r.string(so.path, [...sp, 'path']),
          readOnly: 'readOnly' in so ? r.bool(so.readOnly, [...sp, 'readOnly']) : false,
          optional: 'optional' in so ? r.bool(so.optional, [...sp, 'optional']) : false,
          at: r.at(sp),
          remove: false,
        };
      }
      const parts = share.path.split('/');
      if (share.path === '' || share.path.startsWith('/') || parts.some((s) => s === '..' || s === '.')) {
        r.wrong(share.path, typeof e === 'string' ? sp : [...sp, 'path'], 'a path inside the home like "Downloads" (relative, without "." or "..")');
      }
      home.share.push(share);
    });
  }
  return home;
}

function readLimits(r: DocumentReader, v: unknown): LimitsDoc {
  const o = r.object(v, ['limits'], LIMITS_KEYS, '"limits"');
  const out: LimitsDoc = { at: r.at(['limits']) };
  for (const [key, val] of Object.entries(o)) {
    const p: JsonPath = ['limits', key];
    if (val === null) {
      out[key as 'memory'] = null;
      continue;
    }
    switch (key as (typeof LIMITS_KEYS)[number]) {
      case 'memory':
      case 'memorySwap': {
        const size = r.size(val, p);
        if (key === 'memory' && size === 0) r.wrong(val, p, MEMORY_FORMS);
        out[key as 'memory'] = r.marked(size, p);
        break;
      }
      case 'cpus':
        // A number, as JSON writes it; the rule is the command line's (lib/plan/units.ts).
        if (typeof val !== 'number') r.wrong(val, p, CPUS_FORMS);
        out.cpus = r.marked(parseCpus(val) ?? r.wrong(val, p, CPUS_FORMS), p);
        break;
      case 'pids':
        out.pids = r.marked(r.integer(val, p, 1, PIDS_MAX, PIDS_FORMS), p);
        break;
      case 'mode':
        out.mode = r.marked(r.choice(val, p, LIMITS_MODES), p);
        break;
    }
  }
  return out;
}

function readDbus(r: DocumentReader, v: unknown): DbusDoc {
  const o = r.object(v, ['dbus'], DBUS_KEYS, '"dbus"');
  const out: DbusDoc = { see: [], talk: [], own: [], call: {}, broadcast: {}, at: r.at(['dbus']) };
  const name = (s: string, p: JsonPath, onKey: boolean): void => {
    const problem = busNameProblem(s);
    if (problem) r.fail(p, JSON.stringify(s), problem, onKey);
  };
  for (const key of ['see', 'talk', 'own'] as const) {
    if (!(key in o)) continue;
    r.list(o[key], ['dbus', key]).forEach((e, i) => {
      const p: JsonPath = ['dbus', key, i];
      const s = r.string(e, p, 'a bus name like "org.freedesktop.Notifications"');
      name(s.replace(/^!/, ''), p, false);
      out[key].push(r.marked(s, p));
    });
  }
  for (const key of ['call', 'broadcast'] as const) {
    if (!(key in o)) continue;
    const m = o[key];
    if (m === null || typeof m !== 'object' || Array.isArray(m)) r.wrong(m, ['dbus', key], 'an object of NAME: ["METHOD@PATH", ...]');
    for (const [n, rules] of Object.entries(m as Record<string, unknown>)) {
      const p: JsonPath = ['dbus', key, n];
      name(n, p, true);
      if (rules === null) {
        out[key][n] = null;
        continue;
      }
      const list = r.list(rules, p).map((e, i) => {
        const s = r.string(e, [...p, i], 'a rule "METHOD[@PATH]"');
        const problem = ruleProblem(s);
        if (problem) r.fail([...p, i], JSON.stringify(s), problem);
        return s;
      });
      if (list.length === 0) r.fail(p, 'an empty list of rules', 'at least one rule like "org.example.Iface.Method@/org/example/Obj" (or null to remove an inherited name)');
      out[key][n] = r.marked(list, p);
    }
  }
  if ('optional' in o) out.optional = r.marked(r.bool(o.optional, ['dbus', 'optional']), ['dbus', 'optional']);
  return out;
}
