import { kindOf, resourceLabel, viewsOf } from "./findings";
import {
  type PlannedResource,
  POLICY_VIEWS,
  type PolicyFinding,
  type PolicyView,
  SECRET,
  type StackPlan,
} from "./model";
import type { CatalogRule } from "./policy/catalog";

/**
 * The evidence report (`pnpm plan --env <env> --evidence <file>`): per control, the rules that
 * implement it, the resources each rule examined (URN, the properties its verdict depends on, with
 * their values in each view) and the result in each view (passed, failed, could not be evaluated).
 * Pure: built from the plan document's stacks, the as-deployed resources and the pack's catalog.
 * Values come from the plan's document form (secrets `[secret]`, unknowns `[unknown]`); the values a
 * secrets-hygiene rule examines are shown by shape only (keys and lengths), since a plaintext secret
 * is exactly what such a rule looks for.
 */

/** Format version of the JSON evidence document. */
export const EVIDENCE_FORMAT = 1;

/** Result of a rule on a resource (or of a control) in one view. */
export type EvidenceResult = "passed" | "failed" | "unevaluable" | "not examined";

/** A resource as a view shows it to the evidence report (document values). */
export type EvidenceResource = PlannedResource;

/** One stack's two views. */
export interface EvidenceStack {
  readonly label: string;
  readonly plan: StackPlan;
  readonly views: Readonly<Record<PolicyView, readonly EvidenceResource[]>>;
}

/** One resource a rule examined. */
export interface ExaminedResource {
  readonly urn: string;
  readonly label: string;
  readonly result: Readonly<Record<PolicyView, EvidenceResult>>;
  /** Per view, each evidence property and its value(s). */
  readonly values: Readonly<Record<PolicyView, Readonly<Record<string, string>>>>;
  /** Why it failed or could not be evaluated (the policy's messages). */
  readonly notes: readonly string[];
}

/** One rule's evidence. */
export interface RuleEvidence {
  readonly name: string;
  readonly enforcementLevel: string;
  readonly description: string;
  readonly docs: readonly string[];
  readonly controls: readonly string[];
  readonly result: Readonly<Record<PolicyView, EvidenceResult>>;
  /** Resources examined per view. */
  readonly examined: Readonly<Record<PolicyView, number>>;
  /** Every resource examined, except for rules across types: only those not passed (count above). */
  readonly resources: readonly ExaminedResource[];
  /** True if the rule has a verdict for everything it examined in at least one view. */
  readonly evaluated: boolean;
}

/** One control's evidence. */
export interface ControlEvidence {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly rules: readonly string[];
  readonly mandatory: boolean;
  readonly result: Readonly<Record<PolicyView, EvidenceResult>>;
  /** Evaluated in at least one view for every resource its rules examined. */
  readonly evaluated: boolean;
}

/** Something a mandatory rule could not evaluate in any view, and the value that blocked it. */
export interface Unevaluated {
  readonly rule: string;
  readonly controls: readonly string[];
  readonly urn: string;
  readonly blockedBy: string;
}

/** The evidence of one environment. */
export interface EnvironmentEvidence {
  readonly environment: string;
  /** `Pulumi.<env>.yaml` and its SHA-256. */
  readonly environmentFile: { readonly path: string; readonly sha256: string };
  readonly stacks: readonly string[];
  readonly errors: readonly string[];
  readonly controls: readonly ControlEvidence[];
  readonly rules: readonly RuleEvidence[];
  readonly unevaluated: readonly Unevaluated[];
}

/** The whole evidence document. */
export interface EvidenceDocument {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly generatedAt: string;
  /** `git rev-parse HEAD` of the checkout, or `unknown`. */
  readonly commit: string;
  readonly policyPack: { readonly name: string; readonly version: string };
  readonly environments: readonly EnvironmentEvidence[];
}

const MAX_VALUE = 400;

