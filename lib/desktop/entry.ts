// Desktop Entry text: reading the lines of a .desktop file, the Exec quoting rules of the Desktop Entry
// Specification, and the rewrite that sends every Exec through `sandbox run`. Pure functions on strings;
// the file system side is lib/desktop/install.ts.
import { SandboxError } from '../errors';

/** One line of the file, kept as its raw text so that untouched lines come back byte for byte. */
export interface EntryLine {
  raw: string;
  /** 1-based line number, for messages. */
  line: number;
  /** The group this line belongs to ('' before the first header). */
  group: string;
  kind: 'header' | 'key' | 'other';
  /** For keys: the name without locale, the locale (or undefined) and the raw value after '='. */
  key?: string;
  locale?: string;
  value?: string;
}

const HEADER_RE = /^\[([^\[\]]+)\]\s*$/;
const KEY_RE = /^([A-Za-z0-9-]+)(?:\[([^\]]+)\])?\s*=\s?(.*)$/;

export function parseEntryLines(text: string): EntryLine[] {
  let group = '';
  return text.split('\n').map((raw, i) => {
    const h = HEADER_RE.exec(raw);
    if (h) {
      group = h[1];
      return { raw, line: i + 1, group, kind: 'header' as const };
    }
    if (!raw.startsWith('#')) {
      const k = KEY_RE.exec(raw);
      if (k) return { raw, line: i + 1, group, kind: 'key' as const, key: k[1], locale: k[2], value: k[3] };
    }
    return { raw, line: i + 1, group, kind: 'other' as const };
  });
}

/** The value of an unlocalised key in a group, with the string escapes (\s \n \t \r \\) undone. */
export function getKey(lines: EntryLine[], group: string, key: string): string | undefined {
  const l = lines.find((x) => x.kind === 'key' && x.group === group && x.key === key && x.locale === undefined);
  return l?.value === undefined ? undefined : unescapeString(l.value);
}

const STRING_ESCAPES: Record<string, string> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** The general escapes of string values. Unknown escapes stay as they are (the spec leaves them undefined). */
export function unescapeString(v: string): string {
  return v.replace(/\\(.)/g, (m, c: string) => STRING_ESCAPES[c] ?? m);
}

export function escapeString(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/^ /, '\\s');
}

/** Escapes for one element of a string list (`;` separated). */
export function escapeListItem(v: string): string {
  return escapeString(v).replace(/;/g, '\\;');
}

export function splitList(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && i + 1 < v.length) {
      const c = v[++i];
      cur += c === ';' ? ';' : STRING_ESCAPES[c] ?? `\\${c}`;
    } else if (v[i] === ';') {
      out.push(cur);
      cur = '';
    } else cur += v[i];
  }
  if (cur) out.push(cur);
  return out;
}

