import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { at, repoEnvironments, repoTopology } from "@hcp/testing";
import { stringify } from "yaml";
import {
  configMapDataBytes,
  CONFIGMAP_LIMIT_BYTES,
  configMapProblems,
  dashboardConfigMaps,
  dashboardLibrary,
  dashboardQueries,
  type DashboardSpec,
  datasourceProblems,
  type GrafanaDashboard,
  renderDashboard,
  type SidecarValues,
  substituteVariables,
  unknownMetricProblems,
} from "../src/dashboards";
import { HEALTHCARE_APP, libraryInputs, ruleLibrary } from "../src/rules";
import { DASHBOARD_SIDECAR, PROMETHEUS_DATASOURCE, stackValues } from "../src/values";
import { requireTool, run, tempDir } from "./tools";

/** A rules file with every query of the dashboards as a recording rule (what promtool parses). */
function queriesAsRules(dashboards: readonly GrafanaDashboard[]): { yaml: string; count: number } {
  const rules = dashboards.flatMap((d) => {
    const variables = d.templating.list.map((v) => v.name);
    return dashboardQueries(d).map((q) => {
      const s = substituteVariables(q.expr, variables);
      assert.deepEqual(s.unknown, [], `${q.name} uses variables the dashboard does not define`);
      return s.expr;
    });
  });
  return {
    yaml: stringify({
      groups: [
        { name: "dashboards", rules: rules.map((expr, i) => ({ record: `hcp:dashboard_query:${i}`, expr })) },
      ],
    }),
    count: rules.length,
  };
}

/** The chart values' sidecar settings, as stackValues renders them. */
function sidecarValues(topology: ReturnType<typeof repoTopology>): {
  dashboards: SidecarValues;
  datasourceUid: unknown;
} {
  const values = stackValues({
    topology,
    storageClassName: "gp3",
    clusterName: "c",
    alertmanagerConfig: {},
    remoteWrite: null,
  });
  const sidecar = at(values, "grafana.sidecar") as Record<string, Record<string, unknown>>;
  return {
    dashboards: {
      enabled: sidecar["dashboards"]?.["enabled"],
      label: sidecar["dashboards"]?.["label"],
      labelValue: sidecar["dashboards"]?.["labelValue"],
      searchNamespace: sidecar["dashboards"]?.["searchNamespace"],
    },
    datasourceUid: sidecar["datasources"]?.["uid"],
  };
}

/** A dashboard with one panel reading `expr` (bad fixtures). */
function fixture(expr: string): DashboardSpec {
  return {
    uid: "fixture",
    title: "fixture",
    description: "a bad fixture",
    tags: [],
    variables: [],
    rows: [
      { title: "r", panels: [{ type: "timeseries", title: "p", description: "d", queries: [{ expr }] }] },
    ],
  };
}

