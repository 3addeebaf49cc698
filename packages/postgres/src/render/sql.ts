import { PGBOUNCER_AUTH_FUNCTION } from "./pgbouncer";
import { PSQL_PASSWORD_VARIABLES } from "./placeholders";

/** Engine a bootstrap SQL file is for. */
export type SqlEngine =
  /** Plain PostgreSQL (runs on any PostgreSQL 15+ with pgaudit). */
  | "postgresql"
  /** Needs the TimescaleDB community (TSL) build. */
  | "timescaledb";

/** What a file needs beyond its engine. */
export type SqlRequirement =
  /** Run by psql (meta-commands such as \gexec, or :'variables'). */
  | "psql"
  /** pgaudit loaded through shared_preload_libraries. */
  | "pgaudit";

/** One bootstrap SQL file. */
export interface SqlFileInfo {
  readonly name: string;
  readonly engine: SqlEngine;
  /** `maintenance` = the `postgres` database; `application` = the application database. */
  readonly database: "maintenance" | "application";
  readonly needs: readonly SqlRequirement[];
  readonly description: string;
}

/** Input of {@link renderBootstrapSql}. */
export interface BootstrapSqlInput {
  /** Application database (validated `^[a-z_][a-z0-9_]{0,62}$` by the config schema). */
  readonly databaseName: string;
  /** Environment name (default of `audit_trail.system_metrics.environment`). */
  readonly environmentName: string;
  /** Retention of the audit hypertables and their aggregates, years. */
  readonly auditRetentionYears: number;
  /** Age after which audit chunks are compressed, days. */
  readonly compressAfterDays: number;
}

/** Rendered bootstrap SQL: file name -> text, in apply order, plus what each file is. */
export interface RenderedSql {
  /** Apply in key order (the names sort in apply order too). */
  readonly files: Readonly<Record<string, string>>;
  readonly manifest: readonly SqlFileInfo[];
}

/** Application and support roles (from the database diary) and what they are for. */
export const ROLES = {
  /** Owns the application schemas; the schema-migration login. */
  admin: "healthcare_admin",
  /** The application's runtime login: DML on healthcare_data, append-only on audit_trail. */
  app: "healthcare_app",
  /** Read-only reporting login (its reads are audited). */
  reader: "healthcare_reader",
  /** Group of the Data Protection Officer's staff: LGPD tables and audit trail, read-mostly. */
  dpo: "data_protection_officer",
  /** Group whose members may log in through PgBouncer (auth_query returns only them). */
  pooled: "hcp_pooled",
  /** pgaudit object-audit role: any read of a table it may SELECT is logged. */
  auditor: "hcp_auditor",
  pgbouncerAuth: "pgbouncer_auth",
  monitoring: "hcp_monitoring",
} as const;

/** The audit hypertables: name, chunk interval and compression segment column. */
export const AUDIT_HYPERTABLES = [
  { table: "data_processing_log", chunk: "7 days", segmentBy: "table_name" },
  { table: "system_metrics", chunk: "1 day", segmentBy: "metric_name" },
  { table: "user_activity", chunk: "7 days", segmentBy: "action" },
  { table: "data_subject_access_log", chunk: "30 days", segmentBy: "access_type" },
] as const;

/** Continuous aggregates: name, refresh window and schedule. */
export const CONTINUOUS_AGGREGATES = [
  { view: "daily_user_activity", startOffset: "30 days", endOffset: "1 hour", schedule: "1 hour" },
  { view: "hourly_activity_summary", startOffset: "7 days", endOffset: "1 hour", schedule: "1 hour" },
] as const;

const LGPD_TABLES = [
  "consent_management",
  "data_portability_requests",
  "data_rectification_requests",
] as const;

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`'${name}' is not a plain lower-case SQL identifier.`);
  }
  return name;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Header of each file. */
function head(lines: readonly string[]): string {
  return `${lines.map((l) => `-- ${l}`.trimEnd()).join("\n")}\n`;
}

