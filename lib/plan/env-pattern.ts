// Environment name patterns ("SLURM_*", "LC_?"): `*` any run, `?` any one character, every other character itself
// (`[` too: there are no classes). Compiled once into a form with no glob syntax left, which both sides apply:
// the plan builder (as a RegExp) and, for compiled plans, the C stage at each launch (records env-keep, env-unset).

/** kinds: one letter per byte of text (UTF-8): `l` the byte itself, `?` any one character, `*` any run. */
export interface EnvPattern { text: string; kinds: string }

export function compileEnvPattern(glob: string): EnvPattern {
  let kinds = '';
  for (const c of glob) kinds += c === '*' || c === '?' ? c : 'l'.repeat(Buffer.byteLength(c));
  // the C stage matches bytes: text and kinds line up byte for byte
  return { text: glob, kinds };
}

export function envPatternRegExp(glob: string): RegExp {
  const { text, kinds } = compileEnvPattern(glob);
  const bytes = Buffer.from(text);
  let re = '';
  for (let i = 0; i < kinds.length;) {
    if (kinds[i] === '*') { re += '.*'; i++; continue; }
    if (kinds[i] === '?') { re += '.'; i++; continue; }
    let j = i;
    while (j < kinds.length && kinds[j] === 'l') j++;
    re += bytes.subarray(i, j).toString().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    i = j;
  }
  return new RegExp(`^${re}$`, 'su');
}
