import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What the plan knows about each rule of a pack beyond its gRPC description: the controls it
 * implements, the documentation of its setting, its fix, and the properties its verdict depends on.
 * Read from the pack's `ruleCatalog()` (plain JSON), like `policyConfigFor`; a pack without one has
 * an empty catalog and reports name findings without controls.
 */

/** A control as the pack names it. */
export interface CatalogControl {
  /** `HIPAA §164.312(e)(1)`, `LGPD Art. 33`. */
  readonly id: string;
  readonly framework: string;
  readonly title: string;
  readonly source: string;
}

/** One rule of the pack. */
export interface CatalogRule {
  readonly name: string;
  readonly concern: string;
  readonly kind: "resource" | "stack";
  readonly enforcementLevel: "mandatory" | "advisory";
  readonly description: string;
  readonly remediationSteps: string;
  readonly examines: readonly string[];
  readonly generic: boolean;
  readonly controls: readonly CatalogControl[];
  readonly docs: readonly string[];
  readonly evidence: {
    readonly properties: Readonly<Record<string, readonly string[]>>;
    readonly generic: readonly string[];
  };
}

/** The pack's rules by name (empty if the pack publishes no catalog). */
export function packCatalog(packDir: string): ReadonlyMap<string, CatalogRule> {
  const file = path.join(packDir, "src/lib.ts");
  if (!fs.existsSync(file)) {
    return new Map();
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { ruleCatalog?: () => CatalogRule[] };
  const rules = typeof mod.ruleCatalog === "function" ? mod.ruleCatalog() : [];
  return new Map(rules.map((r) => [r.name, r]));
}