/** Values at a property path (`a.b`, `a[].b`; `[]` maps over a list). */
export function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const raw of path.split(".")) {
    const each = raw.endsWith("[]");
    const key = each ? raw.slice(0, -2) : raw;
    const next: unknown[] = [];
    for (const v of current) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        continue;
      }
      const child = (v as Record<string, unknown>)[key];
      if (child === undefined) {
        continue;
      }
      if (each && Array.isArray(child)) {
        next.push(...(child as unknown[]));
      } else {
        next.push(child);
      }
    }
    current = next;
  }
  return current;
}

/** A value's shape only: object keys, string lengths (for values that may hold a plaintext secret). */
export function shapeOf(value: unknown): unknown {
  if (value === SECRET) {
    return SECRET;
  }
  if (typeof value === "string") {
    return `[${value.length} chars]`;
  }
  if (Array.isArray(value)) {
    return value.map(shapeOf);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  }
  return value;
}

/** Names under which a value is a secret (as the pack's secrets-hygiene rules judge names). */
const SECRET_NAME =
  /(password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|cipher[-_]?pass|credentials?)$/i;
/** Values that are secrets whatever their name. */
const SECRET_LOOKING = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /:\/\/[^\s:/@]+:[^\s@/]+@/,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
];
/** `name: value` / `name = value` lines of a rendered configuration file. */
const SETTING_LINE = /^(\s*-?\s*)([A-Za-z0-9_.-]+)(\s*[:=]\s*)(\S.*)$/;

/**
 * A value with whatever looks secret replaced by `[secret]`: strings under a secret-looking name
 * (also `{ name, value }` env vars), secret-looking strings, and the values of secret-looking
 * settings in rendered files. The plan's mocks make real secrets `[secret]` already; this keeps a
 * plaintext secret a rule exists to catch out of the report too.
 */
export function redactSecretLooking(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (
      (SECRET_NAME.test(key) && value !== SECRET && value !== "") ||
      SECRET_LOOKING.some((p) => p.test(value))
    ) {
      return SECRET;
    }
    return value
      .split("\n")
      .map((line) => {
        const m = SETTING_LINE.exec(line);
        return m && SECRET_NAME.test(m[2]) ? `${m[1]}${m[2]}${m[3]}${SECRET}` : line;
      })
      .join("\n");
  }
  if (Array.isArray(value)) {
    return value.map((v) => redactSecretLooking(v, key));
  }
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    const name = typeof obj["name"] === "string" ? obj["name"] : undefined;
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, redactSecretLooking(v, k === "value" && name ? name : k)]),
    );
  }
  return value;
}