function databaseSql(input: BootstrapSqlInput): string {
  const db = ident(input.databaseName);
  return `${head([
    "Creates the application database if it does not exist (run in the maintenance database `postgres`).",
  ])}
SELECT format('CREATE DATABASE %I WITH ENCODING %L TEMPLATE template0', ${literal(db)}, 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${literal(db)})
\\gexec
`;
}

function extensionsSql(): string {
  return `${head([
    "Extensions of the application database, except TimescaleDB (100-timescaledb.sql).",
    "pgaudit and pg_stat_statements must be in shared_preload_libraries (Patroni sets it).",
  ])}
CREATE EXTENSION IF NOT EXISTS pgaudit;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
`;
}

function rolesSql(input: BootstrapSqlInput): string {
  const db = ident(input.databaseName);
  const roles: ReadonlyArray<readonly [string, boolean]> = [
    [ROLES.pooled, false],
    [ROLES.auditor, false],
    [ROLES.dpo, false],
    [ROLES.reader, true],
    [ROLES.app, true],
    [ROLES.admin, true],
    [ROLES.pgbouncerAuth, true],
    [ROLES.monitoring, true],
  ];
  const values = roles.map(([name, login]) => `(${literal(name)}, ${login})`).join(",\n    ");
  return `${head([
    "Roles of the database diary plus the pooler and monitoring roles. Login roles get their passwords",
    "from 030-role-passwords.sql. Re-running resets every attribute, so drift is undone.",
  ])}
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
    ${values}
  ) AS t(name, login) LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) THEN
      EXECUTE format('CREATE ROLE %I', r.name);
    END IF;
    EXECUTE format(
      'ALTER ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT',
      r.name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
  END LOOP;
END
$$;

-- Hierarchy of the diary: the application can do what the reader can, the admin what the application can.
GRANT ${ROLES.reader} TO ${ROLES.app};
GRANT ${ROLES.app} TO ${ROLES.admin};
-- Only members of ${ROLES.pooled} can log in through PgBouncer (see 080-pgbouncer-auth.sql).
GRANT ${ROLES.pooled} TO ${ROLES.reader}, ${ROLES.app}, ${ROLES.admin};
GRANT pg_monitor TO ${ROLES.monitoring};

REVOKE ALL ON DATABASE ${db} FROM PUBLIC;
GRANT CONNECT ON DATABASE ${db} TO ${ROLES.reader}, ${ROLES.app}, ${ROLES.admin}, ${ROLES.dpo}, ${ROLES.pgbouncerAuth}, ${ROLES.monitoring};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
`;
}

function rolePasswordsSql(): string {
  const lines = Object.entries(PSQL_PASSWORD_VARIABLES).map(
    ([role, variable]) => `ALTER ROLE ${role} WITH PASSWORD :'${variable}';`,
  );
  return `${head([
    "Passwords of the login roles, as psql variables the bootstrap Job passes with -v from its",
    "Secret-backed environment. Statement logging, error statements and pgaudit are off for this session",
    "so no password reaches the server log; PostgreSQL stores only SCRAM verifiers.",
  ])}
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET pgaudit.log = 'none';
SET password_encryption = 'scram-sha-256';
${lines.join("\n")}
`;
}

