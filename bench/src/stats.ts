/** Small statistics used by the benchmarks (pure). */

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** min / median / max (median of an even count: mean of the two middle values); NaN when empty. */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { min: NaN, median: NaN, max: NaN };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/**
 * Nearest-rank percentile of ascending `sorted` values: the smallest value with at least `p`
 * percent of the values at or below it. NaN when empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p} is outside (0, 100]`);
  if (sorted.length === 0) return NaN;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] < sorted[i - 1]) throw new Error("percentile needs ascending values");
  }
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}
