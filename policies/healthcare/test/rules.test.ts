import * as assert from "node:assert/strict";
import { RULES } from "../src/lib";
import { runCase } from "./case";
import { ALL_CASES } from "./cases";
import { Analyzer, type Diagnostic } from "./harness";

/**
 * Every rule's passing, failing and unknown-value (preview) fixtures, run through the real pack
 * over the analyzer's gRPC interface (see harness.ts).
 */

const PREVIEW = /^can't run policy '.+' from policy pack 'healthcare-compliance@v[^']+' during preview: /;

function describeDiagnostics(ds: readonly Diagnostic[]): string {
  return (
    ds
      .map((d) => `  [${d.enforcementLevel}] ${d.message.split("\n").slice(1).join(" | ") || d.message}`)
      .join("\n") || "  (none)"
  );
}

describe("rules (through the analyzer server)", function () {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await Analyzer.start();
  });
  after(async () => {
    await analyzer.configure({});
  });

  for (const rule of RULES) {
    const name = rule.policy.name;
    const level = rule.policy.enforcementLevel;
    describe(name, () => {
      for (const c of ALL_CASES.filter((x) => x.rule === name)) {
        it(`${c.kind}: ${c.title}`, async () => {
          const { result, mine } = await runCase(analyzer, c);
          const previews = mine.filter((d) => PREVIEW.test(d.message));
          const violations = mine.filter((d) => !PREVIEW.test(d.message));
          const context = `diagnostics of ${name}:\n${describeDiagnostics(mine)}`;
          switch (c.expect.outcome) {
            case "pass":
              assert.equal(mine.length, 0, context);
              break;
            case "not-applicable":
              assert.equal(mine.length, 0, context);
              assert.ok(
                result.notApplicable.some((n) => n.policyName === name),
                `expected ${name} to answer not applicable`,
              );
              break;
            case "preview":
              assert.equal(violations.length, 0, context);
              assert.equal(previews.length, 1, context);
              assert.equal(previews[0].enforcementLevel, "advisory");
              break;
            case "violation": {
              const expected = c.expect.level ?? level;
              const atLevel = violations.filter((d) => d.enforcementLevel === expected);
              assert.ok(atLevel.length > 0, `expected a ${expected} violation; ${context}`);
              assert.equal(atLevel.length, violations.length, context);
              if (c.expect.count !== undefined) {
                assert.equal(atLevel.length, c.expect.count, context);
              }
              const message = c.expect.message;
              if (message) {
                assert.ok(
                  atLevel.some((d) => message.test(d.message)),
                  `expected a message matching ${message}; ${context}`,
                );
              }
              // The description says how to fix; it starts every message.
              for (const d of atLevel) {
                assert.ok(d.message.startsWith(rule.policy.description), d.message);
              }
              break;
            }
          }
        });
      }
    });
  }
});

describe("test cases", () => {
  it("every rule has a passing, a failing and an unknown-value case", () => {
    const missing: string[] = [];
    for (const rule of RULES) {
      for (const kind of ["pass", "fail", "unknown"] as const) {
        if (!ALL_CASES.some((c) => c.rule === rule.policy.name && c.kind === kind)) {
          missing.push(`${rule.policy.name}: ${kind}`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it("every case names a rule of the pack", () => {
    const names = new Set(RULES.map((r) => r.policy.name));
    assert.deepEqual(
      ALL_CASES.filter((c) => !names.has(c.rule)).map((c) => c.rule),
      [],
    );
  });
});
