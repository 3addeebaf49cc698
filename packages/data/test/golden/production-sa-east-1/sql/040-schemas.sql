-- Schemas of the diary. Application schemas belong to the migration role; audit_trail belongs to the
-- superuser so that no application role can alter or delete audit rows.

CREATE SCHEMA IF NOT EXISTS healthcare_data AUTHORIZATION healthcare_admin;
CREATE SCHEMA IF NOT EXISTS security_policies AUTHORIZATION healthcare_admin;
CREATE SCHEMA IF NOT EXISTS encryption_keys AUTHORIZATION healthcare_admin;
CREATE SCHEMA IF NOT EXISTS audit_trail;
ALTER SCHEMA healthcare_data OWNER TO healthcare_admin;
ALTER SCHEMA security_policies OWNER TO healthcare_admin;
ALTER SCHEMA encryption_keys OWNER TO healthcare_admin;
ALTER SCHEMA audit_trail OWNER TO postgres;
REVOKE ALL ON SCHEMA healthcare_data, security_policies, encryption_keys, audit_trail FROM PUBLIC;

GRANT USAGE ON SCHEMA healthcare_data TO healthcare_reader, data_protection_officer;
GRANT USAGE ON SCHEMA security_policies TO healthcare_app;
GRANT USAGE ON SCHEMA audit_trail TO healthcare_app, data_protection_officer;
-- encryption_keys: the migration role only.

-- Tables the migration role creates are readable by the reader (and through membership by the
-- application) and writable by the application; nothing is granted to PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE healthcare_admin IN SCHEMA healthcare_data GRANT SELECT ON TABLES TO healthcare_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE healthcare_admin IN SCHEMA healthcare_data GRANT INSERT, UPDATE, DELETE ON TABLES TO healthcare_app;
ALTER DEFAULT PRIVILEGES FOR ROLE healthcare_admin IN SCHEMA healthcare_data GRANT USAGE, SELECT ON SEQUENCES TO healthcare_app;
ALTER DEFAULT PRIVILEGES FOR ROLE healthcare_admin IN SCHEMA security_policies GRANT SELECT ON TABLES TO healthcare_app;
