/**
 * Alerting benchmark: N runs of leader kill → PatroniLeaderChanged firing in Prometheus → the
 * notification received, on the whole path built from the rendered production artifacts
 * (`@hcp/observability/harness`: a 3-member Patroni cluster from the rendered patroni.yml, Debian's
 * postgres_exporter 0.11 + Patroni's /metrics, Prometheus 2.42 with the product's rule file and the
 * production scrape / evaluation intervals, Alertmanager 0.25 with the rendered routing and timers,
 * notifiers pointed at a local webhook). Each run boots everything afresh: the alert stays firing
 * for 10 minutes after a promotion, so a second kill on the same Prometheus would join the open
 * alert group and notify nothing new. Prints min / median / max of kill → notification and of its
 * parts with their share, against the 60 s target. Timings are printed, never asserted.
 *
 *   pnpm bench:alerting [--runs 3] [--json out.json]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { missing, Sandbox } from "@hcp/postgres/harness";
import {
  effectiveRoute,
  formatRigReport,
  formatTimeline,
  LEADER_ALERT,
  leaderKillAlert,
  type LeaderKillResult,
  MONITORING_BINARIES,
  startAlertingRig,
  waitHeartbeat,
  waitScraped,
} from "@hcp/observability/harness";
import { repoTopology } from "@hcp/testing";
import { type AlertBounds, type AlertRunSegments, alertingTable } from "./alertingStats";

/** Kill → notification target for a critical data-tier alert (issue 12). */
const TARGET_MS = 60_000;

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function args(): { runs: number; json?: string } {
  const argv = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(value("--runs") ?? process.env.HCP_BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("usage: alerting [--runs N>=1] [--json file]");
  return { runs, json: value("--json") };
}

interface RunResult {
  readonly run: number;
  readonly load1: number;
  readonly oldLeader: string;
  readonly newLeader?: string;
  readonly segments?: AlertRunSegments;
  readonly receiver?: string;
  readonly unexpectedFiring: readonly string[];
  readonly unexpectedNotified: readonly string[];
  readonly pendingOnly: readonly string[];
}

async function oneRun(run: number, printSetup: boolean): Promise<{ result: RunResult; bounds: AlertBounds }> {
  const topology = repoTopology("production");
  const sandbox = Sandbox.create("bench-alerting");
  try {
    const rig = await startAlertingRig({ sandbox, topology });
    try {
      if (printSetup) console.log(formatRigReport(rig.report));
      await waitScraped(rig);
      await waitHeartbeat(rig);
      const load1 = os.loadavg()[0];
      const r: LeaderKillResult = await leaderKillAlert(rig, { quietMs: 15_000, log });
      log(formatTimeline(r).trim());
      const route = effectiveRoute(rig.alertmanager.config, {
        alertname: LEADER_ALERT,
        severity: r.rule.severity,
        team: r.rule.team,
      });
      const dcs = rig.artifacts.patroni.config.bootstrap.dcs;
      const patroniGroup = rig.groups.find((g) => g.rules.some((x) => x.kind === "alert" && x.alert === LEADER_ALERT));
      const bounds: AlertBounds = {
        failover: `ttl ${dcs.ttl} s − time since the last renewal (loop_wait ${dcs.loop_wait} s) + promotion`,
        scrape: `≤ scrape interval ${rig.settings.scrapeIntervalSeconds} s`,
        evaluation: `≤ group interval ${patroniGroup?.interval ?? `${rig.settings.evaluationIntervalSeconds}s`}`,
        for: `= ${r.rule.for}`,
        notify: `group_wait ${route.groupWait} (route → ${route.receiver}) + delivery`,
      };
      return {
        bounds,
        result: {
          run,
          load1,
          oldLeader: r.oldLeader,
          newLeader: r.newLeader,
          segments: r.segments,
          receiver: r.notification?.receiver,
          unexpectedFiring: r.unexpectedFiring,
          unexpectedNotified: r.unexpectedNotified,
          pendingOnly: r.pendingOnly,
        },
      };
    } finally {
      await rig.close();
    }
  } finally {
    await sandbox.cleanup();
  }
}

async function main(): Promise<void> {
  const engines = missing(["postgres", "pgaudit", "patroni", "etcd", "psycopg2", "openssl"]);
  const absent = Object.values(MONITORING_BINARIES).filter((b) => !fs.existsSync(b.path));
  if (engines || absent.length > 0) {
    throw new Error(
      `cannot run the alerting benchmark: ${[engines, ...absent.map((b) => `${b.path} (Debian ${b.debian})`)].filter(Boolean).join("; ")}`,
    );
  }
  const { runs, json } = args();
  const started = Date.now();
  log(`alerting benchmark: ${runs} run(s); ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
  const results: RunResult[] = [];
  let bounds: AlertBounds | undefined;
  for (let run = 1; run <= runs; run++) {
    const r = await oneRun(run, run === 1);
    bounds = r.bounds;
    results.push(r.result);
    const seg = r.result.segments;
    log(
      `#${run}: ${seg ? `kill → notification ${(seg.totalMs / 1000).toFixed(1)} s` : "NO NOTIFICATION"} ` +
        `(${r.result.oldLeader} → ${r.result.newLeader ?? "?"}, receiver ${r.result.receiver ?? "-"}); ` +
        `unexpected firing [${r.result.unexpectedFiring.join(", ")}], notified [${r.result.unexpectedNotified.join(", ")}]; ` +
        `pending only [${r.result.pendingOnly.join(", ")}]; load ${r.result.load1.toFixed(2)}`,
    );
  }
  const measured = results.flatMap((r) => (r.segments ? [r.segments] : []));
  console.log(
    `\n${LEADER_ALERT} (critical, team data), production settings, ${measured.length} of ${runs} run(s) measured:\n\n` +
      `${alertingTable(measured, bounds!, TARGET_MS)}\n\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  if (json) fs.writeFileSync(json, `${JSON.stringify({ runs, bounds, results }, null, 2)}\n`);
  const bad = results.filter(
    (r) => !r.segments || r.receiver !== "pagerduty-data" || r.unexpectedFiring.length + r.unexpectedNotified.length > 0,
  );
  if (bad.length > 0) {
    console.error(`${bad.length} run(s) without the notification at pagerduty-data or with unexpected alerts`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