function schemasSql(): string {
  const { admin, app, reader, dpo } = ROLES;
  return `${head([
    "Schemas of the diary. Application schemas belong to the migration role; audit_trail belongs to the",
    "superuser so that no application role can alter or delete audit rows.",
  ])}
CREATE SCHEMA IF NOT EXISTS healthcare_data AUTHORIZATION ${admin};
CREATE SCHEMA IF NOT EXISTS security_policies AUTHORIZATION ${admin};
CREATE SCHEMA IF NOT EXISTS encryption_keys AUTHORIZATION ${admin};
CREATE SCHEMA IF NOT EXISTS audit_trail;
ALTER SCHEMA healthcare_data OWNER TO ${admin};
ALTER SCHEMA security_policies OWNER TO ${admin};
ALTER SCHEMA encryption_keys OWNER TO ${admin};
ALTER SCHEMA audit_trail OWNER TO postgres;
REVOKE ALL ON SCHEMA healthcare_data, security_policies, encryption_keys, audit_trail FROM PUBLIC;

GRANT USAGE ON SCHEMA healthcare_data TO ${reader}, ${dpo};
GRANT USAGE ON SCHEMA security_policies TO ${app};
GRANT USAGE ON SCHEMA audit_trail TO ${app}, ${dpo};
-- encryption_keys: the migration role only.

-- Tables the migration role creates are readable by the reader (and through membership by the
-- application) and writable by the application; nothing is granted to PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA healthcare_data GRANT SELECT ON TABLES TO ${reader};
ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA healthcare_data GRANT INSERT, UPDATE, DELETE ON TABLES TO ${app};
ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA healthcare_data GRANT USAGE, SELECT ON SEQUENCES TO ${app};
ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA security_policies GRANT SELECT ON TABLES TO ${app};
`;
}

