import * as fs from "node:fs";
import { renderArtifacts } from "@hcp/postgres";
import {
  type AckEvent,
  checkNoLoss,
  createProbeTable,
  LeaderProxy,
  largestAckGap,
  queryOnce,
  sleep,
  waitFor,
  Writer,
} from "@hcp/postgres/harness";
import { type MoveResult, PreconditionError } from "../promotion/move";
import {
  applicationDsn,
  type Drill,
  drCommand,
  killRegion,
  maxId,
  memberUrl,
  promotedTopology,
  replayAgeSeconds,
  runOnMember,
  waitPrimaryHealthy,
  waitStandbyHealthy,
} from "./drill";
import { type DrillRegion, regionLeader, regionLeaderPort, startRegion } from "./region";

/**
 * The drill's scenarios, shared by the integration test (once each) and `pnpm bench:dr` (N times):
 * what is measured, and how, is defined here only. Times are epoch milliseconds.
 */

/** The table the region-loss writer inserts into. */
export const DRILL_TABLE = "dr_probe";
/** The table the failback writer inserts into (a fresh id sequence). */
export const FAILBACK_TABLE = "dr_failback_probe";

function portsOf(region: DrillRegion): Set<number> {
  return new Set(region.cluster.members.map((m) => m.pgPort));
}

/** First acknowledged commit on one of `ports` of a transaction started at or after `t`. */
export function firstAckOn(writer: Writer, ports: ReadonlySet<number>, t: number): AckEvent | undefined {
  return writer.acks.find((a) => ports.has(a.port) && a.t0 >= t);
}

/** One lag sample: age of the newest commit replayed on the standby leader. */
export interface LagSample {
  readonly t: number;
  readonly ageSeconds: number;
  /** Highest probe id visible on the standby leader. */
  readonly maxId?: number;
}

/** Samples the standby leader's replay age every `intervalMs` for `durationMs`. */
export async function sampleReplayLag(
  standby: DrillRegion,
  options: { durationMs: number; intervalMs?: number; table?: string },
): Promise<LagSample[]> {
  const samples: LagSample[] = [];
  const end = Date.now() + options.durationMs;
  while (Date.now() < end) {
    const started = Date.now();
    const leader = await regionLeader(standby.cluster);
    if (leader !== undefined) {
      const age = await replayAgeSeconds(standby.cluster, leader).catch(() => undefined);
      const id = options.table ? await maxId(standby.cluster, leader, options.table) : undefined;
      if (age !== undefined)
        samples.push({ t: Date.now(), ageSeconds: age, ...(id !== undefined ? { maxId: id } : {}) });
    }
    await sleep(Math.max(0, (options.intervalMs ?? 250) - (Date.now() - started)));
  }
  return samples;
}

/** The writer committing ~`rate` tx/s wherever the writer is (every member of both regions). */
export async function startDrillWriter(
  drill: Drill,
  regions: readonly DrillRegion[],
  options: { table: string; createOn: DrillRegion; rate?: number; name?: string },
): Promise<Writer> {
  const leader = await regionLeader(options.createOn.cluster);
  if (leader === undefined)
    throw new Error(`no leader in ${options.createOn.region} to create ${options.table} on`);
  await createProbeTable(options.createOn.cluster, leader, options.table);
  const writer = new Writer(drill.sandbox, {
    dsn: applicationDsn(drill, regions),
    table: options.table,
    ratePerSecond: options.rate ?? 100,
    name: options.name ?? `writer-${options.table}`,
  });
  const ports = portsOf(options.createOn);
  await waitFor(
    "the writer's first acknowledged commit",
    () => (writer.acks.some((a) => ports.has(a.port)) ? true : undefined),
    {
      timeoutMs: 60_000,
      detail: () => JSON.stringify(writer.events.slice(-5)),
    },
  );
  return writer;
}

/** What a streaming cut showed. */
export interface ArchiveFallbackResult {
  readonly cutAt: number;
  readonly restoredAt: number;
  readonly samples: readonly LagSample[];
  /** Largest replay age seen while streaming was cut, seconds. */
  readonly maxAgeSeconds: number;
  /** The standby leader's highest probe id at the cut and at the end of the cut. */
  readonly idAtCut: number;
  readonly idAtEnd: number;
  /** WAL segments the standby leader logged as restored from the archive during the cut. */
  readonly segmentsRestored: number;
  /** Restore of the path -> the standby leader streaming again, ms (0 when left cut). */
  readonly resumeMs: number;
}