function show(values: readonly unknown[], shapeOnly: boolean, path: string): string {
  if (values.length === 0) {
    return "(not set)";
  }
  const leaf = path.split(".").pop()?.replace(/\[\]$/, "") ?? "";
  const text = values
    .map((v) => (shapeOnly ? shapeOf(v) : redactSecretLooking(v, leaf)))
    .map((v) => (typeof v === "string" ? v : JSON.stringify(v)))
    .join(" | ");
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}… (${text.length} chars)` : text;
}

function propertyValues(
  rule: CatalogRule,
  r: EvidenceResource,
  byUrn: ReadonlyMap<string, EvidenceResource>,
): Record<string, string> {
  const paths =
    rule.generic || rule.examines.length === 0
      ? rule.evidence.generic
      : (rule.evidence.properties[r.type] ?? []);
  const shapeOnly = rule.concern === "secrets-hygiene";
  const out: Record<string, string> = {};
  for (const p of paths) {
    if (p === "type") {
      out[p] = r.type;
    } else if (p.startsWith("provider:")) {
      const provider = r.provider ? byUrn.get(r.provider) : undefined;
      out[p] = show(provider ? valuesAt(provider.inputs, p.slice("provider:".length)) : [], shapeOnly, p);
    } else if (p.startsWith("option:")) {
      out[p] = show(valuesAt(r.options, p.slice("option:".length)), shapeOnly, p);
    } else {
      out[p] = show(valuesAt(r.inputs, p), shapeOnly, p);
    }
  }
  return out;
}

/** Resources a rule examines in a view (registered custom resources of its types, or all for generic rules). */
function examinedBy(rule: CatalogRule, resources: readonly EvidenceResource[]): EvidenceResource[] {
  const registered = resources.filter((r) => !r.read && r.type !== "pulumi:pulumi:Stack");
  if (rule.generic || rule.examines.length === 0) {
    return registered.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  }
  return registered.filter((r) => rule.examines.includes(r.type));
}

function resultOf(findings: readonly PolicyFinding[], view: PolicyView): EvidenceResult {
  const inView = findings.filter((f) => viewsOf(f).includes(view));
  if (inView.some((f) => kindOf(f) === "violation")) {
    return "failed";
  }
  return inView.some((f) => kindOf(f) === "unevaluable") ? "unevaluable" : "passed";
}

/** Combined result of several (rules' or resources') results in one view. */
function combine(results: readonly EvidenceResult[]): EvidenceResult {
  for (const r of ["failed", "unevaluable", "passed"] as const) {
    if (results.includes(r)) {
      return r;
    }
  }
  return "not examined";
}

interface Entry {
  label: string;
  result: Record<PolicyView, EvidenceResult>;
  values: Record<PolicyView, Record<string, string>>;
  notes: string[];
}

function note(entry: Entry, message: string): void {
  if (!entry.notes.includes(message)) {
    entry.notes.push(message);
  }
}

const UNEVALUABLE_PREFIX =
  /^can't run (policy|remediation) '[^']+' from policy pack '[^']+' during preview: /;

/**
 * A rule's results on every resource it examined. A finding on a resource decides that resource's
 * result in the finding's views; a "could not run" notice without a resource (a stack rule that read
 * an unknown value) leaves every resource of that stack it did not fail undecided in that view; a
 * violation without a resource is listed as the stack's.
 */
function ruleEvidence(
  rule: CatalogRule,
  stacks: readonly EvidenceStack[],
): { evidence: RuleEvidence; unevaluated: Unevaluated[] } {
  const entries = new Map<string, Entry>();
  const examined: Record<PolicyView, number> = { preview: 0, deployed: 0 };
  const blank = (label: string): Entry => ({
    label,
    result: { preview: "not examined", deployed: "not examined" },
    values: { preview: {}, deployed: {} },
    notes: [],
  });
  for (const stack of stacks) {
    const findings = (stack.plan.policyFindings ?? []).filter((f) => f.policy === rule.name);
    const stackWide = findings.filter((f) => !f.urn);
    for (const view of POLICY_VIEWS) {
      const all = stack.views[view];
      const byUrn = new Map(all.map((r) => [r.urn, r]));
      const subjects = examinedBy(rule, all);
      examined[view] += subjects.length;
      const undecided = stackWide.filter((f) => kindOf(f) === "unevaluable" && viewsOf(f).includes(view));
      for (const r of subjects) {
        const entry = entries.get(r.urn) ?? blank(resourceLabel(r.urn));
        const own = findings.filter((f) => f.urn === r.urn);
        let result = resultOf(own, view);
        if (result === "passed" && undecided.length > 0) {
          result = "unevaluable";
          undecided.forEach((f) => note(entry, f.message));
        }
        entry.result[view] = result;
        entry.values[view] = propertyValues(rule, r, byUrn);
        own.forEach((f) => note(entry, f.message));
        entries.set(r.urn, entry);
      }
    }
    // Violations on resources the rule does not list by type, or on the stack itself.
    for (const f of findings.filter((x) => kindOf(x) === "violation" && !(x.urn && entries.has(x.urn)))) {
      const key = f.urn ?? `${stack.label} (stack)`;
      const entry = entries.get(key) ?? blank(f.urn ? resourceLabel(f.urn) : `${stack.label} (stack)`);
      for (const view of viewsOf(f)) {
        entry.result[view] = "failed";
      }
      note(entry, f.message);
      entries.set(key, entry);
    }
  }
  const list: ExaminedResource[] = [...entries.entries()]
    .map(([urn, e]) => ({ urn, label: e.label, result: e.result, values: e.values, notes: e.notes }))
    .sort((a, b) => a.urn.localeCompare(b.urn));
  const unevaluated: Unevaluated[] = list
    .filter(
      (r) =>
        POLICY_VIEWS.every((v) => r.result[v] === "unevaluable" || r.result[v] === "not examined") &&
        POLICY_VIEWS.some((v) => r.result[v] === "unevaluable"),
    )
    .map((r) => ({
      rule: rule.name,
      controls: rule.controls.map((c) => c.id),
      urn: r.urn,
      blockedBy: r.notes.map((n) => n.replace(UNEVALUABLE_PREFIX, "")).join("; "),
    }));
  const result = Object.fromEntries(
    POLICY_VIEWS.map((v) => [v, combine(list.map((r) => r.result[v]))]),
  ) as Record<PolicyView, EvidenceResult>;
  const generic = rule.generic || rule.examines.length === 0;
  return {
    evidence: {
      name: rule.name,
      enforcementLevel: rule.enforcementLevel,
      description: rule.description,
      docs: rule.docs,
      controls: rule.controls.map((c) => c.id),
      result,
      examined,
      // A rule across types examines every resource: only the ones that did not pass are listed.
      resources: generic
        ? list.filter((r) =>
            POLICY_VIEWS.some((v) => r.result[v] !== "passed" && r.result[v] !== "not examined"),
          )
        : list,
      evaluated: unevaluated.length === 0,
    },
    unevaluated,
  };
}

/** The evidence of one environment. */
export function environmentEvidence(
  environment: string,
  environmentFile: { path: string; sha256: string },
  stacks: readonly EvidenceStack[],
  errors: readonly string[],
  catalog: ReadonlyMap<string, CatalogRule>,
): EnvironmentEvidence {
  const rules: RuleEvidence[] = [];
  const unevaluated: Unevaluated[] = [];
  for (const rule of catalog.values()) {
    const r = ruleEvidence(rule, stacks);
    rules.push(r.evidence);
    if (rule.enforcementLevel === "mandatory") {
      unevaluated.push(...r.unevaluated);
    }
  }
  const byId = new Map<string, { title: string; source: string; rules: CatalogRule[] }>();
  for (const rule of catalog.values()) {
    for (const c of rule.controls) {
      const e = byId.get(c.id) ?? { title: c.title, source: c.source, rules: [] };
      e.rules.push(rule);
      byId.set(c.id, e);
    }
  }
  // HIPAA before LGPD, each by section / article number.
  const controls: ControlEvidence[] = [...byId.entries()]
    .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
    .map(([id, c]) => {
      const own = rules.filter((r) => c.rules.some((x) => x.name === r.name));
      return {
        id,
        title: c.title,
        source: c.source,
        rules: own.map((r) => r.name),
        mandatory: c.rules.some((r) => r.enforcementLevel === "mandatory"),
        result: Object.fromEntries(
          POLICY_VIEWS.map((v) => [v, combine(own.map((r) => r.result[v]))]),
        ) as Record<PolicyView, EvidenceResult>,
        evaluated: own.filter((r) => r.enforcementLevel === "mandatory").every((r) => r.evaluated),
      };
    });
  return {
    environment,
    environmentFile,
    stacks: stacks.map((s) => s.label),
    errors,
    controls,
    rules,
    unevaluated,
  };
}

const ICON: Record<EvidenceResult, string> = {
  passed: "passed",
  failed: "**FAILED**",
  unevaluable: "not evaluable",
  "not examined": "not examined",
};

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ").replace(/`/g, "'");
}

