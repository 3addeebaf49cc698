import { drRegions, type EnvironmentTopology, primaryRegion } from "@hcp/platform";
import { renderArtifacts, withWriter } from "@hcp/postgres";
import {
  LeaderProxy,
  type LocalPatroniCluster,
  type LocalSecrets,
  makeTls,
  processesMentioning,
  type ProcessIdentity,
  queryOnce,
  type Sandbox,
  signalAll,
  testPassword,
  type TlsFiles,
  waitFor,
} from "@hcp/postgres/harness";
import { parseDrArgs, runDrCommand } from "../cli/main";
import type { MoveResult } from "../promotion/move";
import { type DrillRegion, type RepoDirs, regionLeader, regionLeaderPort, startRegion } from "./region";

/**
 * Two "regions" on one machine, booted from the rendered production configurations: the primary
 * region's Patroni cluster (3 members, its own etcd) and the DR region's standby cluster (2
 * members, its own etcd) streaming through a {@link LeaderProxy} that follows the primary's leader.
 * The proxy stands in for what production uses between the regions: the internal NLB behind the
 * `replication.<region>.data.<env>.hcp.internal` name, whose health check (Patroni's GET /leader)
 * makes it follow the leader. Both regions' certificates chain to one environment CA (as in
 * production: the data layer's escrowed CA), and the standby verifies the source with
 * `sslmode=verify-full` against it. pgBackRest repositories are one local directory per AWS region
 * (the region's bucket): the primary archives into both, the standby's restore_command reads its own.
 */

export interface DrillOptions {
  readonly sandbox: Sandbox;
  /** The environment (the repository's production file). */
  readonly topology: EnvironmentTopology;
  /** @default - the environment's first DR region */
  readonly drRegion?: string;
  /** Each boot wait. @default 240000 */
  readonly timeoutMs?: number;
}

export interface Drill {
  readonly sandbox: Sandbox;
  readonly topology: EnvironmentTopology;
  readonly tls: TlsFiles;
  readonly secrets: LocalSecrets;
  readonly repoDirs: RepoDirs;
  readonly primary: DrillRegion;
  readonly dr: DrillRegion;
  /** The primary region's replication endpoint (stand-in for its NLB). */
  readonly primaryEndpoint: LeaderProxy;
  /** Every LeaderProxy started (stopped by {@link stopProxies}). */
  readonly proxies: LeaderProxy[];
  /** archive_timeout as rendered, seconds (not changed for the drill). */
  readonly archiveTimeoutSeconds: number;
  /** Every key the drill changed in the rendered files, printable. */
  readonly report: string;
}

/** The rendered superuser and REST credentials of a region (test passwords). */
function access(drill: Drill): { user: string; password: string } {
  return {
    user: drill.primary.artifacts.patroni.config.postgresql.authentication.superuser.username,
    password: drill.secrets.superuser,
  };
}

/**
 * The application's view: a libpq multi-host DSN over every member of the given regions with
 * `target_session_attrs=read-write`, so it writes wherever the writer is (the stand-in for the edge
 * layer's DNS failover and the app's read-write switch), TLS verified against the environment CA.
 */
export function applicationDsn(drill: Drill, regions: readonly DrillRegion[]): string {
  const members = regions.flatMap((r) => r.cluster.members);
  const { user, password } = access(drill);
  return [
    `host=${members.map(() => "127.0.0.1").join(",")}`,
    `port=${members.map((m) => m.pgPort).join(",")}`,
    "dbname=postgres",
    `user=${user}`,
    `password=${password}`,
    "target_session_attrs=read-write",
    "connect_timeout=2",
    "sslmode=verify-full",
    `sslrootcert=${drill.tls.caFile}`,
    "application_name=hcp-writer",
    "keepalives_idle=2",
    "keepalives_interval=1",
    "keepalives_count=2",
  ].join(" ");
}

/** The REST API URL of a member on loopback (what `--target-url` / `--writer-url` name). */
export function memberUrl(region: DrillRegion, member: string): string {
  return `https://127.0.0.1:${region.cluster.member(member).restPort}`;
}

/**
 * Runs the `pnpm dr` command line (`parseDrArgs` + `runDrCommand`, what `pnpm dr` runs after loading
 * the environment file) with `argv` plus the drill's fixed flags: the environment, the test CA, the
 * members' certificate name, `--execute`; the REST password in the environment, as an operator
 * exports it. `topology` is given rather than loaded because the failback runs with the
 * `dr.promotedRegion` the operator would have committed. Each line is logged with its time.
 */
