// Reading a JSON5 document (a profile, a seccomp policy) as input from users: bounded nesting, no warnings
// printed behind our back, and syntax errors as one line with file:line:col.
import JSON5 from 'json5';
import { SandboxError } from './errors';

/** Deeper than this is not a profile anyone wrote; the position scanners recurse, so it is refused first. */
export const MAX_NESTING = 64;

/** Where brackets first nest deeper than max (strings and comments skipped), as line:col; null when they don't. */
export function excessiveNesting(text: string, max = MAX_NESTING): { line: number; col: number } | null {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') { line++; lineStart = i + 1; continue; }
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) {
        if (text[i] === '\\') i++;
        if (text[i] === '\n') { line++; lineStart = i + 1; }
      }
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      for (i += 2; i < text.length && !(text[i] === '*' && text[i + 1] === '/'); i++) {
        if (text[i] === '\n') { line++; lineStart = i + 1; }
      }
      i++;
    } else if (c === '{' || c === '[') {
      if (++depth > max) return { line, col: i - lineStart + 1 };
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return null;
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
