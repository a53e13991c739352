// Environment name patterns ("SLURM_*", "LC_?"): `*` any run, `?` any one character, every other character itself
// (`[` too: there are no classes). Compiled once into a form with no glob syntax left, which both sides apply:
// the plan builder (envPatternMatcher) and, for compiled plans, the C stage at each launch (records env-keep, env-unset),
// with one algorithm.

/** kinds: one letter per byte of text (UTF-8): `l` the byte itself, `?` any one character, `*` any run. */
export interface EnvPattern { text: string; kinds: string }

export function compileEnvPattern(glob: string): EnvPattern {
  let kinds = '';
  for (const c of glob) kinds += c === '*' || c === '?' ? c : 'l'.repeat(Buffer.byteLength(c));
  // the C stage matches bytes: text and kinds line up byte for byte
  return { text: glob, kinds };
}

/** Does the name match? The C stage's matcher (env_pattern_matches in native/compiled.c), step for step, on the
 * name's UTF-8 bytes: `?` takes one whole UTF-8 sequence, `*` any run, with one level of backtracking to the last
 * `*`. No RegExp: a pattern of any length is one (a RegExp of a long one is "too large" for V8). */
export function envPatternMatcher(glob: string): { test: (name: string) => boolean } {
  const { text, kinds } = compileEnvPattern(glob);
  const pat = Buffer.from(text);
  return {
    test: (nameText: string) => {
      const name = Buffer.from(nameText);
      let t = 0;
      let n = 0;
      let star = -1;
      let starN = 0;
      while (n < name.length) {
        if (t < kinds.length && kinds[t] === '*') { star = t++; starN = n; continue; }
        if (t < kinds.length && kinds[t] === '?') {
          t++;
          n++;
          while (n < name.length && (name[n] & 0xc0) === 0x80) n++;
          continue;
        }
        if (t < kinds.length && pat[t] === name[n]) { t++; n++; continue; }
        if (star < 0) return false;
        t = star + 1;
        n = ++starN;
      }
      while (t < kinds.length && kinds[t] === '*') t++;
      return t === kinds.length;
    },
  };
}
