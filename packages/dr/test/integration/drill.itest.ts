import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { standbySlotName } from "@hcp/postgres";
import {
  makeTls,
  queryOnce,
  rejoin,
  requireEngines,
  Sandbox,
  waitFor,
  type Writer,
} from "@hcp/postgres/harness";
import { repoTopology } from "@hcp/testing";
import {
  archiveFallback,
  type Drill,
  DRILL_TABLE,
  failback,
  firstAckOn,
  regionLeader,
  regionLoss,
  type RegionLossResult,
  startDrill,
  startDrillWriter,
  startRegion,
  stopProxies,
  waitPrimaryHealthy,
  waitStandbyHealthy,
} from "../../src/drill";

/**
 * The DR drill on real engines (Debian Patroni 3.0.2, etcd, PostgreSQL 15, pgBackRest 2.45): the
 * production environment's primary region (3 members) and DR region (standby cluster, 2 members),
 * each with its own etcd, booted from the rendered configurations; the standby streams through a
 * LeaderProxy that follows the primary's leader (the stand-in for the NLB behind the replication
 * name). Timings are printed; `pnpm bench:dr` measures them N times against the targets.
 */

/**
 * Allowance on top of archive_timeout for the archive path: pgBackRest's async archive-push, then the
 * standby's restore_command retry (wal_retrieve_retry_interval 1 s) and replay. The bound asserted is
 * archive_timeout + this, and the measured value is printed.
 */
const ARCHIVE_DELIVERY_ALLOWANCE_SECONDS = 10;

const ports = (d: Drill, which: "primary" | "dr") => new Set(d[which].cluster.members.map((m) => m.pgPort));

/** Acknowledged ids up to `upTo` that `member` does not have. */
async function missingOn(
  d: Drill,
  which: "primary" | "dr",
  member: string,
  writer: Writer,
  upTo: number,
): Promise<number[]> {
  const rows = await queryOnce<{ id: string }>(
    d[which].cluster.target(member),
    `SELECT id FROM ${DRILL_TABLE} WHERE id <= $1`,
    [upTo],
  );
  const present = new Set(rows.map((r) => Number(r.id)));
  return writer.acks.filter((a) => a.id <= upTo && !present.has(a.id)).map((a) => a.id);
}

