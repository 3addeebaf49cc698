import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "@hcp/platform";
import { inheritedDependsOn } from "@hcp/kube";

/** Whether a chart's namespace is created here or already exists (e.g. `kube-system`). */
export type NamespaceMode = "create" | "existing";

/** Arguments of {@link PinnedChart}. */
export interface PinnedChartArgs {
  /** Chart name in the repository. */
  readonly chart: string;
  /** Repository and exact version, from config. */
  readonly pin: ChartPin;
  readonly namespace: string;
  /**
   * `create` makes the namespace with the `restricted` Pod Security Standard enforced.
   * @default "existing"
   */
  readonly namespaceMode?: NamespaceMode;
  /** Chart values. */
  readonly values: pulumi.Input<Record<string, unknown>>;
}

/** Pod Security Standard labels of namespaces this layer creates. */
export const RESTRICTED_NAMESPACE_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
} as const;

/**
 * A Helm chart at an exact version, rendered by `kubernetes.helm.v4.Chart`: every object it renders
 * is a Pulumi resource of its own (visible to policies and diffs), unlike `helm.v3.Release`, which
 * hides them inside a Helm release.
 */
export class PinnedChart extends pulumi.ComponentResource {
  readonly chart: k8s.helm.v4.Chart;
  readonly namespace: k8s.core.v1.Namespace | undefined;

  constructor(name: string, args: PinnedChartArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:PinnedChart", name, {}, opts);
    this.namespace =
      (args.namespaceMode ?? "existing") === "create"
        ? new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: args.namespace, labels: { ...RESTRICTED_NAMESPACE_LABELS } } },
            { parent: this, dependsOn: inheritedDependsOn(opts) },
          )
        : undefined;
    this.chart = new k8s.helm.v4.Chart(
      name,
      {
        chart: args.chart,
        version: args.pin.version,
        repositoryOpts: { repo: args.pin.repository },
        namespace: this.namespace ? this.namespace.metadata.name : args.namespace,
        values: args.values,
      },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.registerOutputs({});
  }
}