function lgpdSql(): string {
  const { admin, app, dpo } = ROLES;
  const subjectOrRequester = (requesterColumn: string) =>
    `data_subject_id = healthcare_data.current_app_user_id()
        OR ${requesterColumn} = healthcare_data.current_app_user_id()
        OR healthcare_data.current_app_role() IN ('admin', 'dpo')`;
  return `${head([
    "LGPD data-subject rights tables (Art. 18) with row-level security, created as the migration role so",
    "they follow its default privileges. The application identifies the end user per transaction with",
    "SET LOCAL app.current_user_id / app.user_role; when they are unset the policies match nothing",
    "(fail closed). Roles without a policy (the reader) see no rows.",
  ])}
SET ROLE ${admin};

CREATE TABLE IF NOT EXISTS healthcare_data.patient_practitioner_relationships (
    patient_id UUID NOT NULL,
    practitioner_id UUID NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at TIMESTAMPTZ,
    PRIMARY KEY (patient_id, practitioner_id)
);

CREATE TABLE IF NOT EXISTS healthcare_data.consent_management (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    data_subject_id UUID NOT NULL,
    data_subject_type VARCHAR(20) NOT NULL,
    consent_version VARCHAR(10) NOT NULL,
    consent_given_at TIMESTAMPTZ NOT NULL,
    consent_withdrawn_at TIMESTAMPTZ,
    medical_treatment_consent BOOLEAN NOT NULL DEFAULT FALSE,
    data_portability_consent BOOLEAN NOT NULL DEFAULT FALSE,
    marketing_consent BOOLEAN NOT NULL DEFAULT FALSE,
    research_consent BOOLEAN NOT NULL DEFAULT FALSE,
    third_party_sharing_consent BOOLEAN NOT NULL DEFAULT FALSE,
    legal_basis TEXT NOT NULL,
    processing_purposes TEXT[] NOT NULL,
    retention_period INTERVAL,
    automatic_deletion_date TIMESTAMPTZ,
    deletion_requested_at TIMESTAMPTZ,
    deletion_completed_at TIMESTAMPTZ,
    ip_address INET,
    user_agent TEXT,
    recorded_by UUID,
    CONSTRAINT valid_data_subject_type CHECK (data_subject_type IN ('patient', 'practitioner')),
    CONSTRAINT consent_logic CHECK (consent_withdrawn_at IS NULL OR consent_withdrawn_at > consent_given_at)
);

CREATE TABLE IF NOT EXISTS healthcare_data.data_portability_requests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    data_subject_id UUID NOT NULL,
    request_type VARCHAR(20) NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    requested_by UUID NOT NULL,
    data_categories TEXT[],
    export_format VARCHAR(10) NOT NULL DEFAULT 'json',
    include_metadata BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    processed_by UUID,
    completed_at TIMESTAMPTZ,
    export_file_path TEXT,
    export_file_hash VARCHAR(64),
    expiration_date TIMESTAMPTZ,
    download_count INTEGER NOT NULL DEFAULT 0,
    last_downloaded_at TIMESTAMPTZ,
    compliance_notes TEXT,
    legal_review_required BOOLEAN NOT NULL DEFAULT FALSE,
    legal_review_completed_by UUID,
    legal_review_completed_at TIMESTAMPTZ,
    CONSTRAINT valid_request_type CHECK (request_type IN ('export', 'transfer')),
    CONSTRAINT valid_status CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'expired')),
    CONSTRAINT valid_export_format CHECK (export_format IN ('json', 'fhir', 'pdf', 'xml'))
);

CREATE TABLE IF NOT EXISTS healthcare_data.data_rectification_requests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    data_subject_id UUID NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    requested_by UUID NOT NULL,
    table_name VARCHAR(100) NOT NULL,
    field_name VARCHAR(100) NOT NULL,
    current_value TEXT,
    requested_value TEXT,
    justification TEXT NOT NULL,
    supporting_documents JSONB,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    reviewed_by UUID,
    reviewed_at TIMESTAMPTZ,
    approved BOOLEAN,
    rejection_reason TEXT,
    implemented_by UUID,
    implemented_at TIMESTAMPTZ,
    old_value_backup TEXT,
    compliance_notes TEXT,
    notification_sent BOOLEAN NOT NULL DEFAULT FALSE,
    notification_sent_at TIMESTAMPTZ,
    CONSTRAINT valid_rectification_status CHECK (
        status IN ('pending', 'under_review', 'approved', 'rejected', 'implemented'))
);

CREATE INDEX IF NOT EXISTS idx_consent_management_subject
    ON healthcare_data.consent_management (data_subject_id, data_subject_type);
CREATE INDEX IF NOT EXISTS idx_consent_management_active
    ON healthcare_data.consent_management (data_subject_id) WHERE consent_withdrawn_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_portability_requests_status
    ON healthcare_data.data_portability_requests (status, requested_at DESC);
CREATE INDEX IF NOT EXISTS idx_rectification_requests_status
    ON healthcare_data.data_rectification_requests (status, requested_at DESC);
CREATE INDEX IF NOT EXISTS idx_relationships_practitioner
    ON healthcare_data.patient_practitioner_relationships (practitioner_id) WHERE ended_at IS NULL;

-- The end user of the current transaction; NULL (no rows) when the application did not set it.
CREATE OR REPLACE FUNCTION healthcare_data.current_app_user_id() RETURNS UUID
    LANGUAGE sql STABLE
    AS $fn$ SELECT NULLIF(current_setting('app.current_user_id', true), '')::uuid $fn$;
CREATE OR REPLACE FUNCTION healthcare_data.current_app_role() RETURNS TEXT
    LANGUAGE sql STABLE
    AS $fn$ SELECT NULLIF(current_setting('app.user_role', true), '') $fn$;
GRANT EXECUTE ON FUNCTION healthcare_data.current_app_user_id(), healthcare_data.current_app_role() TO ${app};

RESET ROLE;

ALTER TABLE healthcare_data.consent_management ENABLE ROW LEVEL SECURITY;
ALTER TABLE healthcare_data.data_portability_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE healthcare_data.data_rectification_requests ENABLE ROW LEVEL SECURITY;

-- Consent: the subject, an admin, or a practitioner currently treating the subject.
DROP POLICY IF EXISTS consent_access_policy ON healthcare_data.consent_management;
CREATE POLICY consent_access_policy ON healthcare_data.consent_management
    FOR ALL TO ${app}
    USING (
        data_subject_id = healthcare_data.current_app_user_id()
        OR healthcare_data.current_app_role() = 'admin'
        OR (healthcare_data.current_app_role() = 'practitioner' AND data_subject_id IN (
            SELECT r.patient_id FROM healthcare_data.patient_practitioner_relationships r
            WHERE r.practitioner_id = healthcare_data.current_app_user_id() AND r.ended_at IS NULL))
    );

-- Requests: the subject, whoever filed the request, an admin or the DPO function of the application.
DROP POLICY IF EXISTS portability_access_policy ON healthcare_data.data_portability_requests;
CREATE POLICY portability_access_policy ON healthcare_data.data_portability_requests
    FOR ALL TO ${app}
    USING (${subjectOrRequester("requested_by")});
DROP POLICY IF EXISTS rectification_access_policy ON healthcare_data.data_rectification_requests;
CREATE POLICY rectification_access_policy ON healthcare_data.data_rectification_requests
    FOR ALL TO ${app}
    USING (${subjectOrRequester("requested_by")});

-- The Data Protection Officer's staff read every row and move requests through their workflow.
GRANT SELECT ON ${LGPD_TABLES.map((t) => `healthcare_data.${t}`).join(", ")} TO ${dpo};
GRANT UPDATE (status, compliance_notes, processed_by, completed_at, legal_review_completed_by, legal_review_completed_at)
    ON healthcare_data.data_portability_requests TO ${dpo};
GRANT UPDATE (status, compliance_notes, reviewed_by, reviewed_at, approved, rejection_reason)
    ON healthcare_data.data_rectification_requests TO ${dpo};
${LGPD_TABLES.map(
  (t) => `DROP POLICY IF EXISTS dpo_read_policy ON healthcare_data.${t};
CREATE POLICY dpo_read_policy ON healthcare_data.${t} FOR SELECT TO ${dpo} USING (true);`,
).join("\n")}
${["data_portability_requests", "data_rectification_requests"]
  .map(
    (t) => `DROP POLICY IF EXISTS dpo_process_policy ON healthcare_data.${t};
CREATE POLICY dpo_process_policy ON healthcare_data.${t} FOR UPDATE TO ${dpo} USING (true) WITH CHECK (true);`,
  )
  .join("\n")}
`;
}

