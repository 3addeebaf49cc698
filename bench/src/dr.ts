/**
 * DR benchmark: N runs of region loss -> promote on the loopback drill of `@hcp/dr/drill` (the
 * production environment's primary region, 3 members, and its DR standby cluster, 2 members, each
 * with its own etcd, booted from the rendered configurations; Debian Patroni 3.0.2 + PostgreSQL 15 +
 * pgBackRest 2.45; a writer committing 100 tx/s and logging every acknowledged commit).
 *
 * Per run and variant:
 * - streaming: standby replay lag sampled for --lag-seconds at 100 tx/s; region loss (SIGKILL of
 *   every primary-region process) -> the real promote path (`moveWriter`, writer lost, execute);
 *   RTO = kill -> first acknowledged write in the DR region, split into kill -> command start
 *   (the decision: immediate here, an operator's minutes in production), command -> promoted,
 *   promoted -> first write; RPO in acknowledged commits and seconds; then the failback (re-seed +
 *   planned switchover back) and its write gap and loss.
 * - archive: the inter-region path is cut first (the standby lives on restore_command alone) for
 *   archive_timeout + 10 s, then the region is lost: RPO under archive-only fallback.
 *
 * Prints min/median/max and whether each target is met. Timings are printed, never asserted.
 *
 *   pnpm bench:dr [--runs 3] [--variants streaming,archive] [--lag-seconds 30] [--json out.json]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  archiveFallback,
  DRILL_TABLE,
  failback,
  type FailbackResult,
  regionLoss,
  type RegionLossResult,
  sampleReplayLag,
  startDrill,
  startDrillWriter,
  stopProxies,
  type Drill,
} from "@hcp/dr/drill";
import {
  descendants,
  missing,
  postmasterOf,
  processesMentioning,
  Sandbox,
  type Writer,
} from "@hcp/postgres/harness";
import { repoTopology } from "@hcp/testing";
import { BenchOptions } from "./args";
import { CpuMeter } from "./cpu";
import { percentile, spread } from "./stats";

type VariantName = "streaming" | "archive";
const VARIANTS: readonly VariantName[] = ["streaming", "archive"];

/** The targets of the DR issue (seconds). */
const TARGETS = {
  promoteToFirstWriteSeconds: 30,
  streamingRpoSeconds: 1,
  lagP95Seconds: 1,
} as const;

interface Args {
  readonly runs: number;
  readonly variants: readonly VariantName[];
  readonly lagSeconds: number;
  readonly json?: string;
}

