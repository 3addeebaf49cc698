import type { MetricsEndpoint, SynchronousMode } from "@hcp/platform";
import { NODE_EXPORTER_JOB } from "./catalogue";
import { type AlertRule, humanizeDuration, type RecordingRule, type RuleGroup } from "./model";

/**
 * The platform's rule library. Every seed rule is here in its corrected form (see
 * ../shared/seeds/INVENTORY.md §3.4: per-series thresholds aggregated, ratios of sums, quantiles
 * from `sum by (le)`, `increase()` of counters instead of their value, metric names that exist),
 * plus the data tier (Patroni, DR, pgBackRest, PgBouncer), certificates, SLO burn rates and the
 * Watchdog. Label conventions: exporters' series carry `namespace` and `pod` (PodMonitor target
 * labels) and `job` (the metrics endpoint's name, which every monitor sets by relabeling: see
 * values.ts `jobRelabeling`); Patroni's carry `scope`.
 */

/** An application service whose HTTP metrics feed the seed alerts and the SLOs. */
export interface HttpService {
  /** `job` label of its targets (the name of its metrics endpoint, which its monitor sets as `job`). */
  readonly job: string;
  readonly namespace: string;
  /** Counter of requests, with a status-code label. */
  readonly requestsTotal: string;
  /** Label of `requestsTotal` holding the HTTP status code. */
  readonly statusLabel: string;
  /** Histogram buckets of request duration (`..._bucket`); one bucket bound must equal the latency target. */
  readonly durationBucket: string;
  /** Unit of the histogram's `le` bounds. */
  readonly durationUnit: "seconds" | "milliseconds";
}

/** What the library is parameterised by (all from the environment definition). */
export interface LibraryInputs {
  readonly patroni: {
    readonly ttlSeconds: number;
    readonly loopWaitSeconds: number;
    readonly synchronousMode: SynchronousMode;
  };
  /** PostgreSQL archive_timeout: the RPO bound of the DR standby's lag. */
  readonly archiveTimeoutSeconds: number;
  readonly backup: { readonly fullSchedule: string; readonly diffSchedule: string };
  readonly slo: {
    readonly availabilityPercent: number;
    readonly latencyThresholdSeconds: number;
    readonly latencyObjectivePercent: number;
  };
  readonly services: readonly HttpService[];
}

/** The HTTP metrics of a service, without where it runs. */
export type HttpMetrics = Omit<HttpService, "job" | "namespace">;

/** PromEx's Phoenix metrics of otp_app `healthcare`. */
const PROM_EX_HEALTHCARE: HttpMetrics = {
  requestsTotal: "healthcare_prom_ex_phoenix_http_requests_total",
  statusLabel: "status",
  durationBucket: "healthcare_prom_ex_phoenix_http_request_duration_milliseconds_bucket",
  durationUnit: "milliseconds",
};
/**
 * The HTTP request metrics of each exporter family that has them (a `MetricsEndpoint`'s `exporter`):
 * `app:healthcare` is PromEx's Phoenix plugin for otp_app `healthcare` (metric prefix
 * `<otp_app>_prom_ex_phoenix_`, duration histogram in milliseconds; PromEx.Plugins.Phoenix). A family
 * not listed here (e.g. `app:healthcare-mcp`) is scraped, but no SLO is derived from it.
 */
export const HTTP_EXPORTERS: Readonly<Record<string, HttpMetrics>> = { "app:healthcare": PROM_EX_HEALTHCARE };

/**
 * The healthcare-app of the seeds (Phoenix + PromEx, otp_app `healthcare`) where the repository's
 * environments run it (`workloads.namespace`), for tests, the harness and the rendered runbook; the
 * stacks derive theirs from the workloads contract ({@link applicationServices}).
 */
export const HEALTHCARE_APP: HttpService = {
  job: "healthcare-app",
  namespace: "healthcare-platform",
  ...PROM_EX_HEALTHCARE,
};

/**
 * The application services the rules and dashboards watch: one per metrics endpoint whose exporter
 * family has HTTP metrics, selecting the `job` the endpoint's monitor sets (its name) in its
 * namespace, so a rule cannot select a job or namespace no endpoint produces.
 */
export function applicationServices(endpoints: readonly MetricsEndpoint[]): HttpService[] {
  return endpoints.flatMap((e) => {
    const metrics = HTTP_EXPORTERS[e.exporter];
    return metrics ? [{ job: e.name, namespace: e.namespace, ...metrics }] : [];
  });
}

const DATA = { file: "data-tier", team: "data" as const };
const ALERTS_RUNBOOK = "alerts";

/** Anchor of a heading as GitHub renders it. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
}

const runbook = (alert: string) => ({ file: ALERTS_RUNBOOK, anchor: anchorOf(alert) });

/** Days between two runs of a five-field cron schedule: 7 for one weekday, else 1. */
export function scheduleDays(cron: string): number {
  const dow = cron.trim().split(/\s+/)[4] ?? "*";
  return /^\d$/.test(dow) ? 7 : 1;
}

/** Seconds as a Prometheus duration string. */
export function duration(seconds: number): string {
  return seconds % 3600 === 0
    ? `${seconds / 3600}h`
    : seconds % 60 === 0
      ? `${seconds / 60}m`
      : `${seconds}s`;
}

// ---------------------------------------------------------------------------------------------
// Application (seed rules 1, 2, 5-17, corrected)
// ---------------------------------------------------------------------------------------------

