/**
 * Skips the current test (or, from a `before` hook, its suite) and says why: the `SKIPPED: <reason>`
 * line is what the root `pnpm test` summary lists for every skipped test (reporters/summary.cjs).
 */
export function skipBecause(context: Mocha.Context, reason: string): never {
  console.log(`      SKIPPED: ${reason}`);
  context.skip();
}
