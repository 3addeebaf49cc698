import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Debian's Prometheus tools the tests run (packages prometheus, prometheus-alertmanager). */
export const TOOLS = { promtool: "/usr/bin/promtool", amtool: "/usr/bin/amtool" } as const;

/**
 * Skips the suite when a tool is missing outside CI (with the Debian package to install); under
 * `CI=true` a missing tool fails instead, so CI can never pass without running it.
 */
export function requireTool(ctx: Mocha.Context, tool: keyof typeof TOOLS, pkg: string): void {
  if (fs.existsSync(TOOLS[tool])) return;
  const message = `${TOOLS[tool]} is missing: install the Debian package ${pkg} (.ci/setup --system)`;
  if (process.env["CI"] === "true") throw new Error(message);
  ctx.skip();
}

/** Runs a tool; returns exit code and combined output. */
export function run(
  tool: keyof typeof TOOLS,
  args: readonly string[],
  cwd?: string,
): { code: number; output: string } {
  const r = spawnSync(TOOLS[tool], args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A fresh temporary directory (removed by the caller's `cleanup`). */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hcp-obs-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
