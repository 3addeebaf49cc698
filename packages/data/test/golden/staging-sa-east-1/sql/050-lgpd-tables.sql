-- LGPD data-subject rights tables (Art. 18) with row-level security, created as the migration role so
-- they follow its default privileges. The application identifies the end user per transaction with
-- SET LOCAL app.current_user_id / app.user_role; when they are unset the policies match nothing
-- (fail closed). Roles without a policy (the reader) see no rows.

SET ROLE healthcare_admin;

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
GRANT EXECUTE ON FUNCTION healthcare_data.current_app_user_id(), healthcare_data.current_app_role() TO healthcare_app;

RESET ROLE;

ALTER TABLE healthcare_data.consent_management ENABLE ROW LEVEL SECURITY;
ALTER TABLE healthcare_data.data_portability_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE healthcare_data.data_rectification_requests ENABLE ROW LEVEL SECURITY;

-- Consent: the subject, an admin, or a practitioner currently treating the subject.
DROP POLICY IF EXISTS consent_access_policy ON healthcare_data.consent_management;
CREATE POLICY consent_access_policy ON healthcare_data.consent_management
    FOR ALL TO healthcare_app
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
    FOR ALL TO healthcare_app
    USING (data_subject_id = healthcare_data.current_app_user_id()
        OR requested_by = healthcare_data.current_app_user_id()
        OR healthcare_data.current_app_role() IN ('admin', 'dpo'));
DROP POLICY IF EXISTS rectification_access_policy ON healthcare_data.data_rectification_requests;
CREATE POLICY rectification_access_policy ON healthcare_data.data_rectification_requests
    FOR ALL TO healthcare_app
    USING (data_subject_id = healthcare_data.current_app_user_id()
        OR requested_by = healthcare_data.current_app_user_id()
        OR healthcare_data.current_app_role() IN ('admin', 'dpo'));

-- The Data Protection Officer's staff read every row and move requests through their workflow.
GRANT SELECT ON healthcare_data.consent_management, healthcare_data.data_portability_requests, healthcare_data.data_rectification_requests TO data_protection_officer;
GRANT UPDATE (status, compliance_notes, processed_by, completed_at, legal_review_completed_by, legal_review_completed_at)
    ON healthcare_data.data_portability_requests TO data_protection_officer;
GRANT UPDATE (status, compliance_notes, reviewed_by, reviewed_at, approved, rejection_reason)
    ON healthcare_data.data_rectification_requests TO data_protection_officer;
DROP POLICY IF EXISTS dpo_read_policy ON healthcare_data.consent_management;
CREATE POLICY dpo_read_policy ON healthcare_data.consent_management FOR SELECT TO data_protection_officer USING (true);
DROP POLICY IF EXISTS dpo_read_policy ON healthcare_data.data_portability_requests;
CREATE POLICY dpo_read_policy ON healthcare_data.data_portability_requests FOR SELECT TO data_protection_officer USING (true);
DROP POLICY IF EXISTS dpo_read_policy ON healthcare_data.data_rectification_requests;
CREATE POLICY dpo_read_policy ON healthcare_data.data_rectification_requests FOR SELECT TO data_protection_officer USING (true);
DROP POLICY IF EXISTS dpo_process_policy ON healthcare_data.data_portability_requests;
CREATE POLICY dpo_process_policy ON healthcare_data.data_portability_requests FOR UPDATE TO data_protection_officer USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS dpo_process_policy ON healthcare_data.data_rectification_requests;
CREATE POLICY dpo_process_policy ON healthcare_data.data_rectification_requests FOR UPDATE TO data_protection_officer USING (true) WITH CHECK (true);
