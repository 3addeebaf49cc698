import { DATA_TIER_PORTS } from "@hcp/kube";
import { type EnvironmentTopology, physicalName, primaryRegion } from "@hcp/platform";

/**
 * Names, ports and in-container paths of the data tier. The renderers and the Kubernetes components
 * both read them from here, so a rendered file and the manifest that mounts it cannot disagree.
 */

/** TCP ports: the data tier's, as `@hcp/kube` defines them for every layer that must honour them. */
export const PORTS = DATA_TIER_PORTS;

/** Database roles that are not application roles. */
export const SYSTEM_USERS = {
  superuser: "postgres",
  replication: "replicator",
  rewind: "rewind_user",
  /** PgBouncer's `auth_user`: may only call the lookup function. */
  pgbouncerAuth: "pgbouncer_auth",
  /** Metrics scraper (pg_monitor). */
  monitoring: "hcp_monitoring",
  /** Patroni REST API basic-auth user (not a database role). */
  restApi: "patroni",
} as const;

/** Paths inside the timescaledb-ha image and the volumes the StatefulSet mounts. */
export const PATHS = {
  /** PVC mount (the image's PGROOT/pgdata). */
  dataVolume: "/home/postgres/pgdata",
  /** PGDATA, a subdirectory so Patroni can move a broken data directory aside on the same volume. */
  dataDir: "/home/postgres/pgdata/data",
  /** pgBackRest async archive spool, on the data volume so a restart does not lose queued WAL state. */
  pgbackrestSpool: "/home/postgres/pgdata/pgbackrest/spool",
  /** Unix socket directory (an emptyDir). */
  socketDir: "/var/run/postgresql",
  /** Patroni's pgpass and other scratch files (an emptyDir). */
  tmp: "/tmp",
  patroniConfig: "/etc/patroni/patroni.yml",
  pgbackrestConfig: "/etc/pgbackrest/pgbackrest.conf",
  pgbouncerConfig: "/etc/pgbouncer/pgbouncer.ini",
  pgbouncerUserlist: "/etc/pgbouncer-auth/userlist.txt",
  /** cert-manager Secret of the PostgreSQL server certificate (tls.crt, tls.key, ca.crt). */
  postgresTls: "/etc/hcp/tls/postgres",
  /** cert-manager Secret of the PgBouncer certificate. */
  pgbouncerTls: "/etc/hcp/tls/pgbouncer",
  /** cert-manager Secret of the pgBackRest TLS client/server certificate. */
  pgbackrestTls: "/etc/hcp/tls/pgbackrest",
} as const;

/** PostgreSQL binaries of a major version in the Debian/PGDG layout the image uses. */
export function binDir(postgresMajor: number): string {
  return `/usr/lib/postgresql/${postgresMajor}/bin`;
}

/** The PostgreSQL major version of a timescaledb-ha tag such as `pg16.6-ts2.17.2-all`. */
export function postgresMajorOf(imageTag: string): number {
  const match = /^pg(\d+)/.exec(imageTag);
  if (!match) {
    throw new Error(
      `Cannot read the PostgreSQL major version from image tag '${imageTag}'. Fix: use a timescaledb-ha tag ` +
        `that starts with pg<major>, e.g. pg16.6-ts2.17.2-all.`,
    );
  }
  return Number(match[1]);
}

/** Names of the data tier of one region. */
export interface DataTierNames {
  /** Kubernetes namespace of the data tier. */
  readonly namespace: string;
  /** Patroni scope (cluster name); also the StatefulSet name and the prefix of its DCS ConfigMaps. */
  readonly scope: string;
  /**
   * pgBackRest stanza this region's cluster writes when it is the writer ({@link regionStanza}): the
   * environment's stanza in the primary region, its own in a DR region.
   */
  readonly stanza: string;
  readonly services: {
    /** Selects the Patroni leader (read-write). */
    readonly primary: string;
    /** Selects the streaming replicas (read-only). */
    readonly replicas: string;
    /** Headless Service governing the StatefulSet: stable per-member DNS names. */
    readonly config: string;
    /** Internal NLB following the leader, for DR standby clusters in peered VPCs. */
    readonly replication: string;
    readonly pgbouncer: string;
  };
  /** Cluster DNS names. */
  readonly hosts: {
    readonly primary: string;
    readonly replicas: string;
    readonly pgbouncer: string;
    /** `*.<config service>...`: matches every member's stable name. */
    readonly membersWildcard: string;
    readonly replication: string;
  };
}

/**
 * The pgBackRest stanza a region's cluster writes when it is the writer: the primary region keeps
 * the environment's stanza (`hcp-<env>`, unchanged since the data tier was first deployed), a DR
 * region gets its own (`hcp-<env>-<region>`). A promoted DR cluster therefore never writes into the
 * archive or backup sets the primary wrote (a returning old primary cannot clobber them either), while
 * both live side by side in the same buckets.
 */
export function regionStanza(topology: EnvironmentTopology, region: string): string {
  return region === primaryRegion(topology).name
    ? physicalName("kubernetes", "hcp", topology.name)
    : physicalName("kubernetes", "hcp", topology.name, region);
}

/** Kubernetes namespace of the data tier. */
export const DATA_NAMESPACE = "hcp-data";

const CLUSTER_DOMAIN = "svc.cluster.local";

/** Deterministic names of the data tier of an environment's region. */
export function dataTierNames(topology: EnvironmentTopology, region: string): DataTierNames {
  const scope = physicalName("kubernetes", "pg", region);
  const services = {
    primary: scope,
    replicas: `${scope}-replicas`,
    config: `${scope}-config`,
    replication: `${scope}-replication`,
    pgbouncer: "pgbouncer",
  };
  const fqdn = (service: string) => `${service}.${DATA_NAMESPACE}.${CLUSTER_DOMAIN}`;
  return {
    namespace: DATA_NAMESPACE,
    scope,
    stanza: regionStanza(topology, region),
    services,
    hosts: {
      primary: fqdn(services.primary),
      replicas: fqdn(services.replicas),
      pgbouncer: fqdn(services.pgbouncer),
      membersWildcard: `*.${fqdn(services.config)}`,
      replication: fqdn(services.replication),
    },
  };
}

/**
 * The environment's private DNS zone for database endpoints that must be reachable across regions
 * (peered VPCs associate with it): `data.<env>.hcp.internal` (`.internal` is reserved for private
 * use by ICANN, so it can never collide with a public name).
 */
export function dataPrivateZoneName(environment: string): string {
  return `data.${environment}.hcp.internal`;
}

/**
 * The stable name of a region's replication endpoint (a record in {@link dataPrivateZoneName} that
 * points at the load balancer following the leader). It is on the server certificate, so a standby
 * in another region verifies it (verify-full), and it outlives a replaced load balancer.
 */
export function replicationHostName(environment: string, region: string): string {
  return `replication.${region}.${dataPrivateZoneName(environment)}`;
}

/** The stable DNS name of a member (pod) of the StatefulSet. */
export function memberHost(names: DataTierNames, podName: string): string {
  return `${podName}.${names.hosts.membersWildcard.slice(2)}`;
}

/**
 * Secrets Manager name of one of the data tier's secrets: `hcp/<env>/data/<purpose>` (a credential,
 * or `ca` for the CA escrow). Replicas in the DR regions keep the name.
 */
export function dataSecretName(environment: string, purpose: string): string {
  return `hcp/${environment}/data/${purpose}`;
}

/** Purpose (last name segment) of the CA escrow secret. */
export const CA_ESCROW_PURPOSE = "ca";
