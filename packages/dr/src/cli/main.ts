import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigError,
  type EnvironmentTopology,
  loadEnvironmentConfigFile,
  writerRegionName,
} from "@hcp/platform";
import { renderArtifacts } from "@hcp/postgres";
import {
  type MoveKind,
  type MoveResult,
  moveWriter,
  PreconditionError,
  type ReplicationEndpoint,
} from "../promotion/move";
import { HttpPatroniApi, type PatroniApi } from "../promotion/patroniApi";

/**
 * `pnpm dr <promote|failback|fence> --env <env> --region <region> ...`: moves an environment's
 * writer between regions through the leaders' Patroni REST APIs (see `promotion/move.ts` and
 * docs/runbooks/dr.md). Dry run unless `--execute`. The REST API password comes from the
 * environment (`PATRONI_RESTAPI_PASSWORD`, the data layer's `restApi` secret), never a flag.
 * Exit codes: 0 done, 1 refused (a precondition failed), 2 usage or configuration error.
 */

const USAGE = `usage: pnpm dr <promote|failback|fence> --env <environment> --region <region> --target-url <url> [flags]

  promote   make the DR region --region the writer
  failback  return the writer to the primary region (--region is the primary region)
  fence     make --region's cluster a standby of the configured writer (an old writer that came back)

flags:
  --target-url <url>     REST API of --region's leader (e.g. https://127.0.0.1:8008 after kubectl port-forward)
  --writer-url <url>     REST API of the current writer's leader (planned move: fenced first, nothing lost)
  --writer-lost          the writer's region is gone (promote only; the RPO precondition applies)
  --accept-data-loss     promote although the newest replayed commit is older than dr.rpoSeconds
  --ca <file>            CA of the REST API certificates (the data tier's CA, tls.caCertificatePem)
  --servername <name>    host name to verify on both certificates (default: each region's pg host name)
  --execute              send the requests (default: dry run, every step logged, nothing changed)
  --wait-seconds <n>     limit of each wait (default 120)
  --replication-endpoint <region>=<host>:<port>
                         where <region>'s replication endpoint is reached, when not at its rendered
                         name (replication.<region>.data.<env>.hcp.internal:5432); repeatable. The
                         preconditions expect it and the standby_cluster bodies name it

environment: PATRONI_RESTAPI_PASSWORD (required), PATRONI_RESTAPI_USERNAME (default patroni)`;

/** Raised for problems the user fixes (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parsed command line. */
export interface DrCommand {
  readonly kind: MoveKind;
  readonly env: string;
  readonly region: string;
  readonly targetUrl: string;
  readonly writerUrl?: string;
  readonly writerLost: boolean;
  readonly acceptDataLoss: boolean;
  readonly caFile?: string;
  readonly servername?: string;
  readonly execute: boolean;
  readonly waitSeconds: number;
  /** `--replication-endpoint`: regions reached elsewhere than at their rendered replication name. */
  readonly replicationEndpoints: Readonly<Record<string, ReplicationEndpoint>>;
}

const KINDS: readonly MoveKind[] = ["promote", "failback", "fence"];