function countRestored(file: string, fromOffset: number): number {
  const text = fs.readFileSync(file, "utf8").slice(fromOffset);
  return (text.match(/restored log file "[0-9A-F]+" from archive/g) ?? []).length;
}

/**
 * Cuts the inter-region path (the primary's replication endpoint drops every connection and
 * refuses new ones) for `durationMs` while the writer keeps committing, sampling the standby's
 * replay age; then restores it and waits until the standby streams again.
 */
export async function archiveFallback(
  drill: Drill,
  options: {
    durationMs: number;
    table: string;
    timeoutMs?: number;
    /** Leave the path cut (a region loss follows while the standby lives on the archive). */
    keepCut?: boolean;
  },
): Promise<ArchiveFallbackResult> {
  const leader = await regionLeader(drill.dr.cluster);
  if (leader === undefined) throw new Error("no standby leader");
  const log = drill.dr.cluster.patroniProc(leader)!.logFile;
  const offset = fs.statSync(log).size;
  const idAtCut = (await maxId(drill.dr.cluster, leader, options.table)) ?? 0;
  const cutAt = Date.now();
  drill.primaryEndpoint.cut();
  const samples = await sampleReplayLag(drill.dr, { durationMs: options.durationMs, table: options.table });
  const idAtEnd = (await maxId(drill.dr.cluster, leader, options.table)) ?? 0;
  const segmentsRestored = countRestored(log, offset);
  const restoredAt = Date.now();
  if (!options.keepCut) {
    drill.primaryEndpoint.restore();
    await waitStandbyHealthy(drill.primary, drill.dr, options.timeoutMs ?? 120_000);
  }
  return {
    cutAt,
    restoredAt,
    samples,
    maxAgeSeconds: Math.max(0, ...samples.map((s) => s.ageSeconds)),
    idAtCut,
    idAtEnd,
    segmentsRestored,
    resumeMs: options.keepCut ? 0 : Date.now() - restoredAt,
  };
}

/** What a region loss and the promotion showed. */
export interface RegionLossResult {
  readonly killedAt: number;
  readonly killedPids: number;
  /** The promote command started (the decision: immediate in the drill). */
  readonly commandStartedAt: number;
  /** The command returned: the DR leader is a running writer. */
  readonly promotedAt: number;
  /** First acknowledged commit in the DR region of a transaction started after the kill. */
  readonly firstWriteAt: number;
  readonly drLeader: string;
  /** The standby leader's highest probe id read just before the kill (it had replayed these). */
  readonly seenOnStandbyId: number;
  /** Acknowledged ids <= seenOnStandbyId missing on the promoted leader: must be empty. */
  readonly missingSeen: readonly number[];
  /** Commits the primary acknowledged before the kill. */
  readonly acknowledgedBeforeKill: number;
  /** Of those, the ones missing on the promoted leader: the RPO in commits. */
  readonly lostIds: readonly number[];
  /** Acknowledgement time of the last lost commit minus that of the newest surviving one, s (0 when none lost). */
  readonly rpoSeconds: number;
  /** Replay age the promote command read (its RPO precondition), s. */
  readonly replayAgeSeconds?: number;
  /** Whether the command first refused (replay older than dr.rpoSeconds) and ran with --accept-data-loss. */
  readonly acceptedDataLoss: boolean;
  readonly moveLog: readonly string[];
}

/**
 * Region loss: with the writer committing on the primary, SIGKILL every primary-region process
 * (members, etcd, async archivers) and the region's replication endpoint; run the real promote path
 * (`pnpm dr promote --writer-lost --execute` over the standby leader's REST API); wait for the first
 * acknowledged write in the DR region; count the acknowledged commits the DR region does not have.
 */
