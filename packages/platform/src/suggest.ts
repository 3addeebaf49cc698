/**
 * "Did you mean": the candidate closest to a misspelt word. This module imports nothing, and is also
 * exported on its own as `@hcp/platform/suggest`, so that the plan CLI's argument parsing (and
 * `plan:diff`) can use it without loading the Pulumi SDK behind the package's main entry.
 */

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] === y[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[y.length];
}

/**
 * The candidate closest to `word`, if it is within `maxDistance` edits (default: a third of the
 * word's length, at least 2), so that a wild guess gets the list of valid values instead.
 */
export function closestTo(
  word: string,
  candidates: readonly string[],
  maxDistance = Math.max(2, Math.floor(word.length / 3)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
