/**
 * The name the mocks give an IngressGroup's ALB, shared by the Ingress status (the first label of the
 * host name, `types/workloads.ts`) and `aws.lb.getLoadBalancer` (`strict.ts`), so both describe the
 * same load balancer. Shaped like the controller's generated names (`k8s-<group>-<hash>`).
 */
export function ingressGroupLoadBalancerName(group: string): string {
  const t = Buffer.from(group).toString("hex").padEnd(10, "0");
  return `k8s-${group.slice(0, 8)}-${t.slice(0, 10)}`;
}