export async function regionLoss(
  drill: Drill,
  writer: Writer,
  options: { table: string; timeoutMs?: number; allowDataLossRetry?: boolean },
): Promise<RegionLossResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const primaryPorts = portsOf(drill.primary);
  const drPorts = portsOf(drill.dr);
  const standbyLeader = await regionLeader(drill.dr.cluster);
  if (standbyLeader === undefined) throw new Error("no standby leader in the DR region");
  const seenOnStandbyId = (await maxId(drill.dr.cluster, standbyLeader, options.table)) ?? 0;
  const kill = killRegion(drill, drill.primary);
  drill.primaryEndpoint.cut();
  const moveLog: string[] = [];
  const commandStartedAt = Date.now();
  const move = (acceptDataLoss: boolean) =>
    drCommand(
      drill,
      [
        "promote",
        "--region",
        drill.dr.region,
        "--target-url",
        memberUrl(drill.dr, standbyLeader),
        "--writer-lost",
        ...(acceptDataLoss ? ["--accept-data-loss"] : []),
        "--wait-seconds",
        String(Math.ceil(timeoutMs / 1000)),
        "--replication-endpoint",
        `${drill.primary.region}=127.0.0.1:${drill.primaryEndpoint.port}`,
      ],
      drill.topology,
      moveLog,
    );
  let result: MoveResult;
  let acceptedDataLoss = false;
  try {
    result = await move(false);
  } catch (error) {
    if (!options.allowDataLossRetry || !(error instanceof PreconditionError)) throw error;
    // The operator's decision after the refusal (the benchmark's archive-only runs): promote anyway.
    moveLog.push(`refused: ${error.message}`);
    acceptedDataLoss = true;
    result = await move(true);
  }
  const promotedAt = Date.now();
  const first = await waitFor(
    "the first acknowledged write in the DR region",
    () => firstAckOn(writer, drPorts, kill.t),
    {
      timeoutMs,
      intervalMs: 50,
      detail: () => `${JSON.stringify(writer.events.slice(-5))}\n${drill.dr.cluster.logs(20)}`,
    },
  );
  // Every commit the primary region acknowledged (an ack logged a moment after the kill instant
  // still came from the primary: nothing there acknowledges anything once the signals land).
  const beforeKill = writer.acks.filter((a) => primaryPorts.has(a.port));
  const drLeader = (await regionLeader(drill.dr.cluster)) ?? standbyLeader;
  const rows = await queryOnce<{ id: string }>(
    drill.dr.cluster.target(drLeader),
    `SELECT id FROM ${options.table}`,
  );
  const present = new Set(rows.map((r) => Number(r.id)));
  const lost = beforeKill.filter((a) => !present.has(a.id));
  const missingSeen = lost.filter((a) => a.id <= seenOnStandbyId).map((a) => a.id);
  let rpoSeconds = 0;
  if (lost.length > 0) {
    const firstLost = lost[0];
    const survivors = beforeKill.filter((a) => present.has(a.id) && a.id < firstLost.id);
    const newest = survivors[survivors.length - 1];
    rpoSeconds = (lost[lost.length - 1].t - (newest?.t ?? firstLost.t0)) / 1000;
  }
  return {
    killedAt: kill.t,
    killedPids: kill.pids.length,
    commandStartedAt,
    promotedAt,
    firstWriteAt: first.t,
    drLeader,
    seenOnStandbyId,
    missingSeen,
    acknowledgedBeforeKill: beforeKill.length,
    lostIds: lost.map((a) => a.id),
    rpoSeconds,
    ...(result.replayAgeSeconds !== undefined ? { replayAgeSeconds: result.replayAgeSeconds } : {}),
    acceptedDataLoss,
    moveLog,
  };
}

/** What the failback showed. */
export interface FailbackResult {
  /** The re-seeded primary region (a new cluster object; the old one's processes are gone). */
  readonly region: DrillRegion;
  /** How Patroni built the re-seeded standby leader (from its log). */
  readonly reseedMethod: string;
  /** Re-seed start -> the primary region's standby cluster streaming, ms. */
  readonly reseedMs: number;
  /** The failback command's duration (fence -> catch-up -> promote -> drop slots), ms. */
  readonly commandMs: number;
  /** Largest gap between acknowledged commits around the switchover, ms. */
  readonly writeGapMs: number;
  readonly acknowledged: number;
  /** Acknowledged commits missing on the primary region's leader afterwards: must be empty. */
  readonly lost: readonly number[];
  readonly unknownCommitted: number;
  readonly unknownNotCommitted: number;
  readonly moveLog: readonly string[];
}

/**
 * Failback after a region loss: the promoted DR writer takes its first backup (the rendered full-
 * backup command: stanza-create + backup, runbook step 6); the primary region is re-seeded as a
 * standby cluster of it from the rendered configuration `pulumi up` gives it with
 * `dr.promotedRegion` set (fresh volumes and DCS: its old data diverged; the rendered
 * create_replica_methods restore the promoted region's backup with pgBackRest); then the planned
 * switchover back with the real failback command (`pnpm dr failback --execute`) while a
 * writer commits, and zero acknowledged commits may be lost.
 */
