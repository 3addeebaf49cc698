import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { requireEngines, Sandbox } from "@hcp/postgres/harness";
import { primaryRegion } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import {
  type AlertingRig,
  formatRigReport,
  formatTimeline,
  type AlertScenario,
  leaderKillAlert,
  type LeaderKillResult,
  MONITORING_BINARIES,
  NOT_LOCAL,
  SCENARIO_ALERT,
  startAlertingRig,
  waitHeartbeat,
  waitScraped,
} from "../../src/harness";
import { metricNames, renderContext, runbookUrl } from "../../src/rules";

/**
 * A real failover fires the alert: Debian's Prometheus 2.42, Alertmanager 0.25 and
 * postgres_exporter 0.11 (plus Patroni 3.0.2's own /metrics) watch a 3-member Patroni cluster booted
 * from the rendered production patroni.yml, with the product's rule file and the rendered
 * Alertmanager routing (notifiers → a local webhook). `failover`: the leader is killed like a lost
 * node and a synchronous standby takes over (PatroniLeaderChanged); `leaderless`: the leader and its
 * synchronous standby are killed at once and no member may take over (PatroniNoLeader). Production
 * scrape / evaluation intervals, `for`s and group_wait: nothing is shortened. Timings are printed,
 * not asserted (`pnpm bench:alerting` measures them).
 */
