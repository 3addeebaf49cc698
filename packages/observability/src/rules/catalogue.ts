/**
 * Which metric names each source provides: rules and dashboard panels may only read metrics listed
 * here (a test checks every expression), so a misspelt or non-existent metric (the seeds'
 * `pg_stat_replication_lag`, `phoenix_http_requests_total`) fails the build, not the pager.
 *
 * Sources and versions: Patroni's REST API `/metrics` (api.py `do_GET_metrics`, Patroni 3.0.2 as
 * shipped by Debian and Patroni 4 as in the timescaledb-ha image: 4 adds the `name` label, the
 * streaming / archive-recovery / quorum / state gauges and drops `patroni_master`);
 * prometheus-community postgres_exporter, pgbouncer_exporter; woblerr pgbackrest_exporter;
 * cert-manager's controller; kube-state-metrics and node-exporter (kube-prometheus-stack); Istio.
 */

const PATRONI_COMMON = [
  "patroni_version",
  "patroni_postgres_running",
  "patroni_postmaster_start_time",
  "patroni_primary",
  "patroni_xlog_location",
  "patroni_standby_leader",
  "patroni_replica",
  "patroni_sync_standby",
  "patroni_xlog_received_location",
  "patroni_xlog_replayed_location",
  "patroni_xlog_replayed_timestamp",
  "patroni_xlog_paused",
  "patroni_postgres_server_version",
  "patroni_cluster_unlocked",
  "patroni_failsafe_mode_is_active",
  "patroni_postgres_timeline",
  "patroni_dcs_last_seen",
  "patroni_pending_restart",
  "patroni_is_paused",
];

const POSTGRES_EXPORTER_COMMON = [
  "pg_up",
  "pg_stat_activity_count",
  "pg_stat_activity_max_tx_duration",
  "pg_settings_max_connections",
  "pg_settings_superuser_reserved_connections",
  "pg_stat_replication_pg_wal_lsn_diff",
  "pg_stat_replication_pg_current_wal_lsn_bytes",
  "pg_stat_archiver_archived_count",
  "pg_stat_archiver_failed_count",
  "pg_stat_archiver_last_archive_age",
  "pg_database_size_bytes",
  "pg_stat_database_tup_fetched",
  "pg_stat_database_tup_inserted",
  "pg_stat_database_xact_commit",
  "pg_stat_database_xact_rollback",
  "pg_stat_database_deadlocks",
  "pg_locks_count",
];

/** Metric names by source. */
/**
 * The job node-exporter's targets get: kube-prometheus-stack's prometheus-node-exporter subchart
 * labels its Service `jobLabel: node-exporter`, and the layer's values set it literally too
 * (values.ts `nodeExporterValues`).
 */
export const NODE_EXPORTER_JOB = "node-exporter";

export const METRIC_SOURCES: Readonly<Record<string, readonly string[]>> = {
  "patroni-4": [
    ...PATRONI_COMMON,
    "patroni_quorum_standby",
    "patroni_postgres_streaming",
    "patroni_postgres_in_archive_recovery",
    "patroni_postgres_state",
  ],
  "patroni-3.0": [...PATRONI_COMMON, "patroni_master"],
  // pg_replication_* come from the `replication` collector (on by default since 0.13).
  "postgres_exporter-0.17": [
    ...POSTGRES_EXPORTER_COMMON,
    "pg_replication_lag_seconds",
    "pg_replication_is_replica",
    "pg_replication_last_replay_seconds",
  ],
  pgbouncer_exporter: [
    "pgbouncer_up",
    "pgbouncer_pools_client_active_connections",
    "pgbouncer_pools_client_waiting_connections",
    "pgbouncer_pools_server_active_connections",
    "pgbouncer_pools_server_idle_connections",
    "pgbouncer_pools_client_maxwait_seconds",
    "pgbouncer_databases_current_connections",
    "pgbouncer_databases_max_connections",
    "pgbouncer_databases_pool_size",
    "pgbouncer_config_max_client_connections",
    "pgbouncer_stats_queries_pooled_total",
    "pgbouncer_stats_queries_duration_seconds_total",
  ],
  pgbackrest_exporter: [
    "pgbackrest_backup_since_last_completion_seconds",
    "pgbackrest_stanza_status",
    "pgbackrest_wal_archive_status",
    "pgbackrest_exporter_status",
  ],
  "cert-manager": [
    "certmanager_certificate_expiration_timestamp_seconds",
    "certmanager_certificate_ready_status",
  ],
  "kube-state-metrics": [
    "kube_pod_status_phase",
    "kube_pod_owner",
    "kube_pod_status_ready",
    "kube_pod_container_status_restarts_total",
  ],
  "node-exporter": [
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_cpu_seconds_total",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
  ],
  // ALERTS: the series Prometheus writes for every pending or firing alert of its rules.
  prometheus: [
    "up",
    "ALERTS",
    "prometheus_remote_storage_samples_failed_total",
    "prometheus_tsdb_head_series",
  ],
  istio: ["istio_requests_total"],
  /**
   * The application's compliance and security counters: the seeds' alerts need them and no code emits
   * them yet (INVENTORY §3.2 "GAP"); the application must export them with these names.
   */
  "app:healthcare": [
    "healthcare_audit_log_failures_total",
    "healthcare_unauthorized_access_attempts_total",
    "healthcare_encryption_failures_total",
    "healthcare_pqc_key_rotation_timestamp",
    "healthcare_data_retention_violations_total",
    "healthcare_consent_withdrawal_oldest_pending_age_seconds",
    "healthcare_data_portability_oldest_pending_age_seconds",
    "healthcare_audit_log_entries_total",
  ],
};

/** Where a metric comes from (the first source listing it), or `undefined`. */
export function sourceOf(
  metric: string,
  extra: Readonly<Record<string, readonly string[]>> = {},
): string | undefined {
  for (const [source, names] of Object.entries({ ...METRIC_SOURCES, ...extra })) {
    if (names.includes(metric)) return source;
  }
  return undefined;
}
