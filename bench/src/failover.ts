/**
 * Failover benchmark: node loss (kill -9 of the leader's Patroni and every postgres process while a
 * writer commits ~100 tx/s) and planned switchover, N times each, for the rendered production
 * Patroni settings and for Patroni's defaults (30/10/10) in the same run, on Debian's Patroni +
 * etcd + PostgreSQL 15 on loopback. Prints min/median/max, lost acknowledged commits, the
 * unprotected window after each promotion and the ratios rendered/defaults. Timings are printed,
 * never asserted.
 *
 *   pnpm bench:failover [--runs 5] [--variants defaults,rendered,nonstrict] [--json out.json]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { renderArtifacts, ROLES, type RenderedArtifacts } from "@hcp/postgres";
import {
  applyPostgresSql,
  checkNoLoss,
  createProbeTable,
  type DcsOverrides,
  freePorts,
  LeaderProxy,
  type LocalPgbouncer,
  missing,
  type ObservedResult,
  type PgbouncerVariant,
  rolePasswords,
  startPgbouncer,
  nodeLoss,
  rejoin,
  renderedCluster,
  type RenderedCluster,
  Sandbox,
  singleMemberStall,
  switchover,
  SyncMonitor,
  type NodeLossResult,
  type SingleMemberResult,
  type SwitchoverResult,
  Writer,
} from "@hcp/postgres/harness";
import { repoTopology } from "@hcp/testing";
import { BenchOptions } from "./args";

interface Variant {
  readonly name: string;
  readonly description: string;
  readonly overrides?: DcsOverrides;
  /**
   * Also run a second writer through PgBouncer (the rendered pgbouncer.ini with these keys
   * changed) whose `[databases]` host is a {@link LeaderProxy} following the Patroni leader, the
   * stand-in for the primary Service. Both writers see the same failures.
   */
  readonly pooled?: PgbouncerVariant;
}

const VARIANTS: Readonly<Record<string, Variant>> = {
  defaults: {
    name: "defaults",
    description:
      "Patroni defaults 30/10/10 and PostgreSQL's default wal_retrieve_retry_interval 5s (no timing tuning), synchronous mode as rendered",
    overrides: {
      ttl: 30,
      loop_wait: 10,
      retry_timeout: 10,
      parameters: { wal_retrieve_retry_interval: "5s" },
    },
  },
  rendered: { name: "rendered", description: "rendered production settings, unchanged" },
  nonstrict: {
    name: "nonstrict",
    description: "rendered timing with synchronous_mode_strict: false (what strict mode buys)",
    overrides: { synchronous_mode_strict: false },
  },
  retry5s: {
    name: "retry5s",
    description:
      "rendered with PostgreSQL's default wal_retrieve_retry_interval 5s (what the rendered 1s buys)",
    overrides: { parameters: { wal_retrieve_retry_interval: "5s" } },
  },
  pgbouncer: {
    name: "pgbouncer",
    description:
      "rendered settings; a second writer through PgBouncer (rendered pgbouncer.ini) -> a loopback proxy following the leader (stands in for the primary Service)",
    pooled: {},
  },
  "pgbouncer-retry15": {
    name: "pgbouncer-retry15",
    description:
      "as pgbouncer, with PgBouncer's default server_login_retry 15 s (rendered before the failover benchmark measured it)",
    pooled: { server_login_retry: 15 },
  },
  "pgbouncer-retry05": {
    name: "pgbouncer-retry05",
    description: "as pgbouncer, with server_login_retry 0.5 s (an experiment: half the rendered 1 s)",
    pooled: { server_login_retry: 0.5 },
  },
  loop10: {
    name: "loop10",
    description:
      "ttl 20 with loop_wait 10 / retry_timeout 5 (loop_wait + 2*retry_timeout = ttl): the leader key expires ttl - U(0, loop_wait) after a crash",
    overrides: { ttl: 20, loop_wait: 10, retry_timeout: 5 },
  },
};

