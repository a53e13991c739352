// Maps JSON paths to "file:line:col" in a JSON or JSON5 text, so errors about a seccomp file
// given with --seccomp (or `sandbox seccomp explain FILE`) point at the entry at fault.
// It only finds positions; json5 does the parsing.
import type { Locate } from './policy';

export function jsonLocator(text: string, file: string): Locate {
  const pos = new Map<string, number>();
  let i = 0;
  const skip = () => {
    for (;;) {
      while (i < text.length && /[\s\uFEFF]/.test(text[i])) i++;
      if (text.startsWith('//', i)) { while (i < text.length && text[i] !== '\n') i++; continue; }
      if (text.startsWith('/*', i)) { const e = text.indexOf('*/', i + 2); i = e < 0 ? text.length : e + 2; continue; }
      return;
    }
  };
  const str = () => {
    const q = text[i++];
    let s = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\') { s += text[i + 1] ?? ''; i += 2; } else s += text[i++];
    }
    i++;
    return s;
  };
  const value = (path: (string | number)[], at?: number): void => {
    skip();
    pos.set(JSON.stringify(path), at ?? i);
    const c = text[i];
    if (c === '{') {
      i++;
      for (;;) {
        skip();
        if (i >= text.length) return;
        if (text[i] === '}') { i++; return; }
        if (text[i] === ',') { i++; continue; }
        const keyAt = i;
        let key: string;
        if (text[i] === '"' || text[i] === "'") key = str();
        else { const m = /^[^\s:]+/.exec(text.slice(i, i + 200)); key = m ? m[0] : ''; i += Math.max(key.length, 1); }
        skip();
        if (text[i] === ':') i++;
        value([...path, key], keyAt);
      }
    } else if (c === '[') {
      i++;
      let n = 0;
      for (;;) {
        skip();
        if (i >= text.length) return;
        if (text[i] === ']') { i++; return; }
        if (text[i] === ',') { i++; continue; }
        value([...path, n++]);
      }
    } else if (c === '"' || c === "'") {
      str();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i]) && !text.startsWith('//', i) && !text.startsWith('/*', i)) i++;
    }
  };
  try { value([]); } catch { /* positions found so far still help */ }
  const lineCol = (off: number) => {
    const before = text.slice(0, off).split('\n');
    return `${before.length}:${before[before.length - 1].length + 1}`;
  };
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const p = pos.get(JSON.stringify(path.slice(0, n)));
      if (p !== undefined) return `${file}:${lineCol(p)}`;
    }
    return `${file}:1:1`;
  };
}