function auditTablesSql(input: BootstrapSqlInput): string {
  const { app, dpo } = ROLES;
  const tables = AUDIT_HYPERTABLES.map((t) => `audit_trail.${t.table}`).join(", ");
  return `${head([
    "Audit tables of the diary, fixed: a uuid key from gen_random_uuid() (built in, no uuid-ossp), a",
    "NOT NULL event_time (not the keyword 'timestamp') and PRIMARY KEY (id, event_time), because a",
    "hypertable's unique indexes must include its time column. 110-audit-hypertables.sql turns them into",
    "hypertables; on plain PostgreSQL they stay ordinary tables. They are append-only for every role",
    "but their owner (the superuser): corrections are new rows.",
  ])}
CREATE TABLE IF NOT EXISTS audit_trail.data_processing_log (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    event_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    operation_type VARCHAR(50) NOT NULL,
    table_name VARCHAR(100) NOT NULL,
    affected_columns TEXT[],
    user_id UUID,
    session_id UUID,
    ip_address INET,
    legal_basis VARCHAR(100),
    purpose TEXT,
    data_subject_id UUID,
    retention_period INTERVAL,
    encrypted_payload BYTEA,
    PRIMARY KEY (id, event_time),
    CONSTRAINT valid_operation_type CHECK (operation_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
);

CREATE TABLE IF NOT EXISTS audit_trail.system_metrics (
    event_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    metric_name VARCHAR(100) NOT NULL,
    metric_value DOUBLE PRECISION,
    tags JSONB,
    source_system VARCHAR(50),
    environment VARCHAR(20) NOT NULL DEFAULT ${literal(input.environmentName)}
);

CREATE TABLE IF NOT EXISTS audit_trail.user_activity (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    event_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id UUID NOT NULL,
    action VARCHAR(100) NOT NULL,
    resource_type VARCHAR(50),
    resource_id UUID,
    ip_address INET,
    user_agent TEXT,
    session_id UUID,
    success BOOLEAN NOT NULL DEFAULT TRUE,
    details JSONB,
    PRIMARY KEY (id, event_time)
);

CREATE TABLE IF NOT EXISTS audit_trail.data_subject_access_log (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    event_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    data_subject_id UUID NOT NULL,
    access_type VARCHAR(50) NOT NULL,
    requested_by UUID,
    processed_by UUID,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    response_data JSONB,
    legal_notes TEXT,
    compliance_officer_review BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id, event_time),
    CONSTRAINT valid_access_type CHECK (
        access_type IN ('access', 'portability', 'rectification', 'deletion', 'consent_withdrawal')),
    CONSTRAINT valid_access_status CHECK (status IN ('pending', 'completed', 'rejected'))
);

CREATE INDEX IF NOT EXISTS idx_data_processing_log_user ON audit_trail.data_processing_log (user_id, event_time DESC);
CREATE INDEX IF NOT EXISTS idx_data_processing_log_table ON audit_trail.data_processing_log (table_name, event_time DESC);
CREATE INDEX IF NOT EXISTS idx_data_processing_log_subject ON audit_trail.data_processing_log (data_subject_id, event_time DESC);
CREATE INDEX IF NOT EXISTS idx_system_metrics_name ON audit_trail.system_metrics (metric_name, event_time DESC);
CREATE INDEX IF NOT EXISTS idx_user_activity_user ON audit_trail.user_activity (user_id, event_time DESC);
CREATE INDEX IF NOT EXISTS idx_data_subject_access_log_subject ON audit_trail.data_subject_access_log (data_subject_id, event_time DESC);

REVOKE ALL ON ${tables} FROM PUBLIC;
GRANT INSERT ON ${tables} TO ${app};
GRANT SELECT ON ${tables} TO ${dpo};
`;
}

