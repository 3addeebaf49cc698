import { arn, guardDutyDetectorId, type MockResourceContext, type OutputsFn, str } from "../values";

/**
 * Structured outputs of the cluster layer's types: launch template versions are numbers, EKS
 * sub-resources have ARNs under their cluster, timestamps are RFC 3339.
 */

/** A fixed creation time: the mocks must be deterministic. */
const CREATED_AT = "2026-01-01T00:00:00Z";

/** A UUID-shaped id derived from a token (EKS sub-resource ARNs end in one). */
function uuid(ctx: MockResourceContext, attr: string): string {
  const t = `${ctx.token(`${attr}1`)}${ctx.token(`${attr}2`)}`;
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20, 32)}`;
}

function cluster(ctx: MockResourceContext): string {
  return str(ctx.inputs["clusterName"]) ?? "cluster";
}

export const CLUSTER_OUTPUTS: Record<string, OutputsFn> = {
  // Computed by GuardDuty; the detector's ARN ends in its id (the same token as mockId's).
  "aws:guardduty/detector:Detector": (ctx) => ({
    accountId: ctx.accountId,
    arn: arn(ctx, "guardduty", `detector/${guardDutyDetectorId(ctx.token("detectorId"))}`),
  }),
  "aws:ec2/launchTemplate:LaunchTemplate": (ctx) => ({
    arn: arn(ctx, "ec2", `launch-template/lt-${ctx.token("id")}`),
    latestVersion: 1,
    defaultVersion: 1,
  }),
  "aws:eks/accessEntry:AccessEntry": (ctx) => {
    const principal = str(ctx.inputs["principalArn"]) ?? "";
    const resource = principal.slice(principal.lastIndexOf(":") + 1);
    return {
      accessEntryArn: arn(ctx, "eks", `access-entry/${cluster(ctx)}/${resource}/${uuid(ctx, "entry")}`),
      userName: principal,
      createdAt: CREATED_AT,
      modifiedAt: CREATED_AT,
    };
  },
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": () => ({
    associatedAt: CREATED_AT,
    modifiedAt: CREATED_AT,
  }),
  "aws:eks/addon:Addon": (ctx) => ({
    arn: arn(
      ctx,
      "eks",
      `addon/${cluster(ctx)}/${str(ctx.inputs["addonName"]) ?? ctx.name}/${uuid(ctx, "addon")}`,
    ),
    createdAt: CREATED_AT,
    modifiedAt: CREATED_AT,
  }),
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": (ctx) => {
    const id = `a-${ctx.token("association")}`;
    return {
      associationId: id,
      associationArn: arn(ctx, "eks", `podidentityassociation/${cluster(ctx)}/${id}`),
      externalId: uuid(ctx, "external"),
    };
  },
};
