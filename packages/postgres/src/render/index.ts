import { drRegions, type EnvironmentTopology, type RegionConfig, requireRegion } from "@hcp/platform";
import { PGBOUNCER_RESERVE_POOL_SIZE, type PostgresSizing, sizePostgres } from "../sizing";
import {
  binDir,
  type DataTierNames,
  dataTierNames,
  PATHS,
  PORTS,
  postgresMajorOf,
  SYSTEM_USERS,
} from "./layout";
import {
  type ParameterValue,
  type PatroniClusterRole,
  type PatroniDcs,
  type PatroniRenderInput,
  type RenderedPatroni,
  renderPatroniConfig,
} from "./patroni";
import { type PgbouncerRenderInput, type RenderedPgbouncer, renderPgbouncerIni } from "./pgbouncer";
import {
  archiveCommand,
  backupCommand,
  type BackupType,
  type PgbackrestRenderInput,
  type PgbackrestRepo,
  type RenderedPgbackrest,
  renderPgbackrestConf,
  replicaRestoreCommand,
} from "./pgbackrest";
import { deployMarker, ENV } from "./placeholders";
import {
  clusterRole,
  permanentSlots,
  readStanzas,
  restoreCommandChain,
  slotWalKeepSize,
} from "./replication";
import { type BootstrapSqlInput, type RenderedSql, renderBootstrapSql, ROLES } from "./sql";

export * from "./layout";
export * from "./patroni";
export * from "./pgbackrest";
export * from "./pgbouncer";
export * from "./placeholders";
export * from "./replication";
export * from "./sql";
export { instanceShape, type PostgresSizing, type PostgresSizingInput, sizePostgres } from "../sizing";

/**
 * The data tier's rendered artifacts, from the environment topology alone. Pure: no Pulumi, no I/O.
 * The Pulumi program calls {@link renderArtifacts} with the deployed bucket names and key ARNs; the
 * `render` CLI and the tests call it without them (`<deploy:...>` markers). Integration tests derive
 * local variants by spreading `inputs.*` and overriding only the DCS, paths, ports and the
 * PostgreSQL-major/extension bits, then calling the low-level renderers.
 */

/** Values that exist only after deployment. */
export interface DeployValues {
  /** pgBackRest bucket name by region (this region and each DR region). */
  readonly backupBuckets?: Readonly<Record<string, string>>;
  /** KMS key ARN encrypting each region's backup bucket, by region. */
  readonly backupKmsKeyArns?: Readonly<Record<string, string>>;
}

/** Options of {@link renderArtifacts}. */
export interface RenderOptions {
  /**
   * Role of the cluster rendered. A primary cluster runs only in the writer region (the primary, or
   * the promoted DR region), a standby cluster in any other region.
   * @default - the region's role in the environment as configured ({@link clusterRole})
   */
  readonly role?: PatroniClusterRole;
  /** @default - every deploy-time value is a `<deploy:...>` marker */
  readonly deployValues?: DeployValues;
}

/** Inputs of the low-level renderers, as derived from the topology. */
export interface RenderInputs {
  readonly patroni: PatroniRenderInput;
  readonly pgbouncer: PgbouncerRenderInput;
  readonly pgbackrest: PgbackrestRenderInput;
  readonly sql: BootstrapSqlInput;
}

/** Everything {@link renderArtifacts} produces. */
export interface RenderedArtifacts {
  readonly environment: string;
  readonly region: string;
  readonly names: DataTierNames;
  readonly sizing: PostgresSizing;
  readonly inputs: RenderInputs;
  readonly patroni: RenderedPatroni;
  readonly pgbouncer: RenderedPgbouncer;
  readonly pgbackrest: RenderedPgbackrest & {
    /** Shell command of each scheduled backup type (all repositories). */
    readonly backupCommands: Readonly<Record<BackupType, string>>;
  };
  readonly sql: RenderedSql;
}

/** Raised when artifacts are requested for a region that cannot run the requested cluster role. */
export class RenderError extends Error {
  override readonly name = "RenderError";
}

/** Role label values: explicit, so Services keep selecting the leader across Patroni 3 -> 4. */
export const ROLE_LABELS = {
  label: "role",
  leader: "primary",
  follower: "replica",
  /**
   * A standby cluster's leader carries the same value as a primary's, so the primary Service (and the
   * replication NLB) of a DR cluster keep working unchanged when it is promoted.
   */
  standbyLeader: "primary",
} as const;

/** Pod labels of the Patroni members of a scope. */
export function patroniLabels(scope: string): Readonly<Record<string, string>> {
  return { "app.kubernetes.io/name": "patroni", "cluster-name": scope };
}

