/**
 * Plan benchmark: `pnpm plan --env <env>` as a user runs it, under variants measured alternately in
 * the same run, so machine load affects them alike. Prints per variant and environment the median
 * wall time, CPU seconds of the whole process tree, peak memory (sum of the tree's resident sets),
 * their ratios to the baseline, per-stack CPU seconds, the targets, and whether every run wrote the
 * same plan document (timings aside). Timings are printed, never asserted.
 *
 *   pnpm bench:plan [--runs 3] [--envs production,all] [--variants shared,per-stack[,ref:<rev>]]
 *                   [--baseline <variant>] [--json out.json]
 *
 * Variants: `shared` (the default plan: warm workers reused across stacks), `per-stack` (a fresh
 * process per stack: `--workers per-stack`), `ref:<rev>` (the plan of another commit, checked out
 * into a temporary worktree and installed offline: the code before a change, measured in the same
 * run). Baseline: `--baseline`, else the `ref:` variant if one is given, else `per-stack`.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { descendants } from "@hcp/postgres/harness";
import { repoRoot } from "@hcp/testing";
import { BenchOptions } from "./args";
import { CpuMeter } from "./cpu";
import {
  checkTargets,
  differences,
  parseVmRss,
  type PlanDocumentLike,
  stackCpuSeconds,
  withoutTimings,
} from "./planStats";
import { spread, type Spread } from "./stats";

interface Options {
  readonly runs: number;
  readonly envs: string[];
  readonly variants: string[];
  readonly baseline: string;
  readonly json?: string;
}

function parseOptions(argv: readonly string[]): Options {
  const o = new BenchOptions("plan", argv, [
    { flag: "--runs", value: "N>=1" },
    { flag: "--envs", value: "production,all" },
    { flag: "--variants", value: "shared,per-stack[,ref:<rev>]" },
    { flag: "--baseline", value: "<variant>" },
    { flag: "--json", value: "file" },
  ]);
  const runs = o.integer("--runs", 3, 1);
  const variants = o.list<string>("--variants", ["shared", "per-stack"], ["shared", "per-stack"], {
    regex: /^ref:\S+$/,
    describe: "ref:<git revision>",
  });
  const baseline = o.text("--baseline") ?? variants.find((v) => v.startsWith("ref:")) ?? "per-stack";
  o.require(
    variants.includes(baseline),
    `--baseline ${baseline} is not among --variants ${variants.join(",")}`,
  );
  const envs = (o.text("--envs") ?? "production,all").split(",").filter((e) => e !== "");
  o.require(envs.length > 0, "--envs lists nothing");
  o.check();
  const json = o.text("--json");
  return { runs, envs, variants, baseline, ...(json ? { json } : {}) };
}

/** One measured plan. */
interface Measurement {
  readonly variant: string;
  readonly env: string;
  readonly run: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly peakBytes: number;
  readonly load1: number;
  readonly stackCpu: Record<string, number>;
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function rssOf(pid: number): number {
  try {
    return parseVmRss(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return 0;
  }
}

/** Runs one plan; wall, CPU and peak memory of its process tree (pnpm, the plan, workers, the pack). */
async function measure(
  checkout: string,
  variant: string,
  env: string,
  run: number,
  docFile: string,
): Promise<Measurement> {
  const args = ["-s", "plan", "--env", env, "--json", docFile];
  if (variant === "per-stack") args.push("--workers", "per-stack");
  const logFile = `${docFile}.log`;
  const out = fs.openSync(logFile, "w");
  const started = Date.now();
  const child = spawn("pnpm", args, { cwd: checkout, stdio: ["ignore", out, out] });
  const root = child.pid!;
  const tree = () => [root, ...descendants(root).map((p) => p.pid)];
  // 100 ms: a process that ends between samples loses at most that much of its CPU time.
  const cpu = new CpuMeter({ plan: tree }, os.cpus().length, 100);
  let peakBytes = 0;
  const rss = setInterval(() => {
    peakBytes = Math.max(
      peakBytes,
      tree().reduce((sum, pid) => sum + rssOf(pid), 0),
    );
  }, 100);
  cpu.start();
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallSeconds = (Date.now() - started) / 1000;
  clearInterval(rss);
  cpu.stop();
  fs.closeSync(out);
  if (code !== 0) {
    throw new Error(`${variant} plan --env ${env} exited with ${code}; its output: ${logFile}`);
  }
  const usage = cpu.usageBetween(cpu.samples[0].t, cpu.samples[cpu.samples.length - 1].t);
  const doc = JSON.parse(fs.readFileSync(docFile, "utf8")) as PlanDocumentLike;
  return {
    variant,
    env,
    run,
    wallSeconds,
    cpuSeconds: usage.groups.plan ?? 0,
    peakBytes,
    load1: os.loadavg()[0],
    stackCpu: Object.fromEntries(stackCpuSeconds(doc)),
  };
}

/** A checkout of `rev` in a temporary worktree, installed offline; removed by the returned function. */
function checkoutOf(rev: string, repo: string, work: string): { dir: string; remove: () => void } {
  const dir = path.join(work, `ref-${rev.replace(/[^\w.-]/g, "_")}`);
  log(`checking out ${rev} into ${dir} and installing it offline`);
  execFileSync("git", ["-C", repo, "worktree", "add", "--detach", dir, rev], { stdio: "inherit" });
  const remove = () => {
    execFileSync("git", ["-C", repo, "worktree", "remove", "--force", dir], { stdio: "inherit" });
  };
  try {
    execFileSync("pnpm", ["install", "--offline", "--frozen-lockfile", "--reporter=silent"], {
      cwd: dir,
      stdio: "inherit",
    });
  } catch (e) {
    remove();
    throw e;
  }
  return { dir, remove };
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const gib = (b: number) => b / 1024 ** 3;
const range = (s: Spread, f: (n: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const repo = repoRoot();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-bench-plan-"));
  const checkouts = new Map<string, { dir: string; remove?: () => void }>();
  const measurements: Measurement[] = [];
  const documents = new Map<string, { variant: string; run: number; doc: unknown }>();
  const identical: string[] = [];
  const started = Date.now();
  try {
    for (const v of options.variants) {
      checkouts.set(v, v.startsWith("ref:") ? checkoutOf(v.slice(4), repo, work) : { dir: repo });
    }
    log(
      `${options.runs} run(s) of ${options.envs.map((e) => `--env ${e}`).join(", ")} under ${options.variants.join(", ")} (baseline ${options.baseline}); ${os.cpus().length} CPUs`,
    );
    for (let run = 1; run <= options.runs; run++) {
      for (const env of options.envs) {
        for (const variant of options.variants) {
          const docFile = path.join(work, `${variant.replace(/\W/g, "_")}-${env}-${run}.json`);
          const m = await measure(checkouts.get(variant)!.dir, variant, env, run, docFile);
          measurements.push(m);
          log(
            `run ${run} --env ${env} ${variant}: ${f1(m.wallSeconds)} s wall, ${f1(m.cpuSeconds)} CPU-s, peak ${f2(gib(m.peakBytes))} GiB (load ${f1(m.load1)})`,
          );
          const doc = withoutTimings(JSON.parse(fs.readFileSync(docFile, "utf8")) as PlanDocumentLike);
          const first = documents.get(env);
          if (!first) {
            documents.set(env, { variant, run, doc });
          } else {
            const diff = differences(first.doc, doc);
            if (diff.length > 0) {
              identical.push(
                `--env ${env}: ${variant} run ${run} differs from ${first.variant} run ${first.run} at ${diff.join(", ")}`,
              );
            }
          }
        }
      }
    }
  } finally {
    for (const c of checkouts.values()) c.remove?.();
  }

  const lines: string[] = [];
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: gib(os.totalmem()),
    options,
    measurements,
  };
  for (const env of options.envs) {
    const of = (variant: string) => measurements.filter((m) => m.env === env && m.variant === variant);
    const base = of(options.baseline);
    lines.push(
      `\n--env ${env} (${options.runs} run(s); median (min–max); ratio = variant / ${options.baseline}, paired by run)`,
    );
    lines.push(
      `  ${"variant".padEnd(24)} ${"wall s".padEnd(18)} ${"CPU-s".padEnd(18)} ${"peak GiB".padEnd(18)} wall ratio  CPU ratio  speed-up`,
    );
    for (const variant of options.variants) {
      const ms = of(variant);
      const wall = spread(ms.map((m) => m.wallSeconds));
      const cpu = spread(ms.map((m) => m.cpuSeconds));
      const peak = spread(ms.map((m) => gib(m.peakBytes)));
      const wallRatio = spread(ms.map((m, i) => m.wallSeconds / base[i].wallSeconds));
      const cpuRatio = spread(ms.map((m, i) => m.cpuSeconds / base[i].cpuSeconds));
      lines.push(
        `  ${variant.padEnd(24)} ${range(wall, f1).padEnd(18)} ${range(cpu, f1).padEnd(18)} ${range(peak, f2).padEnd(18)} ${f2(wallRatio.median).padEnd(11)} ${f2(cpuRatio.median).padEnd(10)} ${f1(1 / wallRatio.median)}×`,
      );
    }
    for (const variant of options.variants) {
      const ms = of(variant);
      const stacks = [...new Set(ms.flatMap((m) => Object.keys(m.stackCpu)))];
      if (stacks.length === 0) continue;
      lines.push(
        `  CPU-s per stack, ${variant} (median; the job's own CPU: SDK modules loaded for it count, the worker's start-up does not):`,
      );
      for (const s of stacks) {
        lines.push(`    ${f2(spread(ms.map((m) => m.stackCpu[s] ?? NaN)).median).padStart(6)}  ${s}`);
      }
    }
    for (const variant of options.variants.filter((v) => v !== "per-stack" && !v.startsWith("ref:"))) {
      const ms = of(variant);
      for (const t of checkTargets(
        env,
        spread(ms.map((m) => m.wallSeconds)).median,
        spread(ms.map((m) => m.peakBytes)).max,
      )) {
        lines.push(`  target ${t.target}: ${t.measured} (${variant}, ${t.met ? "met" : "MISSED"})`);
      }
    }
  }
  lines.push(
    identical.length === 0
      ? `\nplan documents identical (timings aside) across every run and variant of each --env: yes`
      : `\nplan documents identical (timings aside): NO\n  ${identical.join("\n  ")}`,
  );
  result.identical = identical.length === 0;
  result.differences = identical;
  console.log(`${lines.join("\n")}\n\n(total ${f1((Date.now() - started) / 1000)} s)`);
  if (options.json) fs.writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  if (identical.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
