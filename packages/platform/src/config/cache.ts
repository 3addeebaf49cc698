import { z } from "zod";
import type { PathFn } from "./validate";
import { type ConfigProblem, show } from "./problems";
import type { EnvironmentTier } from "./types";

/**
 * `workloads.cache`: the ElastiCache replication group of each region (the workloads layer's
 * `RegionalCache`). Structure and per-key guidance live in the schema; the rules that need more
 * than one key (the tier, the engine and its version, the two windows) in {@link checkCache}.
 */

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const HH_MM = "([01]\\d|2[0-3]):[0-5]\\d";
/** `ddd:hh24:mi-ddd:hh24:mi` (UTC), the format ElastiCache's PreferredMaintenanceWindow takes. */
const WEEKLY_WINDOW = new RegExp(`^(${DAYS.join("|")}):${HH_MM}-(${DAYS.join("|")}):${HH_MM}$`);
/** `hh24:mi-hh24:mi` (UTC), the format of SnapshotWindow. */
const DAILY_WINDOW = new RegExp(`^${HH_MM}-${HH_MM}$`);

/** Schema of `workloads.cache`. */
export const cacheSchema = z
  .object({
    engine: z.enum(["valkey", "redis"]).default("valkey").describe("valkey, or redis (Redis OSS)"),
    engineVersion: z
      .string()
      .regex(/^\d+\.\d+$/)
      .describe(
        "the engine's major.minor version, e.g. 8.0 for Valkey (Valkey 7.2 or later, Redis OSS 7.0 or later)",
      ),
    nodeType: z
      .string()
      .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/)
      .describe("an ElastiCache node type, e.g. cache.r7g.large (every node of every region)"),
    nodes: z
      .number()
      .int()
      .min(1)
      .max(6)
      .describe(
        "nodes (primary + replicas): 2+ in production (multi-AZ failover); a DR region runs nodes × workloadScale rounded up (2+ in production)",
      ),
    snapshotRetentionDays: z
      .number()
      .int()
      .min(0)
      .max(35)
      .default(7)
      .describe("daily snapshots kept (0 turns snapshots off)"),
    snapshotWindow: z
      .string()
      .regex(DAILY_WINDOW)
      .default("03:00-04:00")
      .describe(
        "hh:mm-hh:mm (UTC, at least 60 minutes) when the daily snapshot starts, outside the maintenance window",
      ),
    maintenanceWindow: z
      .string()
      .regex(WEEKLY_WINDOW)
      .default("sun:05:00-sun:06:00")
      .describe(
        "ddd:hh:mm-ddd:hh:mm (UTC, 60 minutes to 24 hours) when ElastiCache may patch or replace nodes",
      ),
  })
  .strict()
  .describe("the ElastiCache replication group of each region (TLS, customer key, AUTH token)");

/** The parsed `workloads.cache`. */
export type CacheConfig = z.output<typeof cacheSchema>;

/** Lowest engine version per engine: in-place TLS mode changes need Redis OSS 7.0.5+, Valkey starts at 7.2. */
const MIN_VERSION: Readonly<Record<CacheConfig["engine"], readonly [number, number]>> = {
  valkey: [7, 2],
  redis: [7, 0],
};

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/** A window as [start, end) minutes from Sunday 00:00 (weekly) or midnight (daily); end may wrap. */
function weekly(window: string): [number, number] {
  const [from, to] = window.split("-");
  const at = (s: string) =>
    DAYS.indexOf(s.slice(0, 3) as (typeof DAYS)[number]) * MINUTES_PER_DAY + minutes(s.slice(4));
  return [at(from), at(to)];
}
function daily(window: string): [number, number] {
  const [from, to] = window.split("-");
  return [minutes(from), minutes(to)];
}
/** Length of a window that may wrap around its period. */
function length([start, end]: [number, number], period: number): number {
  return (((end - start) % period) + period) % period;
}

