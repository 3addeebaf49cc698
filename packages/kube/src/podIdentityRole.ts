import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "./dependencies";
import { type Grantee, type StatementList, policyDocument } from "@hcp/platform";

/**
 * An IAM role for named Kubernetes service accounts through EKS Pod Identity. The trust policy lets
 * only the EKS Pod Identity service principal assume it, only for this account, only with the session
 * tags EKS sets for this cluster, this namespace and these service accounts
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html: "restrict which service accounts,
 * namespaces, and clusters can use this role"; tag keys from
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html). An association with session
 * tags disabled cannot assume it at all: the conditions fail closed.
 */

/** Which pods may assume a Pod Identity role. */
export interface PodIdentityScope {
  readonly accountId: string;
  /** ARN of the cluster (the `eks-cluster-arn` session tag). */
  readonly clusterArn: string;
  readonly namespace: string;
  /** Service accounts of the namespace (any of them). */
  readonly serviceAccounts: readonly string[];
  /** DNS suffix of the partition (`amazonaws.com`). */
  readonly dnsSuffix: string;
}

/**
 * Trust policy of a Pod Identity role: `pods.eks` may assume it and tag the session only for pods of
 * these service accounts in this namespace of this cluster of this account.
 */
export function podIdentityTrustPolicy(scope: PodIdentityScope): StatementList {
  if (scope.serviceAccounts.length === 0) {
    throw new Error(
      "podIdentityTrustPolicy: no service accounts; the role could be assumed by none. Fix: name the " +
        "service accounts whose pods use the role.",
    );
  }
  const accounts = [...scope.serviceAccounts];
  return policyDocument([
    {
      Sid: "EksPodIdentityForNamedServiceAccounts",
      Effect: "Allow",
      Principal: { Service: `pods.eks.${scope.dnsSuffix}` },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEquals: {
          "aws:SourceAccount": scope.accountId,
          "aws:RequestTag/eks-cluster-arn": scope.clusterArn,
          "aws:RequestTag/kubernetes-namespace": scope.namespace,
          "aws:RequestTag/kubernetes-service-account": accounts.length === 1 ? accounts[0] : accounts,
        },
      },
    },
  ]);
}

/** Earlier URNs of a {@link PodIdentityRole}'s children, so a refactoring keeps their state. */
export interface PodIdentityRoleAliases {
  /** Aliases of the role. @default - none */
  readonly role?: pulumi.Input<pulumi.Alias>[];
  /** Aliases of each association, by service account. @default - none */
  readonly associations?: Readonly<Record<string, pulumi.Input<pulumi.Alias>[]>>;
}

/** Arguments of {@link PodIdentityRole}. */
export interface PodIdentityRoleArgs {
  /** Cluster whose pods assume the role. */
  readonly clusterName: pulumi.Input<string>;
  /** Namespace of the service accounts. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Service accounts whose pods get the role: one association each, named after it. Plain strings
   * (they are part of the associations' names).
   */
  readonly serviceAccounts: readonly string[];
  /** What the role does, for its description. */
  readonly description: string;
  /**
   * AWS-managed policies to attach, by name under `arn:<partition>:iam::aws:policy/`
   * (e.g. `service-role/AmazonEBSCSIDriverPolicy`).
   * @default - none
   */
  readonly managedPolicies?: readonly string[];
  /**
   * An inline policy, given the partition. Permissions on the platform's buckets and keys come from
   * their grant methods instead (`bucket.grantReadWrite(role)`).
   * @default - none
   */
  readonly inlinePolicy?: (partition: string) => pulumi.Input<aws.iam.PolicyDocument>;
  /** Longest session, seconds. @default - IAM's default (3600) */
  readonly maxSessionDurationSeconds?: number;
  /** Tags of the role and the associations (besides the provider's default tags). @default - none */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default - none */
  readonly childAliases?: PodIdentityRoleAliases;
}

/**
 * One IAM role bound to named service accounts of one namespace of one cluster through EKS Pod
 * Identity: the role (trust policy from {@link podIdentityTrustPolicy}), its managed and inline
 * policies, and one `PodIdentityAssociation` per service account. It is a {@link Grantee}:
 * `bucket.grantRead(role)` attaches a policy to it.
 */
export class PodIdentityRole extends pulumi.ComponentResource implements Grantee {
  readonly role: aws.iam.Role;
  /** Associations by service account. */
  readonly associations: Readonly<Record<string, aws.eks.PodIdentityAssociation>>;
  readonly arn: pulumi.Output<string>;
  readonly grantName: string;
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: PodIdentityRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    const duplicates = args.serviceAccounts.filter((sa, i) => args.serviceAccounts.indexOf(sa) !== i);
    if (args.serviceAccounts.length === 0 || duplicates.length > 0) {
      throw new Error(
        `PodIdentityRole ${name}: service accounts [${args.serviceAccounts.join(", ")}] ` +
          `${duplicates.length > 0 ? `name ${duplicates.join(", ")} twice` : "are empty"}. Fix: list each ` +
          "service account whose pods use the role once.",
      );
    }
    super("hcp:kube:PodIdentityRole", name, {}, opts);
    const partition = aws.getPartitionOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const clusterArn = pulumi.interpolate`arn:${partition.partition}:eks:${region}:${accountId}:cluster/${args.clusterName}`;

    this.role = new aws.iam.Role(
      name,
      {
        description: args.description,
        assumeRolePolicy: pulumi
          .all([accountId, clusterArn, pulumi.output(args.namespace), partition.dnsSuffix])
          .apply(([account, cluster, namespace, dnsSuffix]) =>
            JSON.stringify(
              podIdentityTrustPolicy({
                accountId: account,
                clusterArn: cluster,
                namespace,
                serviceAccounts: args.serviceAccounts,
                dnsSuffix,
              }),
            ),
          ),
        ...(args.maxSessionDurationSeconds !== undefined
          ? { maxSessionDuration: args.maxSessionDurationSeconds }
          : {}),
        ...(args.tags ? { tags: { ...args.tags } } : {}),
      },
      { parent: this, dependsOn: inheritedDependsOn(opts), aliases: args.childAliases?.role },
    );
    this.arn = this.role.arn;
    this.grantName = name;
    this.roleName = this.role.name;

    for (const policy of args.managedPolicies ?? []) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${policy.split("/").pop()!.toLowerCase()}`,
        {
          role: this.role.name,
          policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/${policy}`,
        },
        { parent: this, dependsOn: inheritedDependsOn(opts) },
      );
    }
    if (args.inlinePolicy) {
      const inline = args.inlinePolicy;
      new aws.iam.RolePolicy(
        `${name}-inline`,
        { role: this.role.id, policy: partition.partition.apply((p) => pulumi.jsonStringify(inline(p))) },
        { parent: this, dependsOn: inheritedDependsOn(opts) },
      );
    }
    this.associations = Object.fromEntries(
      args.serviceAccounts.map((serviceAccount) => [
        serviceAccount,
        new aws.eks.PodIdentityAssociation(
          `${name}-${serviceAccount}`,
          {
            clusterName: args.clusterName,
            namespace: args.namespace,
            serviceAccount,
            roleArn: this.role.arn,
            ...(args.tags ? { tags: { ...args.tags } } : {}),
          },
          {
            parent: this,
            dependsOn: inheritedDependsOn(opts),
            aliases: args.childAliases?.associations?.[serviceAccount],
          },
        ),
      ]),
    );
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
