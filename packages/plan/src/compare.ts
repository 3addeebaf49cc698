/**
 * What "the same plan" means when two plan documents are compared (the workers test, `pnpm
 * bench:plan`'s identical-documents check): everything but when it was generated and how long each
 * stack took. Exported as `@hcp/plan/compare`, light on purpose (no Pulumi), and typed loosely so a
 * document any earlier revision wrote (the benchmark's `ref:<rev>` baseline) compares too.
 */

/**
 * A plan document as far as the comparison reads it (any format version the plan has written); the
 * other fields are compared as they are.
 */
export interface PlanDocumentLike {
  readonly generatedAt?: string;
  readonly environments: ReadonlyArray<{
    readonly environment: string;
    readonly stacks: ReadonlyArray<{
      readonly project: string;
      readonly stack: string;
      readonly durationMs?: number;
      readonly cpuMs?: number;
    }>;
  }>;
}

/**
 * The document without what legitimately differs between two runs of the same plan: when it was
 * generated and how long each stack took (`generatedAt`, `durationMs`, `cpuMs`).
 */
export function withoutTimings(doc: PlanDocumentLike): unknown {
  const { generatedAt: _at, ...rest } = doc;
  return {
    ...rest,
    environments: doc.environments.map((e) => ({
      ...e,
      stacks: e.stacks.map(({ durationMs: _d, cpuMs: _c, ...s }) => s),
    })),
  };
}