describe("DR drill: two regions on loopback from the rendered production configurations", function () {
  let sandbox: Sandbox | undefined;
  let drill: Drill | undefined;
  let writer: Writer | undefined;
  let loss: RegionLossResult | undefined;

  before(async function () {
    requireEngines(this, ["postgres", "pgaudit", "patroni", "etcd", "psycopg2", "pgbackrest", "openssl"]);
    sandbox = Sandbox.create("dr-drill");
    drill = await startDrill({ sandbox, topology: repoTopology("production") });
    console.log(drill.report);
    writer = await startDrillWriter(drill, [drill.primary, drill.dr], {
      table: DRILL_TABLE,
      createOn: drill.primary,
    });
  });

  after(async function () {
    this.timeout(180_000);
    await writer?.stop(sandbox!).catch(() => undefined);
    await stopProxies(drill);
    await sandbox?.cleanup();
  });

  it("changes only local facts in the rendered files of both regions", function () {
    const d = drill!;
    const standby = d.dr.artifacts.patroni.config.bootstrap.dcs.standby_cluster;
    assert.ok(standby, "the DR region renders a standby cluster");
    assert.equal(standby.primary_slot_name, standbySlotName(d.dr.region));
    assert.ok(standby.restore_command?.includes("archive-get"), "restore_command reads the archive");
    assert.ok(
      d.primary.artifacts.patroni.config.bootstrap.dcs.slots?.[standbySlotName(d.dr.region)],
      "the primary keeps a permanent slot for the DR region",
    );
    const drChanged = new Set(d.dr.localized.flatMap((l) => l.changes.map((c) => c.path)));
    assert.ok(drChanged.has("bootstrap.dcs.standby_cluster.host"), "standby source -> the LeaderProxy");
    for (const region of [d.primary, d.dr]) {
      const changed = new Set(region.localized.flatMap((l) => l.changes.map((c) => c.path)));
      for (const key of [
        "ttl",
        "loop_wait",
        "retry_timeout",
        "synchronous_mode",
        "synchronous_mode_strict",
      ]) {
        assert.ok(
          !changed.has(`bootstrap.dcs.${key}`),
          `${region.region}: bootstrap.dcs.${key} runs as rendered`,
        );
      }
      assert.ok(
        !changed.has("bootstrap.dcs.postgresql.parameters.archive_timeout"),
        `${region.region}: archive_timeout runs as rendered`,
      );
    }
  });

  it("streams to the DR standby leader over TLS verify-full through the replication endpoint, on the DR slot", async function () {
    const d = drill!;
    const primaryLeader = (await regionLeader(d.primary.cluster))!;
    const standbyLeader = (await regionLeader(d.dr.cluster))!;
    const slot = standbySlotName(d.dr.region);
    const senders = await queryOnce<{ state: string; ssl: boolean; slot_name: string | null }>(
      d.primary.cluster.target(primaryLeader),
      `SELECT r.state, s.ssl, sl.slot_name FROM pg_stat_replication r
         JOIN pg_stat_ssl s ON s.pid = r.pid
         LEFT JOIN pg_replication_slots sl ON sl.active_pid = r.pid
        WHERE r.application_name = $1`,
      [standbyLeader],
    );
    assert.deepEqual(senders, [{ state: "streaming", ssl: true, slot_name: slot }]);
    const receiver = await queryOnce<{ status: string; conninfo: string; slot_name: string }>(
      d.dr.cluster.target(standbyLeader),
      "SELECT status, conninfo, slot_name FROM pg_stat_wal_receiver",
    );
    assert.equal(receiver[0]?.status, "streaming");
    assert.equal(receiver[0]?.slot_name, slot);
    const conninfo = receiver[0].conninfo;
    assert.match(conninfo, /sslmode=verify-full/);
    assert.ok(
      conninfo.includes(`sslrootcert=${d.tls.caFile}`),
      conninfo.replace(/password=\S+/, "password=***"),
    );
    assert.ok(conninfo.includes(`port=${d.primaryEndpoint.port}`), "through the replication endpoint");
    // The writer's commits arrive on both DR members.
    const upTo = writer!.acks[writer!.acks.length - 1].id;
    for (const m of d.dr.cluster.members) {
      await waitFor(
        `${m.name} to have every commit up to ${upTo}`,
        async () => ((await missingOn(d, "dr", m.name, writer!, upTo)).length === 0 ? true : undefined),
        { timeoutMs: 30_000 },
      );
    }
    console.log(
      `      ${standbyLeader} streams from ${primaryLeader} (TLS, slot ${slot}); ids up to ${upTo} on both DR members`,
    );
  });

  it("refuses the primary when the standby verifies against another CA (certificate verify failed)", async function () {
    const d = drill!;
    const wrongCa = makeTls(d.sandbox, "wrong-ca").caFile;
    const region = await startRegion({
      sandbox: d.sandbox,
      artifacts: d.dr.artifacts,
      prefix: "wrongca",
      members: 1,
      tls: d.tls,
      secrets: d.secrets,
      repoDirs: d.repoDirs,
      standbySource: { host: "127.0.0.1", port: d.primaryEndpoint.port },
      wrongReplicationCa: wrongCa,
      firstOrdinal: 9,
    });
    console.log(
      region.report
        .split("\n")
        .filter((l) => l.includes("negative test"))
        .join("\n"),
    );
    const member = region.cluster.members[0];
    const proc = region.cluster.start(member.name);
    try {
      const line = await waitFor(
        "the standby's base backup to fail certificate verification",
        () =>
          fs
            .readFileSync(proc.logFile, "utf8")
            .split("\n")
            .find((l) => /certificate verify failed/.test(l)),
        { timeoutMs: 90_000, intervalMs: 500, detail: () => d.sandbox.tail(proc, 40) },
      );
      console.log(`      ${line.trim().slice(0, 200)}`);
      const status = await region.cluster.status(member.name);
      assert.notEqual(status?.role, "standby_leader", "no standby leader without a verified source");
      assert.equal(fs.existsSync(path.join(member.dataDir, "PG_VERSION")), false, "no data copied");
    } finally {
      await d.sandbox.stop(proc, 20_000);
      await d.sandbox.stop(region.etcd.proc);
    }
  });

  it("follows a leader failover inside the primary region with no manual step and no gap", async function () {
    const d = drill!;
    const w = writer!;
    const oldLeader = (await regionLeader(d.primary.cluster))!;
    const kill = d.primary.cluster.killNode(oldLeader);
    const newLeader = await waitFor(
      "a new leader in the primary region",
      () => d.primary.cluster.leader([oldLeader]),
      {
        timeoutMs: 120_000,
        intervalMs: 200,
        detail: () => d.primary.cluster.logs(),
      },
    );
    await waitFor("writes on the new primary leader", () => firstAckOn(w, ports(d, "primary"), kill.t), {
      timeoutMs: 120_000,
    });
    const standbyLeader = await waitStandbyHealthy(d.primary, d.dr, 120_000);
    await waitFor(
      "2 s of commits after the failover",
      () => (w.acksAfter(kill.t).length > 200 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    const before = w.acks.filter((a) => a.t < kill.t);
    const upTo = w.acks[w.acks.length - 1].id;
    const missing = await waitFor(
      `${standbyLeader} to have replayed every acknowledged commit up to ${upTo}`,
      async () => {
        const m = await missingOn(d, "dr", standbyLeader, w, upTo);
        return m.length === 0 ? m : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.deepEqual(missing, []);
    console.log(
      `      ${oldLeader} killed; ${newLeader} leads; ${d.dr.region} followed through the endpoint: ` +
        `${before.length} commits before and ${w.acksAfter(kill.t).length} after the failover, all on ${standbyLeader}`,
    );
    const back = await rejoin(d.primary.cluster, oldLeader, { timeoutMs: 180_000 });
    console.log(
      `      ${oldLeader} rejoined in ${(back.rejoinMs / 1000).toFixed(1)} s (pg_rewind: ${back.rewind})`,
    );
    await waitPrimaryHealthy(d.primary, 120_000);
  });

  it("keeps up from the archive while streaming is cut (lag within archive_timeout + delivery)", async function () {
    const d = drill!;
    const timeout = d.archiveTimeoutSeconds;
    const result = await archiveFallback(d, { durationMs: (timeout + 15) * 1000, table: DRILL_TABLE });
    const bound = timeout + ARCHIVE_DELIVERY_ALLOWANCE_SECONDS;
    console.log(
      `      streaming cut ${((result.restoredAt - result.cutAt) / 1000).toFixed(0)} s: ${result.segmentsRestored} WAL segment(s) restored from the archive, ` +
        `standby ids ${result.idAtCut} -> ${result.idAtEnd}; largest replay age ${result.maxAgeSeconds.toFixed(1)} s ` +
        `(archive_timeout ${timeout} s as rendered, bound ${bound} s); streaming again ${(result.resumeMs / 1000).toFixed(1)} s after the path returned`,
    );
    assert.ok(result.segmentsRestored >= 1, "the standby restored WAL from the archive");
    assert.ok(result.idAtEnd > result.idAtCut, "the standby advanced while streaming was cut");
    assert.ok(result.maxAgeSeconds <= bound, `replay age ${result.maxAgeSeconds.toFixed(1)} s > ${bound} s`);
  });

  it("region loss: the real promote path makes the DR region the writer; every replayed commit survives; the loss is counted", async function () {
    const d = drill!;
    loss = await regionLoss(d, writer!, { table: DRILL_TABLE });
    for (const line of loss.moveLog) console.log(`        ${line}`);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `      killed ${loss.killedPids} processes of ${d.primary.region}; kill -> command ${s(loss.commandStartedAt - loss.killedAt)} -> ` +
        `promoted ${s(loss.promotedAt - loss.commandStartedAt)} -> first write ${s(loss.firstWriteAt - loss.promotedAt)} ` +
        `(RTO ${s(loss.firstWriteAt - loss.killedAt)})`,
    );
    console.log(
      `      RPO: ${loss.lostIds.length} of ${loss.acknowledgedBeforeKill} acknowledged commits lost (${loss.rpoSeconds.toFixed(3)} s of acknowledgements)` +
        `${loss.lostIds.length > 0 ? `: ids ${loss.lostIds.join(", ")}` : ""}; the standby had replayed up to id ${loss.seenOnStandbyId} before the kill`,
    );
    assert.deepEqual(loss.missingSeen, [], "every commit the standby had replayed before the cut survives");
    const status = await d.dr.cluster.status(loss.drLeader);
    assert.ok(
      status && (status.role === "master" || status.role === "primary"),
      `DR leader role ${status?.role}`,
    );
    assert.ok(firstAckOn(writer!, ports(d, "dr"), loss.killedAt), "writes resumed in the DR region");
    assert.ok(
      loss.moveLog.some((l) => l.includes(`done. Next: set dr.promotedRegion: ${d.dr.region}`)),
      "the command says what to change in the environment file",
    );
  });

  it("fails back: the primary region re-seeded as a standby of the promoted one, then a planned switchover, zero acknowledged commits lost", async function () {
    const d = drill!;
    assert.ok(loss, "runs after the region loss");
    await writer!.stop(d.sandbox);
    const result = await failback(d);
    for (const line of result.moveLog) console.log(`        ${line}`);
    console.log(
      `      re-seeded ${result.region.region} (${result.region.cluster.members.length} members) with ${result.reseedMethod} in ${(result.reseedMs / 1000).toFixed(1)} s; ` +
        `failback command ${(result.commandMs / 1000).toFixed(1)} s; largest write gap ${(result.writeGapMs / 1000).toFixed(1)} s; ` +
        `${result.acknowledged} acknowledged, ${result.lost.length} lost; outcome unknown: ${result.unknownCommitted} committed, ${result.unknownNotCommitted} not`,
    );
    assert.deepEqual(result.lost, [], "zero acknowledged commits lost in the switchover back");
    assert.equal(result.reseedMethod, "pgbackrest", "re-seeded from the promoted region's backup");
    const leader = await regionLeader(result.region.cluster);
    const status = await result.region.cluster.status(leader!);
    assert.ok(status && (status.role === "master" || status.role === "primary"));
  });
});
