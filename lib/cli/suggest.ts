// "Did you mean": the closest known word to a mistyped one, by edit distance (a swap of two neighbours counts
// as one edit, the commonest typo). Pure, so the CLI's error messages are tested without a host.

/** Edits (insert, delete, replace, swap of neighbours) that turn a into b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known word closest to word, when it is close enough to be a typo of it (about one edit in three letters). */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const bare = (s: string) => s.replace(/^-+/, '');
  const limit = Math.max(1, Math.min(3, Math.floor(bare(word).length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    // the distance is at least the difference in length: a word that far off is never a typo of it (and a 64 kB
    // argument costs no table of 64 k rows per known word)
    if (k === word || Math.abs(k.length - word.length) > limit) continue;
    const dist = editDistance(word, k);
    if (dist < bestDistance) { best = k; bestDistance = dist; }
  }
  return bestDistance <= limit ? best : undefined;
}

/** ", did you mean X?" (after another separator if given) or "" when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>, separator = ', '): string {
  const c = closest(word, known);
  return c === undefined ? '' : `${separator}did you mean ${c}?`;
}
