import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin, MetricsEndpoint } from "@hcp/platform";
import { inheritedDependsOn } from "@hcp/kube";
import { NOTIFICATION_SECRET } from "../alertmanager";
import type { DashboardConfigMap } from "../dashboards";
import type { RenderedGroup } from "../rules";
import {
  CLUSTER_SECRET_STORE,
  GRAFANA_ADMIN_SECRET,
  monitorObject,
  RELEASE,
  SELECTOR_LABELS,
} from "../values";

/** Arguments of {@link MonitoringStack}. */
export interface MonitoringStackArgs {
  /** Namespace of the stack (created by the caller, restricted Pod Security). */
  readonly namespace: pulumi.Input<string>;
  /** kube-prometheus-stack repository and exact version (config). */
  readonly chart: ChartPin;
  /** Chart values (see values.ts `stackValues`). */
  readonly values: pulumi.Input<Record<string, unknown>>;
  /** Rendered rule groups, one PrometheusRule. */
  readonly ruleGroups: readonly RenderedGroup[];
  /** Producers' metrics endpoints; one ServiceMonitor / PodMonitor each, in the endpoint's namespace. */
  readonly endpoints: pulumi.Input<readonly MetricsEndpoint[]>;
  /** Scrape interval of every monitor, in seconds (config `observability.prometheus.scrapeIntervalSeconds`). */
  readonly scrapeIntervalSeconds: number;
  /**
   * Dashboard ConfigMaps (dashboards/configmaps.ts) for Grafana's dashboard sidecar; created in
   * `namespace`, which the chart values' `grafana.sidecar.dashboards.searchNamespace` names.
   * @default - no dashboards
   */
  readonly dashboards?: readonly DashboardConfigMap[];
  /** Secrets Manager secret names synced into the namespace by External Secrets. */
  readonly secretNames: {
    readonly grafanaAdmin: pulumi.Input<string>;
    readonly notificationKeys: pulumi.Input<string>;
  };
}

/**
 * The Kubernetes side of the layer: kube-prometheus-stack at a pinned version, the rule library as a
 * PrometheusRule, a monitor per producer endpoint, and the ExternalSecrets delivering Grafana's
 * admin credentials and the notification keys from Secrets Manager.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  readonly chart: k8s.helm.v4.Chart;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:observability:MonitoringStack", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const externalSecret = (id: string, target: string, remoteKey: pulumi.Input<string>) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${id}`,
        {
          apiVersion: "external-secrets.io/v1",
          kind: "ExternalSecret",
          metadata: { name: target, namespace: args.namespace },
          spec: {
            refreshInterval: "1h",
            secretStoreRef: { kind: "ClusterSecretStore", name: CLUSTER_SECRET_STORE },
            target: { name: target, creationPolicy: "Owner" },
            dataFrom: [{ extract: { key: remoteKey } }],
          },
        },
        child,
      );
    const secrets = [
      externalSecret("grafana-admin", GRAFANA_ADMIN_SECRET, args.secretNames.grafanaAdmin),
      externalSecret("notification-keys", NOTIFICATION_SECRET, args.secretNames.notificationKeys),
    ];
    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "kube-prometheus-stack",
        version: args.chart.version,
        repositoryOpts: { repo: args.chart.repository },
        name: RELEASE,
        namespace: args.namespace,
        values: args.values,
      },
      { parent: this, dependsOn: inheritedDependsOn(opts, ...secrets) },
    );
    const afterChart = { parent: this, dependsOn: inheritedDependsOn(opts, this.chart) };
    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "hcp-rules", namespace: args.namespace, labels: { ...SELECTOR_LABELS } },
        spec: { groups: args.ruleGroups },
      },
      afterChart,
    );
    pulumi.output(args.endpoints).apply((endpoints) =>
      endpoints.map((e) => {
        const m = monitorObject(e, args.scrapeIntervalSeconds);
        return new k8s.apiextensions.CustomResource(
          `${name}-monitor-${e.name}`,
          {
            apiVersion: m.apiVersion,
            kind: m.kind,
            metadata: { name: e.name, namespace: e.namespace, labels: { ...SELECTOR_LABELS } },
            spec: m.spec,
          },
          afterChart,
        );
      }),
    );
    for (const d of args.dashboards ?? []) {
      new k8s.core.v1.ConfigMap(
        `${name}-${d.metadata.name}`,
        {
          metadata: { name: d.metadata.name, namespace: args.namespace, labels: { ...d.metadata.labels } },
          data: { ...d.data },
        },
        child,
      );
    }
    this.registerOutputs({});
  }
}
