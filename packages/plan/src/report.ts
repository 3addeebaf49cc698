import type { PlanDocument, StackPlan } from "./model";

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

/** The human summary `pnpm plan` prints. */
export function summary(doc: PlanDocument, verbose = false): string {
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
    for (const stack of env.stacks) {
      const count = stack.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
      lines.push(
        `  ${stack.project}/${stack.stack}${pulledIn.has(stack.layer) ? " [producer]" : ""}: ${count} resources (${(stack.durationMs / 1000).toFixed(1)} s)`,
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
      const findings = stack.policyFindings ?? [];
      for (const f of findings) {
        lines.push(`    ${f.level}: [${f.policy}] ${f.urn ?? "(stack)"}: ${f.message.split("\n").join(" ")}`);
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