export function drCommand(
  drill: Drill,
  argv: readonly string[],
  topology: EnvironmentTopology,
  log: string[],
): Promise<MoveResult> {
  const [kind, ...rest] = argv;
  const command = parseDrArgs(
    [
      kind,
      "--env",
      topology.name,
      ...rest,
      "--ca",
      drill.tls.caFile,
      "--servername",
      "localhost",
      "--execute",
    ],
    drill.sandbox.root,
  );
  return runDrCommand(
    command,
    topology,
    {
      PATRONI_RESTAPI_USERNAME: drill.primary.artifacts.patroni.config.restapi.authentication.username,
      PATRONI_RESTAPI_PASSWORD: drill.secrets.restApi,
    },
    (line) => log.push(`${new Date().toISOString()} ${line}`),
  );
}

/** Waits for a running leader (writer) with every other member streaming, and a synchronous standby when rendered. */
export function waitPrimaryHealthy(region: DrillRegion, timeoutMs: number): Promise<string> {
  return region.cluster.waitHealthy(timeoutMs, undefined, {
    syncStandby: region.artifacts.patroni.config.bootstrap.dcs.synchronous_mode,
  });
}

/**
 * Waits until `standby`'s leader is a running standby leader streaming from `source`'s leader and
 * each of its other members is a running replica streaming from it. Returns the standby leader.
 */
export function waitStandbyHealthy(
  source: DrillRegion,
  standby: DrillRegion,
  timeoutMs: number,
): Promise<string> {
  return waitFor(
    `${standby.region}'s standby leader streaming from ${source.region} with every replica streaming from it`,
    async () => {
      const leader = await regionLeader(standby.cluster);
      if (leader === undefined) return undefined;
      const state = await standby.cluster.status(leader);
      if (state?.role !== "standby_leader") return undefined;
      const sourceLeader = await regionLeader(source.cluster);
      if (sourceLeader === undefined) return undefined;
      const sourceState = await source.cluster.status(sourceLeader);
      const fromSource = (sourceState?.replication ?? []).some(
        (r) => r.application_name === leader && r.state === "streaming",
      );
      if (!fromSource) return undefined;
      const streaming = new Set(
        (state.replication ?? []).filter((r) => r.state === "streaming").map((r) => r.application_name),
      );
      for (const m of standby.cluster.members) {
        if (m.name === leader) continue;
        const s = await standby.cluster.status(m.name);
        if (s?.role !== "replica" || s.state !== "running" || !streaming.has(m.name)) return undefined;
      }
      return leader;
    },
    {
      timeoutMs,
      intervalMs: 500,
      detail: () => `${standby.cluster.logs(15)}\n${source.cluster.logs(10)}`,
    },
  );
}