/** Characters that force an Exec argument into double quotes. */
const RESERVED = /[ \t\n"'\\><~|&;$*?#()`]/;

/**
 * Splits an Exec value (string escapes already undone) into its arguments, quotes removed. Percent signs are
 * left exactly as written: field codes (%u, %F...) and %% stay for the launcher to substitute.
 * where: "FILE:LINE" for messages.
 */
export function splitExec(exec: string, where: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  for (let i = 0; i < exec.length; i++) {
    const c = exec[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
      continue;
    }
    inArg = true;
    if (c === '"') {
      for (i++; ; i++) {
        if (i >= exec.length) throw new SandboxError(`${where}: Exec has an unterminated double quote, expected a closing "`);
        const d = exec[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < exec.length && '"`$\\'.includes(exec[i + 1])) cur += exec[++i];
        else cur += d;
      }
    } else if (c === "'") {
      // Not in the specification, but launchers that parse Exec as a shell word accept it; so do we.
      const end = exec.indexOf("'", i + 1);
      if (end < 0) throw new SandboxError(`${where}: Exec has an unterminated single quote, expected a closing '`);
      cur += exec.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && i + 1 < exec.length) {
      cur += exec[++i];
    } else cur += c;
  }
  if (inArg) args.push(cur);
  return args;
}

/** One argument in Exec quoting: bare when it can be, else double-quoted with " ` $ \ escaped. */
export function quoteExecArg(arg: string): string {
  if (arg !== '' && !RESERVED.test(arg)) return arg;
  return `"${arg.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
}

/** An argument that the launcher must pass as it is: its percent signs doubled. */
export function literalExecArg(arg: string): string {
  return quoteExecArg(arg.replace(/%/g, '%%'));
}

/** The whole Exec value as it goes into the file: arguments quoted, then the string escapes. */
export function formatExec(prefix: string[], original: string[]): string {
  return escapeString([...prefix.map(literalExecArg), ...original.map(quoteExecArg)].join(' '));
}

const FIELD_CODE = /%[a-zA-Z]/;

/** The arguments of Exec as a plain command for a wrapper script: field codes dropped, %% made %. */
export function execForWrapper(args: string[]): string[] {
  return args.filter((a) => !FIELD_CODE.test(a.replace(/%%/g, ''))).map((a) => a.replace(/%%/g, '%'));
}

const FILE_CODES: Record<string, string> = { '%f': '@@', '%F': '@@', '%u': '@@u', '%U': '@@u' };

/**
 * Field codes of files and URLs, each standing alone, put in a file range of `sandbox run --file-args`
 * (lib/plan/file-args.ts): the launcher's files are then bound alone into the sandbox and the program gets
 * their inside paths. A code inside a longer argument (--file=%f) is left as it is: its file is not forwarded.
 */
export function markFileCodes(args: string[]): { args: string[]; marked: boolean } {
  let marked = false;
  const out: string[] = [];
  for (const a of args) {
    const mark = FILE_CODES[a];
    if (mark) {
      out.push(mark, a, '@@');
      marked = true;
    } else out.push(a);
  }
  return { args: out, marked };
}

export const MAIN_GROUP = 'Desktop Entry';
const isExecGroup = (g: string): boolean => g === MAIN_GROUP || g.startsWith('Desktop Action ');

export interface RewriteOptions {
  /** Absolute path of bin/sandbox. */
  sandbox: string;
  profile: string;
  /** The file the entry came from, recorded in X-Sandbox-Original. */
  original: string;
  /** Extra X-Sandbox-* keys: name without the prefix → value, already escaped for the file. */
  extra?: Record<string, string>;
  /** For messages. */
  file: string;
  /** Forward the files of %f/%F/%u/%U (sandbox run --file-args profile); default true. */
  forwardFiles?: boolean;
}

export interface Rewritten {
  text: string;
  /** The first Exec of the main group, split, before the rewrite. */
  mainExec: string[];
}

/**
 * The sandboxed entry: each Exec of the main group and of every action group runs
 * `SANDBOX run --profile P -- ORIGINAL...` (with `--file-args profile` and its file ranges where Exec has
 * %f/%F/%u/%U); DBusActivatable goes (activation would start the app outside
 * the sandbox); X-Sandbox-Profile, X-Sandbox-Original and the extra keys close the main group.
 * Every other line comes back unchanged.
 */
export function rewriteEntry(text: string, opts: RewriteOptions): Rewritten {
  const lines = parseEntryLines(text);
  if (!lines.some((l) => l.kind === 'header' && l.group === MAIN_GROUP)) {
    throw new SandboxError(`${opts.file}: found no [${MAIN_GROUP}] group, expected a desktop entry`);
  }
  if (getKey(lines, MAIN_GROUP, 'X-Sandbox-Profile') !== undefined) {
    throw new SandboxError(`${opts.file}: is already a sandboxed entry (it has X-Sandbox-Profile), expected the application's own entry`);
  }
  const type = getKey(lines, MAIN_GROUP, 'Type');
  if (type !== undefined && type !== 'Application') {
    throw new SandboxError(`${opts.file}: found Type=${type}, expected Type=Application`);
  }
  const prefix = [opts.sandbox, 'run', '--profile', opts.profile, '--'];
  let mainExec: string[] | undefined;
  const out: string[] = [];
  let lastMainKey = -1;
  for (const l of lines) {
    if (l.kind === 'key' && isExecGroup(l.group)) {
      if (l.key === 'DBusActivatable') continue;
      if (l.key === 'Exec') {
        const where = `${opts.file}:${l.line}`;
        const args = splitExec(unescapeString(l.value ?? ''), where);
        if (!args.length) throw new SandboxError(`${where}: Exec is empty, expected a command`);
        if (l.group === MAIN_GROUP && !mainExec && l.locale === undefined) mainExec = args;
        const files = opts.forwardFiles === false ? { args, marked: false } : markFileCodes(args);
        const pre = files.marked ? [...prefix.slice(0, -1), '--file-args', 'profile', '--'] : prefix;
        out.push(`${l.raw.slice(0, l.raw.length - (l.value ?? '').length)}${formatExec(pre, files.args)}`);
        if (l.group === MAIN_GROUP) lastMainKey = out.length - 1;
        continue;
      }
    }
    out.push(l.raw);
    if (l.group === MAIN_GROUP && (l.kind === 'key' || l.kind === 'header')) lastMainKey = out.length - 1;
  }
  if (!mainExec) {
    throw new SandboxError(`${opts.file}: found no Exec in [${MAIN_GROUP}], expected one (an entry started only by D-Bus activation can't be sandboxed)`);
  }
  const added = [`X-Sandbox-Profile=${escapeString(opts.profile)}`, `X-Sandbox-Original=${escapeString(opts.original)}`];
  for (const [k, v] of Object.entries(opts.extra ?? {})) added.push(`X-Sandbox-${k}=${v}`);
  out.splice(lastMainKey + 1, 0, ...added);
  return { text: out.join('\n'), mainExec };
}
