/**
 * Pooler benchmark: the rendered production pgbouncer.ini (PgBouncer 1.18, transaction pooling, TLS
 * both sides, auth_query) serving 1000 TLS clients, against 100 TLS clients connected directly to
 * PostgreSQL 15 (rendered parameters and bootstrap SQL), with the same pgbench script, on the same
 * machine, alternating within each run. Prints TPS both ways and their ratio (target >= 0.8), p95
 * latency both ways, PgBouncer's CPU (from /proc of its PID), the CPU breakdown and connection
 * errors (target 0). Timings are printed, never asserted.
 *
 *   pnpm bench:pooler [--runs 3] [--seconds 30] [--cases direct,pooled[,pooled100,plain,x2,x3]] [--json out.json]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderArtifacts, ROLES, type RenderedArtifacts } from "@hcp/postgres";
import {
  applyPostgresSql,
  descendants,
  establishedConnections,
  freePorts,
  type LocalPgbouncer,
  missing,
  PG_BIN,
  parsePgbench,
  parsePgbenchLog,
  type PgbouncerVariant,
  POOLED_TRANSACTION_SCRIPT,
  postmasterOf,
  queryOnce,
  rolePasswords,
  type RolePasswords,
  type RenderedServer,
  Sandbox,
  sleep,
  startPgbouncer,
  startRenderedServer,
  steadyState,
  type TlsFiles,
  makeTls,
  waitFor,
} from "@hcp/postgres/harness";
import { repoTopology } from "@hcp/testing";
import { BenchOptions } from "./args";
import { CpuMeter, type CpuUsage } from "./cpu";
import { percentile, spread, type Spread } from "./stats";

/** One way of running the same pgbench script. */
interface Case {
  readonly name: string;
  readonly description: string;
  readonly clients: number;
  /** undefined: straight to PostgreSQL. */
  readonly pgbouncer?: {
    /** PgBouncer processes sharing the listen port (so_reuseport), 1 = the rendered single process. */
    readonly processes: number;
    readonly variant: PgbouncerVariant;
    /** Client-side sslmode of pgbench. */
    readonly sslmode: "verify-full" | "disable";
  };
}

const CASES: Readonly<Record<string, Case>> = {
  direct: {
    name: "direct",
    description: "100 TLS clients straight to PostgreSQL (the baseline)",
    clients: 100,
  },
  pooled: {
    name: "pooled",
    description: "1000 TLS clients through one PgBouncer running the rendered pgbouncer.ini",
    clients: 1000,
    pgbouncer: { processes: 1, variant: {}, sslmode: "verify-full" },
  },
  pooled100: {
    name: "pooled100",
    description:
      "diagnostic: 100 TLS clients through the same PgBouncer (pooling cost without the client count)",
    clients: 100,
    pgbouncer: { processes: 1, variant: {}, sslmode: "verify-full" },
  },
  plain: {
    name: "plain",
    description:
      "diagnostic: 1000 clients, client-side TLS off (client_tls_sslmode=disable): what client TLS costs",
    clients: 1000,
    pgbouncer: { processes: 1, variant: { client_tls_sslmode: "disable" }, sslmode: "disable" },
  },
  x2: {
    name: "x2",
    description:
      "1000 TLS clients over 2 PgBouncer processes on one port (so_reuseport), like 2 replicas behind the Service",
    clients: 1000,
    pgbouncer: { processes: 2, variant: { so_reuseport: 1 }, sslmode: "verify-full" },
  },
  x3: {
    name: "x3",
    description:
      "1000 TLS clients over 3 PgBouncer processes on one port (so_reuseport), like production's 3 replicas",
    clients: 1000,
    pgbouncer: { processes: 3, variant: { so_reuseport: 1 }, sslmode: "verify-full" },
  },
};

interface Args {
  readonly runs: number;
  readonly seconds: number;
  readonly rampSeconds: number;
  readonly cases: readonly Case[];
  readonly json?: string;
}