/** Parallel processes pgBackRest may use on a member. */
function pgbackrestProcessMax(sizing: PostgresSizing): number {
  return Math.max(1, Math.floor(sizing.node.vcpu / 4));
}

/**
 * Where and how PostgreSQL writes its log: stderr of the member's container (no logging collector,
 * so the container runtime's log file is the only copy), each line prefixed with the time in UTC and
 * the process id, then for session processes (`%q`) user, database, application and client. The
 * observability layer's Fluent Bit config builds its multiline start pattern from these, and routes
 * the pgaudit lines (`AUDIT: SESSION,...`) to the audit log group.
 */
export const POSTGRES_LOG_FORMAT = {
  log_destination: "stderr",
  logging_collector: "off",
  log_line_prefix: "%m [%p] %q%u@%d app=%a client=%h ",
  log_timezone: "UTC",
} as const;

/** The cluster-wide (DCS) PostgreSQL parameters. */
export function postgresParameters(
  topology: EnvironmentTopology,
  sizing: PostgresSizing,
  stanza: string,
): Record<string, ParameterValue> {
  return {
    ...sizing.parameters,
    wal_level: "replica",
    hot_standby: "on",
    hot_standby_feedback: "on",
    wal_log_hints: "on",
    wal_compression: "zstd",
    max_wal_senders: 10,
    max_replication_slots: 10,
    wal_keep_size: "1GB",
    // A standby cluster that stops streaming keeps its slot on the writer; past this much WAL the
    // slot is given up (the standby then catches up from the archive) instead of filling the volume.
    max_slot_wal_keep_size: slotWalKeepSize(topology),
    // A standby retries its WAL source every 5 s by default; after a promotion in strict synchronous
    // mode nothing is acknowledged until a standby streams from the new primary, so that delay is
    // write downtime. Measured with Patroni (docs/benchmarks/failover.md): node-loss recovery median
    // 22.4 s -> 18.3 s at 20/5/5.
    wal_retrieve_retry_interval: "1s",
    archive_mode: "on",
    archive_timeout: topology.data.backup.archiveTimeoutSeconds,
    archive_command: archiveCommand(stanza),
    checkpoint_timeout: "15min",
    checkpoint_completion_target: 0.9,
    random_page_cost: 1.1,
    effective_io_concurrency: 200,
    password_encryption: "scram-sha-256",
    ssl: "on",
    ssl_min_protocol_version: "TLSv1.2",
    row_security: "on",
    idle_in_transaction_session_timeout: "10min",
    track_io_timing: "on",
    timezone: "UTC",
    shared_preload_libraries: "timescaledb,pgaudit,pg_stat_statements",
    "timescaledb.telemetry_level": "off",
    "pg_stat_statements.max": 10000,
    "pg_stat_statements.track": "top",
    "pgaudit.log": "ddl, write, role",
    "pgaudit.log_catalog": "off",
    "pgaudit.log_parameter": "off",
    "pgaudit.log_relation": "on",
    "pgaudit.log_level": "log",
    "pgaudit.role": ROLES.auditor,
    ...POSTGRES_LOG_FORMAT,
    log_connections: "on",
    log_disconnections: "on",
    log_checkpoints: "on",
    log_lock_waits: "on",
    log_temp_files: "10MB",
    log_autovacuum_min_duration: "10s",
    log_min_duration_statement: 1000,
    log_statement: "none",
    // Bind parameters carry patient data: never write their values to the log.
    log_parameter_max_length: 0,
    log_parameter_max_length_on_error: 0,
  };
}

function regionOf(topology: EnvironmentTopology, name: string): RegionConfig {
  const region = topology.regions.find((r) => r.name === name);
  if (!region) {
    throw new RenderError(
      `Region ${name} is not part of environment ${topology.name} (regions: ${topology.regions
        .map((r) => r.name)
        .join(", ")}). Fix: pass one of them.`,
    );
  }
  return region;
}

/** The regional S3 endpoint (both partitions the platform supports use the amazonaws.com suffix). */
export function s3Endpoint(region: string): string {
  return `s3.${requireRegion(region).name}.amazonaws.com`;
}

/**
 * The pgBackRest repositories of a cluster: repo1 in its own region, then one per DR region of the
 * environment in topology order (a DR standby cluster's repo1 is the primary's repo in its region).
 * A DR region's cluster never lists the primary region's bucket: once promoted it archives into
 * buckets that do not depend on the region it replaces.
 */
