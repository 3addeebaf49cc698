/**
 * Typed builders of Grafana dashboard JSON (the "dashboard JSON model", schemaVersion 39, which
 * Grafana 10.x-12.x loads through file provisioning and migrates forward). The maintained SDK,
 * `@grafana/grafana-foundation-sdk` (npm 0.0.21), is not in this repository's offline package store,
 * so the layer builds the subset it uses from these types: dashboards with rows, time series, stat
 * and table panels over Prometheus, and query variables. Every query names its datasource by uid
 * (the one the chart's datasource sidecar provisions), never by display name.
 */

/** A Prometheus datasource by uid. */
export interface DatasourceRef {
  readonly type: "prometheus";
  readonly uid: string;
}

/** Units this layer's panels use (Grafana's unit ids). */
export type Unit =
  "none" | "short" | "s" | "bytes" | "percentunit" | "reqps" | "ops" | "dtdurations" | "bool_on_off";

/** One PromQL query of a panel. */
export interface PanelQuery {
  readonly expr: string;
  /** Legend, e.g. `{{pod}}`. @default - Grafana's series name */
  readonly legend?: string;
  /** Evaluate once at the end of the range (stat / table panels). @default - a range query */
  readonly instant?: boolean;
}

/** What a panel shows and how (before layout). */
export interface PanelSpec {
  readonly type: "timeseries" | "stat" | "table";
  readonly title: string;
  /** What the panel answers and what to do when it looks wrong (Grafana shows it as the panel's info). */
  readonly description: string;
  readonly queries: readonly PanelQuery[];
  /** @default "short" */
  readonly unit?: Unit;
  /** Value from which the panel turns red (and amber from `warnAt`, when given). */
  readonly redAt?: number;
  readonly warnAt?: number;
  readonly min?: number;
  readonly max?: number;
  /** Width on Grafana's 24-column grid. @default 8 */
  readonly width?: number;
  /** Height in grid rows. @default 8 */
  readonly height?: number;
}

/** A row of panels. */
export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** A Prometheus query variable (`label_values(<selector>, <label>)`), referenced as `$<name>`. */
export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** Series selector whose label values are offered, e.g. `patroni_primary`. */
  readonly selector: string;
  /** Label whose values are offered. */
  readonly valuesOf: string;
  /** Offer "All" (`.*`); queries then use `=~"$name"`. */
  readonly includeAll: boolean;
}

/** A dashboard before rendering. */
export interface DashboardSpec {
  /** Stable uid (links and provisioning key); lower-case, at most 40 characters. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables: readonly VariableSpec[];
  readonly rows: readonly RowSpec[];
}

/** Grid position on Grafana's 24-column grid. */
export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** A rendered query (a panel target). */
export interface GrafanaTarget {
  readonly refId: string;
  readonly datasource: DatasourceRef;
  readonly expr: string;
  readonly legendFormat: string;
  readonly range: boolean;
  readonly instant: boolean;
}

/** A threshold step of a field config. */
export interface ThresholdStep {
  readonly color: string;
  /** `null` for the base step. */
  readonly value: number | null;
}

/** A rendered data panel. */
export interface GrafanaPanel {
  readonly id: number;
  readonly type: PanelSpec["type"];
  readonly title: string;
  readonly description: string;
  readonly gridPos: GridPos;
  readonly datasource: DatasourceRef;
  readonly targets: readonly GrafanaTarget[];
  readonly fieldConfig: {
    readonly defaults: {
      readonly unit: Unit;
      readonly min?: number;
      readonly max?: number;
      readonly thresholds: { readonly mode: "absolute"; readonly steps: readonly ThresholdStep[] };
    };
    readonly overrides: readonly never[];
  };
  readonly options: Readonly<Record<string, unknown>>;
}

/** A rendered row header. */
export interface GrafanaRow {
  readonly id: number;
  readonly type: "row";
  readonly title: string;
  readonly collapsed: false;
  readonly gridPos: GridPos;
  readonly panels: readonly never[];
}

/** A rendered query variable. */
export interface GrafanaVariable {
  readonly name: string;
  readonly label: string;
  readonly type: "query";
  readonly datasource: DatasourceRef;
  readonly definition: string;
  readonly query: { readonly qryType: 1; readonly query: string; readonly refId: string };
  /** 2: refresh on time range change. */
  readonly refresh: 2;
  readonly includeAll: boolean;
  readonly allValue?: string;
  readonly multi: false;
  readonly sort: 1;
  readonly current: Readonly<Record<string, never>>;
}

/** A rendered dashboard (the JSON the Grafana sidecar writes to the provisioning folder). */
export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly timezone: "utc";
  readonly editable: false;
  readonly graphTooltip: 1;
  readonly schemaVersion: 39;
  readonly version: 1;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: { readonly list: readonly GrafanaVariable[] };
  readonly annotations: { readonly list: readonly never[] };
  readonly links: readonly never[];
  readonly panels: ReadonlyArray<GrafanaPanel | GrafanaRow>;
}

