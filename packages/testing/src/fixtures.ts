import * as fs from "node:fs";
import * as path from "node:path";
import {
  type EnvironmentTopology,
  loadEnvironmentConfigFile,
  NAMESPACE,
  type RawStackConfig,
} from "@hcp/platform";

/**
 * The repository's environments and their topologies, for tests. Upstream stacks' exports are not
 * hand-written here: {@link producerExports} runs the producers (see layer.ts).
 */

/** The repository root (the directory holding pnpm-workspace.yaml). */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`repoRoot: no pnpm-workspace.yaml above ${from}`);
    }
    dir = parent;
  }
  return dir;
}

/**
 * The environments defined in the repository (root `Pulumi.<env>.yaml` files), sorted: tests that
 * hold for every environment iterate over these, so adding an environment file tests it too.
 */
export function repoEnvironments(root = repoRoot()): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.([a-z][a-z0-9]*)\.yaml$/.exec(f)?.[1])
    .filter((e): e is string => e !== undefined)
    .sort();
}

/** Parses the repository's `Pulumi.<env>.yaml` (the real environment definitions). */
export function repoTopology(environment: string): EnvironmentTopology {
  return loadEnvironmentConfigFile(path.join(repoRoot(), `Pulumi.${environment}.yaml`), environment);
}

/**
 * A topology derived from a repository environment with changes, e.g. a 2-AZ variant:
 * `withRegions(repoTopology("staging"), (r) => ({ ...r, azCount: 2 }))`.
 */
export function withRegions(
  topology: EnvironmentTopology,
  change: (region: EnvironmentTopology["regions"][number]) => EnvironmentTopology["regions"][number],
): EnvironmentTopology {
  return { ...topology, regions: topology.regions.map(change) };
}

/**
 * The environment as an operator sets it after `pnpm dr promote` to `region` (docs/runbooks/dr.md):
 * `dr.promotedRegion` names it, and it is sized like the primary region (database members and node
 * group), which the config requires of the writer.
 */
export function promotedTopology(topology: EnvironmentTopology, region: string): EnvironmentTopology {
  const primary = topology.regions.find((r) => r.role === "primary");
  if (!primary || primary.name === region) {
    throw new Error(`promotedTopology: ${region} is not a DR region of ${topology.name}`);
  }
  return {
    ...withRegions(topology, (r) =>
      r.name !== region
        ? r
        : {
            ...r,
            sizes: {
              ...r.sizes,
              databaseMembers: Math.max(r.sizes.databaseMembers, primary.sizes.databaseMembers),
              nodeGroups: { ...r.sizes.nodeGroups, database: primary.sizes.nodeGroups.database },
            },
          },
    ),
    dr: { ...topology.dr, promotedRegion: region },
  };
}

/** The root stack configuration that parses to `topology` (for running the environment program). */
export function topologyConfig(topology: EnvironmentTopology): RawStackConfig {
  const { name: _name, ...keys } = topology;
  const values: Record<string, unknown> = { "pulumi:disable-default-providers": ["*"] };
  for (const [key, value] of Object.entries(keys)) {
    values[`${NAMESPACE}:${key}`] = value;
  }
  return { values, secretKeys: new Set() };
}
