/**
 * The one Kubernetes namespace allowed to run node agents: pods that need the node itself (host
 * PID / network namespaces, hostPath volumes, root to read the container runtime's log files).
 * The observability layer creates it (Pod Security `privileged`, default-deny NetworkPolicies) and
 * runs node-exporter and Fluent Bit there; the policy pack's config (`policyConfigFor`) exempts
 * exactly this name, with this reason, from the rules the agents cannot meet. One constant, so the
 * namespace and its exemption cannot drift apart.
 */
export const NODE_AGENTS_NAMESPACE = "monitoring-agents";

/** A namespace exempt from the restricted profile, with the reason (the pack's `exemptNamespaces` entry). */
export interface NamespaceExemptionEntry {
  readonly name: string;
  readonly reason: string;
}

/** The exemption of {@link NODE_AGENTS_NAMESPACE}, as the pack's config lists it. */
export const NODE_AGENTS_EXEMPTION: NamespaceExemptionEntry = {
  name: NODE_AGENTS_NAMESPACE,
  reason:
    "node agents of the observability layer: node-exporter reads the node's /proc, /sys and root " +
    "filesystem with hostPID and hostNetwork; Fluent Bit runs as root (capabilities dropped) to read " +
    "/var/log/containers and buffers on a hostPath under /var/fluent-bit so logs survive a restart",
};
