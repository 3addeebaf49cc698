import type { NodeGroupSizes, NodePlacement, Taint } from "@hcp/platform";

/** The node groups of every cluster and how pods are placed on them. */

/** Node group names, in creation order. */
export const NODE_GROUPS = ["system", "database", "workloads"] as const;

/** One node group. */
export type NodeGroupName = (typeof NODE_GROUPS)[number];

/** Label every node carries with its group's name. */
export const NODE_GROUP_LABEL = "hcp.io/node-group";

/** Taint key that reserves a group for one tier. */
export const DEDICATED_TAINT_KEY = "hcp.io/dedicated";

/**
 * Labels and taints of a group: every group is labelled with its name; the database group is also
 * tainted so that only pods tolerating `hcp.io/dedicated=database:NoSchedule` (the data tier) run
 * there, and a noisy application pod can never take a Patroni member's memory.
 */
export function nodePlacement(group: NodeGroupName): NodePlacement {
  const taints: Taint[] =
    group === "database" ? [{ key: DEDICATED_TAINT_KEY, value: "database", effect: "NoSchedule" }] : [];
  return { labels: { [NODE_GROUP_LABEL]: group }, taints };
}

/** The EKS API spelling of a Kubernetes taint effect (`NoSchedule` -> `NO_SCHEDULE`). */
export function eksTaintEffect(effect: Taint["effect"]): "NO_SCHEDULE" | "NO_EXECUTE" | "PREFER_NO_SCHEDULE" {
  switch (effect) {
    case "NoSchedule":
      return "NO_SCHEDULE";
    case "NoExecute":
      return "NO_EXECUTE";
    case "PreferNoSchedule":
      return "PREFER_NO_SCHEDULE";
  }
}

/**
 * IMDSv2 settings of every node. Hop limit 1: the instance metadata response cannot cross the extra
 * network hop into a pod's network namespace, so pods cannot read the node role's credentials; they
 * get their own through EKS Pod Identity instead. Host-network pods (VPC CNI, kube-proxy, the Pod
 * Identity agent) still reach IMDS; the AWS Load Balancer Controller is given its region and VPC
 * explicitly and the EBS CSI node plugin falls back to the Kubernetes API for instance metadata.
 */
export const NODE_METADATA_OPTIONS = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 1,
  instanceMetadataTags: "disabled",
} as const;

/** Root device of the AL2023 EKS-optimized AMIs. */
export const ROOT_DEVICE_NAME = "/dev/xvda";

/** The EKS-optimized AMI family of every group (x86_64; the configured instance types are Intel). */
export const AMI_TYPE = "AL2023_x86_64_STANDARD";

/** Checks the configured sizes before any resource is registered; throws listing every problem. */
export function checkNodeGroupSizes(sizes: NodeGroupSizes): void {
  const problems: string[] = [];
  for (const group of NODE_GROUPS) {
    const s = sizes[group];
    if (!(s.minSize <= s.desiredSize && s.desiredSize <= s.maxSize)) {
      problems.push(
        `${group}: minSize ${s.minSize} <= desiredSize ${s.desiredSize} <= maxSize ${s.maxSize} does not hold`,
      );
    }
    if (s.instanceTypes.length === 0) {
      problems.push(`${group}: no instance types`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `Node group sizes are invalid (fix them under healthcare-platform:regions[].sizes.nodeGroups):\n  - ${problems.join("\n  - ")}`,
    );
  }
}
