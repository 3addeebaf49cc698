-- pgaudit beyond the cluster-wide session classes (pgaudit.log = 'ddl, write, role', set by Patroni):
-- - object audit: every SELECT on a table hcp_auditor may read is logged, whoever runs it (pgaudit.role);
-- - the reporting login's reads and the migration login's configuration changes are logged too.
-- Parameters are never logged (pgaudit.log_parameter = off): they carry patient data.

GRANT SELECT ON healthcare_data.consent_management, healthcare_data.data_portability_requests, healthcare_data.data_rectification_requests, audit_trail.data_subject_access_log, audit_trail.data_processing_log TO hcp_auditor;
ALTER ROLE healthcare_reader SET pgaudit.log = 'read, write, ddl, role';
ALTER ROLE healthcare_admin SET pgaudit.log = 'write, ddl, role, misc_set';
