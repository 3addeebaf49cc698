import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ACCESS_POLICIES, type AccessLevel, accessGrants } from "../access";

/** Arguments of {@link ClusterAccess}. */
export interface ClusterAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  /** IAM principals with cluster-admin access (break-glass roles). */
  readonly adminPrincipals: readonly string[];
  /** IAM principals with read-only access (no Secrets). */
  readonly readonlyPrincipals: readonly string[];
  /**
   * Role that runs `pulumi up` in CI: admin, so the cluster layer (and the layers after it) can
   * manage in-cluster resources, since the cluster creator gets no implicit access.
   */
  readonly deployRoleArn: pulumi.Input<string>;
}

/**
 * Access entries (authentication mode `API`) with one cluster-wide access policy each: the
 * configured admins and the CI deploy role get `AmazonEKSClusterAdminPolicy`, read-only principals
 * `AmazonEKSViewPolicy`. Nobody else, the cluster's creator included, can call the API.
 */
export class ClusterAccess extends pulumi.ComponentResource {
  /** Policy associations, so Kubernetes resources can wait for access to exist. */
  readonly associations: aws.eks.AccessPolicyAssociation[] = [];

  constructor(name: string, args: ClusterAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:ClusterAccess", name, {}, opts);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const grant = (key: string, principalArn: pulumi.Input<string>, level: AccessLevel) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-${key}`,
        { clusterName: args.clusterName, principalArn, type: "STANDARD" },
        { parent: this },
      );
      this.associations.push(
        new aws.eks.AccessPolicyAssociation(
          `${name}-${key}`,
          {
            clusterName: args.clusterName,
            principalArn: entry.principalArn,
            policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${ACCESS_POLICIES[level]}`,
            accessScope: { type: "cluster" },
          },
          { parent: this },
        ),
      );
    };
    for (const g of accessGrants(args.adminPrincipals, args.readonlyPrincipals)) {
      grant(g.key, g.principalArn, g.level);
    }
    // One access entry per principal: the deploy role must not also be listed in the config.
    const configured = [...args.adminPrincipals, ...args.readonlyPrincipals];
    const deployRole = pulumi.output(args.deployRoleArn).apply((arn) => {
      if (configured.includes(arn)) {
        throw new Error(
          `${arn} (the CI deploy role) is also listed in healthcare-platform:access; it gets admin access ` +
            `automatically. Fix: remove it from adminPrincipals/readonlyPrincipals.`,
        );
      }
      return arn;
    });
    grant("ci-deploy", deployRole, "admin");
    this.registerOutputs({});
  }
}
