import {
  type PlanDiff,
  type StackDiff,
  type ValueChange,
  lineDiff,
  showValue,
  statefulSummary,
  totals,
} from "./diff";
import type { PolicyFinding } from "./model";

/** Text rendering of a plan diff (what `pnpm plan:diff` prints). */

/** The label a change is shown with: option and output paths are marked, inputs are bare. */
export function changePath(c: ValueChange): string {
  const path = c.path === "" ? "(value)" : c.path;
  return c.kind === "input" ? path : `[${c.kind}] ${path}`;
}

/** Lines describing one value change (a line diff for multi-line strings). */
export function changeLines(c: ValueChange): string[] {
  const lines = lineDiff(c.old, c.new);
  if (lines) {
    return [`${changePath(c)}:`, ...lines.map((l) => `  ${l}`)];
  }
  return [`${changePath(c)}: ${showValue(c.old)} → ${showValue(c.new)}`];
}

/** One line for a finding. */
export function findingLine(f: PolicyFinding): string {
  return `${f.level}: [${f.policy}] ${f.urn ?? "(stack)"}: ${f.message.split("\n").join(" ")}`;
}

/** Counts of a stack as `+a -r ~c`, and `→n` when resources were renamed. */
export function stackCounts(s: StackDiff): string {
  return `+${s.added.length} -${s.removed.length} ~${s.changed.length}${s.renamed.length > 0 ? ` →${s.renamed.length}` : ""}`;
}

function stackText(s: StackDiff): string[] {
  const lines = [`${s.label} (${s.environment}): ${s.status}, ${stackCounts(s)}`];
  for (const r of s.added) {
    lines.push(`  + ${r.type}  ${r.name}`);
  }
  for (const r of s.removed) {
    lines.push(`  - ${r.type}  ${r.name}`);
  }
  for (const r of s.renamed) {
    lines.push(`  → ${r.type}  ${r.from.name} → ${r.name} (renamed, state kept)`);
    if (r.from.urn !== r.urn && r.from.name === r.name) {
      lines.push(`      from ${r.from.urn}`);
    }
    for (const c of r.changes) {
      lines.push(...changeLines(c).map((l) => `      ${l}`));
    }
  }
  for (const r of s.changed) {
    lines.push(`  ~ ${r.type}  ${r.name}`);
    for (const c of r.changes) {
      lines.push(...changeLines(c).map((l) => `      ${l}`));
    }
  }
  for (const r of s.statefulRisks) {
    lines.push(
      `  ! stateful ${r.type}  ${r.name} would be ${r.action === "delete" ? "deleted" : "replaced"}: ${r.reason}`,
    );
  }
  if (s.outputs.length > 0) {
    lines.push("  outputs:");
    for (const c of s.outputs) {
      lines.push(...changeLines({ ...c, kind: "input" }).map((l) => `      ${l}`));
    }
  }
  for (const f of s.newFindings) {
    lines.push(`  new ${findingLine(f)}`);
  }
  for (const f of s.resolvedFindings) {
    lines.push(`  resolved ${findingLine(f)}`);
  }
  return lines;
}

/** The text report of a diff. */
export function diffText(diff: PlanDiff): string {
  const t = totals(diff);
  const lines: string[] = [];
  const shown = diff.stacks.filter(
    (x) => x.status !== "unchanged" || x.newFindings.length > 0 || x.resolvedFindings.length > 0,
  );
  for (const s of shown) {
    lines.push(...stackText(s), "");
  }
  for (const e of diff.headErrors) {
    lines.push(
      `head ${e.kind} error in ${e.stack ?? e.environment}:`,
      ...e.message.split("\n").map((l) => `  ${l}`),
    );
  }
  lines.push(
    `Stacks: ${t.stacksAdded} added, ${t.stacksRemoved} removed, ${t.stacksChanged} changed, ${t.stacksUnchanged} unchanged.`,
    `Resources: ${t.resourcesAdded} added, ${t.resourcesRemoved} removed, ${t.resourcesChanged} changed, ${t.resourcesRenamed} renamed (state kept).`,
    statefulSummary(diff),
    `Policy findings: ${t.newMandatory} new mandatory, ${t.newAdvisory} new advisory, ${t.resolved} resolved; head has ${t.headMandatory} mandatory, ${t.headAdvisory} advisory.`,
  );
  if (diff.headErrors.length > 0) {
    lines.push(`The head plan has ${diff.headErrors.length} error(s): it is incomplete.`);
  }
  return lines.join("\n");
}
