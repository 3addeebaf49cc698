import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import {
  AUDIT_HYPERTABLES,
  CONTINUOUS_AGGREGATES,
  PSQL_PASSWORD_VARIABLES,
  renderArtifacts,
  renderBootstrapSql,
  type RenderedSql,
} from "../src/render";

const production = repoTopology("production");

function sql(years = 7): RenderedSql {
  return renderBootstrapSql({
    databaseName: "healthcare",
    environmentName: "production",
    auditRetentionYears: years,
    compressAfterDays: 30,
  });
}

/** Statement text of a `CREATE TABLE` in a file. */
function createTable(text: string, table: string): string {
  const start = text.indexOf(`CREATE TABLE IF NOT EXISTS ${table} (`);
  assert.ok(start >= 0, `${table} is created`);
  return text.slice(start, text.indexOf(");\n", start));
}

/** A file's statements without its comment lines. */
function body(text: string): string {
  return text.replace(/^--.*$/gm, "");
}

const TIMESCALE_ONLY =
  /create_hypertable|by_range|add_(retention|compression|continuous_aggregate)_policy|timescaledb|time_bucket|alter_job/i;

describe("bootstrap SQL", () => {
  const out = sql();

  it("lists the files in apply order, plain PostgreSQL first, then TimescaleDB", () => {
    const names = out.manifest.map((f) => f.name);
    assert.deepEqual(names, Object.keys(out.files));
    assert.deepEqual(names, [...names].sort());
    const engines = out.manifest.map((f) => f.engine);
    const firstTs = engines.indexOf("timescaledb");
    assert.ok(firstTs > 0);
    assert.ok(engines.slice(firstTs).every((e) => e === "timescaledb"));
    assert.equal(out.manifest.find((f) => f.name === "000-database.sql")?.database, "maintenance");
  });

  it("keeps every TimescaleDB construct out of the plain PostgreSQL files", () => {
    for (const f of out.manifest) {
      const statements = body(out.files[f.name]);
      if (f.engine === "postgresql") {
        assert.doesNotMatch(statements, TIMESCALE_ONLY, f.name);
      } else {
        assert.match(statements, TIMESCALE_ONLY, f.name);
      }
    }
  });

  it("creates the extensions", () => {
    const all = Object.values(out.files).join("\n");
    for (const ext of ["timescaledb", "pgaudit", "pg_stat_statements", "pgcrypto"]) {
      assert.match(all, new RegExp(`CREATE EXTENSION IF NOT EXISTS ${ext};`), ext);
    }
    assert.doesNotMatch(body(all), /uuid-ossp|uuid_generate_v4|pg_crypto|pg_audit\b/);
  });

  it("creates the diary's schemas and roles", () => {
    const schemas = out.files["040-schemas.sql"];
    for (const s of ["healthcare_data", "audit_trail", "security_policies", "encryption_keys"]) {
      assert.match(schemas, new RegExp(`CREATE SCHEMA IF NOT EXISTS ${s}`), s);
    }
    const roles = out.files["020-roles.sql"];
    for (const r of ["healthcare_admin", "healthcare_app", "healthcare_reader", "data_protection_officer"]) {
      assert.match(roles, new RegExp(`'${r}'`), r);
    }
    assert.match(roles, /NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS/);
    assert.match(roles, /GRANT healthcare_reader TO healthcare_app;/);
    assert.match(roles, /REVOKE ALL ON DATABASE healthcare FROM PUBLIC;/);
  });

  it("gives the application append-only access to the audit trail", () => {
    const audit = out.files["060-audit-tables.sql"];
    assert.match(audit, /GRANT INSERT ON audit_trail\.data_processing_log, .* TO healthcare_app;/);
    assert.doesNotMatch(audit, /GRANT[^;]*(UPDATE|DELETE|TRUNCATE)[^;]*audit_trail/);
  });

  it("fixes the diary's audit tables: uuid key from gen_random_uuid, NOT NULL event_time, (id, event_time) key", () => {
    const audit = out.files["060-audit-tables.sql"];
    for (const { table } of AUDIT_HYPERTABLES) {
      const ddl = createTable(audit, `audit_trail.${table}`);
      assert.match(ddl, /event_time TIMESTAMPTZ NOT NULL DEFAULT now\(\)/, table);
      assert.doesNotMatch(ddl, /\btimestamp TIMESTAMPTZ/, table);
      assert.doesNotMatch(ddl, /id UUID PRIMARY KEY/, table);
      if (table !== "system_metrics") {
        assert.match(ddl, /id UUID NOT NULL DEFAULT gen_random_uuid\(\)/, table);
        assert.match(ddl, /PRIMARY KEY \(id, event_time\)/, table);
      }
    }
  });

  it("makes hypertables by_range with retention = auditYears and compression policies", () => {
    for (const years of [7, 10]) {
      const ts = sql(years).files["110-audit-hypertables.sql"];
      for (const { table, chunk } of AUDIT_HYPERTABLES) {
        assert.match(
          ts,
          new RegExp(
            `create_hypertable\\('audit_trail\\.${table}', by_range\\('event_time', INTERVAL '${chunk}'\\)`,
          ),
          table,
        );
        assert.match(
          ts,
          new RegExp(
            `hypertable_name = '${table}';\\n  IF existing IS NULL THEN\\n    PERFORM add_retention_policy\\('audit_trail\\.${table}', drop_after => INTERVAL '${years} years'\\)`,
          ),
          table,
        );
        assert.match(
          ts,
          new RegExp(
            `PERFORM add_compression_policy\\('audit_trail\\.${table}', compress_after => INTERVAL '30 days'\\)`,
          ),
          table,
        );
      }
      assert.doesNotMatch(ts, new RegExp(`'${years === 7 ? 10 : 7} years'`));
    }
  });

  it("takes the retention from the topology", () => {
    const t = { ...production, retention: { ...production.retention, auditYears: 12 } };
    const files = renderArtifacts(t, "sa-east-1").sql.files;
    assert.match(files["110-audit-hypertables.sql"], /INTERVAL '12 years'/);
    assert.match(files["120-continuous-aggregates.sql"], /'12 years'/);
  });

  it("declares continuous aggregates WITH (timescaledb.continuous) and gives each a refresh policy", () => {
    const ca = out.files["120-continuous-aggregates.sql"];
    for (const { view, startOffset, endOffset } of CONTINUOUS_AGGREGATES) {
      assert.match(
        ca,
        new RegExp(
          `CREATE MATERIALIZED VIEW IF NOT EXISTS audit_trail\\.${view}\\nWITH \\(timescaledb\\.continuous\\) AS`,
        ),
      );
      assert.match(
        ca,
        new RegExp(
          `add_continuous_aggregate_policy\\('audit_trail\\.${view}',\\n    start_offset => INTERVAL '${startOffset}',\\n    end_offset => INTERVAL '${endOffset}'`,
        ),
      );
    }
    assert.doesNotMatch(body(ca), /now\(\)|ORDER BY|count\(DISTINCT/i);
  });

  it("turns row-level security on for the diary's LGPD tables, failing closed", () => {
    const lgpd = out.files["050-lgpd-tables.sql"];
    for (const t of ["consent_management", "data_portability_requests", "data_rectification_requests"]) {
      assert.match(lgpd, new RegExp(`ALTER TABLE healthcare_data\\.${t} ENABLE ROW LEVEL SECURITY;`), t);
    }
    assert.match(lgpd, /current_setting\('app\.current_user_id', true\)/);
    assert.doesNotMatch(lgpd, /current_setting\('app\.current_user_id'\)/);
    assert.match(lgpd, /CREATE POLICY consent_access_policy/);
  });

  it("sets passwords only from psql variables, with statement logging off", () => {
    const pw = out.files["030-role-passwords.sql"];
    for (const [role, variable] of Object.entries(PSQL_PASSWORD_VARIABLES)) {
      assert.match(pw, new RegExp(`ALTER ROLE ${role} WITH PASSWORD :'${variable}';`));
    }
    const setAt = pw.indexOf("SET pgaudit.log = 'none'");
    assert.ok(setAt >= 0 && setAt < pw.indexOf("ALTER ROLE"));
    assert.ok(pw.indexOf("SET log_min_error_statement = 'panic'") < pw.indexOf("ALTER ROLE"));
    for (const [name, text] of Object.entries(out.files)) {
      if (name !== "030-role-passwords.sql") {
        assert.doesNotMatch(body(text), /\bPASSWORD\b/i, name);
      }
    }
  });

  it("restricts the PgBouncer lookup to pooled, non-superuser, non-replication logins", () => {
    const fn = out.files["080-pgbouncer-auth.sql"];
    assert.match(fn, /SECURITY DEFINER/);
    assert.match(fn, /SET search_path = pg_catalog, pg_temp/);
    assert.match(fn, /AND NOT a\.rolsuper\n\s+AND NOT a\.rolreplication/);
    assert.match(fn, /pg_has_role\(a\.oid, 'hcp_pooled', 'MEMBER'\)/);
    assert.match(fn, /REVOKE ALL ON FUNCTION pgbouncer\.get_auth\(TEXT\) FROM PUBLIC;/);
  });

  it("refuses a database name that is not a plain identifier and a retention below one year", () => {
    assert.throws(
      () =>
        renderBootstrapSql({
          databaseName: "x; DROP",
          environmentName: "p",
          auditRetentionYears: 7,
          compressAfterDays: 30,
        }),
      /plain lower-case SQL identifier/,
    );
    assert.throws(() => sql(0), /positive integer/);
  });
});
