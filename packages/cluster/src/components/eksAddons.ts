import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AddonSpec } from "../addons";
import { inheritedDependsOn, PodIdentityRole } from "@hcp/kube";

/** Type of the cluster layer's own Pod Identity role component, before @hcp/kube had one. */
export const LEGACY_POD_IDENTITY_ROLE_TYPE = "hcp:cluster:PodIdentityRole";

/** Arguments of {@link EksAddons}. */
export interface EksAddonsArgs {
  readonly clusterName: pulumi.Input<string>;
  /** Add-ons to install, versions pinned (from `addonPlan`). */
  readonly addons: readonly AddonSpec[];
  /**
   * Extra inline policies of add-on Pod Identity roles, by add-on name, given the partition (e.g. the
   * EBS CSI driver's grants on the cluster's EBS key).
   * @default - none
   */
  readonly podIdentityPolicies?: Readonly<
    Record<string, (partition: string) => pulumi.Input<aws.iam.PolicyDocument>>
  >;
}

/**
 * EKS managed add-ons at pinned versions. An add-on that calls AWS gets a Pod Identity role for its
 * service account, associated before the add-on is installed so its pods start with credentials.
 * Conflicts are resolved in favour of the pinned configuration (a drifted field is overwritten).
 */
export class EksAddons extends pulumi.ComponentResource {
  readonly addons: Readonly<Record<string, aws.eks.Addon>>;
  readonly roles: Readonly<Record<string, PodIdentityRole>>;

  constructor(name: string, args: EksAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:EksAddons", name, {}, opts);
    const addons: Record<string, aws.eks.Addon> = {};
    const roles: Record<string, PodIdentityRole> = {};
    for (const spec of args.addons) {
      const dependsOn: pulumi.Resource[] = [];
      if (spec.podIdentity) {
        const roleName = `${name}-${spec.name}`;
        const serviceAccount = spec.podIdentity.serviceAccount;
        roles[spec.name] = new PodIdentityRole(
          roleName,
          {
            clusterName: args.clusterName,
            namespace: spec.podIdentity.namespace,
            serviceAccounts: [serviceAccount],
            description: `EKS add-on ${spec.name}`,
            managedPolicies: spec.podIdentity.managedPolicies,
            inlinePolicy: args.podIdentityPolicies?.[spec.name],
            maxSessionDurationSeconds: 3600,
            // The association was named after the role before it was keyed by service account.
            childAliases: { associations: { [serviceAccount]: [{ name: roleName }] } },
          },
          {
            parent: this,
            dependsOn: inheritedDependsOn(opts),
            aliases: [{ type: LEGACY_POD_IDENTITY_ROLE_TYPE }],
          },
        );
        dependsOn.push(roles[spec.name]);
      }
      addons[spec.name] = new aws.eks.Addon(
        `${name}-${spec.name}`,
        {
          clusterName: args.clusterName,
          addonName: spec.name,
          addonVersion: spec.version,
          configurationValues: spec.configurationValues,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
        },
        { parent: this, dependsOn: inheritedDependsOn(opts, ...dependsOn) },
      );
    }
    this.addons = addons;
    this.roles = roles;
    this.registerOutputs({});
  }
}
