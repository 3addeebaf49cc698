import * as fs from "node:fs";
import type { PolicyFinding } from "./model";
import type { AnalyzerOptions, AnalyzerProvider, Diagnostic, PolicyPackServer } from "./policy/analyzer";
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

function providerOf(
  r: ExportResource,
  byUrn: ReadonlyMap<string, ExportResource>,
): AnalyzerProvider | undefined {
  const p = r.provider ? byUrn.get(r.provider.urn) : undefined;
  return p ? { urn: p.urn, type: p.type, name: p.name, properties: { ...p.inputs } } : undefined;
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

function finding(d: Diagnostic, urn: string | undefined): PolicyFinding {
  return {
    policy: d.policyName,
    level: d.enforcementLevel,
    ...(d.severity !== "unspecified" ? { severity: d.severity } : {}),
    ...(d.urn || urn ? { urn: d.urn || urn } : {}),
    message: d.message,
  };
}

/** Runs the (configured) pack over one exported stack and returns its findings. */
export async function auditStack(
  server: PolicyPackServer,
  exported: StackExport,
  organization: string,
): Promise<PolicyFinding[]> {
  await server.configureStack({
    organization,
    project: exported.project,
    stack: exported.stack,
    tags: { "pulumi:project": exported.project, "pulumi:runtime": "nodejs" },
  });
  const byUrn = new Map(exported.resources.map((r) => [r.urn, r]));
  // Read resources (`.get`, stack references) get no Analyze call from the engine.
  const managed = exported.resources.filter((r) => !r.external);
  const perResource = await Promise.all(
    managed.map(async (r) => {
      const provider = providerOf(r, byUrn);
      const diags = await server.analyze({
        urn: r.urn,
        type: r.type,
        name: r.name,
        properties: { ...r.inputs },
        options: options(r),
        ...(provider ? { provider } : {}),
      });
      return diags.map((d) => finding(d, r.urn));
    }),
  );
  const stackDiags = await server.analyzeStack(
    exported.resources.map((r) => {
      const provider = providerOf(r, byUrn);
      return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        properties: { ...r.outputs },
        options: options(r),
        ...(provider ? { provider } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
      };
    }),
  );
  return [...perResource.flat(), ...stackDiags.map((d) => finding(d, undefined))];
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