export function backupRepositories(
  topology: EnvironmentTopology,
  region: string,
  deployValues: DeployValues = {},
): Array<PgbackrestRepo & { readonly type: "s3" }> {
  const regions = [
    region,
    ...drRegions(topology)
      .map((r) => r.name)
      .filter((r) => r !== region),
  ];
  return regions.map((name, i) => ({
    type: "s3",
    index: i + 1,
    bucket: deployValues.backupBuckets?.[name] ?? deployMarker(`repo${i + 1}-bucket`),
    region: name,
    endpoint: s3Endpoint(name),
    kmsKeyArn: deployValues.backupKmsKeyArns?.[name] ?? deployMarker(`repo${i + 1}-kms-key-arn`),
    keyType: "pod-id",
    path: "/pgbackrest",
  }));
}

/** Inputs of every renderer for an environment's region. */
export function renderInputs(
  topology: EnvironmentTopology,
  regionName: string,
  options: RenderOptions = {},
): { readonly names: DataTierNames; readonly sizing: PostgresSizing; readonly inputs: RenderInputs } {
  const region = regionOf(topology, regionName);
  const configured = clusterRole(topology, region.name);
  const role = options.role ?? configured;
  if (role.kind !== configured.kind) {
    const writer = topology.regions.find((r) => clusterRole(topology, r.name).kind === "primary")!.name;
    throw new RenderError(
      role.kind === "primary"
        ? `A primary data cluster runs in the writer region; ${regionName} is not the writer of ${topology.name} ` +
            `(${writer} is${topology.dr.promotedRegion ? ", as dr.promotedRegion says" : ""}). Fix: render ${writer}, or a standby cluster for ${regionName}.`
        : `A standby data cluster runs outside the writer region; ${regionName} is the writer of ${topology.name}. ` +
            `Fix: render it as a primary, or use one of ${topology.regions
              .filter((r) => r.name !== regionName)
              .map((r) => r.name)
              .join(", ")}.`,
    );
  }
  const names = dataTierNames(topology, region.name);
  const data = topology.data;
  const sizing = sizePostgres({
    instanceType: region.sizes.nodeGroups.database.instanceTypes[0],
    pgbouncerReplicas: region.sizes.pgbouncerReplicas,
    pgbouncerPoolSize: data.pgbouncer.defaultPoolSize,
    storageGiB: data.storageGiB,
  });
  const major = postgresMajorOf(data.image.tag);
  const tls = (dir: string) => ({
    certFile: `${dir}/tls.crt`,
    keyFile: `${dir}/tls.key`,
    caFile: `${dir}/ca.crt`,
  });
  const dcs: PatroniDcs = {
    type: "kubernetes",
    namespace: names.namespace,
    labels: patroniLabels(names.scope),
    scopeLabel: "cluster-name",
    roleLabel: ROLE_LABELS.label,
    leaderLabelValue: ROLE_LABELS.leader,
    followerLabelValue: ROLE_LABELS.follower,
    standbyLeaderLabelValue: ROLE_LABELS.standbyLeader,
  };
  // Every other region's VPC: their standby clusters stream from this one (and this one from the
  // writer when it is a standby), through the peering.
  const peerCidrs = topology.regions.filter((r) => r.name !== region.name).map((r) => r.vpcCidr);
  const stanzas = readStanzas(topology);
  const patroni: PatroniRenderInput = {
    scope: names.scope,
    dcs,
    ttlSeconds: data.patroni.ttlSeconds,
    loopWaitSeconds: data.patroni.loopWaitSeconds,
    retryTimeoutSeconds: data.patroni.retryTimeoutSeconds,
    synchronousMode: data.patroni.synchronousMode,
    maximumLagOnFailoverBytes: data.patroni.maximumLagOnFailoverBytes,
    role,
    permanentSlots: Object.keys(permanentSlots(topology, region.name)),
    postgres: {
      major,
      dataDir: PATHS.dataDir,
      binDir: binDir(major),
      port: PORTS.postgres,
      socketDir: PATHS.socketDir,
      pgpassFile: `${PATHS.tmp}/pgpass`,
      parameters: postgresParameters(topology, sizing, names.stanza),
      localParameters: {},
      tls: tls(PATHS.postgresTls),
      replicationSslMode: "verify-full",
      hba: {
        clientCidrs: [region.vpcCidr],
        replicationCidrs: [region.vpcCidr, ...peerCidrs],
        rewindCidrs: peerCidrs,
      },
      restoreCommand: restoreCommandChain(stanzas),
      // A new member restores the writer's latest backup (it is in every region's repository).
      pgbackrestReplicaCommand: replicaRestoreCommand(stanzas[0]),
    },
    restApi: { port: PORTS.patroniApi, tls: tls(PATHS.postgresTls) },
  };
  const pgbouncer: PgbouncerRenderInput = {
    databaseName: data.databaseName,
    serverHost: names.hosts.primary,
    serverPort: PORTS.postgres,
    listenPort: PORTS.pgbouncer,
    maxClientConnections: data.pgbouncer.maxClientConnections,
    defaultPoolSize: data.pgbouncer.defaultPoolSize,
    reservePoolSize: PGBOUNCER_RESERVE_POOL_SIZE,
    authUser: SYSTEM_USERS.pgbouncerAuth,
    authPasswordEnv: ENV.pgbouncerAuthPassword,
    // The pgbouncer_exporter sidecar reads SHOW POOLS / STATS / DATABASES as the metrics role.
    statsUsers: [{ user: SYSTEM_USERS.monitoring, passwordEnv: ENV.monitoringPassword }],
    files: {
      userlist: PATHS.pgbouncerUserlist,
      clientCert: `${PATHS.pgbouncerTls}/tls.crt`,
      clientKey: `${PATHS.pgbouncerTls}/tls.key`,
      serverCa: `${PATHS.pgbouncerTls}/ca.crt`,
    },
  };
  const pgbackrest: PgbackrestRenderInput = {
    stanza: names.stanza,
    readStanzas: stanzas.filter((s) => s !== names.stanza),
    repos: backupRepositories(topology, region.name, options.deployValues),
    fullRetentionCount: topology.retention.backups.fullRetentionCount,
    diffRetentionCount: topology.retention.backups.diffRetentionCount,
    processMax: pgbackrestProcessMax(sizing),
    spoolPath: PATHS.pgbackrestSpool,
    postgres: {
      dataDir: PATHS.dataDir,
      port: PORTS.postgres,
      socketDir: PATHS.socketDir,
      user: SYSTEM_USERS.superuser,
    },
    remote: {
      port: PORTS.pgbackrestServer,
      primaryHost: names.hosts.primary,
      server: tls(PATHS.postgresTls),
      client: tls(PATHS.pgbackrestTls),
      clientCommonName: PGBACKREST_CLIENT_CN,
    },
  };
  const sql: BootstrapSqlInput = {
    databaseName: data.databaseName,
    environmentName: topology.name,
    auditRetentionYears: topology.retention.auditYears,
    compressAfterDays: AUDIT_COMPRESS_AFTER_DAYS,
  };
  return { names, sizing, inputs: { patroni, pgbouncer, pgbackrest, sql } };
}

