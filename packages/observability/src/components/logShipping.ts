import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "@hcp/platform";
import { inheritedDependsOn } from "@hcp/kube";
import { FLUENT_BIT } from "../logShipping";

/** Arguments of {@link LogShipping}. */
export interface LogShippingArgs {
  /** The node agents' namespace (created by the caller, exempt from the restricted profile). */
  readonly namespace: pulumi.Input<string>;
  /** fluent-bit chart repository and exact version (config `observability.charts.fluentBit`). */
  readonly chart: ChartPin;
  /** Chart values (logShipping.ts `fluentBitValues`). */
  readonly values: pulumi.Input<Record<string, unknown>>;
}

/**
 * Fluent Bit as a DaemonSet (`helm.v4.Chart`, so every object it renders is a resource the policies
 * see in a real preview) shipping the nodes' container logs to the layer's log groups.
 */
export class LogShipping extends pulumi.ComponentResource {
  readonly chart: k8s.helm.v4.Chart;

  constructor(name: string, args: LogShippingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:observability:LogShipping", name, {}, opts);
    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "fluent-bit",
        version: args.chart.version,
        repositoryOpts: { repo: args.chart.repository },
        name: FLUENT_BIT.release,
        namespace: args.namespace,
        values: args.values,
      },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.registerOutputs({});
  }
}
