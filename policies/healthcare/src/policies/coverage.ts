import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { type Rule, stackRule } from "../policy";
import { COVERAGE_WAIVERS, type CoverageWaiver } from "../waivers";

/**
 * Coverage: every resource type in a stack is either examined by a type-specific rule of the pack
 * or waived with a reason (src/waivers.ts). A new kind of resource therefore shows up in the plan
 * until someone writes a rule for it or documents why none is needed.
 */

interface CoverageConfig {
  /** Provider packages whose resource types must be covered. */
  readonly packages: string[];
  /** Waivers on top of the built-in list (e.g. for a type a team adds before its rule exists). */
  readonly additionalWaivers: CoverageWaiver[];
}

const waiverSchema: PolicyConfigJSONSchema = {
  type: "array",
  items: {
    type: "object",
    properties: {
      type: { type: "string", pattern: "^[^:]+:[^:]+:[^:]+$" },
      reason: { type: "string", minLength: 10 },
    },
    required: ["type", "reason"],
    additionalProperties: false,
  },
};

/** The coverage rule for a set of rules (the rest of the pack). */
export function coverageRule(rules: readonly Rule[]): Rule {
  const examined = new Set<string>(rules.flatMap((r) => r.examines));
  return stackRule<CoverageConfig>({
    name: "policy-coverage",
    concern: "coverage",
    description:
      "Every resource type of the stack must be examined by a type-specific rule of the healthcare-compliance pack or be waived with a reason (policies/healthcare/src/waivers.ts), so a new kind of resource cannot slip past the policies unnoticed.",
    remediationSteps:
      "Add a rule examining the type to policies/healthcare/src/policies/<concern>.ts, or add { type, reason } to COVERAGE_WAIVERS after a review.",
    severity: "medium",
    enforcementLevel: "mandatory",
    controls: {
      hipaa: ["164.308(a)(8)"],
      lgpd: ["Art. 49", "Art. 6 X"],
      docs: ["https://www.pulumi.com/docs/iac/crossguard/"],
    },
    evidence: { generic: ["type"] },
    config: {
      defaults: { packages: ["aws", "kubernetes", "random", "tls", "command"], additionalWaivers: [] },
      schema: {
        packages: { type: "array", items: { type: "string", minLength: 1 }, uniqueItems: true },
        additionalWaivers: waiverSchema,
      },
    },
    examines: [],
    validate: (ctx) => {
      const waived = new Set([...COVERAGE_WAIVERS, ...ctx.config.additionalWaivers].map((w) => w.type));
      const unexamined = new Map<string, string[]>();
      for (const r of ctx.args.resources) {
        const pkg = r.type.split(":")[0];
        if (!ctx.config.packages.includes(pkg) || examined.has(r.type) || waived.has(r.type)) {
          continue;
        }
        unexamined.set(r.type, [...(unexamined.get(r.type) ?? []), r.urn]);
      }
      for (const [type, urns] of [...unexamined].sort(([a], [b]) => a.localeCompare(b))) {
        ctx.report(
          `No rule examines ${type} (${urns.length} resource${urns.length > 1 ? "s" : ""}) and it is not waived.`,
          urns[0],
        );
      }
    },
  });
}

/** Types examined by the given rules (for docs and tests). */
export function examinedTypes(rules: readonly Rule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.examines))].sort();
}