function args(): Args {
  const o = new BenchOptions("dr", process.argv.slice(2), [
    { flag: "--runs", value: "N>=1" },
    { flag: "--variants", value: VARIANTS.join(",") },
    { flag: "--lag-seconds", value: "S>0" },
    { flag: "--json", value: "file" },
  ]);
  const runs = o.integer("--runs", 3, 1, process.env.HCP_BENCH_RUNS);
  const lagSeconds = o.number("--lag-seconds", 30, 0, "exclusive");
  const variants = o.list("--variants", VARIANTS, VARIANTS);
  o.check();
  const json = o.text("--json");
  return { runs, variants, lagSeconds, ...(json ? { json } : {}) };
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

interface RunResult {
  readonly variant: VariantName;
  readonly run: number;
  readonly loss: Omit<RegionLossResult, "moveLog">;
  /** Streaming only: replay age samples at 100 tx/s, seconds. */
  readonly lagSeconds?: readonly number[];
  /** Archive only: the largest replay age while living on the archive before the loss, seconds. */
  readonly archiveMaxAgeSeconds?: number;
  readonly failback?: Omit<FailbackResult, "region" | "moveLog">;
  /** Machine CPU busy / wall over the run (all processes, ours and the neighbours'), and ours. */
  readonly machineBusyCpus: number;
  readonly drillCpus: number;
  readonly load1Before: number;
  /** archive_timeout as rendered (the drill does not change it), seconds. */
  readonly archiveTimeoutSeconds: number;
}

/**
 * The drill's processes: those whose command line names the sandbox (Patroni, etcd, pgBackRest,
 * the writer) plus every postmaster of a data directory in it and its backends.
 */
function drillPids(sandbox: Sandbox): number[] {
  const pids = new Set(processesMentioning(sandbox.root, sandbox.runAs.uid).map((p) => p.pid));
  let entries: string[];
  try {
    entries = fs.readdirSync(sandbox.root);
  } catch {
    return [...pids];
  }
  for (const entry of entries) {
    const postmaster = postmasterOf(path.join(sandbox.root, entry, "data"));
    if (postmaster === undefined) continue;
    pids.add(postmaster.pid);
    for (const child of descendants(postmaster.pid)) pids.add(child.pid);
  }
  return [...pids];
}

async function oneRun(variant: VariantName, run: number, options: Args): Promise<RunResult> {
  const sandbox = Sandbox.create(`bench-dr-${variant}`);
  let drill: Drill | undefined;
  let writer: Writer | undefined;
  const meter = new CpuMeter({ drill: () => drillPids(sandbox) }, os.cpus().length);
  const load1Before = os.loadavg()[0] ?? 0;
  meter.start();
  const started = Date.now();
  try {
    drill = await startDrill({ sandbox, topology: repoTopology("production") });
    if (run === 1) console.log(drill.report);
    writer = await startDrillWriter(drill, [drill.primary, drill.dr], {
      table: DRILL_TABLE,
      createOn: drill.primary,
    });
    let lag: number[] | undefined;
    let archiveMaxAgeSeconds: number | undefined;
    if (variant === "streaming") {
      const samples = await sampleReplayLag(drill.dr, { durationMs: options.lagSeconds * 1000 });
      lag = samples.map((s) => s.ageSeconds);
    } else {
      // The path is cut and stays cut: the loss happens while the standby lives on the archive.
      const cut = await archiveFallback(drill, {
        durationMs: (drill.archiveTimeoutSeconds + 10) * 1000,
        table: DRILL_TABLE,
        keepCut: true,
      });
      archiveMaxAgeSeconds = cut.maxAgeSeconds;
    }
    const loss = await regionLoss(drill, writer, {
      table: DRILL_TABLE,
      allowDataLossRetry: variant === "archive",
    });
    const { moveLog: _log, ...lossResult } = loss;
    log(
      `${variant} run ${run}: RTO ${((loss.firstWriteAt - loss.killedAt) / 1000).toFixed(1)} s ` +
        `(promote command -> first write ${((loss.firstWriteAt - loss.commandStartedAt) / 1000).toFixed(1)} s); ` +
        `RPO ${loss.lostIds.length} commits / ${loss.rpoSeconds.toFixed(3)} s${loss.acceptedDataLoss ? " (RPO precondition refused first; --accept-data-loss)" : ""}`,
    );
    let back: RunResult["failback"];
    if (variant === "streaming") {
      await writer.stop(sandbox);
      const fb = await failback(drill);
      const { region: _region, moveLog: _moveLog, ...rest } = fb;
      back = rest;
      log(
        `${variant} run ${run}: failback re-seed ${(fb.reseedMs / 1000).toFixed(1)} s (${fb.reseedMethod}), ` +
          `switchover gap ${(fb.writeGapMs / 1000).toFixed(1)} s, ${fb.lost.length} of ${fb.acknowledged} lost`,
      );
    }
    meter.stop();
    const usage = meter.usageBetween(started, Date.now());
    return {
      variant,
      run,
      loss: lossResult,
      ...(lag ? { lagSeconds: lag } : {}),
      ...(archiveMaxAgeSeconds !== undefined ? { archiveMaxAgeSeconds } : {}),
      ...(back ? { failback: back } : {}),
      machineBusyCpus: usage.machineBusySeconds / usage.wallSeconds,
      drillCpus: (usage.groups.drill ?? 0) / usage.wallSeconds,
      load1Before,
      archiveTimeoutSeconds: drill.archiveTimeoutSeconds,
    };
  } finally {
    meter.stop();
    await writer?.stop(sandbox).catch(() => undefined);
    await stopProxies(drill);
    await sandbox.cleanup();
  }
}

const f1 = (s: number) => (Number.isNaN(s) ? "-" : s.toFixed(1));
const f3 = (s: number) => (Number.isNaN(s) ? "-" : s.toFixed(3));
function row(label: string, values: readonly number[], format = f1): string {
  const s = spread(values);
  return `| ${label} | ${format(s.min)} / **${format(s.median)}** / ${format(s.max)} |`;
}

function report(results: readonly RunResult[], archiveTimeoutSeconds: number, options: Args): void {
  const lines: string[] = ["", "| measure (min / median / max) | value |", "| --- | --- |"];
  const targets: string[] = [];
  for (const variant of options.variants) {
    const mine = results.filter((r) => r.variant === variant);
    if (mine.length === 0) continue;
    const sec = (a: number, b: number) => (b - a) / 1000;
    const rto = mine.map((r) => sec(r.loss.killedAt, r.loss.firstWriteAt));
    const decision = mine.map((r) => sec(r.loss.killedAt, r.loss.commandStartedAt));
    const promote = mine.map((r) => sec(r.loss.commandStartedAt, r.loss.promotedAt));
    const firstWrite = mine.map((r) => sec(r.loss.promotedAt, r.loss.firstWriteAt));
    const commandToWrite = mine.map((r) => sec(r.loss.commandStartedAt, r.loss.firstWriteAt));
    const rpoCommits = mine.map((r) => r.loss.lostIds.length);
    const rpoSeconds = mine.map((r) => r.loss.rpoSeconds);
    lines.push(
      row(`${variant}: RTO kill -> first acknowledged write in DR, s`, rto),
      row(`${variant}: kill -> promote command start (decision), s`, decision),
      row(`${variant}: command start -> promoted, s`, promote),
      row(`${variant}: promoted -> first acknowledged write, s`, firstWrite),
      row(`${variant}: RPO, acknowledged commits lost`, rpoCommits, (n) => String(n)),
      row(`${variant}: RPO, seconds of acknowledgements lost`, rpoSeconds, f3),
      `| ${variant}: acknowledged commits before the loss (per run) | ${mine.map((r) => r.loss.acknowledgedBeforeKill).join(", ")} |`,
      `| ${variant}: commits the standby had replayed that were missing after promotion | ${mine.map((r) => r.loss.missingSeen.length).join(", ")} |`,
    );
    const worstCommand = Math.max(...commandToWrite);
    targets.push(
      `${variant}: promote command -> first write <= ${TARGETS.promoteToFirstWriteSeconds} s: ` +
        `${worstCommand <= TARGETS.promoteToFirstWriteSeconds ? "MET" : "NOT MET"} (max ${f1(worstCommand)} s)`,
    );
    const worstRpo = Math.max(...rpoSeconds);
    if (variant === "streaming") {
      targets.push(
        `streaming RPO <= ${TARGETS.streamingRpoSeconds} s of acknowledged commits: ${worstRpo <= TARGETS.streamingRpoSeconds ? "MET" : "NOT MET"} ` +
          `(max ${f3(worstRpo)} s, ${Math.max(...rpoCommits)} commits)`,
      );
      const lag = mine.flatMap((r) => r.lagSeconds ?? []).sort((a, b) => a - b);
      const p50 = percentile(lag, 50);
      const p95 = percentile(lag, 95);
      lines.push(
        `| streaming: standby replay lag at 100 tx/s, p50 / p95 / max, s (${lag.length} samples) | ${f3(p50)} / ${f3(p95)} / ${f3(lag[lag.length - 1] ?? NaN)} |`,
      );
      targets.push(
        `lag p95 <= ${TARGETS.lagP95Seconds} s: ${p95 <= TARGETS.lagP95Seconds ? "MET" : "NOT MET"} (p95 ${f3(p95)} s)`,
      );
      const fb = mine.flatMap((r) => (r.failback ? [r.failback] : []));
      if (fb.length > 0) {
        lines.push(
          row(
            "failback: re-seed of the primary region as a standby, s",
            fb.map((b) => b.reseedMs / 1000),
          ),
          row(
            "failback: command (fence -> catch-up -> promote), s",
            fb.map((b) => b.commandMs / 1000),
          ),
          row(
            "failback: switchover write gap, s",
            fb.map((b) => b.writeGapMs / 1000),
          ),
          `| failback: acknowledged commits lost (per run) | ${fb.map((b) => `${b.lost.length} of ${b.acknowledged}`).join(", ")} |`,
          `| failback: re-seed method (per run) | ${fb.map((b) => b.reseedMethod).join(", ")} |`,
        );
      }
    } else {
      targets.push(
        `archive-only RPO <= archive_timeout (${archiveTimeoutSeconds} s): ${worstRpo <= archiveTimeoutSeconds ? "MET" : "NOT MET"} ` +
          `(max ${f3(worstRpo)} s, ${Math.max(...rpoCommits)} commits)`,
      );
      lines.push(
        row(
          "archive: largest replay age while on the archive, s",
          mine.map((r) => r.archiveMaxAgeSeconds ?? NaN),
        ),
        `| archive: promote refused by the RPO precondition first (per run) | ${mine.map((r) => (r.loss.acceptedDataLoss ? "yes" : "no")).join(", ")} |`,
      );
    }
  }
  lines.push(
    `| busy CPUs during each run, whole machine (of ${os.cpus().length}) and the drill's processes | ${results.map((r) => `${r.machineBusyCpus.toFixed(2)} (${r.drillCpus.toFixed(2)})`).join(", ")} |`,
    `| 1-minute load before each run | ${results.map((r) => r.load1Before.toFixed(2)).join(", ")} |`,
  );
  console.log(lines.join("\n"));
  console.log(`\nTargets:\n${targets.map((t) => `  - ${t}`).join("\n")}`);
}

async function main(): Promise<void> {
  const options = args();
  const why = missing(["postgres", "pgaudit", "patroni", "etcd", "psycopg2", "pgbackrest", "openssl"]);
  if (why !== undefined) throw new Error(`bench:dr cannot run here: ${why}`);
  const started = Date.now();
  const results: RunResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    // Variants alternate within each run, so a noisy neighbour hits both alike.
    for (const variant of options.variants) {
      log(`${variant} run ${run}/${options.runs}`);
      results.push(await oneRun(variant, run, options));
    }
  }
  report(results, results[0]?.archiveTimeoutSeconds ?? NaN, options);
  console.log(
    `\n${options.runs} run(s) of ${options.variants.join(" + ")} in ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  );
  if (options.json) fs.writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
