-- Continuous aggregates, declared WITH (timescaledb.continuous) so the refresh policies apply. They
-- hold per-user activity (personal data), so they get the audit retention too. A continuous aggregate
-- cannot filter on now(), ORDER BY or count(DISTINCT ...): the diary's versions are fixed accordingly.

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_trail.daily_user_activity
WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 day', event_time) AS day,
       user_id,
       action,
       count(*) AS activity_count,
       count(CASE WHEN NOT success THEN 1 END) AS failed_attempts
FROM audit_trail.user_activity
GROUP BY day, user_id, action
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS audit_trail.hourly_activity_summary
WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', event_time) AS hour,
       user_id,
       table_name,
       operation_type,
       count(*) AS operations
FROM audit_trail.data_processing_log
GROUP BY hour, user_id, table_name, operation_type
WITH NO DATA;

SELECT add_continuous_aggregate_policy('audit_trail.daily_user_activity',
    start_offset => INTERVAL '30 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '1 hour',
    if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('audit_trail.hourly_activity_summary',
    start_offset => INTERVAL '7 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '1 hour',
    if_not_exists => TRUE);

DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'daily_user_activity';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.daily_user_activity', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;
DO $$
DECLARE
  existing integer;
BEGIN
  SELECT job_id INTO existing FROM timescaledb_information.jobs
   WHERE proc_name = 'policy_retention' AND hypertable_schema = 'audit_trail'
     AND hypertable_name = 'hourly_activity_summary';
  IF existing IS NULL THEN
    PERFORM add_retention_policy('audit_trail.hourly_activity_summary', drop_after => INTERVAL '7 years');
  ELSE
    PERFORM alter_job(existing, config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = existing)
      || jsonb_build_object('drop_after', '7 years'));
  END IF;
END
$$;

GRANT SELECT ON audit_trail.daily_user_activity, audit_trail.hourly_activity_summary TO data_protection_officer;