function pgauditSql(): string {
  const { reader, admin, auditor } = ROLES;
  const objects = [
    ...LGPD_TABLES.map((t) => `healthcare_data.${t}`),
    "audit_trail.data_subject_access_log",
    "audit_trail.data_processing_log",
  ];
  return `${head([
    "pgaudit beyond the cluster-wide session classes (pgaudit.log = 'ddl, write, role', set by Patroni):",
    `- object audit: every SELECT on a table ${auditor} may read is logged, whoever runs it (pgaudit.role);`,
    "- the reporting login's reads and the migration login's configuration changes are logged too.",
    "Parameters are never logged (pgaudit.log_parameter = off): they carry patient data.",
  ])}
GRANT SELECT ON ${objects.join(", ")} TO ${auditor};
ALTER ROLE ${reader} SET pgaudit.log = 'read, write, ddl, role';
ALTER ROLE ${admin} SET pgaudit.log = 'write, ddl, role, misc_set';
`;
}

function pgbouncerAuthSql(): string {
  const { pgbouncerAuth, pooled } = ROLES;
  return `${head([
    "PgBouncer's auth_query: a SECURITY DEFINER lookup that returns the SCRAM verifier of a login role",
    `that is a member of ${pooled}, never of a superuser or replication role. Only ${pgbouncerAuth} may call it.`,
  ])}
CREATE SCHEMA IF NOT EXISTS pgbouncer;
ALTER SCHEMA pgbouncer OWNER TO postgres;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO ${pgbouncerAuth};

CREATE OR REPLACE FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(p_usename TEXT)
RETURNS TABLE (usename NAME, passwd TEXT)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT a.rolname, a.rolpassword
    FROM pg_catalog.pg_authid a
    WHERE a.rolname = p_usename
      AND a.rolcanlogin
      AND NOT a.rolsuper
      AND NOT a.rolreplication
      AND (a.rolvaliduntil IS NULL OR a.rolvaliduntil > now())
      AND pg_catalog.pg_has_role(a.oid, ${literal(pooled)}, 'MEMBER')
$fn$;
ALTER FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(TEXT) OWNER TO postgres;
REVOKE ALL ON FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(TEXT) TO ${pgbouncerAuth};
`;
}