const GRID_COLUMNS = 24;

function thresholds(p: PanelSpec): ThresholdStep[] {
  const steps: ThresholdStep[] = [{ color: "green", value: null }];
  if (p.warnAt !== undefined) steps.push({ color: "orange", value: p.warnAt });
  if (p.redAt !== undefined) steps.push({ color: "red", value: p.redAt });
  return steps;
}

function panelOptions(p: PanelSpec): Record<string, unknown> {
  switch (p.type) {
    case "timeseries":
      return {
        legend: { displayMode: "table", placement: "bottom", calcs: ["lastNotNull", "max"] },
        tooltip: { mode: "multi", sort: "desc" },
      };
    case "stat":
      return {
        reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
        colorMode: "background",
        graphMode: "none",
        textMode: "value_and_name",
      };
    case "table":
      return { showHeader: true, cellHeight: "sm" };
  }
}

/** Renders a dashboard: ids in reading order, panels flowed left to right on the 24-column grid. */
export function renderDashboard(spec: DashboardSpec, datasource: DatasourceRef): GrafanaDashboard {
  const panels: Array<GrafanaPanel | GrafanaRow> = [];
  let id = 0;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id: ++id,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 8;
      const h = p.height ?? 8;
      if (x + w > GRID_COLUMNS) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push({
        id: ++id,
        type: p.type,
        title: p.title,
        description: p.description,
        gridPos: { x, y, w, h },
        datasource,
        targets: p.queries.map((q, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource,
          expr: q.expr,
          legendFormat: q.legend ?? "__auto",
          range: !(q.instant ?? p.type !== "timeseries"),
          instant: q.instant ?? p.type !== "timeseries",
        })),
        fieldConfig: {
          defaults: {
            unit: p.unit ?? "short",
            ...(p.min !== undefined ? { min: p.min } : {}),
            ...(p.max !== undefined ? { max: p.max } : {}),
            thresholds: { mode: "absolute", steps: thresholds(p) },
          },
          overrides: [],
        },
        options: panelOptions(p),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [...spec.tags],
    timezone: "utc",
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: spec.variables.map((v) => {
        const definition = `label_values(${v.selector}, ${v.valuesOf})`;
        return {
          name: v.name,
          label: v.label,
          type: "query",
          datasource,
          definition,
          query: { qryType: 1, query: definition, refId: `${v.name}-variable` },
          refresh: 2,
          includeAll: v.includeAll,
          ...(v.includeAll ? { allValue: ".*" } : {}),
          multi: false,
          sort: 1,
          current: {},
        };
      }),
    },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

/** Every query of a rendered dashboard as PromQL, named `<uid>/<panel title>/<refId>` for reports. */
export function dashboardQueries(
  d: GrafanaDashboard,
): Array<{ readonly name: string; readonly expr: string }> {
  return [
    // `label_values(sel, label)` asks for the label's values on the selector's series: the same as
    // `group by (label) (sel)`, which is what the checks parse.
    ...d.templating.list.map((v) => {
      const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.definition);
      if (!m) throw new Error(`${d.uid}: variable ${v.name} is not label_values(<selector>, <label>)`);
      return { name: `${d.uid}/$${v.name}`, expr: `group by (${m[2]}) (${m[1]})` };
    }),
    ...d.panels.flatMap((p) =>
      p.type === "row"
        ? []
        : p.targets.map((t) => ({ name: `${d.uid}/${p.title}/${t.refId}`, expr: t.expr })),
    ),
  ];
}

/** Grafana's built-in interval variables and a representative value for parsing. */
const BUILTIN_INTERVALS: Readonly<Record<string, string>> = {
  __rate_interval: "5m",
  __interval: "1m",
  __range: "6h",
};

/**
 * A query with Grafana's variables replaced by a value of their kind, so that promtool can parse it:
 * the built-in intervals by a duration, the dashboard's own variables by a label value. A `$name`
 * that is neither is reported, since Grafana would send it to Prometheus verbatim.
 */
export function substituteVariables(
  expr: string,
  variables: readonly string[],
): { readonly expr: string; readonly unknown: readonly string[] } {
  const unknown: string[] = [];
  const out = expr.replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (whole, name: string) => {
    if (name in BUILTIN_INTERVALS) return BUILTIN_INTERVALS[name];
    if (variables.includes(name)) return "x";
    unknown.push(whole);
    return whole;
  });
  return { expr: out, unknown };
}
