import { type Control, controlsOf } from "./controls";
import { RULES } from "./pack";
import type { Rule } from "./policy";

/**
 * The pack's rules as data, for tools that report on them (the offline plan's evidence report and
 * console summary, the README): what each rule requires, how to fix it, the controls it implements,
 * the documentation of the setting, and the properties its verdict depends on. Plain JSON: the plan
 * loads it from the pack directory it is given, like `policyConfigFor`.
 */

/** One rule as data. */
export interface RuleCatalogEntry {
  readonly name: string;
  readonly concern: string;
  readonly kind: "resource" | "stack";
  readonly enforcementLevel: "mandatory" | "advisory";
  readonly severity: string;
  readonly description: string;
  readonly remediationSteps: string;
  /** Types the rule examines specifically. */
  readonly examines: readonly string[];
  /** True if a check applies across types (its scope is decided per resource). */
  readonly generic: boolean;
  readonly controls: readonly Control[];
  readonly docs: readonly string[];
  readonly evidence: {
    readonly properties: Readonly<Record<string, readonly string[]>>;
    readonly generic: readonly string[];
  };
}

/** Every rule of the pack (or the given rules) as data. */
export function ruleCatalog(rules: readonly Rule[] = RULES): RuleCatalogEntry[] {
  return rules.map((r) => ({
    name: r.policy.name,
    concern: r.concern,
    kind: r.kind,
    enforcementLevel: r.policy.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
    severity: r.policy.severity ?? "medium",
    description: r.policy.description,
    remediationSteps: r.policy.remediationSteps ?? "",
    examines: [...r.examines],
    generic: r.generic,
    controls: controlsOf(r.controls),
    docs: [...(r.controls?.docs ?? [])],
    evidence: {
      properties: Object.fromEntries(
        Object.entries(r.evidence?.properties ?? {}).map(([t, paths]) => [t, [...(paths ?? [])]]),
      ),
      generic: [...(r.evidence?.generic ?? [])],
    },
  }));
}

const CONTROLS_HINT =
  "controls: { hipaa: [<sections of HIPAA_SECTIONS>], lgpd: [<articles of LGPD_ARTICLES>], docs: [<https link to the AWS/Kubernetes documentation of the setting>] }";

/**
 * What a rule lacks for the evidence report, one sentence per gap saying what to add to its spec
 * (the HIPAA sections and LGPD articles it implements, the documentation link, the properties of
 * each examined type its verdict depends on). Empty when the rule is complete.
 */
export function missingControlMetadata(rule: Rule): string[] {
  const name = rule.policy.name;
  const where = `rule '${name}' (concern ${rule.concern}, defined under policies/healthcare/src/policies/)`;
  const problems: string[] = [];
  const c = rule.controls;
  if (!c) {
    problems.push(
      `${where} has no controls: add ${CONTROLS_HINT} to its spec (ids in policies/healthcare/src/controls.ts).`,
    );
  } else {
    if (c.hipaa.length + c.lgpd.length === 0) {
      problems.push(
        `${where} names no control: add the HIPAA sections (controls.hipaa) and/or LGPD articles (controls.lgpd) it implements.`,
      );
    }
    if (c.docs.length === 0) {
      problems.push(
        `${where} has no documentation link: add controls.docs: ["https://..."] (the AWS/Kubernetes page of the setting it checks).`,
      );
    }
    for (const url of c.docs.filter((u) => !/^https:\/\/[^\s]+$/.test(u))) {
      problems.push(`${where} has a documentation link that is not an https URL: '${url}'.`);
    }
  }
  const declared = rule.evidence?.properties ?? {};
  for (const type of rule.examines) {
    const paths = (declared as Readonly<Record<string, readonly string[] | undefined>>)[type];
    if (!paths || paths.length === 0) {
      problems.push(
        `${where} examines ${type} but declares no evidence for it: add evidence: { properties: { "${type}": ["<argument the verdict depends on>", ...] } }.`,
      );
    }
  }
  for (const type of Object.keys(declared)) {
    if (!rule.examines.includes(type as never)) {
      problems.push(
        `${where} declares evidence for ${type}, which it does not examine: remove it from evidence.properties.`,
      );
    }
  }
  const needsGeneric = rule.generic || (rule.kind === "stack" && rule.examines.length === 0);
  if (needsGeneric && (rule.evidence?.generic ?? []).length === 0) {
    problems.push(
      `${where} checks resources of any type but declares no generic evidence: add evidence: { generic: ["<property>", "provider:<property>", "option:<option>"] }.`,
    );
  }
  return problems;
}
