// Reading a JSON5 document (a profile, a seccomp policy) as input from users: bounded nesting, no warnings
// printed behind our back, syntax errors as one line with file:line:col, and where each value sits in the text.
// One lexer (Json5Cursor) serves the nesting check before parsing and the position scanner after it.
import JSON5 from 'json5';
import { SandboxError } from './errors';

/** Deeper than this is not a profile anyone wrote; the position scanner recurses, so it is refused first. */
export const MAX_NESTING = 64;

export type JsonPath = (string | number)[];

export interface Position {
  line: number;
  col: number;
}

const isIdPart = (c: string): boolean => /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\\\u200C\u200D]/u.test(c);

/**
 * JSON5's tokens as the scanners need them: blanks and comments skipped, strings and identifiers read with
 * their escapes, other scalars passed over. Lines are counted as json5 counts them (only "\n"), so positions
 * agree with its error positions.
 */
class Json5Cursor {
  i = 0;
  private readonly lineStarts = [0];

  constructor(readonly text: string) {
    for (let k = 0; k < text.length; k++) if (text[k] === '\n') this.lineStarts.push(k + 1);
  }

  get atEnd(): boolean {
    return this.i >= this.text.length;
  }

  get char(): string {
    return this.text[this.i];
  }

  posAt(index: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: index - this.lineStarts[lo] + 1 };
  }

  skipSpace(): void {
    const text = this.text;
    while (this.i < text.length) {
      const c = text[this.i];
      if (c === '/' && text[this.i + 1] === '/') {
        while (this.i < text.length && text[this.i] !== '\n' && text[this.i] !== '\r' && text[this.i] !== '\u2028' && text[this.i] !== '\u2029') this.i++;
      } else if (c === '/' && text[this.i + 1] === '*') {
        const end = text.indexOf('*/', this.i + 2);
        this.i = end < 0 ? text.length : end + 2;
      } else if (/[\s\uFEFF]/u.test(c)) {
        this.i++;
      } else {
        return;
      }
    }
  }

  /** A quoted string at the cursor, its escapes undone; an unterminated one runs to the end. */
  readString(): string {
    const text = this.text;
    const quote = text[this.i++];
    let out = '';
    while (this.i < text.length && text[this.i] !== quote) {
      const c = text[this.i++];
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[this.i++];
      switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case 'x': out += String.fromCharCode(parseInt(text.slice(this.i, this.i + 2), 16)); this.i += 2; break;
        case 'u': out += String.fromCharCode(parseInt(text.slice(this.i, this.i + 4), 16)); this.i += 4; break;
        case '\n': case '\u2028': case '\u2029': break;
        case '\r': if (text[this.i] === '\n') this.i++; break;
        default: out += e ?? '';
      }
    }
    this.i++;
    return out;
  }

  readIdentifier(): string {
    const text = this.text;
    let out = '';
    while (this.i < text.length && isIdPart(text[this.i])) {
      if (text[this.i] === '\\') {
        out += String.fromCharCode(parseInt(text.slice(this.i + 2, this.i + 6), 16));
        this.i += 6;
      } else {
        out += text[this.i++];
      }
    }
    return out;
  }

  /** Numbers, true/false/null, Infinity, NaN: up to the next delimiter (always at least one character). */
  skipScalar(): void {
    const start = this.i;
    while (this.i < this.text.length && !/[\s,:\[\]{}"'/\uFEFF]/u.test(this.text[this.i])) this.i++;
    if (this.i === start) this.i++;
  }
}

/** Where brackets first nest deeper than max (strings and comments skipped), as line:col; null when they don't. */
export function excessiveNesting(text: string, max = MAX_NESTING): Position | null {
  const c = new Json5Cursor(text);
  let depth = 0;
  for (;;) {
    c.skipSpace();
    if (c.atEnd) return null;
    const ch = c.char;
    if (ch === '"' || ch === "'") {
      c.readString();
    } else if (ch === '{' || ch === '[') {
      if (++depth > max) return c.posAt(c.i);
      c.i++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      c.i++;
    } else {
      c.skipScalar();
    }
  }
}

export function parseJson5Text(file: string, text: string): unknown {
  const deep = excessiveNesting(text);
  if (deep) throw new SandboxError(`${file}:${deep.line}:${deep.col}: found nesting deeper than ${MAX_NESTING} levels, expected a flatter document`);
  // json5 warns on console about U+2028/U+2029 in strings; input problems are ours to report, in one line
  const warn = console.warn;
  console.warn = () => {};
  try {
    return JSON5.parse(text);
  } catch (e) {
    const err = e as { lineNumber?: number; columnNumber?: number; message?: string };
    const msg = String(err.message ?? e).replace(/^JSON5:\s*/, '').replace(/ at \d+:\d+$/, '');
    let line = err.lineNumber ?? 1;
    let col = err.columnNumber ?? 1;
    // json5 reports a bad line break as column 0 of the next line; point at the end of the line it ends.
    if (col < 1 && line > 1) {
      line -= 1;
      col = (text.split('\n')[line - 1] ?? '').length + 1;
    }
    throw new SandboxError(`${file}:${line}:${Math.max(col, 1)}: JSON5 syntax error: ${msg}`);
  } finally {
    console.warn = warn;
  }
}

/** A value quoted for a message: JSON, cut short so the message stays one readable line. */
export function quoted(v: unknown, max = 60): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Positions of a document: the value at each path, and the key (for object members). */
export interface PositionMap {
  value(path: JsonPath): Position | undefined;
  key(path: JsonPath): Position | undefined;
}

const pathKey = (path: JsonPath): string => JSON.stringify(path);

/** The scanner's findings as plain data, for the build-time cache of shipped profiles. */
export interface ScannedPositions {
  values: [string, Position][];
  keys: [string, Position][];
}

export function positionMapFrom(scanned: ScannedPositions): PositionMap {
  const values = new Map(scanned.values);
  const keys = new Map(scanned.keys);
  return { value: (path) => values.get(pathKey(path)), key: (path) => keys.get(pathKey(path)) };
}

export function scanPositions(text: string): PositionMap {
  return positionMapFrom(scanPositionData(text));
}

/**
 * Where each value sits: the json5 package parses but keeps no positions, so this walks the same (already
 * successfully parsed) text again and records line:col per JSON path. It trusts json5 to have rejected bad
 * syntax and so only has to be right on valid input.
 */
export function scanPositionData(text: string): ScannedPositions {
  const values = new Map<string, Position>();
  const keys = new Map<string, Position>();
  const c = new Json5Cursor(text);

  const scanValue = (path: JsonPath): void => {
    c.skipSpace();
    values.set(pathKey(path), c.posAt(c.i));
    const ch = c.char;
    if (ch === '{') {
      c.i++;
      for (;;) {
        c.skipSpace();
        if (c.atEnd) return;
        if (c.char === '}') { c.i++; return; }
        const keyStart = c.i;
        const key = c.char === '"' || c.char === "'" ? c.readString() : c.readIdentifier();
        const childPath = [...path, key];
        keys.set(pathKey(childPath), c.posAt(keyStart));
        c.skipSpace();
        c.i++; // ':'
        scanValue(childPath);
        c.skipSpace();
        if (c.char === ',') c.i++;
      }
    } else if (ch === '[') {
      c.i++;
      for (let n = 0; ; n++) {
        c.skipSpace();
        if (c.atEnd) return;
        if (c.char === ']') { c.i++; return; }
        scanValue([...path, n]);
        c.skipSpace();
        if (c.char === ',') c.i++;
      }
    } else if (ch === '"' || ch === "'") {
      c.readString();
    } else {
      c.skipScalar();
    }
  };

  scanValue([]);
  return { values: [...values], keys: [...keys] };
}

/**
 * "file:line:col" of a path, for errors about a file given on the command line (--seccomp FILE): an object
 * member's key, an array element's value, else the nearest enclosing one that was found.
 */
export function locatorFor(text: string, file: string): (path: JsonPath) => string {
  const map = scanPositions(text);
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const p = path.slice(0, n);
      const pos = map.key(p) ?? map.value(p);
      if (pos) return `${file}:${pos.line}:${pos.col}`;
    }
    return `${file}:1:1`;
  };
}