/**
 * 1-minute load average per CPU above which a measurement is repeated once (the machine is shared
 * with builds); the load is printed with every result either way.
 */
const EXTREME_LOAD_PER_CPU = Number(process.env.HCP_BENCH_EXTREME_LOAD_PER_CPU ?? 5);
const MAX_REPEATS = 1;

interface Iteration {
  readonly variant: string;
  readonly run: number;
  readonly load1: number;
  readonly loss: NodeLossResult;
  readonly rewind: string;
  readonly rejoinMs: number;
  readonly switchover: SwitchoverResult;
  readonly lost: number;
  readonly acknowledged: number;
  readonly unknownCommitted: number;
  readonly unknownNotCommitted: number;
  readonly alone?: SingleMemberResult;
  readonly repeatedBecauseOfLoad: boolean;
  /** The writer through PgBouncer, on the same node loss and switchover. */
  readonly pooled?: {
    readonly loss: ObservedResult;
    readonly switchover: ObservedResult;
    readonly lost: number;
    readonly acknowledged: number;
    readonly unknownCommitted: number;
    readonly unknownNotCommitted: number;
  };
}

function args(): { runs: number; variants: Variant[]; json?: string } {
  const names = Object.keys(VARIANTS);
  const o = new BenchOptions("failover", process.argv.slice(2), [
    { flag: "--runs", value: "N>=1" },
    { flag: "--variants", value: names.join(",") },
    { flag: "--json", value: "file" },
  ]);
  const runs = o.integer("--runs", 5, 1, process.env.HCP_BENCH_RUNS);
  const chosen = o.list("--variants", names, ["defaults", "rendered", "nonstrict", "retry5s"]);
  o.check();
  const json = o.text("--json");
  return { runs, variants: chosen.map((n) => VARIANTS[n]), ...(json ? { json } : {}) };
}

function stats(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0] ?? NaN, median, max: sorted[sorted.length - 1] ?? NaN };
}

const s = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : "-");
const triple = (v: { min: number; median: number; max: number }): string =>
  `${s(v.min)} / ${s(v.median)} / ${s(v.max)}`;

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** PgBouncer in front of a {@link LeaderProxy} and the application role's password. */
interface PooledPath {
  readonly proxy: LeaderProxy;
  readonly bouncer: LocalPgbouncer;
  readonly database: string;
  readonly appPassword: string;
}

interface Live {
  readonly variant: Variant;
  readonly sandbox: Sandbox;
  readonly rc: RenderedCluster;
  readonly pooled?: PooledPath;
  leader: string;
  /** synchronous_mode: the next scenario waits until Patroni names a synchronous standby. */
  sync: boolean;
  strict: boolean;
  timing: string;
}

async function boot(variant: Variant): Promise<Live> {
  const artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
  const sandbox = Sandbox.create(`bench-${variant.name}`);
  const rc = await renderedCluster({ sandbox, rendered: artifacts.patroni, dcsOverrides: variant.overrides });
  const changed = rc.localized[0].changes.filter((c) => c.reason === "benchmark variant");
  const dcs = { ...artifacts.patroni.config.bootstrap.dcs, ...variant.overrides };
  rc.cluster.startAll();
  const leader = await rc.cluster.waitHealthy(300_000, undefined, { syncStandby: dcs.synchronous_mode });
  log(
    `${variant.name}: booted (${variant.description}); variant keys: ${
      changed.map((c) => `${c.path}=${JSON.stringify(c.to)}`).join(", ") || "none"
    }`,
  );
  const pooled = variant.pooled ? await poolPath(sandbox, rc, artifacts, leader, variant.pooled) : undefined;
  return {
    variant,
    sandbox,
    rc,
    pooled,
    leader,
    sync: dcs.synchronous_mode,
    strict: dcs.synchronous_mode_strict,
    timing: `${dcs.ttl}/${dcs.loop_wait}/${dcs.retry_timeout}`,
  };
}