/** Parses the arguments (strict: an unknown flag is a usage error). */
export function parseDrArgs(argv: readonly string[], cwd: string): DrCommand {
  const [kind, ...rest] = argv;
  if (!kind || !KINDS.includes(kind as MoveKind)) {
    throw new UsageError(`${kind ? `unknown command '${kind}'` : "no command"}\n${USAGE}`);
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        env: { type: "string" },
        region: { type: "string" },
        "target-url": { type: "string" },
        "writer-url": { type: "string" },
        "writer-lost": { type: "boolean" },
        "accept-data-loss": { type: "boolean" },
        ca: { type: "string" },
        servername: { type: "string" },
        execute: { type: "boolean" },
        "wait-seconds": { type: "string" },
        "replication-endpoint": { type: "string", multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const str = (k: string) => (typeof values[k] === "string" && values[k] !== "" ? values[k] : undefined);
  const missing = ["env", "region", "target-url"].filter((k) => str(k) === undefined);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(", ")}\n${USAGE}`);
  }
  const writerLost = values["writer-lost"] === true;
  if (kind !== "fence" && writerLost === (str("writer-url") !== undefined)) {
    throw new UsageError(
      `${kind} needs exactly one of --writer-url (planned) and --writer-lost (region loss)\n${USAGE}`,
    );
  }
  const wait = Number(str("wait-seconds") ?? "120");
  if (!Number.isInteger(wait) || wait < 1) {
    throw new UsageError(
      `--wait-seconds: got '${String(values["wait-seconds"])}'; allowed: a whole number of seconds >= 1`,
    );
  }
  const ca = str("ca");
  const replicationEndpoints: Record<string, ReplicationEndpoint> = {};
  for (const spec of (values["replication-endpoint"] as string[] | undefined) ?? []) {
    const m = /^([a-z0-9-]+)=([A-Za-z0-9.-]+):(\d{1,5})$/.exec(spec);
    const portNumber = m ? Number(m[3]) : 0;
    if (!m || portNumber < 1 || portNumber > 65535) {
      throw new UsageError(
        `--replication-endpoint: got '${spec}'; allowed: <region>=<host>:<port>, e.g. us-east-1=10.1.2.3:5432`,
      );
    }
    if (replicationEndpoints[m[1]] !== undefined) {
      throw new UsageError(`--replication-endpoint: ${m[1]} is given twice; give each region once`);
    }
    replicationEndpoints[m[1]] = { host: m[2], port: portNumber };
  }
  return {
    kind: kind as MoveKind,
    env: str("env")!,
    region: str("region")!,
    targetUrl: str("target-url")!,
    ...(str("writer-url") ? { writerUrl: str("writer-url")! } : {}),
    writerLost,
    acceptDataLoss: values["accept-data-loss"] === true,
    ...(ca ? { caFile: path.resolve(cwd, ca) } : {}),
    ...(str("servername") ? { servername: str("servername")! } : {}),
    execute: values["execute"] === true,
    waitSeconds: wait,
    replicationEndpoints,
  };
}

/** Directory holding pnpm-workspace.yaml (the repository root). */
function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new UsageError(`no pnpm-workspace.yaml above ${from}: run from inside the repository`);
    dir = parent;
  }
  return dir;
}

/** Loads `Pulumi.<env>.yaml` of the repository. */
export function loadTopology(root: string, env: string): EnvironmentTopology {
  if (!/^[a-z][a-z0-9-]*$/.test(env)) {
    throw new UsageError(`'${env}' is not an environment name (lower-case letters, digits, hyphens)`);
  }
  const file = path.join(root, `Pulumi.${env}.yaml`);
  if (!fs.existsSync(file)) throw new UsageError(`unknown environment '${env}': no ${file}`);
  return loadEnvironmentConfigFile(file, env);
}

/** Runs a parsed command against the REST APIs; what it did (or would do, in a dry run). */
export async function runDrCommand(
  command: DrCommand,
  topology: EnvironmentTopology,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<MoveResult> {
  const password = env["PATRONI_RESTAPI_PASSWORD"];
  if (!password) {
    throw new UsageError(
      "PATRONI_RESTAPI_PASSWORD is not set. Fix: export it from the restApi secret of the region (docs/runbooks/dr.md); it is never a flag, so it stays out of shell history.",
    );
  }
  const api = (url: string, region: string): PatroniApi => {
    const known = topology.regions.some((r) => r.name === region);
    return new HttpPatroniApi({
      url,
      username: env["PATRONI_RESTAPI_USERNAME"] ?? "patroni",
      password,
      ...(command.caFile ? { caFile: command.caFile } : {}),
      ...(command.servername
        ? { servername: command.servername }
        : known
          ? { servername: renderArtifacts(topology, region).names.hosts.primary }
          : {}),
      timeoutMs: 10_000,
    });
  };
  const unknown = Object.keys(command.replicationEndpoints).filter(
    (r) => !topology.regions.some((x) => x.name === r),
  );
  if (unknown.length > 0) {
    throw new UsageError(
      `--replication-endpoint: ${unknown.join(", ")} is not a region of ${topology.name} (its regions: ${topology.regions.map((r) => r.name).join(", ")})`,
    );
  }
  const endpoints = command.replicationEndpoints;
  const writer = writerRegionName(topology);
  return moveWriter({
    kind: command.kind,
    topology,
    target: command.region,
    targetApi: api(command.targetUrl, command.region),
    writer: command.writerUrl ? api(command.writerUrl, writer) : "lost",
    execute: command.execute,
    acceptDataLoss: command.acceptDataLoss,
    waitSeconds: command.waitSeconds,
    log,
    ...(Object.keys(endpoints).length > 0
      ? { replicationEndpoint: (region: string) => endpoints[region] }
      : {}),
  });
}

/** Runs the command line; returns the exit code. */
export async function main(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  log = console.log,
  error = console.error,
): Promise<number> {
  try {
    const command = parseDrArgs(argv, cwd);
    const topology = loadTopology(findRepoRoot(__dirname), command.env);
    await runDrCommand(command, topology, env, (line) => log(`[${new Date().toISOString()}] ${line}`));
    return 0;
  } catch (e) {
    if (e instanceof PreconditionError) {
      error(`dr: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError || ConfigError.isInstance(e)) {
      error(`dr: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  // pnpm runs the script in the package directory; INIT_CWD is where the user typed the command.
  void main(process.argv.slice(2), process.env["INIT_CWD"] ?? process.cwd()).then((code) => {
    process.exitCode = code;
  });
}
