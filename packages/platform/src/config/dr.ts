import { z } from "zod";
import type { SchemaMatches } from "../typecheck";
import { type ConfigProblem, show } from "./problems";

/**
 * The `dr` section: which region writes (the primary unless a DR region was promoted), the recovery
 * targets the promote command and the benchmark hold the standby to, and how much WAL a primary keeps
 * for a standby that stopped streaming. The cross-field rules are in {@link checkDr}.
 */

/** Disaster-recovery settings of an environment. */
export interface DrConfig {
  /**
   * The DR region that was promoted and now holds the writer. Absent in normal operation (the
   * primary region writes). Set it after `pnpm dr promote` succeeded; remove it after `pnpm dr
   * failback`. Every layer reconciles to it without replacing anything stateful.
   */
  readonly promotedRegion?: string;
  /**
   * Recovery point objective, seconds: the most acknowledged commits (by commit age) a promotion may
   * lose. The promote command refuses a standby whose newest transaction is older than this when the
   * primary was lost (unless told to accept the loss).
   */
  readonly rpoSeconds: number;
  /** Recovery time objective, seconds: region loss to writes accepted in the DR region. */
  readonly rtoSeconds: number;
  /**
   * The most WAL a cluster keeps for a standby cluster that stopped streaming
   * (`max_slot_wal_keep_size`); beyond it the slot is given up and the standby catches up from the
   * pgBackRest archive.
   */
  readonly replicationSlotMaxWalGiB: number;
}

/** Defaults of the section (the strictest documented pair a warm standby meets: RPO 1 min, RTO 5 min). */
export const DR_DEFAULTS = {
  rpoSeconds: 60,
  rtoSeconds: 300,
  replicationSlotMaxWalGiB: 16,
} as const;

/** At most this share of a member's volume may be kept for a disconnected standby. */
export const SLOT_WAL_MAX_SHARE_OF_VOLUME = 0.25;

/** Schema of the `dr` key. */
export const drSchema = z
  .object({
    promotedRegion: z
      .string()
      .optional()
      .describe(
        "the DR region that holds the writer after `pnpm dr promote` (leave it out in normal operation; remove it after `pnpm dr failback`)",
      ),
    rpoSeconds: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .default(DR_DEFAULTS.rpoSeconds)
      .describe(
        "recovery point objective in seconds: at least data.backup.archiveTimeoutSeconds (the archive-only fallback loses up to that much)",
      ),
    rtoSeconds: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .default(DR_DEFAULTS.rtoSeconds)
      .describe("recovery time objective in seconds: region loss to writes accepted in the DR region"),
    replicationSlotMaxWalGiB: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(DR_DEFAULTS.replicationSlotMaxWalGiB)
      .describe(
        "GiB of WAL a cluster keeps for a standby that stopped streaming (max_slot_wal_keep_size), at most a quarter of data.storageGiB",
      ),
  })
  .strict()
  .default(DR_DEFAULTS)
  .describe(
    "disaster recovery: the promoted region (if any), the RPO/RTO targets and the WAL kept for a disconnected standby",
  );

const _matches: SchemaMatches<typeof drSchema, DrConfig> = true;
void _matches;

type Raw = Record<string, unknown>;
type PathFn = (...segments: ReadonlyArray<string | number>) => string;

