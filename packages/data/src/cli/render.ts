import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigError,
  type EnvironmentTopology,
  loadEnvironmentConfigFile,
  primaryRegion,
} from "@hcp/platform";
import { artifactFiles, RenderError, renderArtifacts } from "@hcp/postgres";

/**
 * `pnpm --filter @hcp/data render --env <env> --region <region> --out <dir>`: writes the data tier's
 * rendered files (patroni.yml, pgbouncer.ini and its userlist, pgbackrest.conf for the members and
 * the backup Jobs, the bootstrap SQL) for an environment's primary region, exactly as the Pulumi
 * program renders them, with `${ENV}` / `:'psql'` placeholders instead of secrets and
 * `<deploy:...>` markers for values that exist only after deployment. Exit code 2 on any usage or
 * configuration error.
 */

const USAGE = "usage: render --env <environment> --region <primary region> --out <directory>";

/** Raised for problems the user fixes (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Directory holding pnpm-workspace.yaml (the repository root). */
export function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new UsageError(`no pnpm-workspace.yaml above ${from}: run from inside the repository`);
    }
    dir = parent;
  }
  return dir;
}

/** Parsed command line. */
export interface RenderCommand {
  readonly env: string;
  readonly region: string;
  readonly out: string;
}

/** Parses the arguments; relative `--out` is resolved against `cwd`. */
export function parseRenderArgs(argv: readonly string[], cwd: string): RenderCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { env: { type: "string" }, region: { type: "string" }, out: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const missing = (["env", "region", "out"] as const).filter(
    (k) => typeof values[k] !== "string" || values[k] === "",
  );
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(", ")}\n${USAGE}`);
  }
  return {
    env: values["env"] as string,
    region: values["region"] as string,
    out: path.resolve(cwd, values["out"] as string),
  };
}

/** Loads `Pulumi.<env>.yaml` of the repository; an unknown environment is a usage error. */
export function loadTopology(repoRoot: string, env: string): EnvironmentTopology {
  if (!/^[a-z][a-z0-9-]*$/.test(env)) {
    throw new UsageError(`'${env}' is not an environment name (lower-case letters, digits, hyphens)`);
  }
  const file = path.join(repoRoot, `Pulumi.${env}.yaml`);
  if (!fs.existsSync(file)) {
    const known = fs
      .readdirSync(repoRoot)
      .map((f) => /^Pulumi\.([a-z][a-z0-9-]*)\.yaml$/.exec(f)?.[1])
      .filter((e): e is string => e !== undefined);
    throw new UsageError(`unknown environment '${env}': no ${file}. Known environments: ${known.join(", ")}`);
  }
  return loadEnvironmentConfigFile(file, env);
}

/** Renders and writes the files; returns their paths relative to `out`. */
export function renderToDirectory(topology: EnvironmentTopology, region: string, out: string): string[] {
  const known = topology.regions.find((r) => r.name === region);
  if (known && known.role !== "primary") {
    // hcp-data runs in the primary region only; a DR region's cluster is the dr layer's.
    throw new UsageError(
      `${region} is a ${known.role} region of ${topology.name}. Fix: use ${primaryRegion(topology).name} ` +
        "(hcp-data runs in the primary region; the DR region's standby cluster is rendered by the dr layer)",
    );
  }
  const files = artifactFiles(renderArtifacts(topology, region));
  for (const [name, text] of Object.entries(files)) {
    const target = path.join(out, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
  }
  return Object.keys(files);
}

/** Runs the command; returns the exit code. */
export function main(argv: readonly string[], cwd: string, log = console.log, error = console.error): number {
  try {
    const command = parseRenderArgs(argv, cwd);
    const topology = loadTopology(findRepoRoot(__dirname), command.env);
    const written = renderToDirectory(topology, command.region, command.out);
    log(`rendered ${command.env}/${command.region} into ${command.out}:`);
    for (const f of written) {
      log(`  ${f}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RenderError || ConfigError.isInstance(e)) {
      error(`render: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  // pnpm runs the script in the package directory; INIT_CWD is where the user typed the command.
  process.exitCode = main(process.argv.slice(2), process.env["INIT_CWD"] ?? process.cwd());
}
