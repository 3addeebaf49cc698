import { POLICY_VIEWS, type PolicyFinding, type PolicyView, type StackPlan } from "./model";

/**
 * Policy findings as people read them: one line per policy and resource (a root cause reported by a
 * policy several times on one resource is one finding with its causes; findings on the resources of
 * one component are reported together under it), violations apart from the
 * "could not run" notices, which are grouped per policy with a count and the values that blocked them.
 * Pure: used by the console summary, the evidence report and the PR comment.
 */

/** Kind of a finding; documents of older plans have none (their notices are recognised by message). */
export function kindOf(f: PolicyFinding): "violation" | "unevaluable" {
  return (
    f.kind ??
    (/^can't run (policy|remediation) '[^']+' from policy pack '[^']+' during preview: /.test(f.message)
      ? "unevaluable"
      : "violation")
  );
}

/** Views of a finding (documents of older plans: the preview). */
export function viewsOf(f: PolicyFinding): readonly PolicyView[] {
  return f.views ?? ["preview"];
}

/** The cause of a notice: the value the policy could not read (`.policy`), else the message. */
export function blockedBy(f: PolicyFinding): string {
  const m = /during preview: (?:.*? )?value at (\.[^ ]+) can't be known during preview/.exec(f.message);
  return m
    ? m[1]
    : f.message.replace(/^can't run policy '[^']+' from policy pack '[^']+' during preview: /, "");
}

/** One violation: a policy on one resource (or the stack), with every cause it reported. */
export interface GroupedViolation {
  readonly policy: string;
  readonly level: PolicyFinding["level"];
  readonly urn?: string;
  readonly causes: readonly string[];
  readonly views: readonly PolicyView[];
  readonly controls: readonly string[];
}

/** Violations grouped by policy and resource, mandatory first, in a stable order. */
export function groupViolations(findings: readonly PolicyFinding[]): GroupedViolation[] {
  const groups = new Map<
    string,
    { f: PolicyFinding; causes: string[]; views: Set<PolicyView>; level: PolicyFinding["level"] }
  >();
  for (const f of findings.filter((x) => kindOf(x) === "violation")) {
    const key = `${f.policy}\u0000${f.urn ?? ""}`;
    const g = groups.get(key) ?? { f, causes: [], views: new Set<PolicyView>(), level: f.level };
    if (!g.causes.includes(f.message)) {
      g.causes.push(f.message);
    }
    viewsOf(f).forEach((v) => g.views.add(v));
    if (f.level === "mandatory") {
      g.level = "mandatory";
    }
    groups.set(key, g);
  }
  const rank = (l: PolicyFinding["level"]) => (l === "mandatory" ? 0 : 1);
  return [...groups.values()]
    .map((g) => ({
      policy: g.f.policy,
      level: g.level,
      ...(g.f.urn ? { urn: g.f.urn } : {}),
      causes: g.causes,
      views: POLICY_VIEWS.filter((v) => g.views.has(v)),
      controls: g.f.controls ?? [],
    }))
    .sort(
      (a, b) =>
        rank(a.level) - rank(b.level) ||
        a.policy.localeCompare(b.policy) ||
        (a.urn ?? "").localeCompare(b.urn ?? ""),
    );
}

/** What the root-cause grouping needs of a planned resource. */
export interface ResourceParentage {
  readonly parent?: string;
  readonly custom: boolean;
  readonly type: string;
}

/**
 * Violations that share a root cause: findings on the resources one component created (a
 * SecureBucket's bucket, its policy, its encryption settings) are one problem of that component, so
 * they are reported together under it, each with its policy, resource and causes.
 */
export interface RootCauseGroup {
  /** The owning component's URN; the resource itself when no component owns it; absent for the stack. */
  readonly root?: string;
  readonly level: PolicyFinding["level"];
  readonly violations: readonly GroupedViolation[];
}

/**
 * The nearest component (not a custom resource, not the stack) above `urn`, else `urn` itself: the
 * root cause a finding on that resource is reported under.
 */
export function rootCauseOf(urn: string, resources: ReadonlyMap<string, ResourceParentage>): string {
  let parent = resources.get(urn)?.parent;
  while (parent !== undefined) {
    const p = resources.get(parent);
    if (!p) {
      break;
    }
    if (!p.custom && p.type !== "pulumi:pulumi:Stack") {
      return parent;
    }
    parent = p.parent;
  }
  return urn;
}

/** Grouped violations under their root causes, mandatory groups first, in a stable order. */
export function groupByRootCause(
  violations: readonly GroupedViolation[],
  resources: ReadonlyMap<string, ResourceParentage>,
): RootCauseGroup[] {
  const groups = new Map<string, { root?: string; violations: GroupedViolation[] }>();
  for (const v of violations) {
    const root = v.urn === undefined ? undefined : rootCauseOf(v.urn, resources);
    const key = root ?? "";
    const g = groups.get(key) ?? { ...(root !== undefined ? { root } : {}), violations: [] };
    g.violations.push(v);
    groups.set(key, g);
  }
  const rank = (l: PolicyFinding["level"]) => (l === "mandatory" ? 0 : 1);
  return [...groups.values()]
    .map((g) => ({
      ...g,
      level: g.violations.some((v) => v.level === "mandatory")
        ? ("mandatory" as const)
        : ("advisory" as const),
    }))
    .sort((a, b) => rank(a.level) - rank(b.level) || (a.root ?? "").localeCompare(b.root ?? ""));
}

/** The notices of one policy: how many resources, per view, and the values that blocked it. */
export interface NoticeGroup {
  readonly policy: string;
  /** Notices per view. */
  readonly count: Readonly<Record<PolicyView, number>>;
  readonly blockedBy: readonly string[];
  readonly findings: readonly PolicyFinding[];
}

/** "Could not run" notices grouped per policy. */
export function groupNotices(findings: readonly PolicyFinding[]): NoticeGroup[] {
  const groups = new Map<
    string,
    { count: Record<PolicyView, number>; blocked: Set<string>; all: PolicyFinding[] }
  >();
  for (const f of findings.filter((x) => kindOf(x) === "unevaluable")) {
    const g = groups.get(f.policy) ?? {
      count: { preview: 0, deployed: 0 },
      blocked: new Set<string>(),
      all: [],
    };
    viewsOf(f).forEach((v) => (g.count[v] += 1));
    g.blocked.add(blockedBy(f));
    g.all.push(f);
    groups.set(f.policy, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([policy, g]) => ({ policy, count: g.count, blockedBy: [...g.blocked].sort(), findings: g.all }));
}

/** `project/stack type name` of a URN (`urn:pulumi:<stack>::<project>::<type chain>::<name>`). */
export function resourceLabel(urn: string | undefined): string {
  if (!urn) {
    return "(stack)";
  }
  const parts = urn.split("::");
  if (parts.length < 4) {
    return urn;
  }
  const stack = parts[0].replace(/^urn:pulumi:/, "");
  const type = parts[2].split("$").pop() ?? parts[2];
  return `${parts[1]}/${stack} ${type} ${parts.slice(3).join("::")}`;
}

/** Every finding of the stacks. */
export function findingsOf(stacks: readonly StackPlan[]): PolicyFinding[] {
  return stacks.flatMap((s) => s.policyFindings ?? []);
}