/**
 * The application's path: the rendered bootstrap SQL on the leader (roles, the auth_query
 * function), a LeaderProxy following the leader as the primary Service does, and PgBouncer with
 * the rendered ini pointing at it.
 */
async function poolPath(
  sandbox: Sandbox,
  rc: RenderedCluster,
  artifacts: RenderedArtifacts,
  leader: string,
  variant: PgbouncerVariant,
): Promise<PooledPath> {
  const cluster = rc.cluster;
  const member = cluster.member(leader);
  const passwords = rolePasswords();
  applyPostgresSql(sandbox, { socketDir: member.socketDir!, port: member.pgPort }, artifacts, passwords);
  const proxy = await LeaderProxy.start({
    target: async () => {
      const l = await cluster.leader();
      return l === undefined ? undefined : cluster.member(l).pgPort;
    },
  });
  const [listenPort] = await freePorts(1);
  const bouncer = await startPgbouncer(sandbox, artifacts, {
    listenPort: listenPort,
    serverPort: proxy.port,
    tls: rc.tls,
    authPassword: passwords.pgbouncer_auth,
    variant,
  });
  console.log(bouncer.report);
  return {
    proxy,
    bouncer,
    database: artifacts.inputs.pgbouncer.databaseName,
    appPassword: passwords.healthcare_app,
  };
}

/** What an application connecting to PgBouncer uses: one endpoint, TLS verified, the pooled role. */
function pooledDsn(live: Live): string {
  const p = live.pooled!;
  return [
    "host=127.0.0.1",
    `port=${p.bouncer.port}`,
    `dbname=${p.database}`,
    `user=${ROLES.app}`,
    `password=${p.appPassword}`,
    "connect_timeout=2",
    "sslmode=verify-full",
    `sslrootcert=${live.rc.tls.caFile}`,
    "application_name=hcp-writer-pooled",
    "keepalives_idle=2",
    "keepalives_interval=1",
    "keepalives_count=2",
  ].join(" ");
}

async function iterate(live: Live, run: number, attempt: number, measureAlone: boolean): Promise<Iteration> {
  const { rc, sandbox } = live;
  const cluster = rc.cluster;
  const table = `probe_${run}_${attempt}`;
  await createProbeTable(cluster, live.leader, table);
  const monitor = new SyncMonitor(cluster);
  monitor.start();
  const writer = new Writer(sandbox, {
    dsn: cluster.dsn(),
    table,
    ratePerSecond: 100,
    name: `writer-${table}`,
  });
  const pooledTable = `${table}_pooled`;
  let pooledWriter: Writer | undefined;
  if (live.pooled) {
    await createProbeTable(cluster, live.leader, pooledTable, {
      database: live.pooled.database,
      writer: ROLES.app,
    });
    pooledWriter = new Writer(sandbox, {
      dsn: pooledDsn(live),
      table: pooledTable,
      ratePerSecond: 100,
      name: `writer-${pooledTable}`,
    });
  }
  const observers = pooledWriter ? [{ name: "through PgBouncer", writer: pooledWriter }] : [];
  try {
    const load1 = os.loadavg()[0];
    const loss = await nodeLoss(cluster, writer, monitor, {
      leader: live.leader,
      timeoutMs: 180_000,
      observers,
    });
    let alone: SingleMemberResult | undefined;
    if (measureAlone) {
      const replica = cluster.members
        .map((m) => m.name)
        .find((n) => n !== loss.oldLeader && n !== loss.newLeader)!;
      await cluster.waitHealthy(180_000, [replica]);
      alone = await singleMemberStall(cluster, writer, {
        leader: loss.newLeader,
        replica,
        aloneMs: 20_000,
        timeoutMs: 180_000,
      });
      await cluster.waitHealthy(180_000, [replica]);
    }
    const back = await rejoin(cluster, loss.oldLeader, { timeoutMs: 240_000 });
    await cluster.waitHealthy(180_000, undefined, { syncStandby: live.sync });
    const sw = await switchover(cluster, writer, monitor, {
      leader: loss.newLeader,
      timeoutMs: 180_000,
      observers,
    });
    live.leader = await cluster.waitHealthy(180_000, undefined, { syncStandby: live.sync });
    await writer.stop(sandbox);
    await pooledWriter?.stop(sandbox);
    await monitor.stop();
    const check = await checkNoLoss(cluster, writer, live.leader, table);
    const pooledCheck = pooledWriter
      ? await checkNoLoss(cluster, pooledWriter, live.leader, pooledTable, live.pooled!.database)
      : undefined;
    const loadAfter = os.loadavg()[0];
    return {
      variant: live.variant.name,
      run,
      load1: Math.max(load1, loadAfter),
      loss,
      rewind: back.rewind,
      rejoinMs: back.rejoinMs,
      switchover: sw,
      lost: check.lost.length,
      acknowledged: check.acknowledged,
      unknownCommitted: check.unknownCommitted,
      unknownNotCommitted: check.unknownNotCommitted,
      alone,
      repeatedBecauseOfLoad: false,
      pooled: pooledCheck && {
        loss: loss.observed[0],
        switchover: sw.observed[0],
        lost: pooledCheck.lost.length,
        acknowledged: pooledCheck.acknowledged,
        unknownCommitted: pooledCheck.unknownCommitted,
        unknownNotCommitted: pooledCheck.unknownNotCommitted,
      },
    };
  } finally {
    await writer.stop(sandbox).catch(() => undefined);
    await pooledWriter?.stop(sandbox).catch(() => undefined);
    await monitor.stop().catch(() => undefined);
  }
}

