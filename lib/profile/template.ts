// Variables in profile strings: `~`, `$NAME`, `${NAME}`, `${NAME:-default}`, `$$` for a literal dollar,
// and the loader's own names CWD, PROGRAM and PROGRAM_DIR. Parsing happens when a file is validated
// (so `profile check` catches bad syntax); expansion happens at load time against the caller's environment.

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; fallback?: string }
  | { kind: 'home' };

export interface Template {
  /** As written in the file. */
  text: string;
  parts: TemplatePart[];
  /** file:line:col of the string. */
  at: string;
}

/** Names the loader defines itself; they win over environment variables of the same name. */
export const SPECIAL_VARIABLES = ['CWD', 'PROGRAM', 'PROGRAM_DIR'] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Returns the parsed template, or what was expected instead (the caller adds the position). */
export function parseTemplate(text: string, at: string): Template | { error: string } {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  if (text === '~' || text.startsWith('~/')) {
    parts.push({ kind: 'home' });
    i = 1;
  } else if (text.startsWith('~')) {
    return { error: '"~" or "~/..." (other users\' homes can\'t be named with ~)' };
  }
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      lit += c;
      i++;
      continue;
    }
    if (text[i + 1] === '$') {
      lit += '$';
      i += 2;
      continue;
    }
    if (lit) parts.push({ kind: 'text', text: lit });
    lit = '';
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) return { error: 'a closing "}" after "${"' };
      const inner = text.slice(i + 2, close);
      const m = NAME.exec(inner);
      if (!m) return { error: `a variable name in "\${${inner}}"` };
      const rest = inner.slice(m[0].length);
      if (rest === '') parts.push({ kind: 'var', name: m[0] });
      else if (rest.startsWith(':-')) parts.push({ kind: 'var', name: m[0], fallback: rest.slice(2) });
      else return { error: `\${NAME} or \${NAME:-default}, not "\${${inner}}"` };
      i = close + 1;
    } else {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) return { error: '$NAME, ${NAME}, ${NAME:-default} or $$ after "$"' };
      parts.push({ kind: 'var', name: m[0] });
      i += 1 + m[0].length;
    }
  }
  if (lit) parts.push({ kind: 'text', text: lit });
  return { text, parts, at };
}

/**
 * Expands against `vars`; an empty value counts as unset (as `${V:-x}` does in the shell), so an empty
 * $SCRATCH never turns into a bind of "/". Returns the name of the first unset variable instead of a value.
 */
export function expandTemplate(t: Template, vars: Record<string, string | undefined>): { value: string } | { unset: string } {
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'home') {
      const home = vars.HOME;
      if (!home) return { unset: 'HOME' };
      out += home;
    } else {
      const v = vars[p.name];
      if (v) out += v;
      else if (p.fallback !== undefined) out += p.fallback;
      else return { unset: p.name };
    }
  }
  return { value: out };
}
