import { type HttpService, type LibraryInputs, scheduleDays } from "../rules";
import type { DashboardSpec, PanelSpec, RowSpec } from "./model";

/**
 * The platform's dashboards as data: the overview, the data tier and the application SLOs. They read
 * the same metrics as the rule library (the metric catalogue, the SLO recording rules) and draw the
 * alerts' thresholds, so a red panel and a page mean the same thing. Jobs are selected by the
 * metrics endpoint's name, which every monitor of this layer sets as `job` (values.ts
 * `jobRelabeling`).
 */

/** The data tier's PgBouncer exporter job (its metrics endpoint's name in `@hcp/postgres`). */
const PGBOUNCER_JOB = "pgbouncer-exporter";

const NS = 'namespace=~"$namespace"';

/** Platform overview: alerts, scrape health, Kubernetes, Prometheus itself, certificates, traffic. */
export function platformOverview(inputs: LibraryInputs): DashboardSpec {
  const traffic: PanelSpec[] = inputs.services.flatMap((s) => {
    const sel = `job="${s.job}",namespace="${s.namespace}"`;
    return [
      {
        type: "timeseries",
        title: `${s.job}: requests by status`,
        description: `Request rate of ${s.job} by HTTP status. The SLO dashboard has its budgets.`,
        unit: "reqps",
        queries: [
          {
            expr: `sum by (${s.statusLabel}) (rate(${s.requestsTotal}{${sel}}[$__rate_interval]))`,
            legend: `{{${s.statusLabel}}}`,
          },
        ],
      },
    ];
  });
  const rows: RowSpec[] = [
    {
      title: "Alerts and scrape health",
      panels: [
        {
          type: "stat",
          title: "Firing alerts by severity",
          description: "Alerts firing now (the Watchdog always fires: it is the dead man's switch).",
          queries: [
            {
              expr: 'sum by (severity) (ALERTS{alertstate="firing"})',
              legend: "{{severity}}",
              instant: true,
            },
          ],
        },
        {
          type: "timeseries",
          title: "Healthy targets per job",
          description: "Share of each job's targets Prometheus scrapes successfully. Below 1: TargetsDown.",
          unit: "percentunit",
          min: 0,
          max: 1,
          queries: [{ expr: "sum by (job) (up) / count by (job) (up)", legend: "{{job}}" }],
        },
        {
          type: "timeseries",
          title: "Remote write failures",
          description:
            "Samples AMP rejected or Prometheus could not send; non-zero means durable metrics have gaps.",
          unit: "ops",
          queries: [
            {
              expr: "sum(rate(prometheus_remote_storage_samples_failed_total[$__rate_interval]))",
              legend: "failed",
            },
          ],
        },
      ],
    },
    {
      title: "Kubernetes",
      panels: [
        {
          type: "timeseries",
          title: "Pods not ready by namespace",
          description:
            "Pods whose Ready condition is false (finished Job pods are Succeeded/Failed, not counted by the alert).",
          queries: [
            {
              expr: 'sum by (namespace) (kube_pod_status_ready{condition="false"})',
              legend: "{{namespace}}",
            },
          ],
        },
        {
          type: "timeseries",
          title: "Container restarts (1 h)",
          description: "Container restarts in the last hour by namespace: crash loops show here first.",
          queries: [
            {
              expr: "sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))",
              legend: "{{namespace}}",
            },
          ],
        },
        {
          type: "stat",
          title: "Prometheus head series",
          description: "Active series in Prometheus' head block: growth means a cardinality change.",
          queries: [{ expr: "sum(prometheus_tsdb_head_series)", legend: "series", instant: true }],
        },
      ],
    },
    {
      title: "Certificates",
      panels: [
        {
          type: "table",
          title: "Certificate expiry",
          description:
            "Time left per cert-manager Certificate; CertificateExpiringSoon warns at 21 d, pages at 7 d.",
          unit: "dtdurations",
          warnAt: 21 * 86400,
          redAt: 7 * 86400,
          width: 16,
          queries: [
            {
              expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time()",
              legend: "{{namespace}}/{{name}}",
              instant: true,
            },
          ],
        },
        {
          type: "stat",
          title: "Certificates not ready",
          description: "cert-manager Certificates whose Ready condition is False.",
          redAt: 1,
          queries: [
            {
              expr: 'sum(certmanager_certificate_ready_status{condition="False"})',
              legend: "not ready",
              instant: true,
            },
          ],
        },
      ],
    },
    ...(traffic.length > 0 ? [{ title: "Application traffic", panels: traffic }] : []),
  ];
  return {
    uid: "hcp-platform-overview",
    title: "HCP / Platform overview",
    description: "Alerts, scrape health, Kubernetes, certificates and application traffic of this region.",
    tags: ["hcp", "platform"],
    variables: [],
    rows,
  };
}

