import * as fs from "node:fs";
import { type LocalPatroniCluster, type SyncMonitor, unprotectedInterval } from "./patroni";
import { queryOnce } from "./postgres";
import { sleep, waitFor } from "./procs";
import { largestAckGap, type AckEvent, type Writer, type WriterEvent } from "./writer";

/**
 * The failover scenarios shared by the integration test (once each) and the benchmark (N times):
 * what is measured and how is defined here only.
 */

/** The probe table the writer inserts into (created on the leader before the writer starts). */
export const PROBE_TABLE = "failover_probe";

/** Where the probe table lives and who writes it. */
export interface ProbeTableOptions {
  /** @default - "postgres" */
  readonly database?: string;
  /** A role that gets INSERT and SELECT on it (a writer connecting as an application role). */
  readonly writer?: string;
}

export async function createProbeTable(
  cluster: LocalPatroniCluster,
  leader: string,
  table = PROBE_TABLE,
  options: ProbeTableOptions = {},
): Promise<void> {
  const target = { ...cluster.target(leader), database: options.database };
  await queryOnce(
    target,
    `CREATE TABLE IF NOT EXISTS ${table} (id bigint PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  if (options.writer) await queryOnce(target, `GRANT INSERT, SELECT ON ${table} TO ${options.writer}`);
}

/**
 * A second writer measured on the same failure as the scenario's own writer (e.g. one connected
 * through PgBouncer while the other connects directly), so the two are compared on one event.
 */
export interface ObservedWriter {
  readonly name: string;
  readonly writer: Writer;
}

/** What an observed writer saw of a node loss or switchover. */
export interface ObservedResult {
  readonly name: string;
  /** Node loss: kill -> its first acknowledged commit on the new primary. */
  readonly recoveryMs?: number;
  /** Switchover: its largest gap between acknowledgements. */
  readonly writeGapMs?: number;
  /** Its errors from the failure on, by message with the connection details cut (first 6). */
  readonly errors: ReadonlyArray<{ readonly message: string; readonly count: number }>;
}

/** Writer errors at or after `since`, grouped by message (addresses, ports, PIDs cut), most frequent first. */
export function errorSummary(
  events: readonly WriterEvent[],
  since: number,
  limit = 6,
): Array<{ message: string; count: number }> {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.ev !== "err" || e.t < since) continue;
    const message = `${e.phase}: ${e.msg.split("\n")[0].replace(/\d+(\.\d+){3}|port \d+|\b\d{3,}\b/g, "#")}`;
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([message, count]) => ({ message, count }));
}

/** Window after a promotion in which the new primary acknowledged commits with no synchronous standby. */
export interface UnprotectedWindow {
  /** Length of the interval with empty synchronous_standby_names while writable (0 = never). */
  readonly windowMs: number;
  /** Acknowledged commits on the new primary inside that interval (single-copy commits). */
  readonly acksInWindow: number;
  /** True when the interval had not closed when measurement stopped. */
  readonly open: boolean;
}

function unprotected(
  monitor: SyncMonitor,
  writer: Writer,
  member: string,
  port: number,
  since: number,
  until: number,
): UnprotectedWindow {
  const interval = unprotectedInterval(monitor.samples, member, since);
  if (interval.from === undefined) return { windowMs: 0, acksInWindow: 0, open: false };
  const end = interval.until ?? until;
  const acks = writer.acks.filter((a) => a.port === port && a.t >= interval.from! && a.t <= end).length;
  return { windowMs: end - interval.from, acksInWindow: acks, open: interval.until === undefined };
}

export interface NodeLossResult {
  readonly oldLeader: string;
  readonly newLeader: string;
  readonly killedAt: number;
  readonly killedPids: readonly number[];
  /** Kill -> first acknowledged commit on the new primary (a transaction started after the kill). */
  readonly recoveryMs: number;
  /** Kill -> the new primary first seen out of recovery (the rest of recoveryMs waits for a sync standby). */
  readonly promotedMs?: number;
  readonly unprotected: UnprotectedWindow;
  readonly observed: readonly ObservedResult[];
}

/** When `member` was first sampled writable (out of recovery) after `since`, relative to `since`. */
function promotedAt(monitor: SyncMonitor, member: string, since: number): number | undefined {
  const sample = monitor.samples.find((x) => x.member === member && x.t >= since && !x.inRecovery);
  return sample === undefined ? undefined : sample.t - since;
}

/** First acknowledged commit on `port` of a transaction that started after `t`. */
function firstAckOn(writer: Writer, port: number, t: number): AckEvent | undefined {
  return writer.acks.find((a) => a.port === port && a.t0 >= t);
}

/**
 * Kills the leader node (Patroni + every postgres process, SIGKILL) while the writer commits, then
 * waits for the first acknowledged write on a new primary. The killed member stays down.
 */
export async function nodeLoss(
  cluster: LocalPatroniCluster,
  writer: Writer,
  monitor: SyncMonitor,
  options: { leader: string; timeoutMs: number; settleMs?: number; observers?: readonly ObservedWriter[] },
): Promise<NodeLossResult> {
  const { leader } = options;
  await waitFor(
    "the writer to commit on the leader",
    () => (writer.acks.some((a) => a.port === cluster.member(leader).pgPort) ? true : undefined),
    {
      timeoutMs: 30_000,
      detail: () => JSON.stringify(writer.events.slice(-5)),
    },
  );
  const kill = cluster.killNode(leader);
  if (kill.pids.length === 0) throw new Error(`no process of ${leader} was running to kill`);
  const newLeader = await waitFor("a new leader after the node loss", () => cluster.leader([leader]), {
    timeoutMs: options.timeoutMs,
    intervalMs: 100,
    detail: () => cluster.logs(),
  });
  const port = cluster.member(newLeader).pgPort;
  const first = await waitFor(
    "the first acknowledged write on the new primary",
    () => firstAckOn(writer, port, kill.t),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 50,
      detail: () => `${JSON.stringify(writer.events.slice(-5))}\n${cluster.logs()}`,
    },
  );
  const observed: ObservedResult[] = [];
  for (const o of options.observers ?? []) {
    const ack = await waitFor(
      `the first acknowledged write of ${o.name} on the new primary`,
      () => firstAckOn(o.writer, port, kill.t),
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 50,
        detail: () => JSON.stringify(o.writer.events.slice(-5)),
      },
    );
    observed.push({
      name: o.name,
      recoveryMs: ack.t - kill.t,
      errors: errorSummary(o.writer.events, kill.t),
    });
  }
  // Let the new primary regain a synchronous standby (or not) before reading the window.
  await sleep(options.settleMs ?? 15_000);
  return {
    oldLeader: leader,
    newLeader,
    killedAt: kill.t,
    killedPids: kill.pids,
    recoveryMs: first.t - kill.t,
    promotedMs: promotedAt(monitor, newLeader, kill.t),
    unprotected: unprotected(monitor, writer, newLeader, port, kill.t, Date.now()),
    observed,
  };
}

export interface RejoinResult {
  readonly rejoinMs: number;
  /** What Patroni logged about pg_rewind for the rejoining member. */
  readonly rewind: "ran" | "not-needed" | "none-logged";
  readonly logExcerpt: string[];
}

/** Restarts a killed member's Patroni and waits until it streams as a replica again. */
export async function rejoin(
  cluster: LocalPatroniCluster,
  name: string,
  options: { timeoutMs: number },
): Promise<RejoinResult> {
  const started = Date.now();
  const proc = cluster.start(name);
  await waitFor(
    `${name} to rejoin as a streaming replica`,
    async () => {
      const leader = await cluster.leader();
      if (!leader || leader === name) return undefined;
      const [me, lead] = await Promise.all([cluster.status(name), cluster.status(leader)]);
      const streaming = (lead?.replication ?? []).some(
        (r) => r.application_name === name && r.state === "streaming",
      );
      return me?.role === "replica" && me.state === "running" && streaming ? true : undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 250, detail: () => cluster.logs(40) },
  );
  const log = fs.readFileSync(proc.logFile, "utf8").split("\n");
  const rewindLines = log.filter((l) => /pg_rewind|rewind/i.test(l));
  const rewind = rewindLines.some((l) => /running pg_rewind/.test(l))
    ? "ran"
    : rewindLines.some((l) => /not need|no need|don't need/i.test(l))
      ? "not-needed"
      : "none-logged";
  return { rejoinMs: Date.now() - started, rewind, logExcerpt: rewindLines.slice(0, 8) };
}

export interface SwitchoverResult {
  readonly oldLeader: string;
  readonly newLeader: string;
  readonly requestedAt: number;
  /** Largest gap between consecutive acknowledgements around the switchover. */
  readonly writeGapMs: number;
  /** Request -> the candidate first seen out of recovery. */
  readonly promotedMs?: number;
  readonly unprotected: UnprotectedWindow;
  readonly observed: readonly ObservedResult[];
}

/** Planned switchover through the REST API while the writer commits. */
export async function switchover(
  cluster: LocalPatroniCluster,
  writer: Writer,
  monitor: SyncMonitor,
  options: { leader: string; timeoutMs: number; settleMs?: number; observers?: readonly ObservedWriter[] },
): Promise<SwitchoverResult> {
  const { leader } = options;
  const before = Date.now();
  await sleep(2_000);
  const res = await cluster.switchover(leader);
  if (res.status !== 200) throw new Error(`POST /switchover answered ${res.status}: ${res.text}`);
  const newLeader = await waitFor(
    "the switchover candidate to lead",
    async () => {
      const l = await cluster.leader([leader]);
      return l;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, detail: () => cluster.logs() },
  );
  const port = cluster.member(newLeader).pgPort;
  await waitFor("acknowledged writes on the new primary", () => firstAckOn(writer, port, res.t), {
    timeoutMs: options.timeoutMs,
    intervalMs: 50,
    detail: () => JSON.stringify(writer.events.slice(-5)),
  });
  for (const o of options.observers ?? []) {
    await waitFor(
      `acknowledged writes of ${o.name} on the new primary`,
      () => firstAckOn(o.writer, port, res.t),
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 50,
        detail: () => JSON.stringify(o.writer.events.slice(-5)),
      },
    );
  }
  await sleep(options.settleMs ?? 5_000);
  const end = Date.now();
  const gap = largestAckGap(writer.acks, before, end);
  return {
    oldLeader: leader,
    newLeader,
    requestedAt: res.t,
    writeGapMs: gap.gapMs,
    promotedMs: promotedAt(monitor, newLeader, res.t),
    unprotected: unprotected(monitor, writer, newLeader, port, res.t, end),
    observed: (options.observers ?? []).map((o) => ({
      name: o.name,
      writeGapMs: largestAckGap(o.writer.acks, before, end).gapMs,
      errors: errorSummary(o.writer.events, before),
    })),
  };
}

export interface LossCheck {
  readonly acknowledged: number;
  /** Acknowledged ids missing from the table: must be empty. */
  readonly lost: readonly number[];
  /** Ids whose COMMIT failed (outcome unknown) and that did commit. */
  readonly unknownCommitted: number;
  readonly unknownNotCommitted: number;
  readonly rows: number;
}

/** Reads the probe table on `member` and compares it with every acknowledged id. */
export async function checkNoLoss(
  cluster: LocalPatroniCluster,
  writer: Writer,
  member: string,
  table = PROBE_TABLE,
  database?: string,
): Promise<LossCheck> {
  // Only commits acknowledged before the query started must be in its snapshot: the writer may
  // still be running and acknowledge more while the query runs.
  const acked = [...writer.acks];
  const rows = await queryOnce<{ id: string }>(
    { ...cluster.target(member), database },
    `SELECT id FROM ${table}`,
  );
  const present = new Set(rows.map((r) => Number(r.id)));
  const lost = acked.filter((a) => !present.has(a.id)).map((a) => a.id);
  const unknown = writer.unknownIds;
  const unknownCommitted = unknown.filter((id) => present.has(id)).length;
  return {
    acknowledged: acked.length,
    lost,
    unknownCommitted,
    unknownNotCommitted: unknown.length - unknownCommitted,
    rows: rows.length,
  };
}

/** What happens to writes when the leader is the only member left. */
export interface SingleMemberResult {
  /** Acknowledged commits, started after the kill, while the leader was alone. */
  readonly acksWhileAlone: number;
  /** Kill -> first such acknowledgement (non-strict: Patroni drops the synchronous requirement). */
  readonly firstAckAloneMs?: number;
  /** How long the leader was left alone before the replica was restarted. */
  readonly aloneMs: number;
  /** Replica restart -> first acknowledged commit (strict: the end of the write stall). */
  readonly resumeAfterRestartMs: number;
}

/**
 * Kills `replica`, the only other running member, leaves the leader alone for `aloneMs`, then
 * restarts the replica. In strict synchronous mode no commit may be acknowledged meanwhile.
 */
export async function singleMemberStall(
  cluster: LocalPatroniCluster,
  writer: Writer,
  options: { leader: string; replica: string; aloneMs: number; timeoutMs: number },
): Promise<SingleMemberResult> {
  const port = cluster.member(options.leader).pgPort;
  const kill = cluster.killNode(options.replica);
  await sleep(options.aloneMs);
  // A transaction begun 100 ms after the kill cannot have reached the dead member.
  const alone = writer.acks.filter((a) => a.port === port && a.t0 >= kill.t + 100);
  const restartAt = Date.now();
  cluster.start(options.replica);
  const resumed = await waitFor(
    "writes to resume once a replica is back",
    // The writer is single-threaded: in a stall its pending COMMIT (started earlier) is the one released.
    () => writer.acks.find((a) => a.t >= restartAt),
    { timeoutMs: options.timeoutMs, intervalMs: 50, detail: () => cluster.logs() },
  );
  return {
    acksWhileAlone: alone.length,
    firstAckAloneMs: alone[0] === undefined ? undefined : alone[0].t - kill.t,
    aloneMs: restartAt - kill.t,
    resumeAfterRestartMs: resumed.t - restartAt,
  };
}
