import type { SynchronousMode } from "@hcp/platform";
import { stringify } from "yaml";
import { ENV, envRef } from "./placeholders";

/** Where Patroni keeps its leader lock and cluster state. */
export type PatroniDcs =
  | {
      /** Kubernetes API, ConfigMaps mode (what runs in the clusters). */
      readonly type: "kubernetes";
      readonly namespace: string;
      /** Labels Patroni puts on (and selects) its ConfigMaps and pods. */
      readonly labels: Readonly<Record<string, string>>;
      /** Label holding the scope. */
      readonly scopeLabel: string;
      /** Label Patroni sets to the member's role. */
      readonly roleLabel: string;
      /** Role label value of the leader of a primary cluster. */
      readonly leaderLabelValue: string;
      /** Role label value of a streaming replica. */
      readonly followerLabelValue: string;
      /** Role label value of the leader of a standby cluster. */
      readonly standbyLeaderLabelValue: string;
    }
  | {
      /** etcd v3 (local/integration variants: Debian's Patroni + etcd). */
      readonly type: "etcd3";
      /** `host:port` of each etcd member. */
      readonly hosts: readonly string[];
    };

/** TLS files of PostgreSQL (server certificate, key and the CA that signs every member). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** libpq `sslmode` of member-to-member and standby connections. */
export type ReplicationSslMode = "require" | "verify-ca" | "verify-full";

/** What a standby cluster streams from (the writer region's cluster). */
export interface StandbySource {
  /**
   * An endpoint that always follows the source cluster's leader: the stable private DNS name of its
   * replication NLB (`replication.<region>.data.<env>.hcp.internal`), which is on the source's server
   * certificate.
   */
  readonly host: string;
  readonly port: number;
  /**
   * libpq sslmode towards the source. The replication host name is on the source's certificate, so
   * `verify-full` works (the members' `postgresql.authentication.replication.sslmode` is what Patroni
   * uses for the standby leader's connection, and it is the same value).
   */
  readonly sslMode: ReplicationSslMode;
  /** Physical replication slot on the source that keeps WAL for this standby cluster. */
  readonly primarySlotName: string;
  /** Fallback when streaming is not possible: fetch WAL from the pgBackRest repositories. */
  readonly restoreCommand?: string;
}

/** `standby_cluster` as Patroni's dynamic configuration holds it. */
export interface StandbyClusterConfig {
  readonly host: string;
  readonly port: number;
  readonly primary_slot_name: string;
  readonly create_replica_methods: readonly string[];
  readonly restore_command?: string;
}

/**
 * How a standby cluster bootstraps its leader: from the pgBackRest repository in its own region (a
 * restore of the writer's latest backup, then WAL from the archive and the stream), falling back to
 * pg_basebackup over the inter-region path when the repository has no backup yet.
 */
export const STANDBY_REPLICA_METHODS = ["pgbackrest", "basebackup"] as const;

/** `standby_cluster` of a source. */
export function standbyClusterConfig(source: StandbySource): StandbyClusterConfig {
  return {
    host: source.host,
    port: source.port,
    primary_slot_name: source.primarySlotName,
    create_replica_methods: [...STANDBY_REPLICA_METHODS],
    ...(source.restoreCommand ? { restore_command: source.restoreCommand } : {}),
  };
}

/** Role of the cluster. */
export type PatroniClusterRole =
  /** Accepts writes; the leader is the primary. */
  | { readonly kind: "primary" }
  /** Streams from another cluster (`standby_cluster`); its leader is a cascading standby. */
  | { readonly kind: "standby"; readonly source: StandbySource };

/** pg_hba sources. */
export interface HbaSources {
  /** CIDRs that may open database sessions (the VPC: pods get VPC addresses). */
  readonly clientCidrs: readonly string[];
  /** CIDRs that may open replication sessions (this VPC and the other regions' VPCs). */
  readonly replicationCidrs: readonly string[];
  /**
   * CIDRs outside `clientCidrs` from which the rewind user may connect to the `postgres` database:
   * the other regions' VPCs, so a standby leader whose timeline diverged (an old primary fenced after
   * a promotion) can pg_rewind from the cluster it now follows.
   * @default - none
   */
  readonly rewindCidrs?: readonly string[];
}

/** PostgreSQL parameter value as Patroni writes it. */
export type ParameterValue = string | number | boolean;