/** Whether the daily window overlaps the weekly one on the weekly window's days. */
function overlaps(snapshot: [number, number], maintenance: [number, number]): boolean {
  const snapLength = length(snapshot, MINUTES_PER_DAY);
  const maintLength = length(maintenance, MINUTES_PER_WEEK);
  for (let day = 0; day < 7; day++) {
    const start = day * MINUTES_PER_DAY + snapshot[0];
    // Two intervals on a circle of one week overlap when either starts inside the other.
    const inside = (point: number, from: number, span: number) =>
      (((point - from) % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK < span;
    if (inside(start, maintenance[0], maintLength) || inside(maintenance[0], start, snapLength)) {
      return true;
    }
  }
  return false;
}

/**
 * Nodes of the replication group in a region: `nodes` in the primary, scaled by the region's
 * `workloadScale` in a DR region (its services run fewer pods until it takes over), at least 2 in
 * production so every region keeps a replica in another zone to fail over to.
 */
export function regionCacheNodes(
  cache: Pick<CacheConfig, "nodes">,
  tier: EnvironmentTier,
  workloadScale: number,
): number {
  const floor = tier === "production" ? 2 : 1;
  return Math.min(6, Math.max(floor, Math.ceil(cache.nodes * workloadScale)));
}

type Raw = Record<string, unknown>;

function obj(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

/**
 * Cross-field rules of `workloads.cache`, on the raw values of the namespace (they need `tier`):
 * production runs a replica (multi-AZ, automatic failover), the engine version is one the engine
 * supports with the settings the layer uses, the windows are long enough and do not overlap.
 */
export function checkCache(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const cache = obj(obj(raw["workloads"])?.["cache"]);
  if (!cache) {
    return problems;
  }
  const p = (...rest: string[]) => path("workloads", "cache", ...rest);
  const production = raw["tier"] === "production";
  const nodes = cache["nodes"];
  if (production && typeof nodes === "number" && nodes < 2) {
    problems.push({
      path: p("nodes"),
      received: show(nodes),
      allowed: "2 or more in production (a replica in another zone for automatic failover)",
      fix: "set nodes: 2",
    });
  }

  const engine = typeof cache["engine"] === "string" ? cache["engine"] : "valkey";
  const version = cache["engineVersion"];
  const min = MIN_VERSION[engine as CacheConfig["engine"]];
  if (min && typeof version === "string" && /^\d+\.\d+$/.test(version)) {
    const [major, minor] = version.split(".").map(Number);
    if (major < min[0] || (major === min[0] && minor < min[1])) {
      problems.push({
        path: p("engineVersion"),
        received: show(version),
        allowed: `${engine} ${min.join(".")} or later (${
          engine === "valkey"
            ? "the first Valkey ElastiCache runs"
            : "earlier Redis OSS versions replace the group to change the TLS mode and cannot rotate the AUTH token in place"
        })`,
        fix: `set engineVersion: "${engine === "valkey" ? "8.0" : "7.1"}"`,
      });
    }
  }

  const snapshot = cache["snapshotWindow"];
  const maintenance = cache["maintenanceWindow"];
  const snap = typeof snapshot === "string" && DAILY_WINDOW.test(snapshot) ? daily(snapshot) : undefined;
  const maint =
    typeof maintenance === "string" && WEEKLY_WINDOW.test(maintenance) ? weekly(maintenance) : undefined;
  if (snap && length(snap, MINUTES_PER_DAY) < 60) {
    problems.push({
      path: p("snapshotWindow"),
      received: show(snapshot),
      allowed: "a window of at least 60 minutes (ElastiCache's minimum)",
      fix: "widen it, e.g. 03:00-04:00",
    });
  }
  if (maint) {
    const span = length(maint, MINUTES_PER_WEEK);
    if (span < 60 || span > MINUTES_PER_DAY) {
      problems.push({
        path: p("maintenanceWindow"),
        received: show(maintenance),
        allowed: "a window of 60 minutes to 24 hours",
        fix: "set e.g. sun:05:00-sun:06:00",
      });
    }
  }
  if (snap && maint && overlaps(snap, maint)) {
    problems.push({
      path: p("snapshotWindow"),
      received: show(snapshot),
      allowed: `a window outside maintenanceWindow (${String(maintenance)}): a snapshot competes with node patching and failover`,
      fix: "move one of the two windows",
    });
  }
  return problems;
}
