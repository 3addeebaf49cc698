/**
 * Pure parts of the plan benchmark: what "the same plan" means, per-stack CPU from a plan document,
 * peak memory of a process tree from /proc, and the targets.
 */

import type { PlanDocumentLike } from "@hcp/plan/compare";

export { type PlanDocumentLike, withoutTimings } from "@hcp/plan/compare";

/** Paths (`environments[0].stacks[3].resources`) at which two values differ, at most `limit`. */
export function differences(a: unknown, b: unknown, limit = 10, at = ""): string[] {
  if (Object.is(a, b)) return [];
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return [at || "(root)"];
  }
  if (Array.isArray(a) !== Array.isArray(b)) return [at || "(root)"];
  const keys = Array.isArray(a)
    ? [...Array(Math.max(a.length, (b as unknown[]).length)).keys()].map(String)
    : [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const found: string[] = [];
  for (const k of keys) {
    const path = Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    for (const d of differences(va, vb, limit - found.length, path)) {
      found.push(d);
      if (found.length >= limit) return found;
    }
  }
  return found;
}

/** CPU seconds per stack (`project/stack` → s) from a document; empty for documents without `cpuMs`. */
export function stackCpuSeconds(doc: PlanDocumentLike): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of doc.environments) {
    for (const s of e.stacks) {
      if (typeof s.cpuMs === "number") out.set(`${s.project}/${s.stack}`, s.cpuMs / 1000);
    }
  }
  return out;
}

/** Resident memory in bytes from the text of /proc/<pid>/status (`VmRSS`); 0 for a kernel thread. */
export function parseVmRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** A target of the plan's speed and what a measurement says of it. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** The targets: an environment ≤ 30 s, `--env all` ≤ 60 s wall, peak memory ≤ 2 GiB. */
export const PLAN_TARGETS = {
  environmentWallSeconds: 30,
  allWallSeconds: 60,
  peakBytes: 2 * 1024 ** 3,
} as const;

/** Checks a median wall time and peak memory of one `--env` against the targets. */
export function checkTargets(env: string, wallSeconds: number, peakBytes: number): TargetCheck[] {
  const wallTarget = env === "all" ? PLAN_TARGETS.allWallSeconds : PLAN_TARGETS.environmentWallSeconds;
  return [
    {
      target: `--env ${env} wall <= ${wallTarget} s`,
      measured: `${wallSeconds.toFixed(1)} s`,
      met: wallSeconds <= wallTarget,
    },
    {
      target: `--env ${env} peak memory <= 2 GiB`,
      measured: `${(peakBytes / 1024 ** 3).toFixed(2)} GiB`,
      met: peakBytes <= PLAN_TARGETS.peakBytes,
    },
  ];
}