/** Input of {@link renderPatroniConfig}. Every field is a value, nothing is computed from topology here. */
export interface PatroniRenderInput {
  /** Patroni scope (cluster name). */
  readonly scope: string;
  readonly dcs: PatroniDcs;
  readonly ttlSeconds: number;
  readonly loopWaitSeconds: number;
  readonly retryTimeoutSeconds: number;
  readonly synchronousMode: SynchronousMode;
  readonly maximumLagOnFailoverBytes: number;
  readonly role: PatroniClusterRole;
  /**
   * Permanent physical replication slots of the cluster (the slot each other region's standby cluster
   * streams through, while this cluster is the writer).
   * @default - none
   */
  readonly permanentSlots?: readonly string[];
  readonly postgres: {
    readonly major: number;
    readonly dataDir: string;
    readonly binDir: string;
    readonly port: number;
    /** Unix socket directory (Patroni connects through it). */
    readonly socketDir: string;
    /** Patroni's pgpass file (must be writable). */
    readonly pgpassFile: string;
    /** Cluster-wide parameters (bootstrap DCS). */
    readonly parameters: Readonly<Record<string, ParameterValue>>;
    /** Member-local parameters (file paths). */
    readonly localParameters: Readonly<Record<string, ParameterValue>>;
    readonly tls: TlsFiles;
    /** sslmode of replication and pg_rewind connections between members. */
    readonly replicationSslMode: ReplicationSslMode;
    readonly hba: HbaSources;
    /** restore_command used by replicas that fall behind the primary's WAL retention. */
    readonly restoreCommand: string;
    /** pgBackRest restore command used to build a new replica; `undefined` uses pg_basebackup only. */
    readonly pgbackrestReplicaCommand?: string;
  };
  readonly restApi: {
    readonly port: number;
    /** HTTPS with the PostgreSQL certificate; `undefined` serves plain HTTP (local variants only). */
    readonly tls?: TlsFiles;
  };
}

/** The typed content of `patroni.yml`. Keys are Patroni's. */
export interface PatroniConfig {
  readonly scope: string;
  readonly name: string;
  readonly restapi: {
    readonly listen: string;
    readonly connect_address: string;
    readonly authentication: { readonly username: string; readonly password: string };
    readonly certfile?: string;
    readonly keyfile?: string;
    readonly cafile?: string;
    readonly verify_client?: "none";
  };
  readonly kubernetes?: {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly scope_label: string;
    readonly role_label: string;
    readonly leader_label_value: string;
    readonly follower_label_value: string;
    readonly standby_leader_label_value: string;
    readonly use_endpoints: false;
  };
  readonly etcd3?: { readonly hosts: readonly string[] };
  readonly bootstrap: {
    readonly dcs: {
      readonly ttl: number;
      readonly loop_wait: number;
      readonly retry_timeout: number;
      readonly maximum_lag_on_failover: number;
      readonly synchronous_mode: boolean;
      readonly synchronous_mode_strict: boolean;
      readonly synchronous_node_count: number;
      readonly failsafe_mode: boolean;
      readonly standby_cluster?: StandbyClusterConfig;
      readonly slots?: Readonly<Record<string, { readonly type: "physical" }>>;
      readonly postgresql: {
        readonly use_pg_rewind: boolean;
        readonly use_slots: boolean;
        readonly parameters: Readonly<Record<string, ParameterValue>>;
      };
    };
    readonly initdb: ReadonlyArray<string | Readonly<Record<string, string>>>;
  };
  readonly postgresql: {
    readonly listen: string;
    readonly connect_address: string;
    readonly data_dir: string;
    readonly bin_dir: string;
    readonly pgpass: string;
    readonly use_unix_socket: boolean;
    readonly use_unix_socket_repl: boolean;
    readonly authentication: {
      readonly superuser: { readonly username: string; readonly password: string };
      readonly replication: PatroniConnectionAuth;
      readonly rewind: PatroniConnectionAuth;
    };
    readonly parameters: Readonly<Record<string, ParameterValue>>;
    readonly pg_hba: readonly string[];
    readonly create_replica_methods: readonly string[];
    readonly pgbackrest?: {
      readonly command: string;
      readonly keep_data: boolean;
      readonly no_params: boolean;
    };
    readonly basebackup: ReadonlyArray<Readonly<Record<string, string>>>;
    readonly recovery_conf: { readonly restore_command: string };
  };
  readonly watchdog: { readonly mode: "off" };
  readonly tags: {
    readonly nofailover: boolean;
    readonly noloadbalance: boolean;
    readonly clonefrom: boolean;
    readonly nosync: boolean;
  };
}

