import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { repoTopology } from "@hcp/testing";
import type pg from "pg";
import { renderArtifacts, ROLES, type RenderedArtifacts } from "../../src/render";
import { connect } from "../../src/harness/postgres";
import { freePorts } from "../../src/harness/ports";
import { waitFor } from "../../src/harness/procs";
import { Sandbox } from "../../src/harness/sandbox";
import {
  applyPostgresSql,
  rolePasswords,
  startRenderedServer,
  type RenderedServer,
  type RolePasswords,
} from "../../src/harness/standalone";
import { requireEngines } from "../../src/harness/tools";
import { makeTls, type TlsFiles } from "../../src/harness/tls";

/**
 * The plain-PostgreSQL part of the rendered bootstrap SQL (roles, grants, schemas, RLS, pgaudit,
 * the PgBouncer lookup) on real PostgreSQL 15 + pgaudit, configured with the rendered parameters
 * and pg_hba. Behaviour is checked through real logins over TLS, not by reading catalogs.
 */
describe("PostgreSQL 15: rendered bootstrap SQL (roles, grants, RLS, pgaudit)", function () {
  let sandbox: Sandbox | undefined;
  let artifacts: RenderedArtifacts;
  let server: RenderedServer;
  let tls: TlsFiles;
  let passwords: RolePasswords;
  let database: string;
  const subjectA = "11111111-1111-4111-8111-111111111111";
  const subjectB = "22222222-2222-4222-8222-222222222222";

  const login = (user: string, password: string): Promise<pg.Client> =>
    connect({ port: server.port, user, password, database, caFile: tls.caFile });
  const superuser = (): Promise<pg.Client> => login("postgres", server.superuserPassword);

  before(async function () {
    requireEngines(this, ["postgres", "pgaudit", "openssl"]);
    artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
    database = artifacts.inputs.sql.databaseName;
    sandbox = Sandbox.create("bootstrap-sql");
    tls = makeTls(sandbox);
    const [port] = await freePorts(1);
    server = await startRenderedServer(sandbox, artifacts, { name: "pg", port: port, tls });
    console.log(server.report);
    passwords = rolePasswords();
    const applied = applyPostgresSql(sandbox, server, artifacts, passwords);
    console.log(`      applied ${applied.join(", ")}`);
  });

  after(async function () {
    await sandbox?.cleanup();
  });

  it("re-applies every plain-PostgreSQL file without error (idempotent)", function () {
    const again = applyPostgresSql(sandbox!, server, artifacts, passwords);
    assert.ok(again.length >= 8, `applied ${again.join(", ")}`);
  });

  it("runs pgaudit with the rendered session classes and keeps role passwords out of the log", async function () {
    const client = await superuser();
    try {
      const rows = (
        await client.query<{ name: string; setting: string }>(
          "SELECT name, setting FROM pg_settings WHERE name IN ('pgaudit.log', 'pgaudit.log_parameter', 'shared_preload_libraries')",
        )
      ).rows;
      const settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
      assert.equal(
        settings["pgaudit.log"],
        artifacts.patroni.config.bootstrap.dcs.postgresql.parameters["pgaudit.log"],
      );
      assert.equal(settings["pgaudit.log_parameter"], "off");
      assert.match(settings.shared_preload_libraries, /pgaudit/);
    } finally {
      await client.end();
    }
    const log = fs.readFileSync(server.proc.logFile, "utf8");
    for (const [role, password] of Object.entries(passwords)) {
      assert.ok(!log.includes(password), `the password of ${role} appears in the server log`);
    }
  });

  it("logs writes and DDL through pgaudit (WRITE, DDL classes)", async function () {
    const app = await login(ROLES.app, passwords.healthcare_app);
    await app.query("INSERT INTO audit_trail.user_activity (user_id, action) VALUES ($1, 'pgaudit-probe')", [
      subjectA,
    ]);
    await app.end();
    const admin = await login(ROLES.admin, passwords.healthcare_admin);
    await admin.query("CREATE TABLE IF NOT EXISTS healthcare_data.pgaudit_probe (id int)");
    await admin.end();
    await waitFor(
      "pgaudit lines in the server log",
      () => {
        const log = fs.readFileSync(server.proc.logFile, "utf8");
        const write = /AUDIT: SESSION,\d+,\d+,WRITE,INSERT,TABLE,audit_trail\.user_activity/.test(log);
        const ddl = /AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,TABLE,healthcare_data\.pgaudit_probe/.test(log);
        return write && ddl ? true : undefined;
      },
      { timeoutMs: 10_000, detail: () => sandbox!.tail(server.proc, 20) },
    );
  });

  it("healthcare_reader cannot write, and sees no rows of RLS tables it has no policy for", async function () {
    const su = await superuser();
    await su.query(
      `INSERT INTO healthcare_data.consent_management
         (data_subject_id, data_subject_type, consent_version, consent_given_at, legal_basis, processing_purposes)
       VALUES ($1, 'patient', '1', now(), 'consent', '{treatment}'), ($2, 'patient', '1', now(), 'consent', '{treatment}')`,
      [subjectA, subjectB],
    );
    const all = await su.query<{ n: string }>("SELECT count(*) AS n FROM healthcare_data.consent_management");
    await su.end();
    assert.ok(Number(all.rows[0].n) >= 2, "the superuser sees the rows");

    const reader = await login(ROLES.reader, passwords.healthcare_reader);
    try {
      const seen = await reader.query<{ n: string }>(
        "SELECT count(*) AS n FROM healthcare_data.consent_management",
      );
      assert.equal(seen.rows[0].n, "0", "row-level security hides every row from the reader");
      await assert.rejects(
        reader.query(
          `INSERT INTO healthcare_data.consent_management
             (data_subject_id, data_subject_type, consent_version, consent_given_at, legal_basis, processing_purposes)
           VALUES ($1, 'patient', '1', now(), 'consent', '{x}')`,
          [subjectA],
        ),
        /permission denied/,
      );
      await assert.rejects(
        reader.query("INSERT INTO audit_trail.user_activity (user_id, action) VALUES ($1, 'x')", [subjectA]),
        /permission denied/,
      );
      await assert.rejects(reader.query("CREATE TABLE public.nope (id int)"), /permission denied/);
    } finally {
      await reader.end();
    }
  });

  it("healthcare_app sees only the data subject it sets, nothing when unset (fail closed)", async function () {
    const app = await login(ROLES.app, passwords.healthcare_app);
    try {
      const unset = await app.query<{ n: string }>(
        "SELECT count(*) AS n FROM healthcare_data.consent_management",
      );
      assert.equal(unset.rows[0].n, "0");
      await app.query("BEGIN");
      await app.query("SELECT set_config('app.current_user_id', $1, true)", [subjectA]);
      const own = await app.query<{ id: string }>(
        "SELECT data_subject_id AS id FROM healthcare_data.consent_management",
      );
      await app.query("COMMIT");
      assert.deepEqual(
        own.rows.map((r) => r.id),
        [subjectA],
      );
    } finally {
      await app.end();
    }
  });

  it("keeps the audit trail append-only for the application", async function () {
    const app = await login(ROLES.app, passwords.healthcare_app);
    try {
      await app.query(
        "INSERT INTO audit_trail.data_processing_log (operation_type, table_name) VALUES ('SELECT', 'x')",
      );
      await assert.rejects(
        app.query("UPDATE audit_trail.data_processing_log SET table_name = 'y'"),
        /permission denied/,
      );
      await assert.rejects(app.query("DELETE FROM audit_trail.data_processing_log"), /permission denied/);
      await assert.rejects(app.query("TRUNCATE audit_trail.data_processing_log"), /permission denied/);
    } finally {
      await app.end();
    }
  });

  it("lets the data protection officer group read every LGPD row", async function () {
    const su = await superuser();
    try {
      await su.query("BEGIN");
      await su.query(`SET LOCAL ROLE ${ROLES.dpo}`);
      const rows = await su.query<{ n: string }>(
        "SELECT count(*) AS n FROM healthcare_data.consent_management",
      );
      await su.query("ROLLBACK");
      assert.ok(Number(rows.rows[0].n) >= 2);
    } finally {
      await su.end();
    }
  });

  it("gives PgBouncer's lookup the verifier of pooled logins only, and only to pgbouncer_auth", async function () {
    const bouncer = await login(ROLES.pgbouncerAuth, passwords.pgbouncer_auth);
    try {
      const app = await bouncer.query<{ passwd: string }>("SELECT passwd FROM pgbouncer.get_auth($1)", [
        ROLES.app,
      ]);
      assert.match(app.rows[0]?.passwd ?? "", /^SCRAM-SHA-256\$/);
      const su = await bouncer.query("SELECT * FROM pgbouncer.get_auth('postgres')");
      assert.equal(su.rowCount, 0, "no superuser verifier");
      const repl = await bouncer.query("SELECT * FROM pgbouncer.get_auth('replicator')");
      assert.equal(repl.rowCount, 0);
    } finally {
      await bouncer.end();
    }
    const app = await login(ROLES.app, passwords.healthcare_app);
    try {
      await assert.rejects(
        app.query("SELECT * FROM pgbouncer.get_auth('healthcare_app')"),
        /permission denied/,
      );
    } finally {
      await app.end();
    }
  });
});
