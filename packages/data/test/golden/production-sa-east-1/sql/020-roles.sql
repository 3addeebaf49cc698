-- Roles of the database diary plus the pooler and monitoring roles. Login roles get their passwords
-- from 030-role-passwords.sql. Re-running resets every attribute, so drift is undone.

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
    ('hcp_pooled', false),
    ('hcp_auditor', false),
    ('data_protection_officer', false),
    ('healthcare_reader', true),
    ('healthcare_app', true),
    ('healthcare_admin', true),
    ('pgbouncer_auth', true),
    ('hcp_monitoring', true)
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
GRANT healthcare_reader TO healthcare_app;
GRANT healthcare_app TO healthcare_admin;
-- Only members of hcp_pooled can log in through PgBouncer (see 080-pgbouncer-auth.sql).
GRANT hcp_pooled TO healthcare_reader, healthcare_app, healthcare_admin;
GRANT pg_monitor TO hcp_monitoring;

REVOKE ALL ON DATABASE healthcare FROM PUBLIC;
GRANT CONNECT ON DATABASE healthcare TO healthcare_reader, healthcare_app, healthcare_admin, data_protection_officer, pgbouncer_auth, hcp_monitoring;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
