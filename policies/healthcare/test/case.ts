import type { PolicyPackConfigJson } from "../src/lib";
import type { AnalyzeResult, Analyzer, Diagnostic, Fixture, Level } from "./harness";

/** What a case expects of its rule. */
export type Expectation =
  /** No diagnostic of the rule. */
  | { readonly outcome: "pass" }
  /** Violations of the rule at its level (or `level`), `count` of them if given, each matching `message`. */
  | {
      readonly outcome: "violation";
      readonly level?: Level;
      readonly count?: number;
      readonly message?: RegExp;
    }
  /** The analyzer's advisory "can't run policy ... during preview" (an unknown value was needed). */
  | { readonly outcome: "preview" }
  /** The rule answers "not applicable". */
  | { readonly outcome: "not-applicable" };

/** One fixture of a rule: passing, failing (one property changed) or with unknown values (preview). */
export interface Case {
  readonly rule: string;
  readonly kind: "pass" | "fail" | "unknown";
  readonly title: string;
  /** Analyze one resource ... */
  readonly resource?: Fixture;
  /** ... or AnalyzeStack a set of resources. */
  readonly stack?: readonly Fixture[];
  /** --policy-pack-config for the case. @default - none (schema defaults) */
  readonly config?: PolicyPackConfigJson;
  readonly expect: Expectation;
}

export const pass: Expectation = { outcome: "pass" };
export const preview: Expectation = { outcome: "preview" };
export const notApplicable: Expectation = { outcome: "not-applicable" };
export function violation(message?: RegExp, extra: { count?: number; level?: Level } = {}): Expectation {
  return { outcome: "violation", message, ...extra };
}

/** Builds the cases of one rule. */
export function cases(rule: string, list: ReadonlyArray<Omit<Case, "rule">>): Case[] {
  return list.map((c) => ({ ...c, rule }));
}

/** Runs a case and returns the diagnostics of its rule. */
export async function runCase(
  analyzer: Analyzer,
  c: Case,
): Promise<{ result: AnalyzeResult; mine: Diagnostic[] }> {
  await analyzer.configure(c.config ?? {});
  const result = c.resource ? await analyzer.analyze(c.resource) : await analyzer.analyzeStack(c.stack ?? []);
  return { result, mine: result.diagnostics.filter((d) => d.policyName === c.rule) };
}
