import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  environmentEvidence,
  EVIDENCE_FORMAT,
  type EvidenceDocument,
  evidenceMarkdown,
  type EvidenceStack,
} from "./evidence";
import { label, type PolicyView } from "./model";
import { type PlanRun, plannedResource } from "./plan";
import type { CatalogRule } from "./policy/catalog";

/** The checkout's commit (`git rev-parse HEAD`), or `unknown` (no git, not a checkout). */
export function commitOf(root: string): string {
  try {
    return (
      execFileSync("git", ["rev-parse", "HEAD"], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() || "unknown"
    );
  } catch {
    return "unknown";
  }
}

/** The evidence document of a plan run whose policies ran. */
export function evidenceDocument(
  run: PlanRun,
  root: string,
  pack: { name: string; version: string },
  catalog: ReadonlyMap<string, CatalogRule>,
): EvidenceDocument {
  return {
    format: EVIDENCE_FORMAT,
    generatedAt: run.document.generatedAt,
    commit: commitOf(root),
    policyPack: pack,
    environments: run.document.environments.map((env) => {
      const file = `Pulumi.${env.environment}.yaml`;
      const full = path.join(root, file);
      const sha256 = fs.existsSync(full)
        ? createHash("sha256").update(fs.readFileSync(full)).digest("hex")
        : "unknown";
      const stacks: EvidenceStack[] = run.stacks
        .filter((s) => s.id.environment === env.environment)
        .map((s) => ({
          label: label(s.id),
          plan: s.plan,
          views: {
            preview: s.plan.resources,
            deployed: s.deployedResources.map(plannedResource),
          } satisfies Record<PolicyView, unknown>,
        }));
      return environmentEvidence(
        env.environment,
        { path: file, sha256 },
        stacks,
        env.errors.map((e) => `${e.kind} error${e.stack ? ` in ${e.stack}` : ""}: ${e.message}`),
        catalog,
      );
    }),
  };
}

/**
 * Writes the Markdown report to `file` and the JSON document beside it (`<file without .md>.json`).
 * Returns both paths.
 */
export function writeEvidence(
  file: string,
  run: PlanRun,
  root: string,
  pack: { name: string; version: string },
  catalog: ReadonlyMap<string, CatalogRule>,
): { markdown: string; json: string } {
  const doc = evidenceDocument(run, root, pack, catalog);
  const json = `${file.replace(/\.md$/, "")}.json`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${evidenceMarkdown(doc)}\n`);
  fs.writeFileSync(json, `${JSON.stringify(doc, null, 2)}\n`);
  return { markdown: file, json };
}
