import * as assert from "node:assert/strict";
import {
  clusterContract,
  dataContract,
  drContract,
  drRegions,
  type MetricsEndpoint,
  primaryRegion,
  workloadsContract,
} from "@hcp/platform";
import { producerValue, repoEnvironments, repoTopology } from "@hcp/testing";
import {
  jobMatcherProblems,
  jobMatchers,
  type MonitorManifest,
  type NamedExpr,
  producedJobs,
} from "../src/monitorJobs";
import { applicationServices, HEALTHCARE_APP, libraryInputs, ruleLibrary } from "../src/rules";
import { dashboardLibrary, dashboardQueries, renderDashboard } from "../src/dashboards";
import {
  monitorObject,
  NODE_EXPORTER,
  nodeExporterMonitor,
  nodeExporterValues,
  PROMETHEUS_DATASOURCE,
} from "../src/values";

/** The ServiceMonitor kube-prometheus-stack's node-exporter subchart renders from the layer's values. */
const NODE_MONITOR: MonitorManifest = nodeExporterMonitor({
  "prometheus-node-exporter": nodeExporterValues(),
});

/** The monitor this layer creates for an endpoint, as the job derivation reads it. */
function manifest(e: MetricsEndpoint, scrapeIntervalSeconds: number): MonitorManifest {
  const m = monitorObject(e, scrapeIntervalSeconds);
  return { kind: m.kind, metadata: { name: e.name, namespace: e.namespace }, spec: m.spec };
}

/** The same monitor without any endpoint relabeling: what the operator does by default. */
function withoutRelabelings(m: MonitorManifest): MonitorManifest {
  const strip = (eps: unknown) =>
    (eps as Array<Record<string, unknown>>).map(({ relabelings: _r, ...rest }) => rest);
  const key = m.kind === "PodMonitor" ? "podMetricsEndpoints" : "endpoints";
  return { ...m, spec: { ...m.spec, [key]: strip(m.spec[key]) } };
}

/** Every expression of the rule library and of the dashboards built from the same inputs. */
function exprsOf(inputs: ReturnType<typeof libraryInputs>): NamedExpr[] {
  return [
    ...ruleLibrary(inputs).flatMap((g) =>
      g.rules.map((r) => ({ name: r.kind === "alert" ? r.alert : r.record, expr: r.expr })),
    ),
    ...dashboardLibrary(inputs).flatMap((d) => dashboardQueries(renderDashboard(d, PROMETHEUS_DATASOURCE))),
  ];
}

const endpoint = (over: Partial<MetricsEndpoint>): MetricsEndpoint => ({
  name: "pgbouncer-exporter",
  kind: "pod",
  namespace: "hcp-data",
  selector: { app: "pgbouncer" },
  port: "metrics",
  path: "/metrics",
  scheme: "http",
  tls: null,
  basicAuth: null,
  exporter: "pgbouncer_exporter",
  ...over,
});

describe("monitor jobs: what prometheus-operator names the targets' job", () => {
  it("names a PodMonitor's job <namespace>/<name> and a ServiceMonitor's after its Service by default", () => {
    assert.deepEqual(producedJobs(withoutRelabelings(manifest(endpoint({}), 15))), [
      { job: "hcp-data/pgbouncer-exporter" },
    ]);
    const [svc] = producedJobs(withoutRelabelings(manifest(endpoint({ kind: "service" }), 15)));
    assert.ok(svc && "unknown" in svc, JSON.stringify(svc));
  });

  it("gives every monitor of this layer the endpoint's name as its job (the relabeling runs after the defaults)", () => {
    for (const kind of ["pod", "service"] as const) {
      assert.deepEqual(producedJobs(manifest(endpoint({ kind, name: "x-exporter" }), 15)), [
        { job: "x-exporter" },
      ]);
    }
  });

  it("takes jobLabel's value only where the selector pins it, and treats computed relabelings as unknown", () => {
    const base = withoutRelabelings(manifest(endpoint({}), 15));
    assert.deepEqual(
      producedJobs({
        ...base,
        spec: { ...base.spec, jobLabel: "app", selector: { matchLabels: { app: "b" } } },
      }),
      [{ job: "b" }],
    );
    const [other] = producedJobs({ ...base, spec: { ...base.spec, jobLabel: "tier" } });
    assert.ok(other && "unknown" in other);
    const computed = {
      ...base,
      spec: {
        ...base.spec,
        podMetricsEndpoints: [{ relabelings: [{ sourceLabels: ["__meta_x"], targetLabel: "job" }] }],
      },
    };
    const [c] = producedJobs(computed);
    assert.ok(c && "unknown" in c);
  });

  it("gives node-exporter's targets the job the node rules select; without the relabeling it depends on the Service", () => {
    assert.deepEqual(producedJobs(NODE_MONITOR), [{ job: NODE_EXPORTER.job }]);
    assert.equal(NODE_MONITOR.metadata.namespace, "monitoring-agents");
    const [bare] = producedJobs(withoutRelabelings(NODE_MONITOR));
    assert.ok(bare && "unknown" in bare && bare.unknown.includes("jobLabel"), JSON.stringify(bare));
  });

  it("reads the job matchers of an expression, not other labels or strings", () => {
    assert.deepEqual(
      jobMatchers(
        'sum by (job) (up{job="a",xjob="b"}) or label_replace(up{job=~"c|d", job!="e"}, "job", "$1", "x", "(.*)")',
      ),
      [
        { op: "=", value: "a" },
        { op: "=~", value: "c|d" },
        { op: "!=", value: "e" },
      ],
    );
  });
});