function timescaledbSql(): string {
  return `${head([
    "TimescaleDB community (TSL) build: retention, compression and continuous aggregates need it.",
  ])}
CREATE EXTENSION IF NOT EXISTS timescaledb;
`;
}

/** A DO block that creates a policy job or updates the setting of the existing one. */
function ensurePolicy(
  proc: "policy_retention" | "policy_compression",
  relation: { schema: string; name: string },
  key: "drop_after" | "compress_after",
  interval: string,
): string {
  const add = proc === "policy_retention" ? "add_retention_policy" : "add_compression_policy";
  const target = `${relation.schema}.${relation.name}`;
  return `DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = ${literal(proc)} AND hypertable_schema = ${literal(relation.schema)}
     AND hypertable_name = ${literal(relation.name)};
  IF existing IS NULL THEN
    PERFORM ${add}(${literal(target)}, ${key} => INTERVAL ${literal(interval)});
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object(${literal(key)}, ${literal(interval)}));
  END IF;
END
$$;`;
}

function hypertablesSql(input: BootstrapSqlInput): string {
  const years = `${input.auditRetentionYears} years`;
  const compress = `${input.compressAfterDays} days`;
  const blocks = AUDIT_HYPERTABLES.map((t) => {
    const rel = `audit_trail.${t.table}`;
    return `-- ${rel}: ${t.chunk} chunks, compressed after ${compress}, dropped after ${years}.
SELECT create_hypertable(${literal(rel)}, by_range('event_time', INTERVAL ${literal(t.chunk)}),
                         if_not_exists => TRUE, migrate_data => TRUE);
DO $$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
           WHERE hypertable_schema = 'audit_trail' AND hypertable_name = ${literal(t.table)}) THEN
    ALTER TABLE ${rel} SET (timescaledb.compress,
                            timescaledb.compress_segmentby = ${literal(t.segmentBy)},
                            timescaledb.compress_orderby = 'event_time DESC');
  END IF;
END
$$;
${ensurePolicy("policy_compression", { schema: "audit_trail", name: t.table }, "compress_after", compress)}
${ensurePolicy("policy_retention", { schema: "audit_trail", name: t.table }, "drop_after", years)}`;
  });
  return `${head([
    `Audit hypertables (by_range on event_time), compression after ${compress} and retention of`,
    `${years} (retention.auditYears). Re-running updates the policies in place.`,
  ])}
${blocks.join("\n\n")}
`;
}

function continuousAggregatesSql(input: BootstrapSqlInput): string {
  const years = `${input.auditRetentionYears} years`;
  const { dpo } = ROLES;
  const [daily, hourly] = CONTINUOUS_AGGREGATES;
  const policy = (a: (typeof CONTINUOUS_AGGREGATES)[number]) =>
    `SELECT add_continuous_aggregate_policy('audit_trail.${a.view}',
    start_offset => INTERVAL ${literal(a.startOffset)},
    end_offset => INTERVAL ${literal(a.endOffset)},
    schedule_interval => INTERVAL ${literal(a.schedule)},
    if_not_exists => TRUE);`;
  return `${head([
    "Continuous aggregates, declared WITH (timescaledb.continuous) so the refresh policies apply. They",
    "hold per-user activity (personal data), so they get the audit retention too. A continuous aggregate",
    "cannot filter on now(), ORDER BY or count(DISTINCT ...): the diary's versions are fixed accordingly.",
  ])}
CREATE MATERIALIZED VIEW IF NOT EXISTS audit_trail.${daily.view}
WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 day', event_time) AS day,
       user_id,
       action,
       count(*) AS activity_count,
       count(CASE WHEN NOT success THEN 1 END) AS failed_attempts
FROM audit_trail.user_activity
GROUP BY day, user_id, action
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_trail.${hourly.view}
WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', event_time) AS hour,
       user_id,
       table_name,
       operation_type,
       count(*) AS operations
FROM audit_trail.data_processing_log
GROUP BY hour, user_id, table_name, operation_type
WITH NO DATA;

${policy(daily)}
${policy(hourly)}

${ensurePolicy("policy_retention", { schema: "audit_trail", name: daily.view }, "drop_after", years)}
${ensurePolicy("policy_retention", { schema: "audit_trail", name: hourly.view }, "drop_after", years)}

GRANT SELECT ON audit_trail.${daily.view}, audit_trail.${hourly.view} TO ${dpo};
`;
}