/** Data tier: Patroni, replication and DR lag, connections, PgBouncer, backups and WAL archiving. */
export function dataTier(inputs: LibraryInputs): DashboardSpec {
  const rpo = inputs.archiveTimeoutSeconds;
  const fullLimit = (scheduleDays(inputs.backup.fullSchedule) + 1) * 86400;
  const pgbouncer = `job="${PGBOUNCER_JOB}",${NS}`;
  return {
    uid: "hcp-data-tier",
    title: "HCP / Data tier",
    description: "Patroni, replication and DR lag, PostgreSQL connections, PgBouncer, pgBackRest backups.",
    tags: ["hcp", "data"],
    variables: [
      {
        name: "namespace",
        label: "Namespace",
        selector: "patroni_version",
        valuesOf: "namespace",
        includeAll: false,
      },
    ],
    rows: [
      {
        title: "Patroni",
        panels: [
          {
            type: "stat",
            title: "Leaders per cluster",
            description:
              "Members holding the leader lock (primary or standby leader): 1 is healthy, 0 is PatroniNoLeader.",
            queries: [
              {
                expr: `sum by (scope) (patroni_primary{${NS}}) + sum by (scope) (patroni_standby_leader{${NS}})`,
                legend: "{{scope}}",
                instant: true,
              },
            ],
            width: 6,
          },
          {
            type: "stat",
            title: "Synchronous standbys",
            description: `Members that are synchronous standbys (synchronous_mode ${inputs.patroni.synchronousMode}).`,
            queries: [
              { expr: `sum by (scope) (patroni_sync_standby{${NS}})`, legend: "{{scope}}", instant: true },
            ],
            width: 6,
          },
          {
            type: "timeseries",
            title: "Timeline",
            description:
              "PostgreSQL timeline per member: every step is a failover or switchover (PatroniLeaderChanged).",
            queries: [{ expr: `max by (pod) (patroni_postgres_timeline{${NS}})`, legend: "{{pod}}" }],
            width: 12,
          },
          {
            type: "timeseries",
            title: "PostgreSQL running",
            description: "Whether Patroni reports its PostgreSQL running (PatroniPostgresDown at 0).",
            unit: "bool_on_off",
            queries: [{ expr: `max by (pod) (patroni_postgres_running{${NS}})`, legend: "{{pod}}" }],
          },
          {
            type: "stat",
            title: "Pending restart / failsafe / paused",
            description:
              "Members needing a restart for a changed setting, clusters in failsafe mode or in maintenance mode.",
            queries: [
              { expr: `sum(patroni_pending_restart{${NS}})`, legend: "pending restart", instant: true },
              { expr: `sum(patroni_failsafe_mode_is_active{${NS}})`, legend: "failsafe", instant: true },
              { expr: `sum(patroni_is_paused{${NS}})`, legend: "paused", instant: true },
            ],
            redAt: 1,
          },
        ],
      },
      {
        title: "Replication and DR",
        panels: [
          {
            type: "timeseries",
            title: "Replication lag (bytes)",
            description:
              "WAL the primary has not yet seen replayed per standby (ReplicationLagBytesHigh above 100 MB).",
            unit: "bytes",
            redAt: 100e6,
            queries: [
              {
                expr: `max by (pod, application_name) (pg_stat_replication_pg_wal_lsn_diff{${NS}})`,
                legend: "{{pod}} → {{application_name}}",
              },
            ],
          },
          {
            type: "timeseries",
            title: "Replay lag (seconds)",
            description: `Seconds since each replica replayed the primary's last commit; red from ${rpo} s (archive_timeout, the RPO bound).`,
            unit: "s",
            redAt: rpo,
            queries: [{ expr: `max by (pod) (pg_replication_lag_seconds{${NS}})`, legend: "{{pod}}" }],
          },
          {
            type: "stat",
            title: "DR standby: streaming / archive recovery",
            description:
              "A standby cluster's leader streams from the primary region; archive recovery means it fell back to the WAL archive.",
            queries: [
              {
                expr: `max by (scope) (patroni_postgres_streaming{${NS}})`,
                legend: "streaming {{scope}}",
                instant: true,
              },
              {
                expr: `max by (scope) (patroni_postgres_in_archive_recovery{${NS}})`,
                legend: "archive {{scope}}",
                instant: true,
              },
            ],
          },
        ],
      },
      {
        title: "Connections",
        panels: [
          {
            type: "timeseries",
            title: "Connections vs. max_connections",
            description:
              "Client backends per member against max_connections minus the superuser reserve (PostgresConnectionsHigh at 80 %).",
            unit: "percentunit",
            redAt: 0.8,
            min: 0,
            max: 1,
            queries: [
              {
                expr: `sum by (pod) (pg_stat_activity_count{datname!="",${NS}}) / on (pod) max by (pod) (pg_settings_max_connections{${NS}} - pg_settings_superuser_reserved_connections{${NS}})`,
                legend: "{{pod}}",
              },
            ],
            width: 12,
          },
          {
            type: "timeseries",
            title: "Transactions",
            description: "Commits and rollbacks per second across databases.",
            unit: "ops",
            queries: [
              { expr: `sum(rate(pg_stat_database_xact_commit{${NS}}[$__rate_interval]))`, legend: "commit" },
              {
                expr: `sum(rate(pg_stat_database_xact_rollback{${NS}}[$__rate_interval]))`,
                legend: "rollback",
              },
            ],
            width: 12,
          },
        ],
      },
      {
        title: "PgBouncer",
        panels: [
          {
            type: "timeseries",
            title: "Clients waiting",
            description:
              "Clients queued for a server connection per database (PgbouncerClientsWaiting: longest wait above 1 s).",
            queries: [
              {
                expr: `sum by (database) (pgbouncer_pools_client_waiting_connections{${pgbouncer}})`,
                legend: "{{database}}",
              },
              {
                expr: `max by (database) (pgbouncer_pools_client_maxwait_seconds{${pgbouncer}})`,
                legend: "longest wait (s) {{database}}",
              },
            ],
          },
          {
            type: "timeseries",
            title: "Pool saturation",
            description:
              "Server connections in use against the database's max (PgbouncerPoolSaturated at 90 %).",
            unit: "percentunit",
            redAt: 0.9,
            min: 0,
            max: 1,
            queries: [
              {
                expr: `max by (name) (pgbouncer_databases_current_connections{${pgbouncer}} / pgbouncer_databases_max_connections{${pgbouncer}} and pgbouncer_databases_max_connections{${pgbouncer}} > 0)`,
                legend: "{{name}}",
              },
            ],
          },
          {
            type: "stat",
            title: "PgBouncer exporters up",
            description:
              "PgBouncer exporter targets scraped and connected to PgBouncer (PgbouncerDown when none is).",
            queries: [
              { expr: `sum(up{${pgbouncer}})`, legend: "scraped", instant: true },
              { expr: `sum(pgbouncer_up{${pgbouncer}})`, legend: "connected", instant: true },
            ],
          },
        ],
      },
      {
        title: "Backups and WAL archive",
        panels: [
          {
            type: "table",
            title: "Time since last backup",
            description: `Per stanza and type; the full backup alert fires after ${fullLimit / 86400} d.`,
            unit: "dtdurations",
            redAt: fullLimit,
            queries: [
              {
                expr: "min by (stanza, backup_type) (pgbackrest_backup_since_last_completion_seconds)",
                legend: "{{stanza}} {{backup_type}}",
                instant: true,
              },
            ],
          },
          {
            type: "timeseries",
            title: "WAL archive age (primary)",
            description: `Seconds since the last WAL segment was archived; red from 2 × archive_timeout (${2 * rpo} s).`,
            unit: "s",
            redAt: 2 * rpo,
            queries: [
              {
                expr: `max by (pod) (pg_stat_archiver_last_archive_age{${NS}}) and on (pod) max by (pod) (patroni_primary{${NS}}) == 1`,
                legend: "{{pod}}",
              },
            ],
          },
          {
            type: "timeseries",
            title: "WAL archive failures (1 h)",
            description: "archive_command failures in the last hour (WalArchiveFailing).",
            redAt: 1,
            queries: [
              {
                expr: `sum by (pod) (increase(pg_stat_archiver_failed_count{${NS}}[1h]))`,
                legend: "{{pod}}",
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Application SLOs: availability and latency budgets per service, burn rates at the alerts' factors. */
export function appSlos(inputs: LibraryInputs): DashboardSpec {
  const avBudget = Number((1 - inputs.slo.availabilityPercent / 100).toPrecision(6));
  const latBudget = Number((1 - inputs.slo.latencyObjectivePercent / 100).toPrecision(6));
  const rows = inputs.services.map((s: HttpService): RowSpec => {
    const sel = `job="${s.job}",namespace="${s.namespace}"`;
    const ms = s.durationUnit === "milliseconds";
    // The histogram's unit is the service's; the panels show seconds.
    const toSeconds = ms ? " / 1000" : "";
    const quantile = (q: number) =>
      `histogram_quantile(${q}, sum by (le) (rate(${s.durationBucket}{${sel}}[$__rate_interval])))${toSeconds}`;
    return {
      title: `${s.job} (${s.namespace})`,
      panels: [
        {
          type: "stat",
          title: "Availability (3 d)",
          description: `Share of non-5xx requests over 3 days; objective ${inputs.slo.availabilityPercent} %.`,
          unit: "percentunit",
          queries: [
            { expr: `1 - slo:request_errors:ratio_rate3d{${sel}}`, legend: "availability", instant: true },
          ],
          width: 6,
        },
        {
          type: "stat",
          title: `Requests within ${inputs.slo.latencyThresholdSeconds} s (3 d)`,
          description: `Share of requests faster than the latency target over 3 days; objective ${inputs.slo.latencyObjectivePercent} %.`,
          unit: "percentunit",
          queries: [
            { expr: `1 - slo:request_slow:ratio_rate3d{${sel}}`, legend: "fast enough", instant: true },
          ],
          width: 6,
        },
        {
          type: "timeseries",
          title: "Availability budget burn rate",
          description:
            "Error ratio over the budget: 1 spends the 30-day budget in 30 days; the page fires at 14.4 (1 h and 5 m) or 6 (6 h and 30 m).",
          redAt: 14.4,
          warnAt: 6,
          queries: ["5m", "1h", "6h", "3d"].map((w) => ({
            expr: `slo:request_errors:ratio_rate${w}{${sel}} / ${avBudget}`,
            legend: w,
          })),
          width: 12,
        },
        {
          type: "timeseries",
          title: "Latency budget burn rate",
          description:
            "Slow-request ratio over the latency budget, at the same factors as the availability burn.",
          redAt: 14.4,
          warnAt: 6,
          queries: ["5m", "1h", "6h", "3d"].map((w) => ({
            expr: `slo:request_slow:ratio_rate${w}{${sel}} / ${latBudget}`,
            legend: w,
          })),
          width: 12,
        },
        {
          type: "timeseries",
          title: "Latency p95 / p99",
          description: `Request duration quantiles from the histogram (sum by le); target ${inputs.slo.latencyThresholdSeconds} s.`,
          unit: "s",
          redAt: inputs.slo.latencyThresholdSeconds,
          queries: [
            { expr: quantile(0.95), legend: "p95" },
            { expr: quantile(0.99), legend: "p99" },
          ],
          width: 12,
        },
      ],
    };
  });
  return {
    uid: "hcp-app-slos",
    title: "HCP / Application SLOs",
    description: "Availability and latency objectives, error budgets and burn rates per application service.",
    tags: ["hcp", "app", "slo"],
    variables: [],
    rows,
  };
}

/** The platform's dashboards for an environment's region. */
export function dashboardLibrary(inputs: LibraryInputs): DashboardSpec[] {
  return [platformOverview(inputs), dataTier(inputs), appSlos(inputs)];
}
