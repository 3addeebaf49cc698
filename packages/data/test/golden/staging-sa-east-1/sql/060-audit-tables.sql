-- Audit tables of the diary, fixed: a uuid key from gen_random_uuid() (built in, no uuid-ossp), a
-- NOT NULL event_time (not the keyword 'timestamp') and PRIMARY KEY (id, event_time), because a
-- hypertable's unique indexes must include its time column. 110-audit-hypertables.sql turns them into
-- hypertables; on plain PostgreSQL they stay ordinary tables. They are append-only for every role
-- but their owner (the superuser): corrections are new rows.

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
    environment VARCHAR(20) NOT NULL DEFAULT 'staging'
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

REVOKE ALL ON audit_trail.data_processing_log, audit_trail.system_metrics, audit_trail.user_activity, audit_trail.data_subject_access_log FROM PUBLIC;
GRANT INSERT ON audit_trail.data_processing_log, audit_trail.system_metrics, audit_trail.user_activity, audit_trail.data_subject_access_log TO healthcare_app;
GRANT SELECT ON audit_trail.data_processing_log, audit_trail.system_metrics, audit_trail.user_activity, audit_trail.data_subject_access_log TO data_protection_officer;
