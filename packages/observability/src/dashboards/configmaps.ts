import type { DashboardSpec, DatasourceRef, GrafanaDashboard } from "./model";
import { renderDashboard } from "./model";

/**
 * How the Grafana chart's dashboard sidecar (kiwigrid k8s-sidecar) finds dashboards: ConfigMaps
 * labelled `<label>: <labelValue>` in the namespaces it searches, each data key a file it writes to
 * Grafana's provisioning folder (grafana chart `sidecar.dashboards.label` / `labelValue` /
 * `searchNamespace`; kube-prometheus-stack 86.3.2 sets `grafana_dashboard` / `"1"` / `ALL`).
 */
export interface DashboardSidecar {
  readonly label: string;
  readonly labelValue: string;
  /** The namespaces the sidecar watches (the ConfigMaps live in the first). */
  readonly namespaces: readonly string[];
}

/** The Kubernetes API's limit on a ConfigMap's data (1 MiB). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

/** A dashboard ConfigMap as this layer creates it. */
export interface DashboardConfigMap {
  readonly apiVersion: "v1";
  readonly kind: "ConfigMap";
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly data: Readonly<Record<string, string>>;
}

/** One ConfigMap per dashboard (`dashboard-<uid>`, key `<uid>.json`), so each stays far below the limit. */
export function dashboardConfigMaps(
  specs: readonly DashboardSpec[],
  datasource: DatasourceRef,
  sidecar: DashboardSidecar,
): DashboardConfigMap[] {
  const namespace = sidecar.namespaces[0];
  if (namespace === undefined) throw new Error("the dashboard sidecar searches no namespace");
  return specs.map((spec) => {
    const dashboard: GrafanaDashboard = renderDashboard(spec, datasource);
    return {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: `dashboard-${spec.uid}`,
        namespace,
        labels: { [sidecar.label]: sidecar.labelValue },
      },
      data: { [`${spec.uid}.json`]: JSON.stringify(dashboard, null, 1) },
    };
  });
}

/** Bytes of a ConfigMap's data as the API server counts them (keys and values, UTF-8). */
export function configMapDataBytes(cm: DashboardConfigMap): number {
  return Object.entries(cm.data).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8"),
    0,
  );
}