/** Runs a shell command (a rendered pgBackRest command) as the engine user on a member's configuration. */
export async function runOnMember(
  sandbox: Sandbox,
  region: DrillRegion,
  member: string,
  command: string,
): Promise<void> {
  const conf = region.pgbackrestConfigs[member];
  if (conf === undefined) throw new Error(`no pgbackrest.conf for ${member}`);
  const result = await sandbox.runAsync("/bin/sh", ["-c", command], {
    env: { PGBACKREST_CONFIG: conf },
  });
  if (result.code !== 0) {
    throw new Error(`${command} on ${member} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Boots both regions (primary healthy, stanza created, standby streaming). */
export async function startDrill(options: DrillOptions): Promise<Drill> {
  const { sandbox, topology } = options;
  const timeoutMs = options.timeoutMs ?? 240_000;
  const primaryName = primaryRegion(topology).name;
  const drName = options.drRegion ?? drRegions(topology)[0]?.name;
  if (drName === undefined) throw new Error(`${topology.name} has no DR region`);
  const primaryArtifacts = renderArtifacts(topology, primaryName);
  const drArtifacts = renderArtifacts(topology, drName);
  const tls = makeTls(sandbox, "environment-ca");
  const secrets: LocalSecrets = {
    superuser: testPassword(),
    replication: testPassword(),
    rewind: testPassword(),
    restApi: testPassword(),
  };
  const repoDirs: RepoDirs = Object.fromEntries(
    topology.regions.map((r) => [r.name, sandbox.mkdir(`repo-${r.name}`, 0o750)]),
  );
  const proxies: LeaderProxy[] = [];
  const primary = await startRegion({
    sandbox,
    artifacts: primaryArtifacts,
    prefix: "primary",
    members: 3,
    tls,
    secrets,
    repoDirs,
  });
  primary.cluster.startAll();
  const leader = await waitPrimaryHealthy(primary, timeoutMs);
  // The stanza the primary archives into (both repositories); the Jobs' first step in production.
  await runOnMember(
    sandbox,
    primary,
    leader,
    `pgbackrest --stanza=${primaryArtifacts.inputs.pgbackrest.stanza} stanza-create`,
  );
  const primaryEndpoint = await LeaderProxy.start({
    target: () => regionLeaderPort(primary.cluster),
    pollMs: 500,
  });
  proxies.push(primaryEndpoint);
  const dr = await startRegion({
    sandbox,
    artifacts: drArtifacts,
    prefix: "dr",
    members: 2,
    tls,
    secrets,
    repoDirs,
    standbySource: { host: "127.0.0.1", port: primaryEndpoint.port },
  });
  dr.cluster.startAll();
  await waitStandbyHealthy(primary, dr, timeoutMs);
  const archiveTimeout = Number(
    primaryArtifacts.patroni.config.bootstrap.dcs.postgresql.parameters.archive_timeout,
  );
  const report = [
    "    local changes to the rendered files (everything else runs as rendered):",
    primary.report,
    dr.report,
    `    ${primary.region}'s replication endpoint replication.${primary.region}.data.${topology.name}.hcp.internal:5432 ` +
      `-> LeaderProxy 127.0.0.1:${primaryEndpoint.port} (follows the leader like the NLB behind that name)`,
    `    archive_timeout ${archiveTimeout} s as rendered (not shortened)`,
  ].join("\n");
  return {
    sandbox,
    topology,
    tls,
    secrets,
    repoDirs,
    primary,
    dr,
    primaryEndpoint,
    proxies,
    archiveTimeoutSeconds: archiveTimeout,
    report,
  };
}

/** Stops the proxies (the sandbox stops every process). */
export async function stopProxies(drill: Drill | undefined): Promise<void> {
  await Promise.all((drill?.proxies ?? []).map((p) => p.stop().catch(() => undefined)));
}

/** `SELECT max(id)` of the probe table on a member (undefined while unreachable). */
export async function maxId(
  cluster: LocalPatroniCluster,
  member: string,
  table: string,
): Promise<number | undefined> {
  try {
    const rows = await queryOnce<{ m: string | null }>(
      cluster.target(member),
      `SELECT max(id) AS m FROM ${table}`,
    );
    return rows[0]?.m === null || rows[0]?.m === undefined ? 0 : Number(rows[0].m);
  } catch {
    return undefined;
  }
}

/** Age of the newest replayed commit on a standby member, seconds (undefined before any). */
export async function replayAgeSeconds(
  cluster: LocalPatroniCluster,
  member: string,
): Promise<number | undefined> {
  const rows = await queryOnce<{ age: number | null }>(
    cluster.target(member),
    "SELECT extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS age",
  );
  const age = rows[0]?.age;
  return age === null || age === undefined ? undefined : Number(age);
}

/**
 * Kills every process of a region at once (SIGKILL, exact PIDs): each member's Patroni and its
 * postmaster with every backend, the region's etcd, and pgBackRest's detached async archivers
 * (found by the region's sandbox paths). Returns the kill time and the PIDs.
 */
export function killRegion(drill: Drill, region: DrillRegion): { t: number; pids: number[] } {
  const targets: ProcessIdentity[] = [];
  const killed: number[] = [];
  const t = Date.now();
  for (const m of region.cluster.members) killed.push(...region.cluster.killNode(m.name).pids);
  killed.push(...drill.sandbox.killTree(region.etcd.proc.identity));
  targets.push(...processesMentioning(drill.sandbox.path(`${region.prefix}-`), drill.sandbox.runAs.uid));
  killed.push(...signalAll(targets, "SIGKILL"));
  return { t, pids: killed };
}

/** The environment once `region` holds the writer (the rendered role of every other region follows). */
export function promotedTopology(drill: Drill): EnvironmentTopology {
  return withWriter(drill.topology, drill.dr.region);
}