/** The Markdown evidence report: a summary table per environment first, then controls, rules, resources. */
export function evidenceMarkdown(doc: EvidenceDocument): string {
  const lines = [
    "# Policy evidence",
    "",
    `Generated ${doc.generatedAt} by the offline plan from commit \`${doc.commit}\` with policy pack \`${doc.policyPack.name}@${doc.policyPack.version}\`.`,
    "Views: **preview** (what `pulumi preview` of a new stack sees: computed ids and ARNs unknown) and **as deployed** (the deployment run under mocks: those values known).",
    "Values are as the plan document shows them: secrets `[secret]`, values unknown in a view `[unknown]`.",
    "",
  ];
  for (const env of doc.environments) {
    lines.push(`## ${env.environment}`, "");
    lines.push(
      `Environment file \`${env.environmentFile.path}\`, SHA-256 \`${env.environmentFile.sha256}\`; ${env.stacks.length} stack(s).`,
      "",
    );
    if (env.errors.length > 0) {
      lines.push(
        `**The plan had ${env.errors.length} error(s); stacks that failed were not evaluated, so this evidence is incomplete.**`,
        "",
      );
      lines.push(...env.errors.map((e) => `- ${cell(e.split("\n")[0] ?? "")}`), "");
    }
    lines.push(
      "| Control | Mandatory | Rules | Preview | As deployed | Evaluated |",
      "|---|---|---|---|---|---|",
    );
    for (const c of env.controls) {
      lines.push(
        `| ${c.id} | ${c.mandatory ? "yes" : "no"} | ${c.rules.length} | ${ICON[c.result.preview]} | ${ICON[c.result.deployed]} | ${c.evaluated ? "yes" : "**no**"} |`,
      );
    }
    lines.push("");
    if (env.unevaluated.length > 0) {
      lines.push("### Not evaluated in any view (mandatory rules)", "");
      for (const u of env.unevaluated) {
        lines.push(
          `- \`${u.rule}\` (${u.controls.join(", ")}) on \`${resourceLabel(u.urn)}\`: ${cell(u.blockedBy)}`,
        );
      }
      lines.push("");
    } else {
      lines.push(
        "Every mandatory rule was evaluated, in at least one view, for every resource it examines.",
        "",
      );
    }
    lines.push("### Controls", "");
    for (const c of env.controls) {
      lines.push(`#### ${c.id}: ${c.title}`, "", `Source: <${c.source}>`, "");
      for (const name of c.rules) {
        const r = env.rules.find((x) => x.name === name)!;
        lines.push(
          `- [\`${r.name}\`](#rule-${r.name}) (${r.enforcementLevel}): preview ${ICON[r.result.preview]}, as deployed ${ICON[r.result.deployed]}`,
        );
      }
      lines.push("");
    }
    lines.push("### Rules", "");
    for (const r of env.rules) {
      lines.push(`#### rule-${r.name}`, "");
      lines.push(
        `${cell(r.description)} (${r.enforcementLevel}; ${r.controls.join(", ") || "no control"}; setting: ${r.docs.map((d) => `<${d}>`).join(" ")})`,
        "",
      );
      lines.push(
        `Examined: ${r.examined.preview} resource(s) in the preview, ${r.examined.deployed} as deployed. Result: preview ${ICON[r.result.preview]}, as deployed ${ICON[r.result.deployed]}.`,
        "",
      );
      if (r.resources.length === 0) {
        continue;
      }
      lines.push(
        "| Resource | Property | Preview | As deployed | Result (preview / as deployed) |",
        "|---|---|---|---|---|",
      );
      for (const x of r.resources) {
        const props = [...new Set([...Object.keys(x.values.preview), ...Object.keys(x.values.deployed)])];
        const result = `${ICON[x.result.preview]} / ${ICON[x.result.deployed]}`;
        if (props.length === 0) {
          lines.push(`| \`${cell(x.label)}\` | | | | ${result} |`);
        }
        props.forEach((p, i) => {
          lines.push(
            `| ${i === 0 ? `\`${cell(x.label)}\`` : ""} | \`${p}\` | ${cell(x.values.preview[p] ?? "")} | ${cell(x.values.deployed[p] ?? "")} | ${i === 0 ? result : ""} |`,
          );
        });
        for (const n of x.notes) {
          lines.push(`| | cause | ${cell(n)} | | |`);
        }
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}
