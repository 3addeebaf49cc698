import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "@hcp/platform";
import { podIdentityTrustPolicy } from "../policies";
import { inheritedDependsOn } from "./dependencies";

/** Arguments of {@link PodIdentityRole}. */
export interface PodIdentityRoleArgs {
  /** Cluster whose pods assume the role. */
  readonly clusterName: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** What the role does, for its description. */
  readonly description: string;
  /**
   * AWS-managed policies to attach, by name under `arn:<partition>:iam::aws:policy/`
   * (e.g. `service-role/AmazonEBSCSIDriverPolicy`).
   * @default - none
   */
  readonly managedPolicies?: readonly string[];
  /**
   * Inline policy, given the partition.
   * @default - none
   */
  readonly inlinePolicy?: (partition: string) => pulumi.Input<PolicyDocument>;
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: a trust policy limited to
 * that service account of that cluster, its permissions, and the association that hands its
 * credentials to the pods. Nothing else can assume it.
 */
export class PodIdentityRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly association: aws.eks.PodIdentityAssociation;

  constructor(name: string, args: PodIdentityRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:PodIdentityRole", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const partition = aws.getPartitionOutput({}, { parent: this });
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    this.role = new aws.iam.Role(
      name,
      {
        description: args.description,
        assumeRolePolicy: pulumi
          .all([accountId, args.clusterName, partition.dnsSuffix])
          .apply(([a, clusterName, dnsSuffix]) =>
            JSON.stringify(
              podIdentityTrustPolicy({
                accountId: a,
                clusterName,
                namespace: args.namespace,
                serviceAccount: args.serviceAccount,
                dnsSuffix,
              }),
            ),
          ),
        maxSessionDuration: 3600,
      },
      child,
    );
    for (const policy of args.managedPolicies ?? []) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${policy.split("/").pop()!.toLowerCase()}`,
        {
          role: this.role.name,
          policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/${policy}`,
        },
        child,
      );
    }
    if (args.inlinePolicy) {
      const inline = args.inlinePolicy;
      new aws.iam.RolePolicy(
        `${name}-inline`,
        { role: this.role.id, policy: partition.partition.apply((p) => pulumi.jsonStringify(inline(p))) },
        child,
      );
    }
    this.association = new aws.eks.PodIdentityAssociation(
      name,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccount: args.serviceAccount,
        roleArn: this.role.arn,
      },
      child,
    );
    this.registerOutputs({ roleArn: this.role.arn, associationId: this.association.associationId });
  }
}
