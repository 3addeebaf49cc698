import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoEnvironments, repoRoot, repoTopology } from "@hcp/testing";
import {
  alertsOf,
  anchorOf,
  HEALTHCARE_APP,
  libraryInputs,
  metricNames,
  promtoolSuites,
  renderContext,
  ruleFileYaml,
  ruleLibrary,
  sourceOf,
  templateProblems,
} from "../src/rules";
import { requireTool, run, tempDir } from "./tools";

/** Every environment of the repository, with the seed's healthcare-app as the monitored service. */
const libraries = repoEnvironments().map((env) => {
  const topology = repoTopology(env);
  return { env, topology, groups: ruleLibrary(libraryInputs(topology, [HEALTHCARE_APP])) };
});

/** Headings of a runbook file, as GitHub anchors. */
function anchors(file: string): Set<string> {
  const text = fs.readFileSync(path.join(repoRoot(), "docs", "runbooks", `${file}.md`), "utf8");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1].trim())));
}

for (const { env, topology, groups } of libraries) {
  describe(`rule library (${env})`, function () {
    const alerts = alertsOf(groups);
    const ctx = renderContext(topology);
    let work: ReturnType<typeof tempDir>;

    before(function () {
      requireTool(this, "promtool", "prometheus");
      work = tempDir("rules");
      fs.writeFileSync(path.join(work.dir, "rules.yml"), ruleFileYaml(groups, ctx));
    });
    after(() => work?.cleanup());

    it("passes promtool check rules", () => {
      const r = run("promtool", ["check", "rules", "rules.yml"], work.dir);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, new RegExp(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`));
    });

    it("passes promtool test rules: every alert fires where it must and stays silent where it must not", () => {
      const suites = promtoolSuites(
        groups,
        ctx,
        `${topology.observability.prometheus.evaluationIntervalSeconds}s`,
      );
      const tested = new Set(
        suites.flatMap((s) => alertsOf(groups.filter((g) => g.name === s.name)).map((a) => a.alert)),
      );
      assert.deepEqual([...tested].sort(), alerts.map((a) => a.alert).sort(), "every alert is in a suite");
      for (const suite of suites) {
        const dir = path.join(work.dir, suite.name);
        fs.mkdirSync(dir);
        for (const [file, text] of Object.entries(suite.ruleFiles))
          fs.writeFileSync(path.join(dir, file), text);
        fs.writeFileSync(path.join(dir, "tests.yml"), suite.testFile);
        const r = run("promtool", ["test", "rules", "tests.yml"], dir);
        assert.equal(r.code, 0, `${suite.name}:\n${r.output}`);
        assert.match(r.output, /SUCCESS/);
      }
    });

    it("has a firing and a silent case for every alert (the Watchdog always fires)", () => {
      for (const a of alerts) {
        assert.ok(
          a.cases.some((c) => c.expect.length > 0),
          `${a.alert} has no case where it fires`,
        );
        if (a.alert !== "Watchdog") {
          assert.ok(
            a.cases.some((c) => c.expect.length === 0),
            `${a.alert} has no case where it must stay silent`,
          );
        }
      }
    });

    it("gives every alert a severity, a team, a summary, a description and a runbook section that exists", () => {
      const seen = new Set<string>();
      for (const a of alerts) {
        assert.ok(!seen.has(a.alert), `${a.alert} is defined twice`);
        seen.add(a.alert);
        assert.ok(["critical", "warning", "info", "none"].includes(a.severity), a.alert);
        assert.ok(a.summary.length > 10 && a.description.length > 20, a.alert);
        assert.ok(
          anchors(a.runbook.file).has(a.runbook.anchor),
          `${a.alert}: docs/runbooks/${a.runbook.file}.md has no section #${a.runbook.anchor}`,
        );
        assert.match(a.for, /^\d+[smh]$/, a.alert);
        assert.deepEqual(templateProblems(a), []);
      }
    });

    it("reads only metrics a known exporter, the application or a recording rule provides", () => {
      const recorded = groups.flatMap((g) => g.rules.flatMap((r) => (r.kind === "record" ? [r.record] : [])));
      const app = [
        HEALTHCARE_APP.requestsTotal,
        HEALTHCARE_APP.durationBucket,
        HEALTHCARE_APP.durationBucket.replace(/_bucket$/, "_count"),
      ];
      for (const g of groups) {
        for (const r of g.rules) {
          for (const m of metricNames(r.expr)) {
            assert.ok(
              sourceOf(m, { recorded, app }),
              `${r.kind === "alert" ? r.alert : r.record} reads ${m}, which no source provides`,
            );
          }
        }
      }
    });

    it("pages for data-tier alerts only on metrics the production exporters serve (Patroni 4, postgres_exporter 0.17)", () => {
      for (const a of alerts.filter((x) => x.team === "data")) {
        for (const m of metricNames(a.expr)) {
          const source = sourceOf(m);
          assert.ok(
            source === "patroni-4" ||
              source === "postgres_exporter-0.17" ||
              source?.startsWith("pg") ||
              source === "prometheus",
            `${a.alert} reads ${m} from ${source}`,
          );
        }
      }
    });
  });
}

describe("rule library: derived thresholds", () => {
  it("waits ttl + loop_wait before reporting a leaderless cluster, and pages on a missing standby only in strict mode", () => {
    const prod = repoTopology("production");
    const groups = ruleLibrary(libraryInputs(prod, []));
    const noLeader = alertsOf(groups).find((a) => a.alert === "PatroniNoLeader")!;
    assert.equal(noLeader.for, `${prod.data.patroni.ttlSeconds + prod.data.patroni.loopWaitSeconds}s`);
    const sync = (mode: "on" | "strict") =>
      alertsOf(
        ruleLibrary(
          libraryInputs(
            { ...prod, data: { ...prod.data, patroni: { ...prod.data.patroni, synchronousMode: mode } } },
            [],
          ),
        ),
      ).find((a) => a.alert === "PatroniNoSynchronousStandby")!.severity;
    assert.equal(sync("strict"), "critical");
    assert.equal(sync("on"), "warning");
  });

  it("extracts the metrics of an expression, not its functions, labels or keywords", () => {
    assert.deepEqual(
      metricNames(
        'sum by (namespace, le) (rate(a_bucket{job="x",le="0.5"}[5m])) / on (pod) group_left () b > 1e6 and c offset 5m',
      ),
      ["a_bucket", "b", "c"],
    );
  });
});
