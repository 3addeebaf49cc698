/**
 * What other layers must honour to reach the data tier: its ports and the labels its NetworkPolicies
 * admit. One definition: the data tier's renderers and NetworkPolicies, the network layer's database
 * ACL and (later) the workloads' policies all read it from here.
 */

/** TCP ports of the data tier. */
export const DATA_TIER_PORTS = {
  /** PostgreSQL (members; replication, pg_rewind, the tier's Jobs, DR standbys). */
  postgres: 5432,
  /** Patroni REST API (members, monitoring, the replication load balancer's health check). */
  patroniApi: 8008,
  /** PgBouncer: where applications connect. */
  pgbouncer: 6432,
  /** pgBackRest TLS server (sidecar of each member; the backup Jobs connect to it). */
  pgbackrestServer: 8432,
} as const;

/** A data-tier port that crosses the network (subnets, peered VPCs), with its service name. */
export interface DataTierServicePort {
  readonly name: string;
  readonly port: number;
}

/**
 * The ports the data tier serves to the rest of the VPC and to peered VPCs, in a fixed order (network
 * ACL rule numbers follow it). The pgBackRest TLS server is reached only from pods of the tier.
 */
export const DATA_TIER_SERVICE_PORTS: readonly DataTierServicePort[] = [
  { name: "postgresql", port: DATA_TIER_PORTS.postgres },
  { name: "pgbouncer", port: DATA_TIER_PORTS.pgbouncer },
  { name: "patroni-rest", port: DATA_TIER_PORTS.patroniApi },
];

/** A Kubernetes label. */
export interface Label {
  readonly key: string;
  readonly value: string;
}

/** Namespace labels the data tier's NetworkPolicies admit. */
export const DATA_TIER_ACCESS_LABELS = {
  /** On an application namespace whose pods may connect to PgBouncer. */
  databaseClients: { key: "hcp.io/database-client", value: "true" },
  /** On the monitoring namespace (Prometheus scrapes Patroni's REST API and PgBouncer). */
  monitoring: { key: "hcp.io/monitoring", value: "true" },
} as const satisfies Readonly<Record<string, Label>>;

/** A label as a `matchLabels` / `labels` map. */
export function labelMap(...labels: readonly Label[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l.key, l.value]));
}
