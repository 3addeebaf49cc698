-- Audit hypertables (by_range on event_time), compression after 30 days and retention of
-- 7 years (retention.auditYears). Re-running updates the policies in place.

-- audit_trail.data_processing_log: 7 days chunks, compressed after 30 days, dropped after 7 years.
SELECT create_hypertable('audit_trail.data_processing_log', by_range('event_time', INTERVAL '7 days'),
                         if_not_exists => TRUE, migrate_data => TRUE);
DO $$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
           WHERE hypertable_schema = 'audit_trail' AND hypertable_name = 'data_processing_log') THEN
    ALTER TABLE audit_trail.data_processing_log SET (timescaledb.compress,
                            timescaledb.compress_segmentby = 'table_name',
                            timescaledb.compress_orderby = 'event_time DESC');
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_compression' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'data_processing_log';
  IF existing IS NULL THEN
    PERFORM add_compression_policy('audit_trail.data_processing_log', compress_after => INTERVAL '30 days');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('compress_after', '30 days'));
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'data_processing_log';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.data_processing_log', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;

-- audit_trail.system_metrics: 1 day chunks, compressed after 30 days, dropped after 7 years.
SELECT create_hypertable('audit_trail.system_metrics', by_range('event_time', INTERVAL '1 day'),
                         if_not_exists => TRUE, migrate_data => TRUE);
DO $$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
           WHERE hypertable_schema = 'audit_trail' AND hypertable_name = 'system_metrics') THEN
    ALTER TABLE audit_trail.system_metrics SET (timescaledb.compress,
                            timescaledb.compress_segmentby = 'metric_name',
                            timescaledb.compress_orderby = 'event_time DESC');
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_compression' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'system_metrics';
  IF existing IS NULL THEN
    PERFORM add_compression_policy('audit_trail.system_metrics', compress_after => INTERVAL '30 days');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('compress_after', '30 days'));
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'system_metrics';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.system_metrics', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;

-- audit_trail.user_activity: 7 days chunks, compressed after 30 days, dropped after 7 years.
SELECT create_hypertable('audit_trail.user_activity', by_range('event_time', INTERVAL '7 days'),
                         if_not_exists => TRUE, migrate_data => TRUE);
DO $$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
           WHERE hypertable_schema = 'audit_trail' AND hypertable_name = 'user_activity') THEN
    ALTER TABLE audit_trail.user_activity SET (timescaledb.compress,
                            timescaledb.compress_segmentby = 'action',
                            timescaledb.compress_orderby = 'event_time DESC');
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_compression' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'user_activity';
  IF existing IS NULL THEN
    PERFORM add_compression_policy('audit_trail.user_activity', compress_after => INTERVAL '30 days');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('compress_after', '30 days'));
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'user_activity';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.user_activity', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;

-- audit_trail.data_subject_access_log: 30 days chunks, compressed after 30 days, dropped after 7 years.
SELECT create_hypertable('audit_trail.data_subject_access_log', by_range('event_time', INTERVAL '30 days'),
                         if_not_exists => TRUE, migrate_data => TRUE);
DO $$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
           WHERE hypertable_schema = 'audit_trail' AND hypertable_name = 'data_subject_access_log') THEN
    ALTER TABLE audit_trail.data_subject_access_log SET (timescaledb.compress,
                            timescaledb.compress_segmentby = 'access_type',
                            timescaledb.compress_orderby = 'event_time DESC');
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_compression' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'data_subject_access_log';
  IF existing IS NULL THEN
    PERFORM add_compression_policy('audit_trail.data_subject_access_log', compress_after => INTERVAL '30 days');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('compress_after', '30 days'));
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'data_subject_access_log';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.data_subject_access_log', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;