/**
 * Renders the bootstrap SQL. Files are idempotent (re-running converges), split by engine:
 * `0xx` files are plain PostgreSQL (roles, grants, schemas, RLS, pgaudit), `1xx` files need
 * TimescaleDB (extension, hypertables, policies, continuous aggregates) and run after them.
 */
export function renderBootstrapSql(input: BootstrapSqlInput): RenderedSql {
  if (!Number.isInteger(input.auditRetentionYears) || input.auditRetentionYears < 1) {
    throw new Error(`auditRetentionYears must be a positive integer, got ${input.auditRetentionYears}.`);
  }
  const entries: ReadonlyArray<readonly [SqlFileInfo, string]> = [
    [
      {
        name: "000-database.sql",
        engine: "postgresql",
        database: "maintenance",
        needs: ["psql"],
        description: "application database",
      },
      databaseSql(input),
    ],
    [
      {
        name: "010-extensions.sql",
        engine: "postgresql",
        database: "application",
        needs: ["pgaudit"],
        description: "pgaudit, pg_stat_statements, pgcrypto",
      },
      extensionsSql(),
    ],
    [
      {
        name: "020-roles.sql",
        engine: "postgresql",
        database: "application",
        needs: [],
        description: "roles, hierarchy, database privileges",
      },
      rolesSql(input),
    ],
    [
      {
        name: "030-role-passwords.sql",
        engine: "postgresql",
        database: "application",
        needs: ["psql", "pgaudit"],
        description: "login role passwords from psql variables",
      },
      rolePasswordsSql(),
    ],
    [
      {
        name: "040-schemas.sql",
        engine: "postgresql",
        database: "application",
        needs: [],
        description: "schemas, schema grants, default privileges",
      },
      schemasSql(),
    ],
    [
      {
        name: "050-lgpd-tables.sql",
        engine: "postgresql",
        database: "application",
        needs: [],
        description: "LGPD data-subject tables with row-level security",
      },
      lgpdSql(),
    ],
    [
      {
        name: "060-audit-tables.sql",
        engine: "postgresql",
        database: "application",
        needs: [],
        description: "audit tables (append-only)",
      },
      auditTablesSql(input),
    ],
    [
      {
        name: "070-pgaudit.sql",
        engine: "postgresql",
        database: "application",
        needs: ["pgaudit"],
        description: "pgaudit object audit and per-role classes",
      },
      pgauditSql(),
    ],
    [
      {
        name: "080-pgbouncer-auth.sql",
        engine: "postgresql",
        database: "application",
        needs: [],
        description: "PgBouncer auth_query lookup function",
      },
      pgbouncerAuthSql(),
    ],
    [
      {
        name: "100-timescaledb.sql",
        engine: "timescaledb",
        database: "application",
        needs: [],
        description: "TimescaleDB extension",
      },
      timescaledbSql(),
    ],
    [
      {
        name: "110-audit-hypertables.sql",
        engine: "timescaledb",
        database: "application",
        needs: [],
        description: "audit hypertables, compression and retention policies",
      },
      hypertablesSql(input),
    ],
    [
      {
        name: "120-continuous-aggregates.sql",
        engine: "timescaledb",
        database: "application",
        needs: [],
        description: "continuous aggregates and refresh/retention policies",
      },
      continuousAggregatesSql(input),
    ],
  ];
  return {
    files: Object.fromEntries(entries.map(([info, text]) => [info.name, text])),
    manifest: entries.map(([info]) => info),
  };
}