function report(lives: readonly Live[], results: readonly Iteration[], runs: number): string {
  const lines: string[] = [];
  const cpus = os.cpus().length;
  lines.push(
    `Failover benchmark: Debian Patroni 3.0.2 + etcd 3.4 + PostgreSQL 15, 3 members on loopback, writer 100 tx/s, ` +
      `${runs} run(s) per variant, ${cpus} CPUs. Times in seconds (min / median / max).`,
  );
  lines.push("");
  lines.push(
    "| variant | ttl/loop_wait/retry | strict | node-loss recovery | switchover write gap | lost acked commits | unprotected after failover (max, single-copy acks) | unprotected after switchover (max) | pg_rewind ran | load1 (max) |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|");
  const medians: Record<string, { loss: number; gap: number }> = {};
  for (const live of lives) {
    const mine = results.filter((r) => r.variant === live.variant.name);
    const loss = stats(mine.map((r) => r.loss.recoveryMs));
    const gap = stats(mine.map((r) => r.switchover.writeGapMs));
    medians[live.variant.name] = { loss: loss.median, gap: gap.median };
    const winLoss = Math.max(...mine.map((r) => r.loss.unprotected.windowMs));
    const winAcks = mine.reduce((n, r) => n + r.loss.unprotected.acksInWindow, 0);
    const winSw = Math.max(...mine.map((r) => r.switchover.unprotected.windowMs));
    lines.push(
      `| ${live.variant.name} | ${live.timing} | ${live.strict ? "yes" : "no"} | ${triple(loss)} | ${triple(gap)} | ` +
        `${mine.reduce((n, r) => n + r.lost, 0)} of ${mine.reduce((n, r) => n + r.acknowledged, 0)} | ` +
        `${s(winLoss)} (${winAcks}) | ${s(winSw)} | ${mine.filter((r) => r.rewind === "ran").length}/${mine.length} | ` +
        `${Math.max(...mine.map((r) => r.load1)).toFixed(2)} |`,
    );
  }
  lines.push("");
  const base = medians.defaults;
  for (const name of Object.keys(medians).filter((n) => n !== "defaults")) {
    const m = medians[name];
    if (base) {
      lines.push(
        `ratio ${name}/defaults: node-loss recovery median ${(m.loss / base.loss).toFixed(2)}x, ` +
          `switchover gap median ${(m.gap / base.gap).toFixed(2)}x`,
      );
    }
  }
  const alone = results.filter((r) => r.alone !== undefined);
  if (alone.length > 0) {
    lines.push("");
    lines.push("Leader left alone (second member killed for 20 s, then restarted):");
    for (const r of alone) {
      const a = r.alone!;
      const live = lives.find((l) => l.variant.name === r.variant)!;
      lines.push(
        `- ${r.variant} (strict ${live.strict ? "yes" : "no"}): ${a.acksWhileAlone} commits acknowledged while alone` +
          (a.firstAckAloneMs !== undefined
            ? ` (single copy, the first ${s(a.firstAckAloneMs)} s after the kill): no write stall`
            : `: writes stalled ${s(a.aloneMs + a.resumeAfterRestartMs)} s in all, until ` +
              `${s(a.resumeAfterRestartMs)} s after the replica restarted`),
      );
    }
  }
  const pooledLines = pooledReport(lives, results);
  if (pooledLines.length > 0) lines.push("", ...pooledLines);
  const unknown = results.reduce((n, r) => n + r.unknownCommitted + r.unknownNotCommitted, 0);
  const committed = results.reduce((n, r) => n + r.unknownCommitted, 0);
  lines.push("");
  lines.push(
    `COMMITs that failed (outcome unknown to the client): ${unknown}, of which ${committed} had committed: ` +
      `clients must treat a failed COMMIT as "unknown", never as "not written".`,
  );
  return lines.join("\n");
}