function obj(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Members a writer needs in each synchronous mode (the same rule as the primary region's). */
const WRITER_MEMBERS: Readonly<Record<string, number>> = { strict: 3, on: 2, off: 1 };

/**
 * Cross-field rules of the `dr` section over the raw namespace values: the promoted region is a DR
 * region of the environment with as many members as a writer needs, the RPO covers the archive
 * fallback, and the WAL kept for a standby fits the volume.
 */
export function checkDr(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const dr = obj(raw["dr"]) ?? {};
  const regions = Array.isArray(raw["regions"]) ? raw["regions"].map(obj) : [];
  const data = obj(raw["data"]);

  const promoted = dr["promotedRegion"];
  if (typeof promoted === "string") {
    const index = regions.findIndex((r) => r?.["name"] === promoted);
    const region = regions[index];
    const drNames = regions.filter((r) => r?.["role"] === "dr").map((r) => String(r?.["name"]));
    if (!region || region["role"] !== "dr") {
      problems.push({
        path: path("dr", "promotedRegion"),
        received: show(promoted),
        allowed:
          drNames.length > 0
            ? `a DR region of this environment: ${drNames.join(", ")}`
            : "no value (this environment has no DR region)",
        fix: region
          ? `${promoted} is the primary region, which writes without a promotion: remove dr.promotedRegion`
          : "name the region `pnpm dr promote` promoted, or remove the key",
      });
    } else {
      const raw = obj(data?.["patroni"])?.["synchronousMode"];
      const mode = typeof raw === "string" ? raw : "";
      const needed = WRITER_MEMBERS[mode];
      const members = num(obj(region["sizes"])?.["databaseMembers"]);
      if (needed !== undefined && members !== undefined && members < needed) {
        problems.push({
          path: path("regions", index, "sizes", "databaseMembers"),
          received: show(members),
          allowed: `${needed} or more in the promoted region (it is the writer now; synchronousMode ${mode} needs ${needed})`,
          fix: `set databaseMembers to ${needed} and the region's nodeGroups.database minSize/desiredSize to ${needed} (maxSize at least ${needed}); the new member copies the promoted leader`,
        });
      }
    }
  }

  const rpo = num(dr["rpoSeconds"]);
  const archiveTimeout = num(obj(data?.["backup"])?.["archiveTimeoutSeconds"]);
  if (rpo !== undefined && archiveTimeout !== undefined && rpo < archiveTimeout) {
    problems.push({
      path: path("dr", "rpoSeconds"),
      received: show(rpo),
      allowed: `at least data.backup.archiveTimeoutSeconds (${archiveTimeout}): when streaming is cut the standby is only as current as the archive`,
      fix: `raise rpoSeconds to ${archiveTimeout}, or lower data.backup.archiveTimeoutSeconds to ${rpo}`,
    });
  }

  const slotGiB = num(dr["replicationSlotMaxWalGiB"]);
  const storage = num(data?.["storageGiB"]);
  if (slotGiB !== undefined && storage !== undefined && slotGiB > storage * SLOT_WAL_MAX_SHARE_OF_VOLUME) {
    const most = Math.max(1, Math.floor(storage * SLOT_WAL_MAX_SHARE_OF_VOLUME));
    problems.push({
      path: path("dr", "replicationSlotMaxWalGiB"),
      received: show(slotGiB),
      allowed: `at most a quarter of data.storageGiB (${storage}), i.e. ${most}: the kept WAL shares the member's volume with the database`,
      fix: `set replicationSlotMaxWalGiB to ${most} or less, or raise data.storageGiB`,
    });
  }
  return problems;
}

/** The parts of an environment {@link writerRegion} reads. */
interface WriterInputs {
  readonly name: string;
  readonly regions: ReadonlyArray<{ readonly name: string; readonly role: "primary" | "dr" }>;
  readonly dr: Pick<DrConfig, "promotedRegion">;
}

/**
 * The region whose database cluster accepts writes: the promoted DR region when `dr.promotedRegion`
 * is set, else the primary region. Every other region's cluster is a standby of this one.
 */
export function writerRegionName(topology: WriterInputs): string {
  const promoted = topology.dr.promotedRegion;
  if (promoted !== undefined) {
    if (!topology.regions.some((r) => r.name === promoted && r.role === "dr")) {
      throw new Error(
        `dr.promotedRegion ${promoted} is not a DR region of ${topology.name}. Fix: name one of ${topology.regions
          .filter((r) => r.role === "dr")
          .map((r) => r.name)
          .join(", ")} or remove the key.`,
      );
    }
    return promoted;
  }
  const primary = topology.regions.find((r) => r.role === "primary");
  if (!primary) {
    throw new Error(`Environment ${topology.name} has no primary region`);
  }
  return primary.name;
}