function args(): Args {
  const names = Object.keys(CASES);
  const o = new BenchOptions("pooler", process.argv.slice(2), [
    { flag: "--runs", value: "N>=1" },
    { flag: "--seconds", value: "S>=5" },
    { flag: "--ramp-seconds", value: "R>=0" },
    { flag: "--cases", value: `direct,${names.filter((c) => c !== "direct").join(",")}` },
    { flag: "--json", value: "file" },
  ]);
  const runs = o.integer("--runs", 3, 1, process.env.HCP_BENCH_RUNS);
  const seconds = o.number("--seconds", 30, 5, "inclusive");
  const rampSeconds = o.number("--ramp-seconds", 60, 0, "inclusive");
  const cases = o.list("--cases", names, ["direct", "pooled"]);
  o.require(
    cases.includes("direct") && cases.length >= 2,
    `--cases ${cases.join(",")}: direct is the baseline and must be listed with at least one other case`,
  );
  o.check();
  const json = o.text("--json");
  return { runs, seconds, rampSeconds, cases: cases.map((n) => CASES[n]), ...(json ? { json } : {}) };
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** One pgbench run of one case. */
interface Measurement {
  readonly case: string;
  readonly run: number;
  readonly clients: number;
  /** Steady state: every client running. */
  readonly tps: number;
  readonly windowSeconds: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** pgbench's own figure (whole run without the initial connection time). */
  readonly pgbenchTps: number;
  readonly initialConnectionMs: number;
  readonly processed: number;
  readonly failed: number;
  readonly connectionErrors: number;
  readonly errorSample: readonly string[];
  readonly aborted: boolean;
  readonly exitCode: number | string;
  /** Most client connections seen established at once on the port pgbench connected to. */
  readonly maxClientsConnected: number;
  /** Most server connections PgBouncer held on PostgreSQL (pooled cases). */
  readonly maxServerConnections?: number;
  readonly cpu: CpuUsage;
  readonly load1: number;
}

interface Live {
  readonly sandbox: Sandbox;
  readonly artifacts: RenderedArtifacts;
  readonly server: RenderedServer;
  readonly tls: TlsFiles;
  readonly passwords: RolePasswords;
  readonly script: string;
  readonly database: string;
}

async function boot(): Promise<Live> {
  const artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
  const sandbox = Sandbox.create("bench-pooler");
  const tls = makeTls(sandbox);
  const [pgPort] = await freePorts(1);
  const server = await startRenderedServer(sandbox, artifacts, { name: "pg", port: pgPort, tls });
  console.log(server.report);
  const passwords = rolePasswords();
  applyPostgresSql(sandbox, server, artifacts, passwords);
  const script = sandbox.writeFile("pgbench.sql", POOLED_TRANSACTION_SCRIPT, 0o644);
  return {
    sandbox,
    artifacts,
    server,
    tls,
    passwords,
    script,
    database: artifacts.inputs.pgbouncer.databaseName,
  };
}

function superuser(live: Live): {
  port: number;
  user: string;
  password: string;
  database: string;
  caFile: string;
} {
  return {
    port: live.server.port,
    user: "postgres",
    password: live.server.superuserPassword,
    database: live.database,
    caFile: live.tls.caFile,
  };
}

/** Client backends of the application role on PostgreSQL now. */
async function appBackends(live: Live): Promise<number> {
  const rows = await queryOnce<{ n: string }>(
    superuser(live),
    "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'",
    [ROLES.app],
  );
  return Number(rows[0].n);
}

/** Starts the case's PgBouncer processes (fresh for every measurement, so pools start empty). */
async function startBouncers(live: Live, c: Case, run: number): Promise<LocalPgbouncer[]> {
  if (!c.pgbouncer) return [];
  const [port] = await freePorts(1);
  const bouncers: LocalPgbouncer[] = [];
  for (let i = 0; i < c.pgbouncer.processes; i++) {
    const b = await startPgbouncer(live.sandbox, live.artifacts, {
      name: `pgbouncer-${c.name}-${run}-${i}`,
      listenPort: port,
      serverPort: live.server.port,
      tls: live.tls,
      authPassword: live.passwords.pgbouncer_auth,
      variant: c.pgbouncer.variant,
    });
    bouncers.push(b);
  }
  if (run === 1) console.log(bouncers[0].report);
  return bouncers;
}

/** The clients' logins used up too much of pgbench's -T: measure again with a longer ramp. */
class RampTooShort extends Error {}

/** {@link measure}, the ramp doubled (at most twice) while the logins leave too short a steady interval. */
async function measureWithRamp(live: Live, c: Case, run: number, a: Args): Promise<Measurement> {
  let rampSeconds = a.rampSeconds;
  for (let attempt = 1; ; attempt++) {
    try {
      return await measure(live, c, run, { ...a, rampSeconds });
    } catch (error) {
      if (!(error instanceof RampTooShort) || attempt > 2) throw error;
      log(
        `${c.name} #${run}: ${error.message} after a ${rampSeconds} s ramp; again with ${Math.max(2 * rampSeconds, 30)} s`,
      );
      rampSeconds = Math.max(2 * rampSeconds, 30);
    }
  }
}

const ERROR_LINE = /connection|could not|aborted|error|fatal/i;

async function measure(live: Live, c: Case, run: number, a: Args): Promise<Measurement> {
  const { sandbox } = live;
  // Same starting point for every case: no pooled backends left, dirty buffers flushed.
  await waitFor(
    "application backends of the previous case to exit",
    async () => ((await appBackends(live)) === 0 ? true : undefined),
    {
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  await queryOnce(superuser(live), "CHECKPOINT");
  const bouncers = await startBouncers(live, c, run);
  const port = bouncers[0]?.port ?? live.server.port;
  const sslmode = c.pgbouncer?.sslmode ?? "verify-full";
  const logPrefix = sandbox.path(`pgbench-log-${c.name}-${run}`);
  const duration = a.seconds + a.rampSeconds;
  const pgbench = sandbox.spawn(
    `pgbench-${c.name}-${run}`,
    `${PG_BIN}/pgbench`,
    [
      "-n",
      "-c",
      String(c.clients),
      "-j",
      "2",
      "-T",
      String(duration),
      "-f",
      live.script,
      "-l",
      `--log-prefix=${logPrefix}`,
      `host=127.0.0.1 port=${port} dbname=${live.database} user=${ROLES.app} sslmode=${sslmode}` +
        (sslmode === "verify-full" ? ` sslrootcert=${live.tls.caFile}` : ""),
    ],
    {
      env: { PGPASSWORD: live.passwords.healthcare_app, PGCONNECT_TIMEOUT: "60" },
      maxOpenFiles: c.clients + 1024,
      pipeStdout: true,
    },
  );
  let stdout = "";
  pgbench.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  // 'exit' can come before the last of stdout: the summary is read once the pipe has closed.
  const drained = new Promise<void>((resolve) => pgbench.child.stdout!.once("close", () => resolve()));
  const postmaster = postmasterOf(live.server.dataDir);
  const meter = new CpuMeter(
    {
      pgbouncer: () => bouncers.map((b) => b.proc.identity.pid),
      postgres: () => (postmaster ? [postmaster.pid, ...descendants(postmaster.pid).map((p) => p.pid)] : []),
      pgbench: () => [pgbench.identity.pid],
    },
    os.cpus().length,
  );
  meter.start();
  let running = true;
  let maxClients = 0;
  let maxServers = 0;
  const sampling = (async () => {
    while (running) {
      maxClients = Math.max(maxClients, establishedConnections(port));
      if (c.pgbouncer) maxServers = Math.max(maxServers, await appBackends(live).catch(() => 0));
      await sleep(500);
    }
  })();
  const exitCode = await pgbench.exited;
  await drained;
  meter.stop();
  running = false;
  await sampling;
  const stderr = fs.readFileSync(pgbench.logFile, "utf8");
  const summary = parsePgbench(stdout);
  const dir = path.dirname(logPrefix);
  const logFiles = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(logPrefix) + "."));
  const transactions = logFiles.flatMap((f) => parsePgbenchLog(fs.readFileSync(path.join(dir, f), "utf8")));
  for (const f of logFiles) fs.rmSync(path.join(dir, f));
  let steady: ReturnType<typeof steadyState> | undefined;
  let why = "";
  try {
    steady = steadyState(transactions);
    if (steady.toMs - steady.fromMs < (a.seconds * 1000) / 2) {
      why = `only ${((steady.toMs - steady.fromMs) / 1000).toFixed(1)} s with every client running`;
    }
  } catch (error) {
    why = (error as Error).message;
  }
  if (why !== "") {
    for (const b of bouncers) await sandbox.stop(b.proc);
    // pgbench 15 counts its login phase in -T: on a busy machine 1000 TLS logins can use all of it.
    if (exitCode === 0 && !summary.aborted && summary.failed === 0) throw new RampTooShort(why);
    throw new Error(
      `${c.name} #${run}: ${why}\npgbench exit ${exitCode}\n${stdout.trim()}\n${stderr.split("\n").slice(-15).join("\n")}\n` +
        bouncers.map((b) => sandbox.tail(b.proc, 15)).join("\n"),
    );
  }
  if (steady === undefined) throw new Error("unreachable: no steady interval");
  const cpu = meter.usageBetween(steady.fromMs, steady.toMs);
  for (const b of bouncers) await sandbox.stop(b.proc);
  const errors = stderr.split("\n").filter((l) => ERROR_LINE.test(l));
  return {
    case: c.name,
    run,
    clients: c.clients,
    tps: steady.tps,
    windowSeconds: (steady.toMs - steady.fromMs) / 1000,
    p50Ms: percentile(steady.latenciesMs, 50),
    p95Ms: percentile(steady.latenciesMs, 95),
    p99Ms: percentile(steady.latenciesMs, 99),
    pgbenchTps: summary.tps,
    initialConnectionMs: summary.initialConnectionMs,
    processed: summary.processed,
    failed: summary.failed + steady.failed,
    connectionErrors: errors.length,
    errorSample: errors.slice(0, 5),
    aborted: summary.aborted,
    exitCode,
    maxClientsConnected: maxClients,
    maxServerConnections: c.pgbouncer ? maxServers : undefined,
    cpu,
    load1: os.loadavg()[0],
  };
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : "-");
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : "-");
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");
const triple = (v: Spread, f: (n: number) => string): string => `${f(v.min)} / ${f(v.median)} / ${f(v.max)}`;
const pct = (seconds: number, of: number): string => `${f0((100 * seconds) / of)}%`;

