import {
  findingsOf,
  groupByRootCause,
  groupNotices,
  groupViolations,
  type GroupedViolation,
  type ResourceParentage,
  resourceLabel,
} from "./findings";
import type { EnvironmentPlan, PlanDocument, StackPlan } from "./model";

/** Resource counts by type, most frequent first, then by name. */
export function countByType(stack: StackPlan): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of stack.resources) {
    if (r.type === "pulumi:pulumi:Stack") {
      continue;
    }
    counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The policy part of an environment's summary: violations first, notices collapsed per policy. */
function policyLines(env: EnvironmentPlan, verbose: boolean, fixes: ReadonlyMap<string, string>): string[] {
  if (env.stacks.every((s) => s.policyFindings === undefined)) {
    return [];
  }
  if (env.errors.length > 0) {
    // Stacks that failed were not analyzed: a count here would read as a clean result.
    return [
      `  policies: incomplete for ${env.environment}: ${env.errors.length} plan error(s) below; findings of the stacks that did synthesize:`,
      ...violationLines(env, fixes),
    ];
  }
  const findings = findingsOf(env.stacks);
  const violations = groupViolations(findings);
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  const notices = groupNotices(findings);
  const lines = [
    `  policies: ${mandatory} mandatory, ${violations.length - mandatory} advisory finding(s); ${notices.length} policy(ies) could not run on some resources`,
    ...violationLines(env, fixes),
  ];
  for (const n of notices) {
    lines.push(
      `    not evaluable: [${n.policy}] ${n.count.preview} resource(s) in the preview, ${n.count.deployed} as deployed${n.count.deployed > 0 ? " (NOT EVALUATED in either view)" : " (evaluated as deployed)"}; blocked by ${n.blockedBy.join(", ")}`,
    );
    if (verbose) {
      for (const f of n.findings) {
        lines.push(`      ${(f.views ?? ["preview"]).join("+")}: ${resourceLabel(f.urn)}: ${f.message}`);
      }
    }
  }
  return lines;
}

function violationLine(v: GroupedViolation, fixes: ReadonlyMap<string, string>, indent: string): string {
  const fix = fixes.get(v.policy);
  const controls = v.controls.length > 0 ? ` [${v.controls.join(", ")}]` : "";
  return `${indent}${v.level.toUpperCase()} [${v.policy}]${controls} ${resourceLabel(v.urn)} (${v.views.join(" + ")}): ${v.causes.join("; ").split("\n").join(" ")}${fix ? ` Fix: ${fix}` : ""}`;
}

/**
 * Violations under their root cause: a finding alone on its component is one line; several on the
 * resources of one component are a line naming the component, then one line per finding.
 */
function violationLines(env: EnvironmentPlan, fixes: ReadonlyMap<string, string>): string[] {
  const resources = new Map<string, ResourceParentage>(
    env.stacks.flatMap((s) => s.resources.map((r) => [r.urn, r])),
  );
  return groupByRootCause(groupViolations(findingsOf(env.stacks)), resources).flatMap((g) => {
    const [only] = g.violations;
    if (g.violations.length === 1 && only) {
      return [violationLine(only, fixes, "    ")];
    }
    const policies = [...new Set(g.violations.map((v) => v.policy))].sort();
    return [
      `    ${g.level.toUpperCase()} ${resourceLabel(g.root)}: ${g.violations.length} findings of one root cause (${policies.join(", ")}):`,
      ...g.violations.map((v) => violationLine(v, fixes, "      ")),
    ];
  });
}

/**
 * The human summary `pnpm plan` prints. `fixes`: each policy's remediation (from the pack's
 * catalog), shown with its findings.
 */
export function summary(
  doc: PlanDocument,
  verbose = false,
  fixes: ReadonlyMap<string, string> = new Map(),
): string {
  const lines: string[] = [];
  for (const env of doc.environments) {
    const total = env.stacks.reduce(
      (n, s) => n + s.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length,
      0,
    );
    lines.push(`Environment ${env.environment}: ${env.stacks.length} stacks, ${total} resources`);
    const pulledIn = new Set(env.layersPulledIn ?? []);
    if (env.layersSelected !== undefined) {
      const notBuilt = new Set(env.layersNotBuilt);
      lines.push(
        `  layers selected: ${env.layersSelected.map((l) => (notBuilt.has(l) ? `${l} (not built yet)` : l)).join(", ") || "none"}`,
      );
    }
    if (pulledIn.size > 0) {
      lines.push(`  producers pulled in (read by the selected layers): ${[...pulledIn].join(", ")}`);
    }
    // Findings before the resource listing: the mandatory ones are what the reader must act on.
    lines.push(...policyLines(env, verbose, fixes));
    for (const stack of env.stacks) {
      const count = stack.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
      lines.push(
        `  ${stack.project}/${stack.stack}${pulledIn.has(stack.layer) ? " [producer]" : ""}: ${count} resources (${(stack.durationMs / 1000).toFixed(1)} s${stack.cpuMs !== undefined ? `, ${(stack.cpuMs / 1000).toFixed(1)} CPU-s` : ""})`,
      );
      const types = countByType(stack);
      for (const [type, n] of verbose ? types : types.slice(0, 12)) {
        lines.push(`      ${String(n).padStart(3)}  ${type}`);
      }
      if (!verbose && types.length > 12) {
        lines.push(`      ... ${types.length - 12} more types (--verbose lists all)`);
      }
      for (const w of stack.warnings) {
        lines.push(`    warning: ${w}`);
      }
    }
    if (env.layersNotBuilt.length > 0) {
      lines.push(`  layers not built yet: ${env.layersNotBuilt.join(", ")}`);
    }
    if (env.kubernetesObjectsValidated !== undefined) {
      lines.push(
        `  kubernetes objects validated against their upstream schemas: ${env.kubernetesObjectsValidated}`,
      );
    }
    for (const e of env.errors) {
      lines.push(`  ${e.kind} error${e.stack ? ` in ${e.stack}` : ""}:`);
      lines.push(...e.message.split("\n").map((l) => `    ${l}`));
    }
  }
  return lines.join("\n");
}