export async function failback(
  drill: Drill,
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<FailbackResult> {
  const timeoutMs = options.timeoutMs ?? 240_000;
  const promoted = promotedTopology(drill);
  const drLeader = await regionLeader(drill.dr.cluster);
  if (drLeader === undefined) throw new Error("no writer in the DR region");
  const drArtifacts = renderArtifacts(promoted, drill.dr.region);
  await runOnMember(drill.sandbox, drill.dr, drLeader, drArtifacts.pgbackrest.backupCommands.full);

  const drEndpoint = await LeaderProxy.start({
    target: () => regionLeaderPort(drill.dr.cluster),
    pollMs: 500,
  });
  drill.proxies.push(drEndpoint);
  const reseedStart = Date.now();
  const region = await startRegion({
    sandbox: drill.sandbox,
    artifacts: renderArtifacts(promoted, drill.primary.region),
    prefix: "failback",
    members: drill.primary.cluster.members.length,
    tls: drill.tls,
    secrets: drill.secrets,
    repoDirs: drill.repoDirs,
    standbySource: { host: "127.0.0.1", port: drEndpoint.port },
  });
  // The re-seeded pods keep their names: their logs continue the old members' files.
  const logOffsets = new Map(
    region.cluster.members.map((m) => {
      const file = drill.sandbox.path("logs", `${m.name}-patroni.log`);
      return [m.name, fs.existsSync(file) ? fs.statSync(file).size : 0];
    }),
  );
  region.cluster.startAll();
  const standbyLeader = await waitStandbyHealthy(drill.dr, region, timeoutMs);
  const reseedMs = Date.now() - reseedStart;
  const leaderLog = fs
    .readFileSync(region.cluster.patroniProc(standbyLeader)!.logFile, "utf8")
    .slice(logOffsets.get(standbyLeader) ?? 0);
  const reseedMethod = /replica has been created using (\w+)/.exec(leaderLog)?.[1] ?? "not logged";

  const endpoint = await LeaderProxy.start({ target: () => regionLeaderPort(region.cluster), pollMs: 500 });
  drill.proxies.push(endpoint);
  const writer = await startDrillWriter(drill, [drill.dr, region], {
    table: FAILBACK_TABLE,
    createOn: drill.dr,
  });
  // Let the new table and some commits reach the re-seeded region before the move.
  await sleep(2_000);
  const moveLog: string[] = [];
  const before = Date.now();
  // A failed move says what it logged and what both regions' members last wrote: the drill's sandbox
  // is removed afterwards, so this is all a CI log keeps of it.
  const moved = drCommand(
    drill,
    [
      "failback",
      "--region",
      drill.primary.region,
      "--target-url",
      memberUrl(region, standbyLeader),
      "--writer-url",
      memberUrl(drill.dr, drLeader),
      "--wait-seconds",
      String(Math.ceil(timeoutMs / 1000)),
      "--replication-endpoint",
      `${drill.primary.region}=127.0.0.1:${endpoint.port}`,
      "--replication-endpoint",
      `${drill.dr.region}=127.0.0.1:${drEndpoint.port}`,
    ],
    promoted,
    moveLog,
  );
  await moved.catch((e: unknown) => {
    // Both leaders' whole output (PostgreSQL's walreceiver/walsender lines included).
    const leaders = [drill.dr.cluster.patroniProc(drLeader), region.cluster.patroniProc(standbyLeader)].map(
      (p) => (p ? drill.sandbox.tail(p, 60) : ""),
    );
    throw new Error(
      `${(e as Error).message}\nmove log:\n${moveLog.join("\n")}\n${leaders.join("\n")}\n` +
        `${drill.dr.region}:\n${drill.dr.cluster.logs(20)}\n${drill.primary.region}:\n${region.cluster.logs(20)}`,
    );
  });
  const commandMs = Date.now() - before;
  await waitFor(
    "acknowledged writes in the primary region again",
    () => firstAckOn(writer, portsOf(region), before),
    {
      timeoutMs,
      intervalMs: 50,
      detail: () => `${JSON.stringify(writer.events.slice(-5))}\n${region.cluster.logs(20)}`,
    },
  );
  await sleep(options.settleMs ?? 3_000);
  await writer.stop(drill.sandbox);
  const gap = largestAckGap(writer.acks, before - 2_000, Date.now());
  const leader = await waitPrimaryHealthy(region, timeoutMs);
  const check = await checkNoLoss(region.cluster, writer, leader, FAILBACK_TABLE);
  // The DR region follows the primary region again.
  await waitStandbyHealthy(region, drill.dr, timeoutMs);
  return {
    region,
    reseedMethod,
    reseedMs,
    commandMs,
    writeGapMs: gap.gapMs,
    acknowledged: check.acknowledged,
    lost: check.lost,
    unknownCommitted: check.unknownCommitted,
    unknownNotCommitted: check.unknownNotCommitted,
    moveLog,
  };
}