function report(a: Args, results: readonly Measurement[], pgbouncerVersion: string): string {
  const lines: string[] = [];
  lines.push(
    `Pooler benchmark: ${pgbouncerVersion}, PostgreSQL 15 (rendered parameters + bootstrap SQL), pgbench -j 2, ` +
      `${a.seconds} s measured (+${a.rampSeconds} s ramp) per case, ${a.runs} run(s), ${os.cpus().length} CPUs. ` +
      "TPS and latency over the interval in which every client was running (min / median / max over runs).",
  );
  lines.push("");
  lines.push(
    "| case | clients | TPS | p95 latency ms | p50 ms | PgBouncer CPU (of one core) | PostgreSQL CPU | pgbench CPU | machine busy | errors (conn/failed/aborted) | max clients / server conns | load1 |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const c of a.cases) {
    const mine = results.filter((r) => r.case === c.name);
    if (mine.length === 0) continue;
    const cpuShare = (g: string): Spread =>
      spread(mine.map((r) => (100 * (r.cpu.groups[g] ?? 0)) / r.cpu.wallSeconds));
    const busy = spread(mine.map((r) => (100 * r.cpu.machineBusySeconds) / (r.cpu.wallSeconds * r.cpu.cpus)));
    lines.push(
      `| ${c.name} | ${c.clients} | ${triple(spread(mine.map((r) => r.tps)), f0)} | ${triple(spread(mine.map((r) => r.p95Ms)), f1)} | ` +
        `${f1(spread(mine.map((r) => r.p50Ms)).median)} | ${c.pgbouncer ? `${triple(cpuShare("pgbouncer"), f0)}%` : "-"} | ` +
        `${f0(cpuShare("postgres").median)}% | ${f0(cpuShare("pgbench").median)}% | ${f0(busy.median)}% of ${os.cpus().length} cores | ` +
        `${mine.reduce((n, r) => n + r.connectionErrors, 0)}/${mine.reduce((n, r) => n + r.failed, 0)}/${mine.filter((r) => r.aborted).length} | ` +
        `${Math.min(...mine.map((r) => r.maxClientsConnected))} / ${c.pgbouncer ? Math.max(...mine.map((r) => r.maxServerConnections ?? 0)) : "-"} | ` +
        `${f2(Math.max(...mine.map((r) => r.load1)))} |`,
    );
  }
  lines.push("");
  lines.push(
    "CPU: seconds of CPU per second of the steady interval (100% = one core); machine busy includes every process on the machine.",
  );
  lines.push("");
  for (const c of a.cases.filter((x) => x.name !== "direct")) {
    const ratios: number[] = [];
    const p95: number[] = [];
    for (let run = 1; run <= a.runs; run++) {
      const base = results.find((r) => r.case === "direct" && r.run === run);
      const mine = results.find((r) => r.case === c.name && r.run === run);
      if (base && mine) {
        ratios.push(mine.tps / base.tps);
        p95.push(mine.p95Ms / base.p95Ms);
      }
    }
    const r = spread(ratios);
    lines.push(
      `ratio ${c.name}/direct (paired by run): TPS ${triple(r, f2)} (target >= 0.80: ${r.median >= 0.8 ? "met" : "NOT met"}), ` +
        `p95 latency ${triple(spread(p95), f1)}x`,
    );
  }
  const errors = results.filter(
    (r) => r.connectionErrors > 0 || r.failed > 0 || r.aborted || r.exitCode !== 0,
  );
  lines.push("");
  lines.push(
    errors.length === 0
      ? "connection errors: 0 (no failed transaction, no aborted client, pgbench exited 0 every time)"
      : `ERRORS in ${errors.length} measurement(s): ${errors
          .map(
            (e) =>
              `${e.case}#${e.run}: exit ${e.exitCode}, ${e.connectionErrors} error lines, ${e.failed} failed${e.aborted ? ", aborted" : ""} ${JSON.stringify(e.errorSample)}`,
          )
          .join("; ")}`,
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const why = missing(["postgres", "pgaudit", "pgbouncer", "pgbench", "openssl", "prlimit"]);
  if (why) throw new Error(`cannot run the pooler benchmark: ${why}`);
  const a = args();
  const started = Date.now();
  const version = (/PgBouncer [\d.]+/.exec(
    (await import("node:child_process")).execFileSync("/usr/sbin/pgbouncer", ["--version"], {
      encoding: "utf8",
    }),
  ) ?? ["PgBouncer ?"])[0];
  log(
    `pooler benchmark: ${a.runs} run(s) of ${a.cases.map((c) => c.name).join(", ")}; load ${os.loadavg()[0].toFixed(2)}`,
  );
  const live = await boot();
  const results: Measurement[] = [];
  try {
    for (let run = 1; run <= a.runs; run++) {
      // Alternate the order so a drift in machine load does not favour one case.
      const order = run % 2 === 1 ? a.cases : [...a.cases].reverse();
      for (const c of order) {
        const m = await measureWithRamp(live, c, run, a);
        results.push(m);
        log(
          `${c.name} #${run}: ${f0(m.tps)} tps (pgbench ${f0(m.pgbenchTps)}, ${f1(m.windowSeconds)} s steady, initial connections ${f1(m.initialConnectionMs / 1000)} s), ` +
            `p95 ${f1(m.p95Ms)} ms; CPU pgbouncer ${pct(m.cpu.groups.pgbouncer ?? 0, m.cpu.wallSeconds)} postgres ${pct(m.cpu.groups.postgres ?? 0, m.cpu.wallSeconds)} ` +
            `pgbench ${pct(m.cpu.groups.pgbench ?? 0, m.cpu.wallSeconds)} machine ${pct(m.cpu.machineBusySeconds, m.cpu.wallSeconds)}; ` +
            `${m.maxClientsConnected} clients / ${m.maxServerConnections ?? "-"} server conns; errors ${m.connectionErrors}/${m.failed}; load ${m.load1.toFixed(2)}`,
        );
      }
    }
  } finally {
    await live.sandbox.cleanup();
  }
  const text = report(a, results, version);
  console.log(`\n${text}\n\n(total ${f0((Date.now() - started) / 1000)} s)`);
  if (a.json)
    fs.writeFileSync(
      a.json,
      `${JSON.stringify({ args: { ...a, cases: a.cases.map((c) => c.name) }, results }, null, 2)}\n`,
    );
  if (results.some((r) => r.connectionErrors > 0 || r.failed > 0 || r.aborted || r.exitCode !== 0))
    process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
