import * as fs from "node:fs";
import type { PolicyFinding } from "./model";
import type { AnalyzerOptions, PolicyPackServer } from "./policy/analyzer";
import { analyzeSubjects, type PolicySubject } from "./policy/run";
import { findingLine } from "./diffReport";
import { type ExportResource, parseStackExport, type StackExport } from "./exportFormat";

/**
 * Audits a deployed stack from its `pulumi stack export`, through the same gRPC analyzer path as
 * the offline plan and `pulumi preview --policy-pack`: `configureStack`, then `analyze` for every
 * resource the stack manages (its stored inputs, with its provider's stored inputs, as the engine
 * sends a registration) and `analyzeStack` over the whole state (stored outputs, as the engine sends
 * the final snapshot).
 */

/** Reads and parses an export file. */
export function readStackExport(file: string): StackExport {
  return parseStackExport(fs.readFileSync(file, "utf8"), file);
}

function options(r: ExportResource): AnalyzerOptions {
  return {
    protect: r.options.protect,
    ignoreChanges: r.options.ignoreChanges,
    additionalSecretOutputs: r.options.additionalSecretOutputs,
    aliases: r.options.aliases,
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

function subjectOf(r: ExportResource): PolicySubject {
  const opts = options(r);
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.provider ? { providerUrn: r.provider.urn } : {}),
    // Read resources (`.get`, stack references) get no Analyze call from the engine.
    registered: !r.external,
    inputs: r.inputs,
    outputs: r.outputs,
    analyzeOptions: opts,
    stackOptions: opts,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
  };
}

/** Runs the (configured) pack over one exported stack and returns its findings. */
export function auditStack(
  server: PolicyPackServer,
  exported: StackExport,
  organization: string,
): Promise<PolicyFinding[]> {
  return analyzeSubjects(
    server,
    { organization, project: exported.project, stack: exported.stack },
    exported.resources.map(subjectOf),
  );
}

/** A policy that could not run because it read an encrypted secret (an unknown value). */
function notEvaluable(f: PolicyFinding): boolean {
  return /can't run policy .* during preview/.test(f.message);
}

/** The audit report, in the format of `pnpm plan`'s summary. */
export function auditReport(
  exported: StackExport,
  findings: readonly PolicyFinding[],
  source: string,
): string {
  const counts = new Map<string, number>();
  for (const r of exported.resources) {
    if (r.type !== "pulumi:pulumi:Stack") {
      counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    }
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const lines = [`Audit of ${source}`, `  ${exported.project}/${exported.stack}: ${total} resources`];
  for (const [type, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`      ${String(n).padStart(3)}  ${type}`);
  }
  for (const w of exported.warnings) {
    lines.push(`    warning: ${w}`);
  }
  for (const f of findings) {
    lines.push(`    ${findingLine(f)}`);
  }
  const { plaintext, ciphertext } = exported.secrets;
  if (plaintext + ciphertext > 0) {
    lines.push(
      `  secrets: ${plaintext} passed to policies as secrets (plaintext export), ${ciphertext} encrypted` +
        (ciphertext > 0
          ? " (policies that read them cannot run; audit an export made with --show-secrets)"
          : ""),
    );
  }
  const skipped = findings.filter(notEvaluable).length;
  if (skipped > 0) {
    const paths = exported.secrets.ciphertextPaths;
    lines.push(
      `  ${skipped} policy check(s) could not run because they read an encrypted secret (reported as advisory).`,
      `  encrypted values: ${paths.slice(0, 10).join(", ")}${paths.length > 10 ? `, … ${paths.length - 10} more` : ""}`,
    );
  }
  const mandatory = findings.filter((f) => f.level === "mandatory").length;
  const advisory = findings.filter((f) => f.level === "advisory").length;
  lines.push(`Policy findings: ${mandatory} mandatory, ${advisory} advisory.`);
  return lines.join("\n");
}
