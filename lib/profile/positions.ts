// Where each value of a JSON5 document sits in its text: the json5 package parses but keeps no positions,
// so this scanner walks the same (already successfully parsed) text again and records line:col per JSON path.
// It trusts json5 to have rejected bad syntax and so only has to be right on valid input.

export type JsonPath = (string | number)[];

export interface Position {
  line: number;
  col: number;
}

/** Positions of a document: the value at each path, and the key (for object members). */
export interface PositionMap {
  value(path: JsonPath): Position | undefined;
  key(path: JsonPath): Position | undefined;
}

const pathKey = (path: JsonPath): string => JSON.stringify(path);

const isIdPart = (c: string): boolean => /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\\\u200C\u200D]/u.test(c);

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

export function scanPositionData(text: string): ScannedPositions {
  const values = new Map<string, Position>();
  const keys = new Map<string, Position>();
  // json5 counts only "\n" as a line break; so do we, so that our positions agree with its error positions.
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const posAt = (index: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: index - lineStarts[lo] + 1 };
  };

  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n' && text[i] !== '\r' && text[i] !== '\u2028' && text[i] !== '\u2029') i++;
      } else if (c === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? text.length : end + 2;
      } else if (/[\s\uFEFF]/u.test(c)) {
        i++;
      } else {
        return;
      }
    }
  };

  const readString = (): string => {
    const quote = text[i++];
    let out = '';
    while (i < text.length && text[i] !== quote) {
      const c = text[i++];
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case 'x': out += String.fromCharCode(parseInt(text.slice(i, i + 2), 16)); i += 2; break;
        case 'u': out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16)); i += 4; break;
        case '\n': case '\u2028': case '\u2029': break;
        case '\r': if (text[i] === '\n') i++; break;
        default: out += e;
      }
    }
    i++;
    return out;
  };

  const readIdentifier = (): string => {
    let out = '';
    while (i < text.length && isIdPart(text[i])) {
      if (text[i] === '\\') {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        out += text[i++];
      }
    }
    return out;
  };

  const scanValue = (path: JsonPath): void => {
    skipSpace();
    values.set(pathKey(path), posAt(i));
    const c = text[i];
    if (c === '{') {
      i++;
      for (;;) {
        skipSpace();
        if (text[i] === '}') { i++; return; }
        const keyStart = i;
        const key = text[i] === '"' || text[i] === "'" ? readString() : readIdentifier();
        const childPath = [...path, key];
        keys.set(pathKey(childPath), posAt(keyStart));
        skipSpace();
        i++; // ':'
        scanValue(childPath);
        skipSpace();
        if (text[i] === ',') i++;
      }
    } else if (c === '[') {
      i++;
      for (let n = 0; ; n++) {
        skipSpace();
        if (text[i] === ']') { i++; return; }
        scanValue([...path, n]);
        skipSpace();
        if (text[i] === ',') i++;
      }
    } else if (c === '"' || c === "'") {
      readString();
    } else {
      // Numbers, true/false/null, Infinity, NaN: everything up to the next delimiter.
      while (i < text.length && !/[\s,\]}/\uFEFF]/u.test(text[i])) i++;
    }
  };

  scanValue([]);
  return { values: [...values], keys: [...keys] };
}