for (const env of repoEnvironments()) {
  describe(`dashboards (${env})`, function () {
    const topology = repoTopology(env);
    const inputs = libraryInputs(topology, [HEALTHCARE_APP]);
    const groups = ruleLibrary(inputs);
    const specs = dashboardLibrary(inputs);
    const dashboards = specs.map((s) => renderDashboard(s, PROMETHEUS_DATASOURCE));
    const extra = {
      recorded: groups.flatMap((g) => g.rules.flatMap((r) => (r.kind === "record" ? [r.record] : []))),
      app: [
        HEALTHCARE_APP.requestsTotal,
        HEALTHCARE_APP.durationBucket,
        HEALTHCARE_APP.durationBucket.replace(/_bucket$/, "_count"),
      ],
    };

    it("has the overview, data-tier and SLO dashboards, each with panels that query", () => {
      assert.deepEqual(
        dashboards.map((d) => d.uid),
        ["hcp-platform-overview", "hcp-data-tier", "hcp-app-slos"],
      );
      for (const d of dashboards) {
        const panels = d.panels.flatMap((p) => (p.type === "row" ? [] : [p]));
        assert.ok(panels.length > 0, `${d.uid} has no panels`);
        for (const p of panels) assert.ok(p.targets.length > 0, `${d.uid}/${p.title}`);
      }
    });

    it("every panel and variable query parses (promtool check rules on them as recording rules)", function () {
      requireTool(this, "promtool", "prometheus");
      const work = tempDir("dashboards");
      try {
        const { yaml, count } = queriesAsRules(dashboards);
        fs.writeFileSync(path.join(work.dir, "queries.yml"), yaml);
        const r = run("promtool", ["check", "rules", "queries.yml"], work.dir);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, new RegExp(`SUCCESS: ${count} rules found`));
        // A variable the dashboard does not define would reach Prometheus verbatim: reported.
        assert.deepEqual(substituteVariables('up{namespace="$namesapce"}[$__rate_interval]', ["namespace"]), {
          expr: 'up{namespace="$namesapce"}[5m]',
          unknown: ["$namesapce"],
        });
        // The same check refuses a query that does not parse.
        const bad = queriesAsRules([renderDashboard(fixture("sum(rate(pg_up[5m])"), PROMETHEUS_DATASOURCE)]);
        fs.writeFileSync(path.join(work.dir, "bad.yml"), bad.yaml);
        assert.notEqual(run("promtool", ["check", "rules", "bad.yml"], work.dir).code, 0);
      } finally {
        work.cleanup();
      }
    });

    it("reads only metrics of the catalogue, the recording rules or the application (and fails on one that does not exist)", () => {
      assert.deepEqual(unknownMetricProblems(dashboards, extra), []);
      const bad = unknownMetricProblems(
        [renderDashboard(fixture("max by (pod) (pg_stat_replication_lag)"), PROMETHEUS_DATASOURCE)],
        extra,
      );
      assert.equal(bad.length, 1);
      assert.match(bad[0], /fixture\/p\/A reads pg_stat_replication_lag, which no exporter/);
    });

    it("names the datasource by the uid the chart values provision", () => {
      const { datasourceUid } = sidecarValues(topology);
      assert.equal(datasourceUid, PROMETHEUS_DATASOURCE.uid);
      assert.deepEqual(datasourceProblems(dashboards, String(datasourceUid)), []);
      assert.equal(datasourceProblems(dashboards, "Prometheus").length > 0, true);
    });

    it("ships one ConfigMap per dashboard that the values' sidecar loads, each below 1 MiB", () => {
      const cms = dashboardConfigMaps(specs, PROMETHEUS_DATASOURCE, DASHBOARD_SIDECAR);
      const { dashboards: sidecar } = sidecarValues(topology);
      assert.deepEqual(configMapProblems(cms, sidecar), []);
      assert.equal(cms.length, specs.length);
      for (const cm of cms) {
        assert.equal(cm.apiVersion, "v1");
        assert.equal(cm.kind, "ConfigMap");
        assert.ok(configMapDataBytes(cm) < CONFIGMAP_LIMIT_BYTES);
        const [key, text] = Object.entries(cm.data)[0];
        const parsed = JSON.parse(text) as GrafanaDashboard;
        assert.equal(key, `${parsed.uid}.json`);
        assert.deepEqual(
          parsed,
          dashboards.find((d) => d.uid === parsed.uid),
        );
      }
      // A label, a namespace or a size the sidecar / API server would not take is reported.
      const wrong = configMapProblems(cms, { ...sidecar, labelValue: "true", searchNamespace: "grafana" });
      assert.equal(wrong.length, 2 * cms.length, wrong.join("\n"));
      const [first] = cms;
      const huge = {
        ...first,
        data: { "big.json": JSON.stringify({ uid: "big", pad: "x".repeat(CONFIGMAP_LIMIT_BYTES) }) },
      };
      assert.match(configMapProblems([huge], sidecar).join("\n"), /bytes of data, the limit is 1048576/);
    });
  });
}
