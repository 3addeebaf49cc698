import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";
import { type MetricsEndpoint, metricsEndpointsSchema } from "./metrics";

/** A Kubernetes taint. */
export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

/** How to place pods on a node group: its labels and taints. */
export interface NodePlacement {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

/** What a cluster stack exports as `cluster`. */
export interface ClusterOutputs {
  readonly clusterName: string;
  /** Kubernetes minor version running. */
  readonly version: string;
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  /** Kubeconfig using `aws eks get-token` (secret). */
  readonly kubeconfig: string;
  readonly oidcIssuerUrl: string;
  readonly oidcProviderArn: string;
  readonly clusterSecurityGroupId: string;
  readonly nodeSecurityGroupId: string;
  /** Default StorageClass: gp3, encrypted with the cluster's data key, reclaimPolicy Retain. */
  readonly storageClassName: string;
  readonly kmsKeyArns: {
    /** Envelope encryption of Kubernetes Secrets. */
    readonly secrets: string;
    /** EBS volumes (node root volumes and PVCs). */
    readonly ebs: string;
  };
  /** Where the data tier runs. */
  readonly databaseNodes: NodePlacement;
  /** Metrics endpoints of the cluster services (cert-manager); observability scrapes them. */
  readonly metrics: readonly MetricsEndpoint[];
}

const schema = z.object({
  clusterName: text(),
  version: z.string().regex(/^\d+\.\d+$/, "expected a Kubernetes minor version such as 1.35"),
  endpoint: z.url({ protocol: /^https$/ }),
  certificateAuthorityData: text(),
  kubeconfig: text(),
  oidcIssuerUrl: z.url({ protocol: /^https$/ }),
  oidcProviderArn: arn(),
  clusterSecurityGroupId: text(),
  nodeSecurityGroupId: text(),
  storageClassName: text(),
  kmsKeyArns: z.object({ secrets: arn(), ebs: arn() }),
  databaseNodes: z.object({
    labels: z.record(z.string(), z.string()),
    taints: z.array(
      z.object({
        key: text(),
        value: z.string(),
        effect: z.enum(["NoSchedule", "NoExecute", "PreferNoSchedule"]),
      }),
    ),
  }),
  metrics: metricsEndpointsSchema,
});
const _matches: SchemaMatches<typeof schema, ClusterOutputs> = true;
void _matches;

/** The cluster layer's contract. */
export const clusterContract: Contract<ClusterOutputs> = {
  layer: "cluster",
  outputName: "cluster",
  schema,
  secretFields: ["kubeconfig"],
};

/** Reads the cluster stack of an environment's region. */
export function readCluster(environment: string, region: string): ContractRef<ClusterOutputs> {
  return readContract(clusterContract, stackId("cluster", environment, region));
}