/** Credentials Patroni uses for a network connection to another member. */
export interface PatroniConnectionAuth {
  readonly username: string;
  readonly password: string;
  readonly sslmode: ReplicationSslMode;
  readonly sslrootcert: string;
}

/** Rendered Patroni configuration: the typed object and its YAML text. */
export interface RenderedPatroni {
  readonly config: PatroniConfig;
  readonly yaml: string;
}

/** A rule Patroni enforces; checked before rendering so a bad value never reaches a cluster. */
export function checkPatroniTiming(input: {
  readonly ttlSeconds: number;
  readonly loopWaitSeconds: number;
  readonly retryTimeoutSeconds: number;
}): string[] {
  const { ttlSeconds: ttl, loopWaitSeconds: loop, retryTimeoutSeconds: retry } = input;
  const problems: string[] = [];
  if (loop + 2 * retry > ttl) {
    problems.push(
      `loop_wait (${loop}) + 2 * retry_timeout (${retry}) = ${loop + 2 * retry} exceeds ttl (${ttl}): ` +
        `the leader could lose its lock while still retrying the DCS. Fix: raise ttl to ${loop + 2 * retry} or lower the others.`,
    );
  }
  return problems;
}

/** `synchronous_mode` / `synchronous_mode_strict` of a posture. */
export function synchronousSettings(mode: SynchronousMode): {
  readonly synchronous_mode: boolean;
  readonly synchronous_mode_strict: boolean;
} {
  return { synchronous_mode: mode !== "off", synchronous_mode_strict: mode === "strict" };
}

/**
 * pg_hba: TLS only over the network. Unix-socket sessions exist only inside a member's pod: the
 * superuser by peer authentication (Patroni and pgBackRest run as the OS user `postgres`), everyone
 * else by scram-sha-256. Every network line is `hostssl ... scram-sha-256`, limited to the given
 * CIDRs; there is no `host` line, so a non-TLS or unlisted connection matches nothing and is rejected.
 */
export function renderPgHba(
  hba: HbaSources,
  users: { readonly replication: string; readonly superuser: string; readonly rewind: string },
): string[] {
  return [
    `local all ${users.superuser} peer`,
    "local all all scram-sha-256",
    ...hba.replicationCidrs.map((cidr) => `hostssl replication ${users.replication} ${cidr} scram-sha-256`),
    ...(hba.rewindCidrs ?? []).map((cidr) => `hostssl postgres ${users.rewind} ${cidr} scram-sha-256`),
    ...hba.clientCidrs.map((cidr) => `hostssl all all ${cidr} scram-sha-256`),
  ];
}

/**
 * Renders `patroni.yml`. Per-member values (name, connect addresses) and passwords are `${...}`
 * environment references: the pod sets Patroni's own variables, which take precedence over the file.
 */