for (const scenario of ["failover", "leaderless"] as const satisfies readonly AlertScenario[]) {
  const ALERT = SCENARIO_ALERT[scenario];
  const OTHER = SCENARIO_ALERT[scenario === "failover" ? "leaderless" : "failover"];
  describe(`alerting on a real ${scenario === "failover" ? "failover" : "leaderless cluster"}: Prometheus + Alertmanager + postgres_exporter on the rendered Patroni cluster`, function () {
    const topology = repoTopology("production");
    const region = primaryRegion(topology).name;
    let sandbox: Sandbox | undefined;
    let rig: AlertingRig | undefined;
    let result: LeaderKillResult;

    before(async function () {
      requireEngines(this, ["postgres", "pgaudit", "patroni", "etcd", "psycopg2", "openssl"]);
      const absent = Object.values(MONITORING_BINARIES).filter((b) => !fs.existsSync(b.path));
      if (absent.length > 0) {
        const why = `missing: ${absent.map((b) => `${b.path} (Debian package ${b.debian})`).join("; ")}`;
        if (process.env.CI === "true") throw new Error(`monitoring binaries unavailable under CI: ${why}`);
        console.log(`      SKIPPED: ${why}`);
        this.skip();
      }
      sandbox = Sandbox.create("alerting");
      rig = await startAlertingRig({ sandbox, topology, region });
      console.log(formatRigReport(rig.report));
      await waitScraped(rig);
      await waitHeartbeat(rig);
      result = await leaderKillAlert(rig, { scenario, log: (l) => console.log(l) });
      console.log(formatTimeline(result));
    });

    after(async function () {
      this.timeout(120_000);
      await rig?.close().catch(() => undefined);
      await sandbox?.cleanup();
    });

    it("runs the production intervals and the product's rules unchanged", function () {
      const o = topology.observability;
      assert.equal(rig!.settings.scrapeIntervalSeconds, o.prometheus.scrapeIntervalSeconds);
      assert.equal(rig!.settings.evaluationIntervalSeconds, o.prometheus.evaluationIntervalSeconds);
      // Only notifier integrations differ from the rendered Alertmanager configuration.
      assert.ok(rig!.alertmanager.changes.length > 0);
      for (const c of rig!.alertmanager.changes) assert.match(c.path, /^receivers\[\d+\]\.[a-z]+_configs/);
    });

    it("serves every metric the Patroni and PostgreSQL alerts read (Patroni 3.0.2, postgres_exporter 0.11 + replication queries)", async function () {
      const served = new Set(await rig!.prometheus.metricNames());
      const groups = rig!.groups.filter(
        (g) => g.name === "hcp.data.patroni" || g.name === "hcp.data.postgres",
      );
      const missing = new Map<string, string[]>();
      for (const g of groups) {
        for (const r of g.rules) {
          if (r.kind !== "alert") continue;
          const absent = metricNames(r.expr).filter((m) => !served.has(m));
          if (absent.length > 0) missing.set(r.alert, absent);
        }
      }
      // Patroni 4's DR gauges (streaming, archive recovery) are not read by these two groups.
      assert.deepEqual(Object.fromEntries(missing), {}, "alerts reading metrics no local target serves");
    });

    it("is quiet before the kill: only the Watchdog and alerts on components absent here", function () {
      const names = result.baseline.map((a) => a.labels.alertname ?? "");
      console.log(
        `      active before the kill: ${names.join(", ")}\n` +
          [...new Set(names)].map((n) => `        ${n}: ${NOT_LOCAL[n] ?? "NOT EXPLAINED"}`).join("\n"),
      );
      assert.ok(names.includes("Watchdog"), "the Watchdog fires");
      assert.deepEqual(
        names.filter((n) => !(n in NOT_LOCAL)),
        [],
        "data-tier alerts active before the failover",
      );
      for (const name of [ALERT, OTHER])
        assert.ok(!names.includes(name), `${name} must not fire on a healthy cluster`);
    });

    it(`fires ${ALERT} in Prometheus after the kill (${scenario === "failover" ? "a new leader is elected" : "no member may take over"})`, async function () {
      if (scenario === "failover") {
        assert.ok(result.newLeader, "a surviving member became leader");
        assert.notEqual(result.newLeader, result.oldLeader);
      } else {
        assert.equal(result.killed.length, 2);
        assert.equal(
          await rig!.rc.cluster.leader(result.killed),
          undefined,
          "the last member did not take over",
        );
      }
      const fired = result.observed.filter((a) => a.name === ALERT && a.firstFiring !== undefined);
      assert.equal(fired.length, 1, `one ${ALERT} instance: ${JSON.stringify(result.observed)}`);
      assert.deepEqual(
        { ...fired[0].labels },
        {
          alertname: ALERT,
          namespace: rig!.artifacts.names.namespace,
          scope: rig!.artifacts.names.scope,
          severity: "critical",
          team: "data",
        },
      );
    });

    it("delivers it through the rendered routing to pagerduty-data (PagerDuty + the SNS e-mail copy) with its labels", function () {
      const n = result.notification;
      assert.ok(
        n,
        `no ${ALERT} notification; received: ${JSON.stringify(result.notifications.map((x) => x.path))}`,
      );
      // The routing policy (stated independently of the renderer): critical + team data pages the data team.
      assert.equal(n.receiver, "pagerduty-data");
      const paths = result.notifications
        .filter((x) => x.commonLabels.alertname === ALERT)
        .map((x) => x.path)
        .sort();
      assert.deepEqual([...new Set(paths)], ["/pagerduty-data/pagerduty", "/pagerduty-data/sns"]);
      assert.deepEqual(
        { ...n.groupLabels },
        {
          alertname: ALERT,
          namespace: rig!.artifacts.names.namespace,
          cluster: rig!.settings.externalLabels.cluster,
        },
        "grouped by alertname, namespace, cluster",
      );
      assert.equal(n.alerts.length, 1);
      assert.deepEqual(
        { ...n.alerts[0].labels },
        {
          alertname: ALERT,
          namespace: rig!.artifacts.names.namespace,
          scope: rig!.artifacts.names.scope,
          severity: "critical",
          team: "data",
          ...rig!.settings.externalLabels,
        },
      );
      assert.equal(n.alerts[0].annotations.runbook_url, runbookUrl(result.rule, renderContext(topology)));
    });

    it(`fires and notifies nothing else (in particular not ${OTHER})`, function () {
      console.log(`      pending but never fired: ${result.pendingOnly.join(", ") || "none"}`);
      assert.deepEqual(result.unexpectedFiring, [], "alerts that fired after the kill");
      assert.deepEqual(result.unexpectedNotified, [], "alerts notified after the kill");
      assert.ok(
        !result.observed.some((a) => a.name === OTHER && a.firstFiring !== undefined),
        `${OTHER} fired`,
      );
    });

    it("measures kill → notification (printed; the benchmark compares it with the 60 s target)", function () {
      const s = result.segments;
      assert.ok(s, `a milestone was not reached: ${JSON.stringify(result.timeline)}`);
      const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `      kill → notification ${sec(s.totalMs)}: failover ${sec(s.failoverMs)}, scrape ${sec(s.scrapeMs)}, ` +
          `evaluation ${sec(s.evaluationMs)}, for ${sec(s.forMs)}, group wait + delivery ${sec(s.notifyMs)}`,
      );
      // Order of the milestones (each one causes the next), not their durations.
      const t = result.timeline;
      assert.ok(t.kill <= (t.promoted ?? t.kill) && t.active! <= t.firing! && t.firing! <= t.notified!);
      assert.ok(t.scraped! <= t.active!, "the alert was evaluated on a scraped sample");
    });
  });
}