function appRules(s: HttpService, inputs: LibraryInputs): AlertRule[] {
  const sel = `job="${s.job}",namespace="${s.namespace}"`;
  const errors = `${s.requestsTotal}{${sel},${s.statusLabel}=~"5.."}`;
  const all = `${s.requestsTotal}{${sel}}`;
  const unit = s.durationUnit === "milliseconds" ? 1000 : 1;
  const latency = inputs.slo.latencyThresholdSeconds * unit;
  const ms = s.durationUnit === "milliseconds" ? "ms" : "s";
  const id = { job: s.job, namespace: s.namespace };
  const up = (values: string, pod: string) => ({ series: `up{${sel},pod="${pod}"}`, values });
  const requests = (status: string, values: string, pod = "a") => ({
    series: `${s.requestsTotal}{${sel},pod="${pod}",${s.statusLabel}="${status}"}`,
    values,
  });
  const bucket = (le: string, values: string, pod: string) => ({
    series: `${s.durationBucket}{${sel},pod="${pod}",le="${le}"}`,
    values,
  });
  return [
    {
      kind: "alert",
      alert: "AppDown",
      // Seed 1 fired per pod and stayed silent when the targets vanished.
      expr: `(sum by (namespace, job) (up{${sel}}) == 0) or absent(up{${sel}})`,
      for: "2m",
      severity: "critical",
      team: "app",
      summary: "{{ $labels.job }} has no healthy target in {{ $labels.namespace }}",
      description:
        "Every scrape target of {{ $labels.job }} is down, or none exists: the service is not serving from this region.",
      runbook: runbook("AppDown"),
      cases: [
        {
          name: "fires when every pod is down",
          series: [up("0x10", "a"), up("0x10", "b")],
          at: "5m",
          expect: [{ labels: id }],
        },
        {
          name: "fires when the targets vanished",
          series: [{ series: `up{job="other",namespace="${s.namespace}",pod="x"}`, values: "1x10" }],
          at: "5m",
          expect: [{ labels: id }],
        },
        {
          name: "one crash-looping pod out of three is not an outage (seed false positive)",
          series: [up("0x10", "a"), up("1x10", "b"), up("1x10", "c")],
          at: "5m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "AppPodDown",
      expr: `up{${sel}} == 0`,
      for: "10m",
      severity: "warning",
      team: "app",
      summary: "{{ $labels.job }} pod {{ $labels.pod }} is not scrapeable",
      description:
        "The pod has failed its scrapes for 10 minutes while others serve; check its events and logs.",
      runbook: runbook("AppPodDown"),
      cases: [
        {
          name: "fires for a pod down 10 minutes",
          series: [up("0x15", "a"), up("1x15", "b")],
          at: "12m",
          expect: [{ labels: { ...id, pod: "a" } }],
        },
        {
          name: "a restart of a few minutes is not reported",
          series: [up("0 0 0 1x12", "a")],
          at: "12m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "AppHighErrorRate",
      // Seed 2 divided each 5xx series by itself (always 1); this is the ratio of the sums.
      expr: `sum by (namespace, job) (rate(${errors}[5m])) / sum by (namespace, job) (rate(${all}[5m])) > 0.05`,
      for: "5m",
      severity: "warning",
      team: "app",
      summary: "{{ $labels.job }} answers {{ $value | humanizePercentage }} of requests with 5xx",
      description:
        "More than 5 % of {{ $labels.job }}'s requests failed over 5 minutes ({{ $value | humanizePercentage }}). The SLO burn-rate alerts page earlier for sustained budget loss.",
      runbook: runbook("AppHighErrorRate"),
      cases: [
        {
          name: "fires at 10 % errors",
          series: [requests("500", "0+6x20"), requests("200", "0+54x20")],
          at: "15m",
          expect: [{ labels: id, value: "10%" }],
        },
        {
          name: "one failing series among many successes is 1 %, not 100 % (seed false positive)",
          series: [
            requests("500", "0+1x20", "a"),
            requests("200", "0+99x20", "a"),
            requests("200", "0+100x20", "b"),
          ],
          at: "15m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "AppLatencyP95High",
      // Seed 7 computed a quantile per pod and route (no sum by (le)) against 2000 ms.
      expr: `histogram_quantile(0.95, sum by (namespace, job, le) (rate(${s.durationBucket}{${sel}}[5m]))) > ${latency}`,
      for: "10m",
      severity: "warning",
      team: "app",
      summary: `{{ $labels.job }} p95 latency is {{ printf "%.0f" $value }} ${ms}`,
      description: `The fleet's 95th percentile request latency is above the ${latency} ${ms} target for 10 minutes.`,
      runbook: runbook("AppLatencyP95High"),
      cases: [
        {
          name: "fires when most requests are slow",
          // 10 % within the target, the rest within 4 × it: p95 = target + 85/90 of the next bucket.
          series: [
            bucket(String(latency), "0+10x20", "a"),
            bucket(String(latency * 4), "0+100x20", "a"),
            bucket("+Inf", "0+100x20", "a"),
          ],
          at: "15m",
          expect: [{ labels: id, value: (latency + (85 / 90) * 3 * latency).toFixed(0) }],
        },
        {
          name: "one slow pod with few requests does not move the fleet's p95 (seed false positive)",
          series: [
            bucket(String(latency), "0+0x20", "slow"),
            bucket("+Inf", "0+1x20", "slow"),
            bucket(String(latency), "0+1000x20", "b"),
            bucket("+Inf", "0+1000x20", "b"),
          ],
          at: "15m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "AppLatencyP99High",
      expr: `histogram_quantile(0.99, sum by (namespace, job, le) (rate(${s.durationBucket}{${sel}}[5m]))) > ${latency * 4}`,
      for: "10m",
      severity: "warning",
      team: "app",
      summary: `{{ $labels.job }} p99 latency is {{ printf "%.0f" $value }} ${ms}`,
      description: `The fleet's 99th percentile request latency is above ${latency * 4} ${ms} (4 × the target) for 10 minutes.`,
      runbook: runbook("AppLatencyP99High"),
      cases: [
        {
          name: "fires when the slowest 5 % are beyond 4 × the target",
          series: [
            bucket(String(latency), "0+90x20", "a"),
            bucket(String(latency * 4), "0+90x20", "a"),
            bucket(String(latency * 20), "0+100x20", "a"),
            bucket("+Inf", "0+100x20", "a"),
          ],
          at: "15m",
          // p99 = 4 × target + 9/10 of the bucket up to 20 × target.
          expect: [{ labels: id, value: (latency * 4 + 0.9 * 16 * latency).toFixed(0) }],
        },
        {
          name: "silent when 99 % are within 4 × the target",
          series: [
            bucket(String(latency), "0+90x20", "a"),
            bucket(String(latency * 4), "0+100x20", "a"),
            bucket(String(latency * 20), "0+100x20", "a"),
            bucket("+Inf", "0+100x20", "a"),
          ],
          at: "15m",
          expect: [],
        },
      ],
    },
  ];
}

/** Alerts on the application's compliance and security counters (seed rules 5, 6, 9-14). */
function complianceRules(): AlertRule[] {
  const counter = (name: string, values: string, pod = "a") => ({
    series: `${name}{namespace="healthcare",pod="${pod}"}`,
    values,
  });
  const ns = { namespace: "healthcare" };
  const increaseAlert = (
    alert: string,
    metric: string,
    window: string,
    threshold: number,
    severity: AlertRule["severity"],
    team: AlertRule["team"],
    labels: Record<string, string>,
    summary: string,
    description: string,
    quiet: { name: string; values: string },
  ): AlertRule => ({
    kind: "alert",
    alert,
    expr: `sum by (namespace) (increase(${metric}[${window}])) > ${threshold}`,
    for: "0s",
    severity,
    team,
    labels,
    summary,
    description,
    runbook: runbook(alert),
    cases: [
      {
        name: "fires on new events",
        series: [counter(metric, "0x5 3x10", "a"), counter(metric, `0x5 ${threshold + 1}x10`, "b")],
        at: "7m",
        expect: [{ labels: ns, value: String(3 + threshold + 1) }],
      },
      { name: quiet.name, series: [counter(metric, quiet.values)], at: "70m", expect: [] },
    ],
  });
  return [
    increaseAlert(
      "AuditLogWriteFailures",
      "healthcare_audit_log_failures_total",
      "5m",
      0,
      "critical",
      "security",
      { compliance: "lgpd-hipaa" },
      "Audit records failed to be written in {{ $labels.namespace }}",
      "{{ $value }} audit writes failed in 5 minutes. Every lost audit record is a compliance gap (the seed tolerated 5).",
      { name: "an old failure counted long ago no longer alerts", values: "7x80" },
    ),
    increaseAlert(
      "UnauthorizedAccessAttempts",
      "healthcare_unauthorized_access_attempts_total",
      "5m",
      10,
      "critical",
      "security",
      { security: "true" },
      "Repeated unauthorized data access attempts in {{ $labels.namespace }}",
      "{{ $value }} denied accesses to patient data in 5 minutes, summed over every pod.",
      { name: "a handful of denials is not reported", values: "0+1x80" },
    ),
    increaseAlert(
      "EncryptionFailures",
      "healthcare_encryption_failures_total",
      "5m",
      0,
      "critical",
      "security",
      { security: "true" },
      "Encryption operations are failing in {{ $labels.namespace }}",
      "{{ $value }} encryption failures in 5 minutes: data may be written unencrypted or refused.",
      { name: "a counter that stopped rising resolves", values: "2x80" },
    ),
    increaseAlert(
      "DataRetentionViolations",
      "healthcare_data_retention_violations_total",
      "1h",
      0,
      "critical",
      "security",
      { compliance: "lgpd" },
      "Data retention violations found in {{ $labels.namespace }}",
      "{{ $value }} records were found past their retention in the last hour (the seed compared the counter itself and fired forever).",
      {
        name: "a violation resolved more than an hour ago no longer fires (seed false positive)",
        values: "1x80",
      },
    ),
    {
      kind: "alert",
      alert: "MeshAuthorizationDenials",
      // Seed 10 did not parse (`increase(...) by (...)`), counted 3xx/4xx and both reporters.
      expr: 'sum by (source_app, destination_service_name) (increase(istio_requests_total{reporter="destination",response_code="403"}[5m])) > 50',
      for: "1m",
      severity: "warning",
      team: "security",
      labels: { security: "zero-trust" },
      summary: "{{ $labels.source_app }} is denied by {{ $labels.destination_service_name }}",
      description:
        "{{ $value }} requests were refused by an AuthorizationPolicy in 5 minutes: a caller outside the declared flows, or a policy gap.",
      runbook: runbook("MeshAuthorizationDenials"),
      cases: [
        {
          name: "fires on many 403s seen by the destination",
          series: [
            {
              series:
                'istio_requests_total{reporter="destination",response_code="403",source_app="x",destination_service_name="api"}',
              values: "0+20x10",
            },
          ],
          at: "8m",
          expect: [{ labels: { source_app: "x", destination_service_name: "api" }, value: "100" }],
        },
        {
          name: "404s and source-side copies are not counted (seed false positive)",
          series: [
            {
              series:
                'istio_requests_total{reporter="destination",response_code="404",source_app="x",destination_service_name="api"}',
              values: "0+100x10",
            },
            {
              series:
                'istio_requests_total{reporter="source",response_code="403",source_app="x",destination_service_name="api"}',
              values: "0+100x10",
            },
          ],
          at: "8m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "KeyRotationOverdue",
      // Per pod in the seed: each pod rotates its own keys, so the newest rotation counts.
      expr: "time() - max by (namespace) (healthcare_pqc_key_rotation_timestamp) > 86400",
      for: "5m",
      severity: "warning",
      team: "security",
      labels: { security: "pqc" },
      summary:
        "Application keys in {{ $labels.namespace }} were not rotated for {{ $value | humanizeDuration }}",
      description: "The newest key rotation of any pod is older than 24 hours.",
      runbook: runbook("KeyRotationOverdue"),
      cases: [
        {
          name: "fires when no pod rotated for a day",
          interval: "5m",
          series: [
            {
              series: 'healthcare_pqc_key_rotation_timestamp{namespace="healthcare",pod="a"}',
              values: "0x300",
            },
          ],
          at: "25h",
          expect: [{ labels: ns, value: humanizeDuration(25 * 3600) }],
        },
        {
          name: "one pod with stale keys while another rotated is fine (the newest counts)",
          interval: "5m",
          series: [
            {
              series: 'healthcare_pqc_key_rotation_timestamp{namespace="healthcare",pod="a"}',
              values: "0x300",
            },
            {
              series: 'healthcare_pqc_key_rotation_timestamp{namespace="healthcare",pod="b"}',
              values: "0+300x300",
            },
          ],
          at: "25h",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "ConsentWithdrawalOverdue",
      // Seed 13 alerted on a count that stays above 0 under steady load; the oldest age is what LGPD bounds.
      expr: "max by (namespace) (healthcare_consent_withdrawal_oldest_pending_age_seconds) > 21600",
      for: "0s",
      severity: "critical",
      team: "security",
      labels: { compliance: "lgpd" },
      summary: "A consent withdrawal in {{ $labels.namespace }} waits for {{ $value | humanizeDuration }}",
      description: "The oldest unprocessed consent withdrawal is older than 6 hours.",
      runbook: runbook("ConsentWithdrawalOverdue"),
      cases: [
        {
          name: "fires when one withdrawal waits over 6 hours",
          interval: "5m",
          series: [
            {
              series:
                'healthcare_consent_withdrawal_oldest_pending_age_seconds{namespace="healthcare",pod="a"}',
              values: "0+300x100",
            },
          ],
          at: "7h",
          expect: [{ labels: ns, value: humanizeDuration(7 * 3600) }],
        },
        {
          name: "a steady stream of withdrawals each processed in minutes is fine (seed false positive)",
          interval: "5m",
          series: [
            {
              series:
                'healthcare_consent_withdrawal_oldest_pending_age_seconds{namespace="healthcare",pod="a"}',
              values: "600x100",
            },
          ],
          at: "7h",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "DataPortabilityOverdue",
      // LGPD Art. 19: a complete declaration within 15 days (confirm with counsel).
      expr: "max by (namespace) (healthcare_data_portability_oldest_pending_age_seconds) > 1296000",
      for: "1h",
      severity: "warning",
      team: "security",
      labels: { compliance: "lgpd" },
      summary:
        "A data portability request in {{ $labels.namespace }} waits for {{ $value | humanizeDuration }}",
      description:
        "The oldest unanswered data-subject portability request is older than 15 days (LGPD Art. 19).",
      runbook: runbook("DataPortabilityOverdue"),
      cases: [
        {
          name: "fires past 15 days",
          interval: "5m",
          series: [
            {
              series:
                'healthcare_data_portability_oldest_pending_age_seconds{namespace="healthcare",pod="a"}',
              values: "1209600+300x400",
            },
          ],
          at: "30h",
          expect: [{ labels: ns, value: humanizeDuration(14 * 86400 + 30 * 3600) }],
        },
        {
          name: "silent within the deadline",
          interval: "5m",
          series: [
            {
              series:
                'healthcare_data_portability_oldest_pending_age_seconds{namespace="healthcare",pod="a"}',
              values: "86400x400",
            },
          ],
          at: "30h",
          expect: [],
        },
      ],
    },
  ];
}

/** Nodes and pods (seed rules 8 and 17). */
function kubernetesRules(): AlertRule[] {
  const nodeJob = `job="${NODE_EXPORTER_JOB}"`;
  const owner = (pod: string, kind: string) => ({
    series: `kube_pod_owner{namespace="healthcare",pod="${pod}",owner_kind="${kind}"}`,
    values: "1x30",
  });
  const phase = (pod: string, p: string, values: string) => ({
    series: `kube_pod_status_phase{namespace="healthcare",pod="${pod}",phase="${p}"}`,
    values,
  });
  return [
    {
      kind: "alert",
      alert: "NodeMemoryHigh",
      // Seed 8 multiplied by 100 before humanizePercentage ("8700%") and node-exporter was not scraped.
      // node-exporter's own series only (its ServiceMonitor sets job, monitorJobs.test.ts checks it).
      expr: `1 - node_memory_MemAvailable_bytes{${nodeJob}} / node_memory_MemTotal_bytes{${nodeJob}} > 0.85`,
      for: "15m",
      severity: "warning",
      team: "platform",
      summary: "Node {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory",
      description: "Available memory has been below 15 % for 15 minutes; pods may be evicted or OOM-killed.",
      runbook: runbook("NodeMemoryHigh"),
      cases: [
        {
          name: "fires at 90 % used",
          series: [
            { series: `node_memory_MemAvailable_bytes{instance="n1",${nodeJob}}`, values: "100x30" },
            { series: `node_memory_MemTotal_bytes{instance="n1",${nodeJob}}`, values: "1000x30" },
            // The same names from another job (e.g. a pushgateway) are not node-exporter's.
            { series: 'node_memory_MemAvailable_bytes{instance="n2",job="other"}', values: "0x30" },
            { series: 'node_memory_MemTotal_bytes{instance="n2",job="other"}', values: "1000x30" },
          ],
          at: "20m",
          expect: [{ labels: { instance: "n1", job: NODE_EXPORTER_JOB }, value: "90%" }],
        },
        {
          name: "silent at 50 %",
          series: [
            { series: `node_memory_MemAvailable_bytes{instance="n1",${nodeJob}}`, values: "500x30" },
            { series: `node_memory_MemTotal_bytes{instance="n1",${nodeJob}}`, values: "1000x30" },
          ],
          at: "20m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PodNotReady",
      // Seed 17 fired for completed Job pods (the nightly backups keep them); this is KPS's form.
      expr: 'sum by (namespace, pod) (max by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) * on (namespace, pod) group_left () topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) (kube_pod_owner{owner_kind!="Job"}))) > 0',
      for: "15m",
      severity: "warning",
      team: "platform",
      summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been running for 15 minutes",
      description: "The pod is Pending, Unknown or Failed for 15 minutes (finished Job pods excluded).",
      runbook: runbook("PodNotReady"),
      cases: [
        {
          name: "fires for a Deployment pod stuck Pending",
          series: [owner("web-1", "ReplicaSet"), phase("web-1", "Pending", "1x30")],
          at: "20m",
          expect: [{ labels: { namespace: "healthcare", pod: "web-1" } }],
        },
        {
          name: "a failed backup Job pod is not reported (seed false positive)",
          series: [owner("backup-1", "Job"), phase("backup-1", "Failed", "1x30")],
          at: "20m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "TargetDown",
      expr: "100 * (count by (namespace, job) (up == 0) / count by (namespace, job) (up)) > 10",
      for: "10m",
      severity: "warning",
      team: "platform",
      summary: "{{ $value }}% of the {{ $labels.job }} targets in {{ $labels.namespace }} are down",
      description: "Prometheus cannot scrape part of a job's targets: their alerts are blind.",
      runbook: runbook("TargetDown"),
      cases: [
        {
          name: "fires when half the targets fail",
          series: [
            { series: 'up{namespace="x",job="j",pod="a"}', values: "0x20" },
            { series: 'up{namespace="x",job="j",pod="b"}', values: "1x20" },
          ],
          at: "15m",
          expect: [{ labels: { namespace: "x", job: "j" }, value: "50" }],
        },
        {
          name: "silent when every target answers",
          series: [{ series: 'up{namespace="x",job="j",pod="a"}', values: "1x20" }],
          at: "15m",
          expect: [],
        },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Data tier: PostgreSQL, Patroni, DR, pgBackRest, PgBouncer
// ---------------------------------------------------------------------------------------------

const NS = 'namespace="hcp-data"';
const SCOPE = 'scope="pg-x"';
const member = (metric: string, pod: string, values: string, extra = "") => ({
  series: `${metric}{${NS},${SCOPE},pod="${pod}"${extra}}`,
  values,
});
const exporter = (metric: string, pod: string, values: string, extra = "") => ({
  series: `${metric}{${NS},job="postgres-exporter",pod="${pod}"${extra}}`,
  values,
});

function postgresRules(inputs: LibraryInputs): AlertRule[] {
  const lagRpo = inputs.archiveTimeoutSeconds;
  return [
    {
      kind: "alert",
      alert: "PostgresDown",
      expr: "pg_up == 0",
      for: "1m",
      severity: "critical",
      team: "data",
      summary: "postgres_exporter in {{ $labels.pod }} cannot reach PostgreSQL",
      description: "The member's PostgreSQL refuses the metrics role or is not running.",
      runbook: runbook("PostgresDown"),
      cases: [
        {
          name: "fires when the exporter cannot connect",
          series: [exporter("pg_up", "pg-0", "0x5")],
          at: "3m",
          expect: [{ labels: { namespace: "hcp-data", job: "postgres-exporter", pod: "pg-0" } }],
        },
        {
          name: "a one-scrape blip is not reported",
          series: [exporter("pg_up", "pg-0", "1 0 1 1 1 1")],
          at: "3m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PostgresConnectionsNearLimit",
      // Seed 3 compared each (datname, state, user) series with a hard-coded 80.
      expr: 'sum by (namespace, pod) (pg_stat_activity_count{datname!=""}) > on (namespace, pod) 0.8 * max by (namespace, pod) (pg_settings_max_connections - pg_settings_superuser_reserved_connections)',
      for: "10m",
      severity: "warning",
      team: "data",
      summary: "{{ $labels.pod }} uses {{ $value }} connections, over 80 % of max_connections",
      description:
        "Client connections are close to max_connections minus the superuser reserve; new sessions will be refused.",
      runbook: runbook("PostgresConnectionsNearLimit"),
      cases: [
        {
          name: "fires at 90 % of the usable connections",
          series: [
            exporter("pg_stat_activity_count", "pg-0", "100x20", ',datname="healthcare",state="active"'),
            exporter("pg_stat_activity_count", "pg-0", "80x20", ',datname="healthcare",state="idle"'),
            exporter("pg_settings_max_connections", "pg-0", "203x20"),
            exporter("pg_settings_superuser_reserved_connections", "pg-0", "3x20"),
          ],
          at: "15m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-0" }, value: "180" }],
        },
        {
          name: "many small per-state series below the limit are fine",
          series: [
            exporter("pg_stat_activity_count", "pg-0", "30x20", ',datname="healthcare",state="active"'),
            exporter("pg_stat_activity_count", "pg-0", "40x20", ',datname="healthcare",state="idle"'),
            exporter("pg_stat_activity_count", "pg-0", "150x20", ',datname="",state=""'),
            exporter("pg_settings_max_connections", "pg-0", "203x20"),
            exporter("pg_settings_superuser_reserved_connections", "pg-0", "3x20"),
          ],
          at: "15m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PostgresReplicationLagBytes",
      // Seed 4's metric does not exist and its template (humanizeBytes) broke the whole file.
      expr: "max by (namespace, pod, application_name) (pg_stat_replication_pg_wal_lsn_diff) > 100e6",
      for: "2m",
      severity: "warning",
      team: "data",
      summary:
        "Replica {{ $labels.application_name }} is {{ $value | humanize1024 }}B behind {{ $labels.pod }}",
      description:
        "A standby lags more than 100 MB of WAL behind the primary; a failover to it would wait or lose more.",
      runbook: runbook("PostgresReplicationLagBytes"),
      cases: [
        {
          name: "fires at 200 MB",
          series: [
            exporter("pg_stat_replication_pg_wal_lsn_diff", "pg-0", "2e8x10", ',application_name="pg-1"'),
          ],
          at: "5m",
          expect: [
            { labels: { namespace: "hcp-data", pod: "pg-0", application_name: "pg-1" }, value: "190.7Mi" },
          ],
        },
        {
          name: "silent at 1 MB",
          series: [
            exporter("pg_stat_replication_pg_wal_lsn_diff", "pg-0", "1e6x10", ',application_name="pg-1"'),
          ],
          at: "5m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PostgresReplicationLagSeconds",
      expr: `max by (namespace, pod) (pg_replication_lag_seconds) > ${lagRpo} and on (namespace, pod) max by (namespace, pod) (pg_replication_is_replica) == 1`,
      for: "2m",
      severity: "warning",
      team: "data",
      summary: "{{ $labels.pod }} replays WAL {{ $value | humanizeDuration }} behind",
      description: `A replica has not replayed the primary's latest commits for more than ${lagRpo} s (archive_timeout, the RPO bound).`,
      runbook: runbook("PostgresReplicationLagSeconds"),
      cases: [
        {
          name: "fires on a replica 5 minutes behind",
          series: [
            exporter("pg_replication_lag_seconds", "pg-1", "300x10"),
            exporter("pg_replication_is_replica", "pg-1", "1x10"),
          ],
          at: "5m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-1" }, value: "5m 0s" }],
        },
        {
          name: "the primary's own (meaningless) lag value is ignored",
          series: [
            exporter("pg_replication_lag_seconds", "pg-0", "300x10"),
            exporter("pg_replication_is_replica", "pg-0", "0x10"),
          ],
          at: "5m",
          expect: [],
        },
      ],
    },
  ];
}

function patroniRules(inputs: LibraryInputs): AlertRule[] {
  const { ttlSeconds: ttl, loopWaitSeconds: loop, synchronousMode } = inputs.patroni;
  const noLeaderFor = ttl + loop;
  const strict = synchronousMode === "strict";
  const scope = { namespace: "hcp-data", scope: "pg-x" };
  return [
    {
      kind: "alert",
      alert: "PatroniNoLeader",
      // docs/runbooks/data-tier.md: a leader lost right after a promotion leaves no member allowed to
      // take over; a normal failover takes about ttl, so only a longer gap is reported.
      expr: "max by (namespace, scope) (patroni_primary) < 1 and on (namespace, scope) max by (namespace, scope) (patroni_standby_leader) < 1",
      for: duration(noLeaderFor),
      severity: "critical",
      team: "data",
      summary: "Patroni cluster {{ $labels.scope }} has no leader",
      description: `No member of {{ $labels.scope }} has run as leader for ${noLeaderFor} s (ttl + loop_wait): writes fail. If it follows a promotion, no replica may be allowed to take over (synchronous mode).`,
      runbook: { file: DATA.file, anchor: "no-leader-after-a-failure-that-closely-followed-a-promotion" },
      cases: [
        {
          name: "fires when the members run leaderless past ttl + loop_wait",
          interval: "5s",
          series: [
            member("patroni_primary", "pg-1", "0x20"),
            member("patroni_primary", "pg-2", "0x20"),
            member("patroni_standby_leader", "pg-1", "0x20"),
            member("patroni_standby_leader", "pg-2", "0x20"),
          ],
          at: "90s",
          expect: [{ labels: scope }],
        },
        {
          name: "a normal failover (new leader within ttl) is not reported",
          interval: "5s",
          series: [
            member("patroni_primary", "pg-0", "1 1 _x20"),
            member("patroni_primary", "pg-1", `0x${Math.ceil(ttl / 5)} 1x20`),
            member("patroni_standby_leader", "pg-1", "0x25"),
          ],
          at: "90s",
          expect: [],
        },
        {
          name: "a DR standby cluster with a standby leader is led",
          interval: "5s",
          series: [
            member("patroni_primary", "pg-1", "0x20"),
            member("patroni_standby_leader", "pg-1", "1x20"),
          ],
          at: "90s",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniLeaderChanged",
      // The timeline increments at every promotion, on every member, in Patroni 3 and 4 alike.
      expr: "max by (namespace, scope) (changes(patroni_postgres_timeline[10m])) > 0",
      for: "0s",
      severity: "critical",
      team: "data",
      summary: "Patroni cluster {{ $labels.scope }} promoted a new leader",
      description:
        "The timeline changed in the last 10 minutes: an unplanned failover (or a switchover). Check the old leader rejoined and that commits whose outcome was unknown were reconciled; with strict synchronous mode one more member loss stalls writes.",
      runbook: { file: DATA.file, anchor: "a-commit-failed-during-a-failover" },
      cases: [
        {
          name: "fires after a promotion",
          interval: "15s",
          series: [
            member("patroni_postgres_timeline", "pg-1", "1x8 2x8"),
            member("patroni_postgres_timeline", "pg-0", "1x8"),
          ],
          at: "3m",
          expect: [{ labels: scope }],
        },
        {
          name: "a member restarting on the same timeline is not a leader change",
          interval: "15s",
          series: [member("patroni_postgres_timeline", "pg-1", "1x8 _x4 1x8")],
          at: "4m",
          expect: [],
        },
        {
          name: "resolves 10 minutes later",
          interval: "1m",
          series: [member("patroni_postgres_timeline", "pg-1", "1x2 2x20")],
          at: "15m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniNoSynchronousStandby",
      expr: "max by (namespace, scope) (patroni_primary) == 1 unless on (namespace, scope) max by (namespace, scope) (patroni_sync_standby) == 1",
      for: "1m",
      severity: strict ? "critical" : "warning",
      team: "data",
      summary: "Patroni cluster {{ $labels.scope }} has no synchronous standby",
      description: strict
        ? "synchronous_mode_strict is on: the leader acknowledges no commit without a synchronous standby, so writes stall until a replica streams again."
        : "Commits are acknowledged with a single copy until a replica is synchronous again; a leader loss now loses them.",
      runbook: { file: DATA.file, anchor: "writes-stall-only-one-member-left-strict-synchronous-mode" },
      cases: [
        {
          name: "fires when only the leader is left",
          interval: "15s",
          series: [member("patroni_primary", "pg-0", "1x10"), member("patroni_sync_standby", "pg-1", "0x10")],
          at: "2m",
          expect: [{ labels: scope }],
        },
        {
          name: "the seconds after a promotion until a standby is named are not reported",
          interval: "15s",
          series: [
            member("patroni_primary", "pg-0", "1x10"),
            member("patroni_sync_standby", "pg-1", "0 0 1x8"),
          ],
          at: "2m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniPendingRestart",
      expr: "max by (namespace, pod) (patroni_pending_restart) == 1",
      for: "1h",
      severity: "warning",
      team: "data",
      summary: "{{ $labels.pod }} runs with settings that need a restart",
      description:
        "A changed PostgreSQL parameter takes effect only after a restart (patronictl restart, one member at a time).",
      runbook: runbook("PatroniPendingRestart"),
      cases: [
        {
          name: "fires after an hour",
          interval: "5m",
          series: [member("patroni_pending_restart", "pg-1", "1x20")],
          at: "70m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-1" } }],
        },
        {
          name: "a restart done within the hour is fine",
          interval: "5m",
          series: [member("patroni_pending_restart", "pg-1", "1x6 0x14")],
          at: "70m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniFailsafeActive",
      expr: "max by (namespace, scope) (patroni_failsafe_mode_is_active) == 1",
      for: "1m",
      severity: "critical",
      team: "data",
      summary: "Patroni cluster {{ $labels.scope }} lost its DCS and runs in failsafe mode",
      description:
        "The Kubernetes API (the DCS) is unreachable; the leader keeps running only while it reaches every member. Any further failure demotes it.",
      runbook: runbook("PatroniFailsafeActive"),
      cases: [
        {
          name: "fires while failsafe is active",
          interval: "15s",
          series: [member("patroni_failsafe_mode_is_active", "pg-0", "1x10")],
          at: "2m",
          expect: [{ labels: scope }],
        },
        {
          name: "silent when the DCS answers",
          interval: "15s",
          series: [member("patroni_failsafe_mode_is_active", "pg-0", "0x10")],
          at: "2m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniPaused",
      expr: "max by (namespace, scope) (patroni_is_paused) == 1",
      for: "1h",
      severity: "warning",
      team: "data",
      summary: "Patroni cluster {{ $labels.scope }} has automatic failover paused",
      description: "Maintenance mode has been on for an hour: a leader loss will not fail over.",
      runbook: runbook("PatroniPaused"),
      cases: [
        {
          name: "fires after an hour paused",
          interval: "5m",
          series: [member("patroni_is_paused", "pg-0", "1x20")],
          at: "70m",
          expect: [{ labels: scope }],
        },
        {
          name: "a short maintenance is fine",
          interval: "5m",
          series: [member("patroni_is_paused", "pg-0", "1x3 0x17")],
          at: "70m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PatroniMemberDown",
      expr: "max by (namespace, pod) (patroni_postgres_running) == 0",
      for: "5m",
      severity: "warning",
      team: "data",
      summary: "PostgreSQL is not running in member {{ $labels.pod }}",
      description: "Patroni answers but its PostgreSQL is stopped: the cluster runs one member short.",
      runbook: { file: DATA.file, anchor: "old-leader-does-not-rejoin" },
      cases: [
        {
          name: "fires after 5 minutes",
          series: [member("patroni_postgres_running", "pg-2", "0x10")],
          at: "7m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-2" } }],
        },
        {
          name: "a rejoin within minutes is fine",
          series: [member("patroni_postgres_running", "pg-2", "0 0 1x8")],
          at: "7m",
          expect: [],
        },
      ],
    },
  ];
}

function drRules(inputs: LibraryInputs): AlertRule[] {
  const rpo = inputs.archiveTimeoutSeconds;
  const drScope = { namespace: "hcp-data", scope: "pg-x" };
  return [
    {
      kind: "alert",
      alert: "DrStandbyLagAboveRpo",
      expr: `max by (namespace, pod) (pg_replication_lag_seconds) > ${rpo} and on (namespace, pod) max by (namespace, pod) (patroni_standby_leader) == 1`,
      for: "2m",
      severity: "critical",
      team: "data",
      summary: "DR standby leader {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the primary",
      description: `The standby cluster's leader lags more than the RPO target (${rpo} s = archive_timeout): a region loss now would lose more than the target.`,
      runbook: runbook("DrStandbyLagAboveRpo"),
      cases: [
        {
          name: "fires when the standby leader is 5 minutes behind",
          series: [
            exporter("pg_replication_lag_seconds", "pg-0", "300x10"),
            member("patroni_standby_leader", "pg-0", "1x10"),
          ],
          at: "5m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-0" }, value: "5m 0s" }],
        },
        {
          name: "a lagging cascaded replica of the standby is a replica alert, not an RPO breach",
          series: [
            exporter("pg_replication_lag_seconds", "pg-1", "300x10"),
            member("patroni_standby_leader", "pg-1", "0x10"),
          ],
          at: "5m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "DrStandbyNotStreaming",
      expr: "max by (namespace, scope) (patroni_standby_leader) == 1 unless on (namespace, scope) max by (namespace, scope) (patroni_postgres_streaming) == 1",
      for: "5m",
      severity: "critical",
      team: "data",
      summary: "DR standby cluster {{ $labels.scope }} is not streaming from the primary",
      description:
        "The standby leader has no WAL receiver: it only replays archived WAL (up to archive_timeout behind) or nothing at all. Check the peering path and the primary's replication endpoint.",
      runbook: runbook("DrStandbyNotStreaming"),
      cases: [
        {
          name: "fires when the standby leader stops streaming",
          series: [
            member("patroni_standby_leader", "pg-0", "1x10"),
            member("patroni_postgres_streaming", "pg-0", "0x10"),
          ],
          at: "7m",
          expect: [{ labels: drScope }],
        },
        {
          name: "a streaming standby is fine",
          series: [
            member("patroni_standby_leader", "pg-0", "1x10"),
            member("patroni_postgres_streaming", "pg-0", "1x10"),
          ],
          at: "7m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "DrArchiveFallbackInUse",
      expr: "max by (namespace, scope) (patroni_postgres_in_archive_recovery) == 1",
      for: "5m",
      severity: "warning",
      team: "data",
      summary: "DR standby cluster {{ $labels.scope }} replays WAL from the archive",
      description:
        "Streaming is down and the standby fetches WAL from its pgBackRest repository (restore_command): it stays up to archive_timeout behind.",
      runbook: runbook("DrArchiveFallbackInUse"),
      cases: [
        {
          name: "fires while replaying from the archive",
          series: [member("patroni_postgres_in_archive_recovery", "pg-0", "1x10")],
          at: "7m",
          expect: [{ labels: drScope }],
        },
        {
          name: "a brief fallback during a primary failover is fine",
          series: [member("patroni_postgres_in_archive_recovery", "pg-0", "1 1 0x8")],
          at: "7m",
          expect: [],
        },
      ],
    },
  ];
}

function backupRules(inputs: LibraryInputs): AlertRule[] {
  const fullDays = scheduleDays(inputs.backup.fullSchedule);
  const diffDays = scheduleDays(inputs.backup.diffSchedule);
  const fullLimit = (fullDays + 1) * 86400;
  const diffLimit = diffDays * 86400 + 2 * 3600;
  const archiveAge = 2 * inputs.archiveTimeoutSeconds;
  const backup = (type: string, values: string) => ({
    series: `pgbackrest_backup_since_last_completion_seconds{namespace="hcp-data",job="pgbackrest-exporter",pod="e",stanza="hcp-x",backup_type="${type}"}`,
    values,
  });
  const stanza = { stanza: "hcp-x" };
  return [
    {
      kind: "alert",
      alert: "PgbackrestFullBackupTooOld",
      expr: `min by (stanza) (pgbackrest_backup_since_last_completion_seconds{backup_type="full"}) > ${fullLimit}`,
      for: "30m",
      severity: "critical",
      team: "data",
      summary: "The last full backup of stanza {{ $labels.stanza }} is {{ $value | humanizeDuration }} old",
      description: `No full backup completed in ${fullDays + 1} days (schedule ${inputs.backup.fullSchedule}): point-in-time recovery needs ever longer WAL replays.`,
      runbook: runbook("PgbackrestFullBackupTooOld"),
      cases: [
        {
          name: "fires past the schedule plus a day",
          interval: "5m",
          series: [backup("full", `${fullLimit + 3600}x30`)],
          at: "2h",
          expect: [{ labels: stanza, value: humanizeDuration(fullLimit + 3600) }],
        },
        {
          name: "silent within the schedule",
          interval: "5m",
          series: [backup("full", "86400x30")],
          at: "2h",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PgbackrestDiffBackupTooOld",
      expr: `min by (stanza) (pgbackrest_backup_since_last_completion_seconds{backup_type="diff"}) > ${diffLimit}`,
      for: "30m",
      severity: "warning",
      team: "data",
      summary:
        "The last differential backup of stanza {{ $labels.stanza }} is {{ $value | humanizeDuration }} old",
      description: `No differential (or newer full) backup completed in ${diffDays * 24 + 2} hours (schedule ${inputs.backup.diffSchedule}).`,
      runbook: runbook("PgbackrestDiffBackupTooOld"),
      cases: [
        {
          name: "fires when a nightly run was missed",
          interval: "5m",
          series: [backup("diff", `${diffLimit + 3600}x30`)],
          at: "2h",
          expect: [{ labels: stanza, value: humanizeDuration(diffLimit + 3600) }],
        },
        {
          name: "silent the day after a run",
          interval: "5m",
          series: [backup("diff", "3600x30")],
          at: "2h",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PgbackrestStanzaError",
      expr: "max by (stanza) (pgbackrest_stanza_status) > 0",
      for: "15m",
      severity: "critical",
      team: "data",
      summary: "pgBackRest reports stanza {{ $labels.stanza }} unhealthy",
      description:
        "`pgbackrest info` returns an error status for the stanza (missing repository, mismatched system id, lock): backups and archive-get may fail.",
      runbook: runbook("PgbackrestStanzaError"),
      cases: [
        {
          name: "fires on an error status",
          series: [{ series: 'pgbackrest_stanza_status{stanza="hcp-x",pod="e"}', values: "2x30" }],
          at: "20m",
          expect: [{ labels: stanza }],
        },
        {
          name: "silent when ok",
          series: [{ series: 'pgbackrest_stanza_status{stanza="hcp-x",pod="e"}', values: "0x30" }],
          at: "20m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "WalArchiveFailing",
      expr: "sum by (namespace, pod) (increase(pg_stat_archiver_failed_count[10m])) > 0 and on (namespace, pod) max by (namespace, pod) (patroni_primary) == 1",
      for: "5m",
      severity: "critical",
      team: "data",
      summary: "WAL archiving fails on leader {{ $labels.pod }}",
      description:
        "archive_command (pgBackRest archive-push) keeps failing: WAL accumulates on the volume and the RPO to the other region grows.",
      runbook: runbook("WalArchiveFailing"),
      cases: [
        {
          name: "fires while archive-push fails",
          series: [
            exporter("pg_stat_archiver_failed_count", "pg-0", "0+1x20"),
            member("patroni_primary", "pg-0", "1x20"),
          ],
          at: "12m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-0" } }],
        },
        {
          name: "old failures on a replica's copy of the counter are not reported",
          series: [
            exporter("pg_stat_archiver_failed_count", "pg-1", "0+1x20"),
            member("patroni_primary", "pg-1", "0x20"),
          ],
          at: "12m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "WalArchiveTooOld",
      expr: `max by (namespace, pod) (pg_stat_archiver_last_archive_age) > ${archiveAge} and on (namespace, pod) max by (namespace, pod) (patroni_primary) == 1 and on (namespace, pod) max by (namespace, pod) (increase(patroni_xlog_location[5m])) > 0`,
      for: "2m",
      severity: "critical",
      team: "data",
      summary: "Leader {{ $labels.pod }} archived no WAL for {{ $value | humanizeDuration }}",
      description: `WAL is being written but the last archived segment is older than 2 × archive_timeout (${archiveAge} s): the DR repository is falling behind the RPO.`,
      runbook: runbook("WalArchiveTooOld"),
      cases: [
        {
          name: "fires when WAL is written but not archived",
          series: [
            exporter("pg_stat_archiver_last_archive_age", "pg-0", "0+60x20"),
            member("patroni_primary", "pg-0", "1x20"),
            member("patroni_xlog_location", "pg-0", "0+1000x20"),
          ],
          at: "10m",
          expect: [{ labels: { namespace: "hcp-data", pod: "pg-0" }, value: humanizeDuration(600) }],
        },
        {
          name: "an idle primary writing no WAL has nothing to archive",
          series: [
            exporter("pg_stat_archiver_last_archive_age", "pg-0", "0+60x20"),
            member("patroni_primary", "pg-0", "1x20"),
            member("patroni_xlog_location", "pg-0", "5000x20"),
          ],
          at: "10m",
          expect: [],
        },
      ],
    },
  ];
}

function pgbouncerRules(): AlertRule[] {
  const pool = (metric: string, values: string, pod = "b-0") => ({
    series: `${metric}{namespace="hcp-data",job="pgbouncer-exporter",pod="${pod}",database="healthcare",user="app"}`,
    values,
  });
  const db = (metric: string, values: string) => ({
    series: `${metric}{namespace="hcp-data",job="pgbouncer-exporter",pod="b-0",name="healthcare",database="healthcare"}`,
    values,
  });
  return [
    {
      kind: "alert",
      alert: "PgbouncerClientsWaiting",
      expr: "max by (namespace, pod, database) (pgbouncer_pools_client_maxwait_seconds) > 1",
      for: "2m",
      severity: "warning",
      team: "data",
      summary:
        "Clients of {{ $labels.database }} wait {{ $value }}s for a server connection in {{ $labels.pod }}",
      description:
        "Transactions queue in PgBouncer: the pool is too small for the load or PostgreSQL is slow.",
      runbook: runbook("PgbouncerClientsWaiting"),
      cases: [
        {
          name: "fires when clients wait seconds",
          series: [pool("pgbouncer_pools_client_maxwait_seconds", "3x10")],
          at: "5m",
          expect: [{ labels: { namespace: "hcp-data", pod: "b-0", database: "healthcare" }, value: "3" }],
        },
        {
          name: "a short queue is fine",
          series: [pool("pgbouncer_pools_client_maxwait_seconds", "0x10")],
          at: "5m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PgbouncerPoolSaturated",
      expr: "max by (namespace, pod, name) (pgbouncer_databases_current_connections / pgbouncer_databases_max_connections and pgbouncer_databases_max_connections > 0) > 0.9",
      for: "5m",
      severity: "warning",
      team: "data",
      summary:
        "PgBouncer {{ $labels.pod }} uses {{ $value | humanizePercentage }} of max_db_connections for {{ $labels.name }}",
      description:
        "The server-side pool is nearly exhausted; add PgBouncer replicas or raise the pool within max_connections.",
      runbook: runbook("PgbouncerPoolSaturated"),
      cases: [
        {
          name: "fires at 95 %",
          series: [
            db("pgbouncer_databases_current_connections", "81x10"),
            db("pgbouncer_databases_max_connections", "85x10"),
          ],
          at: "7m",
          expect: [{ labels: { namespace: "hcp-data", pod: "b-0", name: "healthcare" }, value: "95.29%" }],
        },
        {
          name: "unlimited (0) max_db_connections is not a division by zero alert",
          series: [
            db("pgbouncer_databases_current_connections", "81x10"),
            db("pgbouncer_databases_max_connections", "0x10"),
          ],
          at: "7m",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "PgbouncerDown",
      expr: '(max by (namespace) (pgbouncer_up) == 0) or (sum by (namespace) (up{job="pgbouncer-exporter"}) == 0)',
      for: "2m",
      severity: "critical",
      team: "data",
      summary: "No PgBouncer of {{ $labels.namespace }} reaches its admin console",
      description: "Every PgBouncer pod is down or unresponsive: applications cannot reach the database.",
      runbook: runbook("PgbouncerDown"),
      cases: [
        {
          name: "fires when every pooler is down",
          series: [
            { series: 'up{namespace="hcp-data",job="pgbouncer-exporter",pod="b-0"}', values: "0x10" },
            { series: 'up{namespace="hcp-data",job="pgbouncer-exporter",pod="b-1"}', values: "0x10" },
          ],
          at: "5m",
          expect: [{ labels: { namespace: "hcp-data" } }],
        },
        {
          name: "one pooler of two down is not an outage",
          series: [
            { series: 'up{namespace="hcp-data",job="pgbouncer-exporter",pod="b-0"}', values: "0x10" },
            { series: 'up{namespace="hcp-data",job="pgbouncer-exporter",pod="b-1"}', values: "1x10" },
            pool("pgbouncer_up", "1x10", "b-1"),
          ],
          at: "5m",
          expect: [],
        },
      ],
    },
  ];
}

function certificateRules(): AlertRule[] {
  const expiry = (values: string) => ({
    series:
      'certmanager_certificate_expiration_timestamp_seconds{namespace="hcp-data",name="postgres",pod="cm"}',
    values,
  });
  const cert = { namespace: "hcp-data", name: "postgres" };
  return [
    {
      kind: "alert",
      alert: "CertificateExpiringSoon",
      expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time() < 21 * 86400",
      for: "1h",
      severity: "warning",
      team: "platform",
      summary:
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}",
      description:
        "cert-manager renews 30 days before expiry; less than 21 days left means renewals are failing.",
      runbook: { file: DATA.file, anchor: "certificates-renewed" },
      cases: [
        {
          name: "fires 10 days before expiry",
          interval: "5m",
          series: [expiry("864000x30")],
          at: "2h",
          expect: [{ labels: cert, value: humanizeDuration(864000 - 7200) }],
        },
        {
          name: "silent 60 days before expiry",
          interval: "5m",
          series: [expiry("5184000x30")],
          at: "2h",
          expect: [],
        },
      ],
    },
    {
      kind: "alert",
      alert: "CertificateExpiryCritical",
      expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time() < 7 * 86400",
      for: "10m",
      severity: "critical",
      team: "platform",
      summary:
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}",
      description: "Less than a week is left: TLS between the tiers (verify-full) breaks at expiry.",
      runbook: { file: DATA.file, anchor: "certificates-renewed" },
      cases: [
        {
          name: "fires 3 days before expiry",
          series: [expiry("259200x30")],
          at: "20m",
          expect: [{ labels: cert, value: humanizeDuration(259200 - 1200) }],
        },
        { name: "silent 10 days before expiry", series: [expiry("864000x30")], at: "20m", expect: [] },
      ],
    },
    {
      kind: "alert",
      alert: "CertificateNotReady",
      expr: 'max by (namespace, name) (certmanager_certificate_ready_status{condition="False"}) == 1',
      for: "15m",
      severity: "warning",
      team: "platform",
      summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready",
      description:
        "cert-manager cannot issue or renew the certificate (check the Certificate's events and its Issuer).",
      runbook: runbook("CertificateNotReady"),
      cases: [
        {
          name: "fires when not ready",
          series: [
            {
              series:
                'certmanager_certificate_ready_status{namespace="hcp-data",name="postgres",condition="False"}',
              values: "1x30",
            },
          ],
          at: "20m",
          expect: [{ labels: cert }],
        },
        {
          name: "silent when ready",
          series: [
            {
              series:
                'certmanager_certificate_ready_status{namespace="hcp-data",name="postgres",condition="False"}',
              values: "0x30",
            },
          ],
          at: "20m",
          expect: [],
        },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// SLOs: multi-window, multi-burn-rate (Google SRE workbook, ch. 5)
// ---------------------------------------------------------------------------------------------

const SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

function sloRecordings(s: HttpService, inputs: LibraryInputs): RecordingRule[] {
  const sel = `job="${s.job}",namespace="${s.namespace}"`;
  const unit = s.durationUnit === "milliseconds" ? 1000 : 1;
  const le = String(inputs.slo.latencyThresholdSeconds * unit);
  const count = s.durationBucket.replace(/_bucket$/, "_count");
  return SLO_WINDOWS.flatMap((w): RecordingRule[] => [
    {
      kind: "record",
      record: `slo:request_errors:ratio_rate${w}`,
      expr: `sum by (namespace, job) (rate(${s.requestsTotal}{${sel},${s.statusLabel}=~"5.."}[${w}])) / sum by (namespace, job) (rate(${s.requestsTotal}{${sel}}[${w}]))`,
    },
    {
      kind: "record",
      record: `slo:request_slow:ratio_rate${w}`,
      expr: `1 - sum by (namespace, job) (rate(${s.durationBucket}{${sel},le="${le}"}[${w}])) / sum by (namespace, job) (rate(${count}{${sel}}[${w}]))`,
    },
  ]);
}

function burnAlerts(s: HttpService, inputs: LibraryInputs): AlertRule[] {
  const id = { job: s.job, namespace: s.namespace };
  const sel = `job="${s.job}",namespace="${s.namespace}"`;
  const avBudget = Number((1 - inputs.slo.availabilityPercent / 100).toPrecision(6));
  const latBudget = Number((1 - inputs.slo.latencyObjectivePercent / 100).toPrecision(6));
  const unit = s.durationUnit === "milliseconds" ? 1000 : 1;
  const le = String(inputs.slo.latencyThresholdSeconds * unit);
  const count = s.durationBucket.replace(/_bucket$/, "_count");
  const ratio = (kind: string, w: string) => `slo:${kind}:ratio_rate${w}{${sel}}`;
  const pair = (kind: string, long: string, short: string, factor: number, budget: number) =>
    `(${ratio(kind, long)} > ${factor} * ${budget} and ${ratio(kind, short)} > ${factor} * ${budget})`;
  const requests = (status: string, values: string) => ({
    series: `${s.requestsTotal}{${sel},pod="a",${s.statusLabel}="${status}"}`,
    values,
  });
  const latency = (bound: string, values: string) => ({
    series: `${s.durationBucket}{${sel},pod="a",le="${bound}"}`,
    values,
  });
  const total = (values: string) => ({ series: `${count}{${sel},pod="a"}`, values });
  const make = (
    alert: string,
    kind: "request_errors" | "request_slow",
    speed: "fast" | "slow",
    budget: number,
    what: string,
    firing: AlertRule["cases"][number]["series"],
    quiet: AlertRule["cases"][number]["series"],
    quietName: string,
  ): AlertRule => ({
    kind: "alert",
    alert,
    expr:
      speed === "fast"
        ? `${pair(kind, "1h", "5m", 14.4, budget)} or ${pair(kind, "6h", "30m", 6, budget)}`
        : `${pair(kind, "1d", "2h", 3, budget)} or ${pair(kind, "3d", "6h", 1, budget)}`,
    for: speed === "fast" ? "2m" : "15m",
    severity: speed === "fast" ? "critical" : "warning",
    team: "app",
    labels: { slo: kind === "request_errors" ? "availability" : "latency" },
    summary: `{{ $labels.job }} burns its ${what} error budget ${speed === "fast" ? "fast" : "steadily"}`,
    description:
      speed === "fast"
        ? `At this rate the 30-day ${what} budget (${(budget * 100).toPrecision(3)} % of requests) is gone in about 2 days (14.4× over 1 h and 5 m) or 5 days (6× over 6 h and 30 m).`
        : `At this rate the 30-day ${what} budget (${(budget * 100).toPrecision(3)} % of requests) is gone within the month (3× over 1 d and 2 h, or 1× over 3 d and 6 h).`,
    runbook: runbook(alert),
    cases: [
      {
        name: `fires on a sustained ${what} failure`,
        interval: "5m",
        series: firing,
        at: speed === "fast" ? "2h" : "3h",
        expect: [{ labels: id }],
      },
      { name: quietName, interval: "5m", series: quiet, at: speed === "fast" ? "2h" : "3h", expect: [] },
    ],
  });
  // A ratio of rates does not depend on how much of the window holds data, so the slow pairs (1 d / 3 d
  // windows) are exercised on 3 h of 5-minute samples: promtool evaluates every rule at every step up
  // to the case's time, and 3 days of steps take minutes without testing anything more.
  const slowSteps = 40;
  return [
    make(
      "AppAvailabilityBudgetBurnFast",
      "request_errors",
      "fast",
      avBudget,
      "availability",
      [requests("500", "0+30x30"), requests("200", "0+970x30")],
      [requests("500", "0+1x30"), requests("200", "0+99999x30")],
      "errors well inside the budget do not page",
    ),
    make(
      "AppAvailabilityBudgetBurnSlow",
      "request_errors",
      "slow",
      avBudget,
      "availability",
      [requests("500", `0+1x${slowSteps}`), requests("200", `0+2000x${slowSteps}`)],
      [requests("500", `0+1x${slowSteps}`), requests("200", `0+99999x${slowSteps}`)],
      "a 0.001 % error ratio is within a 99.99 % objective",
    ),
    make(
      "AppLatencyBudgetBurnFast",
      "request_slow",
      "fast",
      latBudget,
      "latency",
      [latency(le, "0+500x30"), total("0+1000x30")],
      [latency(le, "0+999x30"), total("0+1000x30")],
      "0.1 % slow requests do not page against a 1 % budget",
    ),
    make(
      "AppLatencyBudgetBurnSlow",
      "request_slow",
      "slow",
      latBudget,
      "latency",
      [latency(le, `0+950x${slowSteps}`), total(`0+1000x${slowSteps}`)],
      [latency(le, `0+999x${slowSteps}`), total(`0+1000x${slowSteps}`)],
      "slow requests within the budget are fine",
    ),
  ];
}

/** The Watchdog: always firing, so a silent pipeline is noticed (CloudWatch alarms on its absence). */
function watchdog(): AlertRule {
  return {
    kind: "alert",
    alert: "Watchdog",
    expr: "vector(1)",
    for: "0s",
    severity: "none",
    team: "platform",
    summary: "The alerting pipeline works",
    description:
      "Always firing. Alertmanager repeats it every minute to the heartbeat receiver (a dead man's switch URL from Secrets Manager), which raises an incident outside this region when the heartbeats stop.",
    runbook: runbook("Watchdog"),
    cases: [
      { name: "always fires", series: [], at: "1m", expect: [{ labels: {} }] },
      {
        name: "fires whatever else is scraped",
        series: [{ series: 'up{job="x"}', values: "0x3" }],
        at: "2m",
        expect: [{ labels: {} }],
      },
    ],
  };
}

/** Compliance alerts on deadlines of hours or days. */
const DEADLINES = new Set(["KeyRotationOverdue", "ConsentWithdrawalOverdue", "DataPortabilityOverdue"]);

/** The platform's rule groups for an environment's region. */
export function ruleLibrary(inputs: LibraryInputs): RuleGroup[] {
  const compliance = complianceRules();
  const groups: RuleGroup[] = [
    { name: "hcp.meta", rules: [watchdog()] },
    { name: "hcp.kubernetes", rules: kubernetesRules() },
    { name: "hcp.certificates", rules: certificateRules() },
    { name: "hcp.data.postgres", rules: postgresRules(inputs) },
    { name: "hcp.data.patroni", interval: "15s", rules: patroniRules(inputs) },
    { name: "hcp.data.dr", rules: drRules(inputs) },
    { name: "hcp.data.backups", interval: "1m", rules: backupRules(inputs) },
    { name: "hcp.data.pgbouncer", rules: pgbouncerRules() },
    { name: "hcp.compliance", interval: "1m", rules: compliance.filter((r) => !DEADLINES.has(r.alert)) },
    // Deadlines of hours and days: every 5 minutes is precise enough.
    {
      name: "hcp.compliance.deadlines",
      interval: "5m",
      rules: compliance.filter((r) => DEADLINES.has(r.alert)),
    },
  ];
  for (const s of inputs.services) {
    groups.push({ name: `hcp.app.${s.job}`, rules: appRules(s, inputs) });
    // Long-window ratios are costly and move slowly: once a minute is enough for 2 m / 15 m `for`s.
    groups.push({ name: `hcp.slo.${s.job}.recordings`, interval: "1m", rules: sloRecordings(s, inputs) });
    groups.push({ name: `hcp.slo.${s.job}.alerts`, interval: "1m", rules: burnAlerts(s, inputs) });
  }
  return groups;
}
