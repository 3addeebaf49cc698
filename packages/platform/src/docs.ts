import type { EnvironmentTopology } from "./config/types";
import { deployOrder, LAYER_SPECS, type LayerName, stackLabel, stacksOf } from "./topology";

/**
 * Documentation derived from the layer graph, so the README cannot drift from what the plan and the
 * deploy workflow do. `pnpm docs` rewrites the marked README sections; a test fails when they are stale.
 */

/** A Mermaid flowchart of the layers, the region roles they run in and the stack references between them. */
export function layerGraphMermaid(): string {
  const lines = ["flowchart LR"];
  for (const layer of deployOrder()) {
    const spec = LAYER_SPECS[layer];
    const where = spec.runsIn === undefined ? "once per environment" : spec.runsIn.join(" + ");
    lines.push(`  ${layer}["${spec.project}<br/><small>${where}</small>"]`);
  }
  for (const layer of deployOrder()) {
    for (const read of LAYER_SPECS[layer].reads) {
      const label = [
        read.scope !== "same" ? `${read.scope} region` : "",
        read.onlyIn ? `in ${read.onlyIn}` : "",
      ]
        .filter((s) => s.length > 0)
        .join(", ");
      lines.push(`  ${read.layer} -->${label ? `|${label}|` : ""} ${layer}`);
    }
  }
  return lines.join("\n");
}

/** The deploy order as a Markdown table of layers. */
export function deployOrderTable(): string {
  const rows = deployOrder().map((layer: LayerName, i) => {
    const spec = LAYER_SPECS[layer];
    const reads = [...new Set(spec.reads.map((r) => r.layer))].join(", ") || "—";
    const where = spec.runsIn === undefined ? "once per environment" : spec.runsIn.join(", ");
    return `| ${i + 1} | ${layer} | \`${spec.project}\` | ${where} | ${reads} | ${spec.description} |`;
  });
  return ["| # | layer | project | runs in | reads | owns |", "|---|---|---|---|---|---|", ...rows].join(
    "\n",
  );
}

/** The stacks of an environment in deploy order, as `project/stack` list items. */
export function stackOrderList(topology: EnvironmentTopology): string {
  return stacksOf(topology)
    .map((id, i) => `${i + 1}. \`${stackLabel(id)}\``)
    .join("\n");
}

/** Replaces the text between `<!-- begin:<name> -->` and `<!-- end:<name> -->`. */
export function replaceSection(doc: string, name: string, content: string): string {
  const begin = `<!-- begin:${name} -->`;
  const end = `<!-- end:${name} -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`the document has no ${begin} ... ${end} section`);
  }
  return `${doc.slice(0, from + begin.length)}\n${content}\n${doc.slice(to)}`;
}
