import type { AlertSegments } from "@hcp/observability/harness";
import { spread } from "./stats";

/** The configured bound of each part (what it can be at most, or exactly), for the table. */
export interface AlertBounds {
  readonly failover: string;
  readonly scrape: string;
  readonly evaluation: string;
  readonly for: string;
  readonly notify: string;
}

const PARTS: ReadonlyArray<[keyof Omit<AlertSegments, "totalMs">, keyof AlertBounds, string]> = [
  ["failoverMs", "failover", "failover (kill → a member leads)"],
  ["scrapeMs", "scrape", "scrape interval (→ the change is scraped)"],
  ["evaluationMs", "evaluation", "rule evaluation (→ alert active)"],
  ["forMs", "for", "`for` (→ firing)"],
  ["notifyMs", "notify", "group wait + delivery (→ webhook)"],
];

const s = (ms: number) => (ms / 1000).toFixed(1);

/**
 * A Markdown table: min / median / max of every part and of the total, each part's share of the
 * total time summed over the runs, and the total against the target (ratio of median and max).
 */
export function alertingTable(runs: readonly AlertSegments[], bounds: AlertBounds, targetMs: number): string {
  const total = runs.reduce((n, r) => n + r.totalMs, 0);
  const row = (label: string, values: number[], share: string, bound: string) => {
    const sp = spread(values);
    return `| ${label} | ${s(sp.min)} / **${s(sp.median)}** / ${s(sp.max)} | ${share} | ${bound} |`;
  };
  const lines = [
    "| part | seconds (min / median / max) | share of the total | configured bound |",
    "| --- | --- | --- | --- |",
    ...PARTS.map(([key, bound, label]) => {
      const values = runs.map((r) => r[key]);
      const share = total > 0 ? `${((100 * values.reduce((a, b) => a + b, 0)) / total).toFixed(0)} %` : "-";
      return row(label, values, share, bounds[bound]);
    }),
    row(
      "**kill → notification**",
      runs.map((r) => r.totalMs),
      "100 %",
      `target ≤ ${s(targetMs)} s`,
    ),
  ];
  const sp = spread(runs.map((r) => r.totalMs));
  lines.push(
    "",
    `Against the ${s(targetMs)} s target: median ${(sp.median / targetMs).toFixed(2)}x, max ${(sp.max / targetMs).toFixed(2)}x` +
      ` (${runs.filter((r) => r.totalMs <= targetMs).length} of ${runs.length} run(s) within it).`,
  );
  return lines.join("\n");
}
