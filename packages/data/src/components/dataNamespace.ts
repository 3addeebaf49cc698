import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PORTS } from "../render/layout";

/** Namespace labels other layers set to be let in. */
export const ACCESS_LABELS = {
  /** On an application namespace whose pods may connect to PgBouncer. */
  databaseClients: { key: "hcp.io/database-client", value: "true" },
  /** On the monitoring namespace (Prometheus scrapes Patroni's /metrics). */
  monitoring: { key: "hcp.io/monitoring", value: "true" },
} as const;

/** Pod label of the data tier's own database clients (bootstrap and backup Jobs). */
export const DB_CLIENT_LABEL = { key: "hcp.io/db-client", value: "true" } as const;

/** EKS Pod Identity agent (link-local on every node): where pods get their AWS credentials. */
const POD_IDENTITY_AGENT = "169.254.170.23/32";

/** Arguments of {@link DataNamespace}. */
export interface DataNamespaceArgs {
  /** Namespace name. */
  readonly name: string;
  /** Kubernetes minor version of the cluster (Pod Security Standards version pin), e.g. `1.34`. */
  readonly kubernetesVersion: string;
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
  /** CIDRs of the subnets the replication NLB lives in (its health checks come from there). */
  readonly loadBalancerSubnetCidrs: readonly string[];
}

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Port = k8s.types.input.networking.v1.NetworkPolicyPort;

const tcp = (port: number): Port => ({ protocol: "TCP", port });

/**
 * The data tier's namespace, enforcing Pod Security `restricted`, with a default-deny NetworkPolicy
 * for both directions and one allowance per flow the tier needs.
 *
 * `restricted` is possible because the timescaledb-ha image runs as the non-root user `postgres`
 * (uid 1000) and needs no capability, no privilege escalation, no host namespace or host path: its
 * writable paths are the data volume (PVC, fsGroup 1000), the socket directory and /tmp (emptyDirs).
 * Kubelet probes come from the node's own IP, which the VPC CNI policy agent always admits, so no
 * rule is needed for them.
 */
export class DataNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly policies: k8s.networking.v1.NetworkPolicy[];
  /** Namespace name (known once the namespace exists, so dependents wait for it). */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: DataNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:data:Namespace", name, {}, opts);
    const pss = `v${args.kubernetesVersion}`;
    this.namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.name,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": pss,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": pss,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": pss,
            "hcp.io/data-classification": "phi",
          },
        },
      },
      { parent: this },
    );
    this.name = this.namespace.metadata.name;

    const patroni: Peer = { podSelector: { matchLabels: { ...args.patroniLabels } } };
    const pgbouncer: Peer = { podSelector: { matchLabels: { ...args.pgbouncerLabels } } };
    const dbClients: Peer = {
      podSelector: { matchLabels: { [DB_CLIENT_LABEL.key]: DB_CLIENT_LABEL.value } },
    };
    const monitoring: Peer = {
      namespaceSelector: { matchLabels: { [ACCESS_LABELS.monitoring.key]: ACCESS_LABELS.monitoring.value } },
    };
    const appNamespaces: Peer = {
      namespaceSelector: {
        matchLabels: { [ACCESS_LABELS.databaseClients.key]: ACCESS_LABELS.databaseClients.value },
      },
    };
    const ipBlocks = (cidrs: readonly string[]): Peer[] => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    // S3 (pgBackRest, every region) and the EKS API endpoint (Patroni's DCS) have no stable CIDR:
    // HTTPS egress is open, and the S3 gateway endpoint policy and IAM narrow what it can reach.
    const https: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
      ports: [tcp(443)],
    };
    const podIdentity: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
      to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT } }],
      ports: [tcp(80)],
    };

    const policy = (
      suffix: string,
      spec: k8s.types.input.networking.v1.NetworkPolicySpec,
    ): k8s.networking.v1.NetworkPolicy =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        { metadata: { name: suffix, namespace: this.name }, spec },
        { parent: this },
      );

    this.policies = [
      policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
      policy("allow-dns", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      }),
      policy("patroni", {
        podSelector: { matchLabels: { ...args.patroniLabels } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          // Streaming replication and pg_rewind between members, pooled and Job sessions, DR standbys.
          {
            from: [patroni, pgbouncer, dbClients, ...ipBlocks(args.replicationSourceCidrs ?? [])],
            ports: [tcp(PORTS.postgres)],
          },
          // REST API: members (leader race, failsafe), metrics scraping, the NLB's leader health check.
          {
            from: [patroni, monitoring, ...ipBlocks(args.loadBalancerSubnetCidrs)],
            ports: [tcp(PORTS.patroniApi)],
          },
          // pgBackRest TLS server: only the backup Jobs.
          { from: [dbClients], ports: [tcp(PORTS.pgbackrestServer)] },
        ],
        egress: [{ to: [patroni], ports: [tcp(PORTS.postgres), tcp(PORTS.patroniApi)] }, https, podIdentity],
      }),
      policy("pgbouncer", {
        podSelector: { matchLabels: { ...args.pgbouncerLabels } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [appNamespaces, monitoring], ports: [tcp(PORTS.pgbouncer)] }],
        egress: [{ to: [patroni], ports: [tcp(PORTS.postgres)] }],
      }),
      policy("db-clients", {
        podSelector: { matchLabels: { [DB_CLIENT_LABEL.key]: DB_CLIENT_LABEL.value } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          { to: [patroni], ports: [tcp(PORTS.postgres), tcp(PORTS.pgbackrestServer)] },
          https,
          podIdentity,
        ],
      }),
    ];
    this.registerOutputs({ name: this.name });
  }
}