export function renderPatroniConfig(
  input: PatroniRenderInput,
  users: {
    readonly superuser: string;
    readonly replication: string;
    readonly rewind: string;
    readonly restApi: string;
  } = { superuser: "postgres", replication: "replicator", rewind: "rewind_user", restApi: "patroni" },
): RenderedPatroni {
  const problems = checkPatroniTiming(input);
  if (problems.length > 0) {
    throw new Error(`Invalid Patroni settings for ${input.scope}: ${problems.join("; ")}`);
  }
  const pg = input.postgres;
  const connection = (username: string, passwordEnv: string): PatroniConnectionAuth => ({
    username,
    password: envRef(passwordEnv),
    sslmode: pg.replicationSslMode,
    sslrootcert: pg.tls.caFile,
  });
  const replicaMethods = pg.pgbackrestReplicaCommand ? ["pgbackrest", "basebackup"] : ["basebackup"];
  const standby =
    input.role.kind === "standby" ? { standby_cluster: standbyClusterConfig(input.role.source) } : {};
  const slots = input.permanentSlots ?? [];
  const permanent =
    slots.length > 0
      ? { slots: Object.fromEntries(slots.map((slot) => [slot, { type: "physical" as const }])) }
      : {};
  const dcs = input.dcs;
  const dcsSection =
    dcs.type === "kubernetes"
      ? {
          kubernetes: {
            namespace: dcs.namespace,
            labels: dcs.labels,
            scope_label: dcs.scopeLabel,
            role_label: dcs.roleLabel,
            leader_label_value: dcs.leaderLabelValue,
            follower_label_value: dcs.followerLabelValue,
            standby_leader_label_value: dcs.standbyLeaderLabelValue,
            use_endpoints: false as const,
          },
        }
      : { etcd3: { hosts: dcs.hosts } };
  const restTls = input.restApi.tls
    ? {
        certfile: input.restApi.tls.certFile,
        keyfile: input.restApi.tls.keyFile,
        cafile: input.restApi.tls.caFile,
        verify_client: "none" as const,
      }
    : {};

  const config: PatroniConfig = {
    scope: input.scope,
    name: envRef(ENV.memberName),
    restapi: {
      listen: `0.0.0.0:${input.restApi.port}`,
      connect_address: envRef(ENV.restApiConnectAddress),
      authentication: { username: users.restApi, password: envRef(ENV.restApiPassword) },
      ...restTls,
    },
    ...dcsSection,
    bootstrap: {
      dcs: {
        ttl: input.ttlSeconds,
        loop_wait: input.loopWaitSeconds,
        retry_timeout: input.retryTimeoutSeconds,
        maximum_lag_on_failover: input.maximumLagOnFailoverBytes,
        ...synchronousSettings(input.synchronousMode),
        synchronous_node_count: 1,
        failsafe_mode: true,
        ...standby,
        ...permanent,
        postgresql: { use_pg_rewind: true, use_slots: true, parameters: pg.parameters },
      },
      initdb: [{ encoding: "UTF8" }, { locale: "C.UTF-8" }, "data-checksums"],
    },
    postgresql: {
      listen: `0.0.0.0:${pg.port}`,
      connect_address: envRef(ENV.postgresConnectAddress),
      data_dir: pg.dataDir,
      bin_dir: pg.binDir,
      pgpass: pg.pgpassFile,
      use_unix_socket: true,
      use_unix_socket_repl: false,
      authentication: {
        superuser: { username: users.superuser, password: envRef(ENV.superuserPassword) },
        replication: connection(users.replication, ENV.replicationPassword),
        rewind: connection(users.rewind, ENV.rewindPassword),
      },
      parameters: {
        ...pg.localParameters,
        unix_socket_directories: pg.socketDir,
        ssl_cert_file: pg.tls.certFile,
        ssl_key_file: pg.tls.keyFile,
        ssl_ca_file: pg.tls.caFile,
      },
      pg_hba: renderPgHba(pg.hba, users),
      create_replica_methods: replicaMethods,
      ...(pg.pgbackrestReplicaCommand
        ? { pgbackrest: { command: pg.pgbackrestReplicaCommand, keep_data: true, no_params: true } }
        : {}),
      basebackup: [{ checkpoint: "fast" }],
      recovery_conf: { restore_command: pg.restoreCommand },
    },
    // No watchdog device in a pod; split-brain safety rests on the DCS lease (ttl) and failsafe_mode.
    watchdog: { mode: "off" },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return { config, yaml: patroniYaml(config, input) };
}

function patroniYaml(config: PatroniConfig, input: PatroniRenderInput): string {
  const header = [
    `# Patroni configuration of ${input.scope} (PostgreSQL ${input.postgres.major}), rendered by @hcp/data.`,
    "# ${...} values are environment variables of the Patroni container; Patroni reads PATRONI_* variables",
    "# itself and they take precedence over this file, so no secret or per-member value is stored here.",
    `# Timing: ttl ${input.ttlSeconds}s >= loop_wait ${input.loopWaitSeconds}s + 2 * retry_timeout ${input.retryTimeoutSeconds}s; ` +
      `synchronous mode: ${input.synchronousMode}.`,
    "# The bootstrap.dcs section applies when the cluster is created; later changes go through",
    "# `patronictl edit-config` (see the data tier runbook).",
  ];
  return `${header.join("\n")}\n${stringify(config, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false })}`;
}
