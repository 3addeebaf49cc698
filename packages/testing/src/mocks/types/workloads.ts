import { ingressGroupLoadBalancerName } from "../albNames";
import { arn, type MockResourceContext, type OutputsFn, str } from "../values";

/**
 * Structured outputs of the workloads layer's types: ACM's DNS validation records (one per domain
 * name, CNAMEs under the zone as ACM issues them) and the status the AWS Load Balancer Controller
 * writes on an Ingress (the ALB's host name).
 */

function validationOptions(ctx: MockResourceContext) {
  const names = [
    str(ctx.inputs["domainName"]),
    ...((ctx.inputs["subjectAlternativeNames"] as unknown[]) ?? []),
  ]
    .map((n) => str(n))
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)].map((domainName) => {
    const t = ctx.token(`validation-${domainName}`);
    return {
      domainName,
      resourceRecordName: `_${t.slice(0, 32)}.${domainName}.`,
      resourceRecordType: "CNAME",
      resourceRecordValue: `_${t.slice(32, 64).padEnd(32, "0")}.acm-validations.aws.`,
    };
  });
}

export const WORKLOADS_OUTPUTS: Record<string, OutputsFn> = {
  "aws:acm/certificate:Certificate": (ctx) => ({
    arn: arn(
      ctx,
      "acm",
      `certificate/${ctx.token("id").slice(0, 8)}-0000-4000-8000-${ctx.token("id2").slice(0, 12)}`,
    ),
    domainValidationOptions: validationOptions(ctx),
    status: "ISSUED",
  }),
  "kubernetes:networking.k8s.io/v1:Ingress": (ctx) => {
    const group =
      str(
        (ctx.inputs["metadata"] as Record<string, unknown> | undefined)?.["annotations"] &&
          (ctx.inputs["metadata"] as { annotations: Record<string, unknown> }).annotations[
            "alb.ingress.kubernetes.io/group.name"
          ],
      ) ?? "default";
    // One ALB per IngressGroup: the same host name for every Ingress of the group. A Kubernetes
    // provider has no region: the name carries the group's hash only.
    const region = ctx.region ? `${ctx.region}.` : "";
    const host = `${ingressGroupLoadBalancerName(group)}.${region}elb.amazonaws.com`;
    return { status: { loadBalancer: { ingress: [{ hostname: host }] } } };
  },
};
