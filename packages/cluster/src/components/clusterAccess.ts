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
  /**
   * Role that runs `pulumi preview` for pull requests: read-only (`AmazonEKSViewPolicy`, no Secrets),
   * so previews of the Kubernetes layers can read the cluster and nothing more.
   */
  readonly previewRoleArn: pulumi.Input<string>;
}

/**
 * Access entries (authentication mode `API`) with one cluster-wide access policy each: the
 * configured admins and the CI deploy role get `AmazonEKSClusterAdminPolicy`, read-only principals
 * and the CI preview role `AmazonEKSViewPolicy`. Nobody else, the cluster's creator and the CI
 * runners' own service role included, can call the API.
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
    // One access entry per principal: the CI roles must not also be listed in the config.
    const configured = [...args.adminPrincipals, ...args.readonlyPrincipals];
    const ciRole = (arn: pulumi.Input<string>, what: string, level: string) =>
      pulumi.output(arn).apply((a) => {
        if (configured.includes(a)) {
          throw new Error(
            `${a} (the CI ${what} role) is also listed in healthcare-platform:access; it gets ${level} access ` +
              `automatically. Fix: remove it from adminPrincipals/readonlyPrincipals.`,
          );
        }
        return a;
      });
    grant("ci-deploy", ciRole(args.deployRoleArn, "deploy", "admin"), "admin");
    grant("ci-preview", ciRole(args.previewRoleArn, "preview", "read-only"), "readonly");
    this.registerOutputs({});
  }
}