/** Common name of the backup Jobs' client certificate (the only client the TLS servers accept). */
export const PGBACKREST_CLIENT_CN = "pgbackrest-backup";

/** Audit chunks older than this are compressed. */
export const AUDIT_COMPRESS_AFTER_DAYS = 30;

/** Renders every artifact of the data tier of an environment's region. */
export function renderArtifacts(
  topology: EnvironmentTopology,
  region: string,
  options: RenderOptions = {},
): RenderedArtifacts {
  const { names, sizing, inputs } = renderInputs(topology, region, options);
  const pgbackrest = renderPgbackrestConf(inputs.pgbackrest);
  const repoIndexes = inputs.pgbackrest.repos.map((r) => r.index);
  return {
    environment: topology.name,
    region,
    names,
    sizing,
    inputs,
    patroni: renderPatroniConfig(inputs.patroni, SYSTEM_USERS),
    pgbouncer: renderPgbouncerIni(inputs.pgbouncer),
    pgbackrest: {
      ...pgbackrest,
      backupCommands: {
        full: backupCommand(names.stanza, repoIndexes, "full"),
        diff: backupCommand(names.stanza, repoIndexes, "diff"),
      },
    },
    sql: renderBootstrapSql(inputs.sql),
  };
}

/**
 * The artifacts as files (relative path -> content): what the `render` CLI writes and the golden
 * tests compare.
 */
export function artifactFiles(artifacts: RenderedArtifacts): Record<string, string> {
  const files: Record<string, string> = {
    "patroni.yml": artifacts.patroni.yaml,
    "pgbouncer.ini": artifacts.pgbouncer.ini,
    "pgbouncer-userlist.txt": artifacts.pgbouncer.userlist,
    "pgbackrest.conf": artifacts.pgbackrest.conf,
  };
  if (artifacts.pgbackrest.backupJobConf !== undefined) {
    files["pgbackrest-backup-job.conf"] = artifacts.pgbackrest.backupJobConf;
  }
  for (const [name, text] of Object.entries(artifacts.sql.files)) {
    files[`sql/${name}`] = text;
  }
  return files;
}