for (const env of repoEnvironments()) {
  describe(`monitor jobs (${env}): every rule's and panel's job matcher selects a job the monitors produce`, () => {
    const topology = repoTopology(env);
    const region = primaryRegion(topology).name;
    const interval = topology.observability.prometheus.scrapeIntervalSeconds;
    let monitors: MonitorManifest[];

    before(async () => {
      const cluster = await producerValue(clusterContract, topology, region);
      const data = await producerValue(dataContract, topology, region);
      monitors = [...cluster.metrics, ...data.metrics].map((e) => manifest(e, interval)).concat(NODE_MONITOR);
    });

    it("holds for the platform and data-tier rules and panels against the primary region's monitors", () => {
      const exprs = exprsOf(libraryInputs(topology, []));
      assert.ok(
        exprs.some((e) => jobMatchers(e.expr).length > 0),
        "some rule selects a job",
      );
      const problems = jobMatcherProblems(exprs, monitors.flatMap(producedJobs));
      assert.deepEqual(
        problems.map((p) => p.message),
        [],
      );
    });

    it("holds in every DR region against its monitors (the cluster's and the dr contract's)", async () => {
      const exprs = exprsOf(libraryInputs(topology, []));
      for (const dr of drRegions(topology)) {
        const cluster = await producerValue(clusterContract, topology, dr.name);
        const standby = await producerValue(drContract, topology, dr.name);
        const drMonitors = [...cluster.metrics, ...standby.metrics]
          .map((e) => manifest(e, interval))
          .concat(NODE_MONITOR);
        assert.deepEqual(
          jobMatcherProblems(exprs, drMonitors.flatMap(producedJobs)).map((p) => `${dr.name}: ${p.message}`),
          [],
        );
      }
    });

    it("holds for the application rules and panels against the monitors of the workloads layer's endpoints", async () => {
      // The workloads program's own export (run under the mocks): the services the rules watch are
      // derived from it as the stack derives them, and its monitors must produce their jobs.
      for (const r of [region, ...drRegions(topology).map((d) => d.name)]) {
        const workloads = await producerValue(workloadsContract, topology, r);
        const services = applicationServices(workloads.metrics);
        assert.deepEqual(
          services.map((s) => `${s.namespace}/${s.job}`),
          [`${topology.workloads.namespace}/${HEALTHCARE_APP.job}`],
          `${r}: the PromEx service is watched where it runs`,
        );
        const exprs = exprsOf(libraryInputs(topology, services));
        assert.ok(
          exprs.some((e) => jobMatchers(e.expr).some((m) => m.value === HEALTHCARE_APP.job)),
          "the application rules select its job",
        );
        const cluster = await producerValue(clusterContract, topology, r);
        const database =
          r === region
            ? (await producerValue(dataContract, topology, r)).metrics
            : (await producerValue(drContract, topology, r)).metrics;
        const all = [...cluster.metrics, ...database, ...workloads.metrics]
          .map((e) => manifest(e, interval))
          .concat(NODE_MONITOR);
        assert.deepEqual(
          jobMatcherProblems(exprs, all.flatMap(producedJobs)).map((p) => `${r}: ${p.message}`),
          [],
        );
        // Without the workloads' monitors the application's rules select nothing: the check can fail.
        const without = jobMatcherProblems(
          exprs,
          all.filter((m) => m.metadata.namespace !== topology.workloads.namespace).flatMap(producedJobs),
        );
        assert.ok(
          without.some((p) => p.matcher.value === HEALTHCARE_APP.job),
          JSON.stringify(without.map((p) => p.name)),
        );
      }
    });

    it("fails on the operator's default job names (the old PgbouncerDown) and on a rule selecting an unknown job", () => {
      const exprs = exprsOf(libraryInputs(topology, []));
      const old = jobMatcherProblems(exprs, monitors.map(withoutRelabelings).flatMap(producedJobs));
      const pgbouncer = old.find((p) => p.name === "PgbouncerDown");
      assert.ok(pgbouncer, `the old names pass: ${JSON.stringify(old)}`);
      const ns = monitors.find((m) => m.metadata.name === "pgbouncer-exporter")!.metadata.namespace;
      assert.ok(pgbouncer.message.includes(`selects job="pgbouncer-exporter"`), pgbouncer.message);
      assert.ok(pgbouncer.message.includes(`${ns}/pgbouncer-exporter`), pgbouncer.message);
      const withoutNodeExporter = jobMatcherProblems(
        exprs,
        monitors.filter((m) => m !== NODE_MONITOR).flatMap(producedJobs),
      );
      assert.deepEqual(
        [...new Set(withoutNodeExporter.map((p) => p.name))],
        ["NodeMemoryHigh"],
        "without node-exporter's monitor the node rules select a job nobody produces",
      );
      const bad = jobMatcherProblems(
        [{ name: "BadFixture", expr: 'sum(up{job="pgbouncer"}) == 0' }],
        monitors.flatMap(producedJobs),
      );
      assert.deepEqual(
        bad.map((p) => p.name),
        ["BadFixture"],
      );
    });
  });
}
