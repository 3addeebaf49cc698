-- PgBouncer's auth_query: a SECURITY DEFINER lookup that returns the SCRAM verifier of a login role
-- that is a member of hcp_pooled, never of a superuser or replication role. Only pgbouncer_auth may call it.

CREATE SCHEMA IF NOT EXISTS pgbouncer;
ALTER SCHEMA pgbouncer OWNER TO postgres;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO pgbouncer_auth;

CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename TEXT)
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
      AND pg_catalog.pg_has_role(a.oid, 'hcp_pooled', 'MEMBER')
$fn$;
ALTER FUNCTION pgbouncer.get_auth(TEXT) OWNER TO postgres;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(TEXT) TO pgbouncer_auth;
