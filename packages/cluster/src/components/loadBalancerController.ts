import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, PodIdentityRole } from "@hcp/kube";
import type { ChartPin } from "@hcp/platform";
import { loadBalancerControllerPolicy } from "../policies";
import { LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, loadBalancerControllerValues } from "../services";
import { LEGACY_POD_IDENTITY_ROLE_TYPE } from "./eksAddons";
import { PinnedChart } from "./pinnedChart";

/** Arguments of {@link LoadBalancerController}. */
export interface LoadBalancerControllerArgs {
  /** Physical cluster name (the chart's `clusterName`). */
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** Chart repository and version, from config. */
  readonly pin: ChartPin;
}

/**
 * The AWS Load Balancer Controller: a Pod Identity role with the controller's IAM policy (written
 * out as data) and the Helm chart, configured so every TLS listener defaults to a TLS 1.3 policy.
 * Needs both an AWS and a Kubernetes provider (`providers`).
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  readonly role: PodIdentityRole;
  readonly chart: PinnedChart;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:LoadBalancerController", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const roleName = `${name}-role`;
    const { namespace, serviceAccount } = LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT;
    this.role = new PodIdentityRole(
      roleName,
      {
        clusterName: args.clusterName,
        namespace,
        serviceAccounts: [serviceAccount],
        description: "AWS Load Balancer Controller",
        inlinePolicy: loadBalancerControllerPolicy,
        maxSessionDurationSeconds: 3600,
        // The association was named after the role before it was keyed by service account.
        childAliases: { associations: { [serviceAccount]: [{ name: roleName }] } },
      },
      { parent: this, aliases: [{ type: LEGACY_POD_IDENTITY_ROLE_TYPE }] },
    );
    this.chart = new PinnedChart(
      name,
      {
        chart: "aws-load-balancer-controller",
        pin: args.pin,
        namespace: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.namespace,
        values: pulumi
          .all([args.clusterName, region, args.vpcId])
          .apply(([clusterName, r, vpcId]) =>
            loadBalancerControllerValues({ clusterName, region: r, vpcId }),
          ),
      },
      { parent: this, dependsOn: inheritedDependsOn(opts, this.role) },
    );
    this.registerOutputs({ roleArn: this.role.role.arn });
  }
}
