import * as fs from "node:fs";
import * as path from "node:path";
import {
  ConfigError,
  LAYER_SPECS,
  LAYERS,
  type LayerName,
  type RawStackConfig,
  readStackConfigFile,
  type StackId,
} from "@hcp/platform";
import { parse as parseYaml } from "yaml";

/**
 * What exists in the repository: the environments (root `Pulumi.<env>.yaml` files) and the layer
 * projects built so far (`packages/<layer>/Pulumi.yaml`; the environment layer is the root project).
 */

/** The repository as the plan sees it. */
export interface Workspace {
  readonly root: string;
  /** Environment names, sorted. */
  readonly environments: readonly string[];
  /** Layers that have a Pulumi project, in {@link LAYERS} order. */
  readonly layers: readonly LayerName[];
}

/** Directory of a layer's Pulumi project. */
export function projectDir(root: string, layer: LayerName): string {
  return layer === "environment" ? root : path.join(root, "packages", layer);
}

interface ProjectFile {
  name?: unknown;
  main?: unknown;
  config?: Record<string, unknown>;
}

function readProject(dir: string): ProjectFile {
  return (parseYaml(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as ProjectFile | null) ?? {};
}

/** Scans the repository. Throws if a layer's project name is not the one the topology expects. */
export function discover(root: string): Workspace {
  const environments = fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((e): e is string => e !== undefined)
    .sort();
  const layers = LAYERS.filter((layer) => fs.existsSync(path.join(projectDir(root, layer), "Pulumi.yaml")));
  for (const layer of layers) {
    const name = readProject(projectDir(root, layer)).name;
    if (name !== LAYER_SPECS[layer].project) {
      throw new Error(
        `${path.join(projectDir(root, layer), "Pulumi.yaml")} names project '${String(name)}'; the ${layer} layer ` +
          `must be project '${LAYER_SPECS[layer].project}' (stack references use that name). Fix the name.`,
      );
    }
  }
  return { root, environments, layers };
}

/** The program entry point of a layer (Pulumi.yaml `main`, relative to the project directory). */
export function programPath(root: string, layer: LayerName): string {
  const dir = projectDir(root, layer);
  const main = readProject(dir).main;
  return path.resolve(dir, typeof main === "string" ? main : "src/index.ts");
}

/**
 * The configuration a stack runs with, as the Pulumi CLI assembles it: project-level config from
 * `Pulumi.yaml` (`value:` entries), overridden by the stack's `Pulumi.<stack>.yaml` if it exists.
 */
export function stackConfig(root: string, id: StackId): RawStackConfig {
  const dir = projectDir(root, id.layer);
  const values: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const [key, decl] of Object.entries(readProject(dir).config ?? {})) {
    const value = typeof decl === "object" && decl !== null && "value" in decl ? decl.value : decl;
    if (
      typeof decl === "object" &&
      decl !== null &&
      ("type" in decl || "default" in decl) &&
      !("value" in decl)
    ) {
      // A schema declaration without a value: nothing to pass.
      continue;
    }
    values[key] = value;
  }
  const stackFile = path.join(dir, `Pulumi.${id.stack}.yaml`);
  if (fs.existsSync(stackFile)) {
    const stack = readStackConfigFile(stackFile);
    Object.assign(values, stack.values);
    stack.secretKeys.forEach((k) => secretKeys.add(k));
  }
  return { values, secretKeys };
}

/** Lists the environments for an "unknown environment" message. */
export function unknownEnvironment(workspace: Workspace, name: string): ConfigError {
  return new ConfigError(`${workspace.root}`, [
    {
      path: "--env",
      received: JSON.stringify(name),
      allowed: `one of ${[...workspace.environments, "all"].map((e) => JSON.stringify(e)).join(", ")}`,
      fix: `run pnpm plan --env <name>, or add Pulumi.${name}.yaml at the repository root`,
    },
  ]);
}
