import { metricNames, sourceOf } from "../rules";
import { CONFIGMAP_LIMIT_BYTES, configMapDataBytes, type DashboardConfigMap } from "./configmaps";
import { dashboardQueries, type GrafanaDashboard } from "./model";

/**
 * Checks of rendered dashboards that need no tool: every metric a query reads has a source (the
 * metric catalogue, a recording rule, the application), and every ConfigMap is one the sidecar loads.
 * Each returns its problems (empty when all is well) so tests can show them failing on bad fixtures.
 */

/** Metric names that are not exporter metrics but still exist: recorded series and application metrics. */
export interface ExtraMetrics {
  /** Recording rules of the rule library. */
  readonly recorded: readonly string[];
  /** The application services' metrics. */
  readonly app: readonly string[];
}

/** Queries reading a metric no source provides (a typo or a metric that does not exist). */
export function unknownMetricProblems(
  dashboards: readonly GrafanaDashboard[],
  extra: ExtraMetrics,
): string[] {
  return dashboards.flatMap((d) =>
    dashboardQueries(d).flatMap((q) =>
      metricNames(q.expr)
        .filter((m) => sourceOf(m, { recorded: extra.recorded, app: extra.app }) === undefined)
        .map(
          (m) =>
            `${q.name} reads ${m}, which no exporter, recording rule or application provides. ` +
            "Fix: use a metric of src/rules/catalogue.ts or a recording rule of the library.",
        ),
    ),
  );
}

/** Datasource references that are not the provisioned Prometheus datasource. */
export function datasourceProblems(dashboards: readonly GrafanaDashboard[], uid: string): string[] {
  return dashboards.flatMap((d) => {
    const refs = [
      ...d.templating.list.map((v) => ({ where: `$${v.name}`, ref: v.datasource })),
      ...d.panels.flatMap((p) =>
        p.type === "row"
          ? []
          : [
              { where: p.title, ref: p.datasource },
              ...p.targets.map((t) => ({ where: `${p.title}/${t.refId}`, ref: t.datasource })),
            ],
      ),
    ];
    return refs
      .filter((r) => r.ref.uid !== uid || r.ref.type !== "prometheus")
      .map(
        (r) =>
          `${d.uid}/${r.where} names datasource ${JSON.stringify(r.ref)}; the chart provisions uid '${uid}'.`,
      );
  });
}

/** The grafana chart values that decide which ConfigMaps the dashboard sidecar loads. */
export interface SidecarValues {
  readonly enabled: unknown;
  readonly label: unknown;
  readonly labelValue: unknown;
  readonly searchNamespace: unknown;
}

/**
 * ConfigMaps the sidecar would not load, or the API server would refuse: the label and namespace
 * must be the ones the chart values configure, each data key a `.json` file holding one dashboard,
 * uids unique, the data below the 1 MiB ConfigMap limit.
 */
export function configMapProblems(cms: readonly DashboardConfigMap[], values: SidecarValues): string[] {
  const problems: string[] = [];
  if (values.enabled !== true)
    problems.push(`grafana.sidecar.dashboards.enabled is ${String(values.enabled)}; expected true`);
  const namespaces =
    typeof values.searchNamespace === "string" ? values.searchNamespace.split(",").map((n) => n.trim()) : [];
  const uids = new Set<string>();
  for (const cm of cms) {
    const id = `${cm.metadata.namespace}/${cm.metadata.name}`;
    if (typeof values.label !== "string" || cm.metadata.labels[values.label] !== values.labelValue) {
      problems.push(
        `${id}: labels ${JSON.stringify(cm.metadata.labels)} do not carry ${String(values.label)}=${JSON.stringify(values.labelValue)}, which the sidecar selects`,
      );
    }
    if (!namespaces.includes("ALL") && !namespaces.includes(cm.metadata.namespace)) {
      problems.push(
        `${id}: the sidecar searches ${String(values.searchNamespace)}, not ${cm.metadata.namespace}`,
      );
    }
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(cm.metadata.name)) {
      problems.push(`${id}: not a DNS subdomain name`);
    }
    const bytes = configMapDataBytes(cm);
    if (bytes >= CONFIGMAP_LIMIT_BYTES)
      problems.push(`${id}: ${bytes} bytes of data, the limit is ${CONFIGMAP_LIMIT_BYTES}`);
    for (const [key, text] of Object.entries(cm.data)) {
      if (!/^[-._a-zA-Z0-9]+\.json$/.test(key)) problems.push(`${id}: key ${key} is not a .json file name`);
      let uid: unknown;
      try {
        uid = (JSON.parse(text) as { uid?: unknown }).uid;
      } catch (e) {
        problems.push(`${id}/${key}: not JSON (${(e as Error).message})`);
        continue;
      }
      if (typeof uid !== "string" || !/^[a-zA-Z0-9_-]{1,40}$/.test(uid)) {
        problems.push(`${id}/${key}: uid ${JSON.stringify(uid)} is not 1-40 characters of [a-zA-Z0-9_-]`);
      } else if (uids.has(uid)) {
        problems.push(`${id}/${key}: uid ${uid} is used twice (Grafana keeps only one)`);
      } else uids.add(uid);
    }
  }
  return problems;
}
