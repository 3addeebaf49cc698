import type { MetricsEndpoint } from "@hcp/platform";

/**
 * Cluster services as data: the default storage class and the Helm values of the AWS Load Balancer
 * Controller, cert-manager and metrics-server.
 */

/** Annotation that marks the default StorageClass. */
export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** Name of the default StorageClass (exported in the cluster contract). */
export const DEFAULT_STORAGE_CLASS = "gp3-encrypted";

/** The StorageClass EKS creates on every cluster (in-tree provisioner, unencrypted by default). */
export const LEGACY_STORAGE_CLASS = "gp2";

/**
 * The default StorageClass: gp3 through the EBS CSI driver, encrypted with the cluster's EBS key,
 * volumes kept when their claim is deleted (a deleted PVC must not delete patient data), and bound
 * only once a pod is scheduled, so the volume is created in that pod's zone.
 */
export function defaultStorageClass<K>(kmsKeyArn: K) {
  return {
    metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } },
    provisioner: "ebs.csi.aws.com",
    parameters: {
      type: "gp3",
      encrypted: "true",
      kmsKeyId: kmsKeyArn,
      "csi.storage.k8s.io/fstype": "ext4",
    },
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}

/**
 * An ELB TLS policy that negotiates only TLS 1.3 and 1.2 with forward-secret AES-GCM suites: the
 * controller's default for every HTTPS/TLS listener without its own policy annotation.
 */
export const TLS13_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** Service account of the AWS Load Balancer Controller (its Pod Identity association targets it). */
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = {
  namespace: "kube-system",
  serviceAccount: "aws-load-balancer-controller",
} as const;

/** Node selector that keeps cluster services on the system node group. */
export const SYSTEM_NODES = { "hcp.io/node-group": "system" } as const;

/** Inputs of {@link loadBalancerControllerValues}. */
export interface LoadBalancerControllerSettings {
  readonly clusterName: string;
  readonly region: string;
  readonly vpcId: string;
}

/**
 * Chart values of the AWS Load Balancer Controller. Region and VPC are set explicitly because pods
 * cannot reach instance metadata (hop limit 1).
 */
export function loadBalancerControllerValues(s: LoadBalancerControllerSettings) {
  return {
    clusterName: s.clusterName,
    region: s.region,
    vpcId: s.vpcId,
    replicaCount: 2,
    defaultSSLPolicy: TLS13_SSL_POLICY,
    serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.serviceAccount },
    nodeSelector: SYSTEM_NODES,
    podDisruptionBudget: { maxUnavailable: 1 },
  };
}

/** Chart values of cert-manager: CRDs installed (and kept if the chart is removed), two replicas. */
export function certManagerValues() {
  return {
    crds: { enabled: true, keep: true },
    replicaCount: 2,
    nodeSelector: SYSTEM_NODES,
    webhook: { replicaCount: 2, nodeSelector: SYSTEM_NODES },
    cainjector: { replicaCount: 2, nodeSelector: SYSTEM_NODES },
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
  };
}

/**
 * The metrics endpoint of cert-manager's controller: the chart's `prometheus.enabled` (default on)
 * creates the Service `cert-manager` with the port `tcp-prometheus-servicemonitor` (9402); the
 * observability layer creates the ServiceMonitor (certificate expiry alerts).
 */
export function certManagerMetrics(namespace: string): MetricsEndpoint {
  return {
    name: "cert-manager",
    kind: "service",
    namespace,
    selector: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" },
    port: "tcp-prometheus-servicemonitor",
    path: "/metrics",
    scheme: "http",
    tls: null,
    basicAuth: null,
    exporter: "cert-manager",
  };
}

/** Chart values of metrics-server (resource metrics for HPAs). */
export function metricsServerValues() {
  return {
    replicas: 2,
    nodeSelector: SYSTEM_NODES,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
  };
}
