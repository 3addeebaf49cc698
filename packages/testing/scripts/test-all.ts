import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../src/fixtures";

/**
 * `pnpm test`: every check of the repository, in one run, ending with one line that adds them all
 * up: `tests: N passed, N failed, N skipped`, after the list of skipped tests and why.
 *
 * 1. type check (`tsc -b`) and lint (ESLint + Prettier): one check each;
 * 2. every workspace package's mocha suite (`test` script), then the real-engine integration suite
 *    (`test:integration`), each with the summary reporter (reporters/summary.cjs);
 * 3. the offline plan of every environment with policies (`pnpm plan --env all`): one check.
 *
 * Every step runs even after a failure, so one run shows everything that is wrong; the exit code is
 * 1 if anything failed.
 */

const ROOT = repoRoot(__dirname);
const REPORTER = path.join(__dirname, "..", "reporters", "summary.cjs");

interface Skipped {
  readonly title: string;
  readonly reason: string;
}

interface SuiteResult {
  readonly name: string;
  readonly passed: number;
  readonly failed: ReadonlyArray<{ readonly title: string; readonly error: string }>;
  readonly skipped: readonly Skipped[];
}

interface MochaSummary {
  passed: number;
  failed: Array<{ title: string; error: string }>;
  skipped: Skipped[];
}

function run(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): number {
  const r = spawnSync("pnpm", ["-s", ...args], { cwd, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** A check that passes or fails as a whole. */
function check(name: string, args: readonly string[]): SuiteResult {
  console.log(`\n▶ ${name}: pnpm ${args.join(" ")}`);
  const ok = run(ROOT, args) === 0;
  return {
    name,
    passed: ok ? 1 : 0,
    failed: ok ? [] : [{ title: name, error: "exited non-zero" }],
    skipped: [],
  };
}

/** A mocha suite run through a package script, counted test by test. */
function suite(name: string, dir: string, script: string): SuiteResult {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hcp-test-")), "summary.json");
  console.log(`\n▶ ${name}: pnpm run ${script} (${path.relative(ROOT, dir)})`);
  const code = run(dir, ["run", script, "--reporter", REPORTER], { HCP_TEST_SUMMARY: file });
  const summary = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as MochaSummary)
    : undefined;
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  if (!summary) {
    return {
      name,
      passed: 0,
      failed: [{ title: name, error: `exited ${code} before reporting` }],
      skipped: [],
    };
  }
  const failed = [...summary.failed];
  if (code !== 0 && failed.length === 0) {
    failed.push({ title: name, error: `exited ${code}` });
  }
  return { name, passed: summary.passed, failed, skipped: summary.skipped };
}

/** Workspace packages (pnpm-workspace.yaml) with a given script, in path order. */
function packagesWith(script: string): Array<{ name: string; dir: string }> {
  const workspace = parse(fs.readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8")) as {
    packages: string[];
  };
  const dirs = workspace.packages.flatMap((pattern) =>
    pattern.endsWith("/*")
      ? fs
          .readdirSync(path.join(ROOT, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => path.join(ROOT, pattern.slice(0, -2), d.name))
      : [path.join(ROOT, pattern)],
  );
  return dirs
    .filter((dir) => fs.existsSync(path.join(dir, "package.json")))
    .map((dir) => ({
      dir,
      pkg: JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name: string;
        scripts?: Record<string, string>;
      },
    }))
    .filter(({ pkg }) => pkg.scripts?.[script] !== undefined)
    .map(({ dir, pkg }) => ({ name: pkg.name, dir }))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The summary block and the closing line. */
export function summarize(results: readonly SuiteResult[]): { text: string; failed: number } {
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed.length, 0);
  const skipped = results.flatMap((r) => r.skipped.map((s) => ({ ...s, suite: r.name })));
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = ["", "Summary"];
  for (const r of results) {
    lines.push(
      `  ${r.name.padEnd(width)}  ${r.passed} passed, ${r.failed.length} failed, ${r.skipped.length} skipped`,
    );
  }
  if (failed > 0) {
    lines.push("Failed:");
    for (const r of results) {
      r.failed.forEach((f) => lines.push(`  ${r.name}: ${f.title}: ${f.error}`));
    }
  }
  if (skipped.length > 0) {
    lines.push("Skipped:");
    skipped.forEach((s) => lines.push(`  ${s.suite}: ${s.title} (${s.reason})`));
  }
  lines.push(`tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  return { text: lines.join("\n"), failed };
}

function main(): number {
  console.log(`pnpm test on Node.js ${process.version} (${process.execPath})`);
  const results: SuiteResult[] = [check("typecheck", ["typecheck"]), check("lint", ["lint"])];
  for (const p of packagesWith("test")) {
    results.push(suite(p.name, p.dir, "test"));
  }
  for (const p of packagesWith("test:integration")) {
    results.push(suite(`${p.name} integration`, p.dir, "test:integration"));
  }
  results.push(check("plan --env all", ["plan", "--env", "all"]));
  const { text, failed } = summarize(results);
  console.log(text);
  return failed > 0 ? 1 : 0;
}

if (require.main === module) {
  process.exit(main());
}