/** Differences (ms) of the pooled writer against the direct one, paired by failure. */
function pooledReport(lives: readonly Live[], results: readonly Iteration[]): string[] {
  const lines: string[] = [];
  for (const live of lives.filter((l) => l.pooled)) {
    const mine = results.filter((r) => r.variant === live.variant.name && r.pooled);
    if (mine.length === 0) continue;
    if (lines.length > 0) lines.push("");
    const db = stats(mine.map((r) => r.loss.recoveryMs));
    const app = stats(mine.map((r) => r.pooled!.loss.recoveryMs!));
    const lossDiff = stats(mine.map((r) => r.pooled!.loss.recoveryMs! - r.loss.recoveryMs));
    const gapDb = stats(mine.map((r) => r.switchover.writeGapMs));
    const gapApp = stats(mine.map((r) => r.pooled!.switchover.writeGapMs!));
    const gapDiff = stats(mine.map((r) => r.pooled!.switchover.writeGapMs! - r.switchover.writeGapMs));
    const met = (v: { max: number }, limitMs: number): string => (v.max <= limitMs ? "met" : "NOT met");
    lines.push(
      `${live.variant.name}: the writer through PgBouncer (${
        live
          .pooled!.bouncer.changes.filter((c) => c.reason === "benchmark variant")
          .map(
            (c) =>
              `${c.path.replace(/^pgbouncer\./, "")}=${c.to === undefined ? "(default)" : String(c.to as string)}`,
          )
          .join(", ") || "rendered pgbouncer.ini"
      }) ` + "vs the direct writer, on the same failures (seconds, min / median / max):",
    );
    lines.push("");
    lines.push(
      "| measure | database (direct writer) | app through PgBouncer | difference, paired | target |",
    );
    lines.push("|---|---|---|---|---|");
    lines.push(
      `| node-loss RTO (kill -> first acked write) | ${triple(db)} | ${triple(app)} | ${triple(lossDiff)} | <= +2 s: ${met(lossDiff, 2000)} |`,
    );
    lines.push(
      `| switchover write gap | ${triple(gapDb)} | ${triple(gapApp)} | ${triple(gapDiff)} | <= +1 s: ${met(gapDiff, 1000)} |`,
    );
    lines.push(
      `| lost acknowledged commits | ${mine.reduce((n, r) => n + r.lost, 0)} of ${mine.reduce((n, r) => n + r.acknowledged, 0)} | ` +
        `${mine.reduce((n, r) => n + r.pooled!.lost, 0)} of ${mine.reduce((n, r) => n + r.pooled!.acknowledged, 0)} | | 0 |`,
    );
    const errors = new Map<string, number>();
    for (const r of mine) {
      for (const e of [...r.pooled!.loss.errors, ...r.pooled!.switchover.errors]) {
        errors.set(e.message, (errors.get(e.message) ?? 0) + e.count);
      }
    }
    lines.push("");
    lines.push(
      `errors the app writer saw (all runs): ${
        [...errors.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([m, n]) => `${n}x "${m}"`)
          .join("; ") || "none"
      }`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const why = missing(["postgres", "pgaudit", "patroni", "etcd", "psycopg2", "openssl"]);
  if (why) throw new Error(`cannot run the failover benchmark: ${why}`);
  const { runs, variants, json } = args();
  const started = Date.now();
  log(
    `failover benchmark: ${runs} run(s) of ${variants.map((v) => v.name).join(", ")}; load ${os.loadavg()[0].toFixed(2)}`,
  );
  const lives: Live[] = [];
  const results: Iteration[] = [];
  try {
    for (const v of variants) lives.push(await boot(v));
    for (let run = 1; run <= runs; run++) {
      // Variants alternate within a run so a change in machine load affects all of them alike.
      for (const live of lives) {
        let attempt = 1;
        for (;;) {
          // The leader-alone case is a property of the database settings: measured on direct variants.
          const result = await iterate(live, run, attempt, run === 1 && !live.pooled);
          const extreme = result.load1 > EXTREME_LOAD_PER_CPU * os.cpus().length;
          log(
            `${live.variant.name} #${run}: node loss ${s(result.loss.recoveryMs)} s (promoted ${s(result.loss.promotedMs ?? NaN)} s; ${result.loss.oldLeader} -> ${result.loss.newLeader}), ` +
              `unprotected ${s(result.loss.unprotected.windowMs)} s; switchover gap ${s(result.switchover.writeGapMs)} s (promoted ${s(result.switchover.promotedMs ?? NaN)} s); ` +
              `lost ${result.lost}/${result.acknowledged}; rewind ${result.rewind}; load ${result.load1.toFixed(2)}` +
              (extreme ? " (extreme load)" : ""),
          );
          if (result.pooled) {
            const p = result.pooled;
            log(
              `${live.variant.name} #${run} through PgBouncer: node loss ${s(p.loss.recoveryMs!)} s (${s(p.loss.recoveryMs! - result.loss.recoveryMs)} s more), ` +
                `switchover gap ${s(p.switchover.writeGapMs!)} s (${s(p.switchover.writeGapMs! - result.switchover.writeGapMs)} s more); ` +
                `lost ${p.lost}/${p.acknowledged}; errors ${JSON.stringify([...p.loss.errors, ...p.switchover.errors].slice(0, 4))}`,
            );
          }
          if (!extreme || attempt > MAX_REPEATS) {
            results.push(result);
            break;
          }
          log(`${live.variant.name} #${run}: load ${result.load1.toFixed(2)} is extreme; repeating`);
          attempt++;
        }
      }
    }
  } finally {
    for (const live of lives) {
      await live.pooled?.proxy.stop().catch(() => undefined);
      await live.sandbox.cleanup();
    }
  }
  const text = report(lives, results, runs);
  console.log(`\n${text}\n\n(total ${s(Date.now() - started)} s)`);
  if (json) fs.writeFileSync(json, `${JSON.stringify({ runs, results }, null, 2)}\n`);
  const lost = results.reduce((n, r) => n + r.lost + (r.pooled?.lost ?? 0), 0);
  if (lost > 0) {
    console.error(`${lost} acknowledged commit(s) lost`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
