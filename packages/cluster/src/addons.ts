import type { ClusterConfig } from "@hcp/platform";

/** EKS managed add-ons, pinned by version in config, and when each is installed. */

/**
 * When an add-on is installed relative to the node groups. Networking DaemonSets go first so nodes
 * join with the CNI (and its network policy agent), kube-proxy and the Pod Identity agent in place;
 * add-ons with Deployments (CoreDNS, the EBS CSI controller) need nodes to become ACTIVE.
 */
export type AddonPhase = "beforeNodes" | "afterNodes";

/** A service account an add-on runs as, with the IAM role it gets through EKS Pod Identity. */
export interface AddonServiceAccount {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** AWS-managed policies of its role (names under `arn:<partition>:iam::aws:policy/`). */
  readonly managedPolicies: readonly string[];
}

/** One add-on to install. */
export interface AddonSpec {
  /** EKS add-on name. */
  readonly name: string;
  readonly version: string;
  readonly phase: AddonPhase;
  /** JSON configuration values (validated by EKS against the add-on's schema). */
  readonly configurationValues?: string;
  /** The service account that gets a Pod Identity role. */
  readonly podIdentity?: AddonServiceAccount;
}

/**
 * VPC CNI configuration: enable the network policy agent so Kubernetes NetworkPolicies (the
 * workloads' default-deny) are enforced; without it they are accepted and silently ignored.
 */
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;

/** Service account of the EBS CSI controller (the component that calls EC2 and KMS). */
export const EBS_CSI_SERVICE_ACCOUNT: AddonServiceAccount = {
  namespace: "kube-system",
  serviceAccount: "ebs-csi-controller-sa",
  managedPolicies: ["service-role/AmazonEBSCSIDriverPolicy"],
};

/** The add-ons of every cluster, versions from config, in install order. */
export function addonPlan(versions: ClusterConfig["addons"]): AddonSpec[] {
  return [
    {
      name: "vpc-cni",
      version: versions.vpcCni,
      phase: "beforeNodes",
      configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION),
    },
    { name: "kube-proxy", version: versions.kubeProxy, phase: "beforeNodes" },
    { name: "eks-pod-identity-agent", version: versions.podIdentityAgent, phase: "beforeNodes" },
    { name: "coredns", version: versions.coredns, phase: "afterNodes" },
    {
      name: "aws-ebs-csi-driver",
      version: versions.ebsCsiDriver,
      phase: "afterNodes",
      podIdentity: EBS_CSI_SERVICE_ACCOUNT,
    },
  ];
}
