/**
 * The Istio ambient mesh's system namespace (packages/workloads, `mesh: ambient`) and its exemption
 * from the policy pack's restricted-profile rules: the one place both read it from.
 */

/** Where istiod, ztunnel and the Istio CNI node agent run. */
export const MESH_SYSTEM_NAMESPACE = "istio-system";

/**
 * The pack's exemption for it (`k8s-no-host-access`, `k8s-restricted-security-context`,
 * `k8s-namespace-restricted`): the CNI node
 * agent runs in the host network with hostPath mounts of the CNI directories, ztunnel with
 * NET_ADMIN / SYS_ADMIN to enter pods' network namespaces, so the namespace enforces Pod Security
 * `privileged`. Application namespaces stay `restricted` (ambient adds nothing to their pods).
 */
export const MESH_SYSTEM_EXEMPTION = {
  name: MESH_SYSTEM_NAMESPACE,
  reason:
    "Istio ambient: the CNI node agent (host network, hostPath CNI directories) and ztunnel (NET_ADMIN, SYS_ADMIN into pod network namespaces) need the node; Pod Security privileged is enforced explicitly.",
} as const;
