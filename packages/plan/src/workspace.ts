import * as fs from "node:fs";
import * as path from "node:path";
import { LAYERS, type LayerName } from "@hcp/platform";
import { parse as parseYaml } from "yaml";

/**
 * The workspace's packages and how they depend on each other, read from `pnpm-workspace.yaml` and
 * each package's `package.json` (entries with a `workspace:` version). CI's impact analysis uses it:
 * a change in a package reaches every package that depends on it, and through them the layers.
 */

/** One workspace package. */
export interface WorkspacePackage {
  readonly name: string;
  /** Directory relative to the repository root, `/`-separated (`packages/data`). */
  readonly dir: string;
  /** Workspace packages in `dependencies`: what the package's own code loads. */
  readonly dependencies: readonly string[];
  /** Workspace packages in `devDependencies`: what its tests and tools load. */
  readonly devDependencies: readonly string[];
  /** A CrossGuard pack (`PulumiPolicy.yaml`): every preview runs it. */
  readonly policyPack: boolean;
}

/** The workspace as CI sees it. */
export interface PackageGraph {
  readonly packages: readonly WorkspacePackage[];
  /** The package holding each layer's program (only layers that have one). */
  readonly layerPackages: ReadonlyMap<LayerName, string>;
}

interface PackageJson {
  name?: unknown;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

function workspaceNames(deps: Record<string, unknown> | undefined): string[] {
  return Object.entries(deps ?? {})
    .filter(([, v]) => typeof v === "string" && v.startsWith("workspace:"))
    .map(([k]) => k)
    .sort();
}

/** Directories matched by the workspace globs (`dir`, `dir/*`; what pnpm-workspace.yaml uses here). */
function expand(root: string, pattern: string): string[] {
  const clean = pattern.replace(/\/+$/, "");
  if (clean.endsWith("/*")) {
    const parent = clean.slice(0, -2);
    const abs = path.join(root, parent);
    if (!fs.existsSync(abs)) {
      return [];
    }
    return fs
      .readdirSync(abs, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${parent}/${d.name}`);
  }
  if (clean.includes("*")) {
    throw new Error(
      `pnpm-workspace.yaml: the pattern '${pattern}' is not supported by CI's impact analysis (use dir or dir/*)`,
    );
  }
  return [clean];
}

/** Reads the workspace at `root`. */
export function readPackageGraph(root: string): PackageGraph {
  const workspace = parseYaml(fs.readFileSync(path.join(root, "pnpm-workspace.yaml"), "utf8")) as {
    packages?: unknown;
  } | null;
  const patterns = Array.isArray(workspace?.packages) ? (workspace.packages as unknown[]).map(String) : [];
  const packages: WorkspacePackage[] = [];
  for (const dir of patterns.filter((p) => !p.startsWith("!")).flatMap((p) => expand(root, p))) {
    const file = path.join(root, dir, "package.json");
    if (!fs.existsSync(file)) {
      continue;
    }
    const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson;
    if (typeof pkg.name !== "string") {
      throw new Error(`${file} has no name; CI cannot tell which layers depend on it`);
    }
    packages.push({
      name: pkg.name,
      dir,
      dependencies: workspaceNames(pkg.dependencies),
      devDependencies: workspaceNames(pkg.devDependencies),
      policyPack: fs.existsSync(path.join(root, dir, "PulumiPolicy.yaml")),
    });
  }
  const graph = { packages, layerPackages: new Map<LayerName, string>() };
  for (const layer of LAYERS) {
    const program = layerProgram(root, layer);
    const owner = program ? packageOf(graph, program) : undefined;
    if (owner) {
      graph.layerPackages.set(layer, owner.name);
    }
  }
  return graph;
}

/**
 * The file (relative to the root) holding a layer's program: the `main` of its Pulumi project, or,
 * for a layer without a project yet, its directory's `src/index.ts` if a package is already there.
 */
function layerProgram(root: string, layer: LayerName): string | undefined {
  const dir = layer === "environment" ? "." : `packages/${layer}`;
  const project = path.join(root, dir, "Pulumi.yaml");
  if (fs.existsSync(project)) {
    const main = (parseYaml(fs.readFileSync(project, "utf8")) as { main?: unknown } | null)?.main;
    return path.posix.normalize(`${dir}/${typeof main === "string" ? main : "src/index.ts"}`);
  }
  return fs.existsSync(path.join(root, dir, "package.json")) ? `${dir}/src/index.ts` : undefined;
}

/** The package a repository path belongs to (the deepest package directory containing it). */
export function packageOf(graph: Pick<PackageGraph, "packages">, file: string): WorkspacePackage | undefined {
  let best: WorkspacePackage | undefined;
  for (const p of graph.packages) {
    if (file.startsWith(`${p.dir}/`) && (!best || p.dir.length > best.dir.length)) {
      best = p;
    }
  }
  return best;
}

/**
 * Every package whose code loads `name`, directly or through other packages (`dependencies`
 * only: a devDependency is loaded by tests and tools, never by a deployed program), with the first
 * package on the way for messages. Includes `name` itself.
 */
export function dependentsOf(graph: PackageGraph, name: string): Map<string, string> {
  const via = new Map<string, string>([[name, name]]);
  const queue = [name];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const p of graph.packages) {
      if (p.dependencies.includes(current) && !via.has(p.name)) {
        via.set(p.name, current);
        queue.push(p.name);
      }
    }
  }
  return via;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) {
      return d.name === "node_modules" || d.name === "test" ? [] : sourceFiles(p);
    }
    return /\.(ts|js|mjs|cjs)$/.test(d.name) && !/\.test\.|\.d\.ts$/.test(d.name) ? [p] : [];
  });
}

/**
 * Workspace packages a package's `src/` imports without listing them in `dependencies` (a missing
 * or devDependency-only entry would hide the edge from CI's impact analysis), as
 * `package → import` pairs.
 */
export function undeclaredImports(
  root: string,
  graph: PackageGraph,
): Array<{ package: string; imports: string }> {
  const names = new Set(graph.packages.map((p) => p.name));
  const out: Array<{ package: string; imports: string }> = [];
  for (const p of graph.packages) {
    const seen = new Set<string>();
    for (const file of sourceFiles(path.join(root, p.dir, "src"))) {
      for (const m of fs.readFileSync(file, "utf8").matchAll(IMPORT)) {
        const spec = m[1];
        const target = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (names.has(target) && target !== p.name && !p.dependencies.includes(target) && !seen.has(target)) {
          seen.add(target);
          out.push({ package: p.name, imports: target });
        }
      }
    }
  }
  return out;
}
