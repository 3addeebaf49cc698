import { DATA_TIER_ACCESS_LABELS, labelMap, type Peer, type PodFlows } from "@hcp/kube";
import { METRICS_PORTS, PGBACKREST_EXPORTER_LABELS } from "./metrics";
import { PORTS } from "./render/layout";

/** Pod label of the data tier's own database clients (the bootstrap and backup Jobs). */
export const DB_CLIENT_LABEL = { key: "hcp.io/db-client", value: "true" } as const;

/** EKS Pod Identity agent (link-local on every node): where pods get their AWS credentials. */
export const POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32";

/** Inputs of {@link dataTierPolicies}. */
export interface DataTierPoliciesInput {
  /** Labels selecting the Patroni members. */
  readonly patroniLabels: Readonly<Record<string, string>>;
  /** Labels selecting the PgBouncer pods. */
  readonly pgbouncerLabels: Readonly<Record<string, string>>;
  /**
   * CIDRs of the VPCs whose standby clusters stream from this cluster through the replication NLB
   * (client IPs are preserved, so the DR pods' addresses arrive here).
   * @default - none
   */
  readonly replicationSourceCidrs?: readonly string[];
  /**
   * CIDRs of the VPCs whose replication endpoints this cluster's members may connect to (the writer's,
   * while this cluster is a standby: streaming and pg_rewind through the peering).
   * @default - none
   */
  readonly replicationTargetCidrs?: readonly string[];
  /** CIDRs of the subnets the replication NLB lives in (its health checks come from there). */
  readonly loadBalancerSubnetCidrs: readonly string[];
  /**
   * Admit the monitoring namespace to the exporters (postgres_exporter in the members, pgbouncer_exporter
   * in PgBouncer, the pgBackRest exporter).
   * @default false
   */
  readonly metrics?: boolean;
}

/**
 * The flows of a data-tier namespace (for `RestrictedNamespace`'s `policies`), one policy per kind of
 * pod:
 * - `patroni`: PostgreSQL from the other members (replication, pg_rewind), PgBouncer, the tier's Jobs
 *   and the other regions' VPCs; the REST API from the members (leader race, failsafe), monitoring and
 *   the NLB's health check; the pgBackRest TLS server from the Jobs only. Out: the members, PostgreSQL
 *   of the other regions' VPCs (a standby leader streams from the writer's replication endpoint),
 *   HTTPS (S3 in every region and the EKS API, which have no stable CIDR: the S3 gateway endpoint
 *   policy and IAM narrow what it reaches) and the Pod Identity agent.
 * - `pgbouncer`: clients from namespaces labelled `hcp.io/database-client=true` and monitoring; out to
 *   the members' PostgreSQL only.
 * - `db-clients` (pods labelled `hcp.io/db-client=true`): out to the members' PostgreSQL and pgBackRest
 *   server, HTTPS and the Pod Identity agent; nothing in.
 */
export function dataTierPolicies(input: DataTierPoliciesInput): Record<string, PodFlows> {
  const patroni: Peer = { pods: input.patroniLabels };
  const pgbouncer: Peer = { pods: input.pgbouncerLabels };
  const dbClients: Peer = { pods: labelMap(DB_CLIENT_LABEL) };
  const monitoring: Peer = { namespaces: labelMap(DATA_TIER_ACCESS_LABELS.monitoring) };
  const appNamespaces: Peer = { namespaces: labelMap(DATA_TIER_ACCESS_LABELS.databaseClients) };
  const ipBlocks = (cidrs: readonly string[]): Peer[] => cidrs.map((cidr) => ({ cidr }));
  const https = { peers: [{ cidr: "0.0.0.0/0" }], ports: [443] };
  const podIdentity = { peers: [{ cidr: POD_IDENTITY_AGENT_CIDR }], ports: [80] };
  return {
    patroni: {
      pods: input.patroniLabels,
      ingress: [
        {
          peers: [patroni, pgbouncer, dbClients, ...ipBlocks(input.replicationSourceCidrs ?? [])],
          ports: [PORTS.postgres],
        },
        {
          peers: [patroni, monitoring, ...ipBlocks(input.loadBalancerSubnetCidrs)],
          ports: [PORTS.patroniApi],
        },
        { peers: [dbClients], ports: [PORTS.pgbackrestServer] },
        ...(input.metrics ? [{ peers: [monitoring], ports: [METRICS_PORTS.postgresExporter] }] : []),
      ],
      egress: [
        { peers: [patroni], ports: [PORTS.postgres, PORTS.patroniApi] },
        ...((input.replicationTargetCidrs ?? []).length > 0
          ? [{ peers: ipBlocks(input.replicationTargetCidrs ?? []), ports: [PORTS.postgres] }]
          : []),
        https,
        podIdentity,
      ],
    },
    pgbouncer: {
      pods: input.pgbouncerLabels,
      ingress: [
        { peers: [appNamespaces, monitoring], ports: [PORTS.pgbouncer] },
        ...(input.metrics ? [{ peers: [monitoring], ports: [METRICS_PORTS.pgbouncerExporter] }] : []),
      ],
      egress: [{ peers: [patroni], ports: [PORTS.postgres] }],
    },
    "db-clients": {
      pods: labelMap(DB_CLIENT_LABEL),
      egress: [{ peers: [patroni], ports: [PORTS.postgres, PORTS.pgbackrestServer] }, https, podIdentity],
    },
    // Its egress is the Jobs' (it carries their client label); this admits the scrapes.
    ...(input.metrics
      ? {
          "pgbackrest-exporter": {
            pods: PGBACKREST_EXPORTER_LABELS,
            ingress: [{ peers: [monitoring], ports: [METRICS_PORTS.pgbackrestExporter] }],
          },
        }
      : {}),
  };
}
