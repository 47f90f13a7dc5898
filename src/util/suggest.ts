/**
 * "Did you mean" suggestions for misspelt keys, values and subcommands.
 *
 * @module
 */

/**
 * Edit distance between two strings (Levenshtein plus swaps of two neighbouring characters,
 * because a swap is the most common typo and should cost one, not two).
 */
function editDistance(a: string, b: string): number {
  // Three rolling rows: the swap rule looks two rows back.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j], prev2[j - 2] + 1);
      }
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate nearest to `word` (case-insensitively), or undefined when none is a plausible
 * typo of it: at most max(2, a third of the word's length) edits, but only one edit for words of
 * up to four characters, where two edits make another word ("mp3" is not a typo of "ac3"). Ties
 * go to the earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const needle = word.toLowerCase();
  const limit = needle.length <= 4 ? 1 : Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(needle, candidate.toLowerCase());
    if (d < bestDistance && d <= limit) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
