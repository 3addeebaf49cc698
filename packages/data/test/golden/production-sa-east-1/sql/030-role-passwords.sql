-- Passwords of the login roles, as psql variables the bootstrap Job passes with -v from its
-- Secret-backed environment. Statement logging, error statements and pgaudit are off for this session
-- so no password reaches the server log; PostgreSQL stores only SCRAM verifiers.

SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET pgaudit.log = 'none';
SET password_encryption = 'scram-sha-256';
ALTER ROLE healthcare_admin WITH PASSWORD :'healthcare_admin_password';
ALTER ROLE healthcare_app WITH PASSWORD :'healthcare_app_password';
ALTER ROLE healthcare_reader WITH PASSWORD :'healthcare_reader_password';
ALTER ROLE pgbouncer_auth WITH PASSWORD :'pgbouncer_auth_password';
ALTER ROLE hcp_monitoring WITH PASSWORD :'hcp_monitoring_password';
