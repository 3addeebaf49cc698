import { type AllowedChange, assertOnlyAllowed, diffValues, formatChanges } from "@hcp/postgres/harness";
import type { MetricsEndpoint } from "@hcp/platform";
import { stringify } from "yaml";
import { monitorObject } from "../values";
import { producedJobs } from "../monitorJobs";

/**
 * Pure localization of the rendered monitoring configuration for one machine (loopback): what the
 * real-failover test and `pnpm bench:alerting` run instead of the cluster's Prometheus and
 * Alertmanager. Like the data tier's `localizePatroni`, every change is computed by diff from the
 * rendered value and must fall in an allowed category, and the list is printed.
 */

/** One notification integration of the rendered Alertmanager configuration. */
const INTEGRATIONS = ["pagerduty_configs", "slack_configs", "sns_configs", "webhook_configs"] as const;

/** The short name of an integration in a webhook path (`pagerduty_configs` → `pagerduty`). */
export function integrationName(key: (typeof INTEGRATIONS)[number]): string {
  return key.replace(/_configs$/, "");
}

/** The localized Alertmanager configuration, the diff against the rendered one and its printout. */
export interface LocalizedAlertmanager {
  readonly config: Record<string, unknown>;
  readonly changes: ReturnType<typeof assertOnlyAllowed>;
  readonly report: string;
  /** Webhook path of every integration: `/<receiver>/<integration>` → receiver name. */
  readonly paths: Readonly<Record<string, string>>;
}

const ALERTMANAGER_ALLOWED: AllowedChange[] = [
  {
    reason: "notifier: PagerDuty / Slack / SNS integration → the test's webhook (same receiver)",
    paths: /^receivers\[\d+\]\.(pagerduty|slack|sns|webhook)_configs(\[\d+\](\..+)?)?$/,
  },
];

/**
 * The rendered Alertmanager configuration with every receiver's integrations (PagerDuty Events v2,
 * Slack, SNS) replaced by one webhook each, at `<webhookBase>/<receiver>/<integration>`, keeping
 * `send_resolved`. Receiver names, the route tree (matchers, grouping, group_wait / interval,
 * repeat), inhibition and global settings are unchanged, and the diff proves it.
 */
export function localizeAlertmanager(
  rendered: Readonly<Record<string, unknown>>,
  webhookBase: string,
): LocalizedAlertmanager {
  const config = JSON.parse(JSON.stringify(rendered)) as Record<string, unknown>;
  const paths: Record<string, string> = {};
  const receivers = config.receivers as Array<Record<string, unknown>>;
  for (const receiver of receivers) {
    const name = String(receiver.name);
    const webhooks: Array<Record<string, unknown>> = [];
    for (const key of INTEGRATIONS) {
      const list = receiver[key] as Array<Record<string, unknown>> | undefined;
      if (list === undefined) continue;
      delete receiver[key];
      list.forEach((integration, i) => {
        const path = `/${name}/${integrationName(key)}${list.length > 1 ? `-${i}` : ""}`;
        paths[path] = name;
        webhooks.push({
          url: `${webhookBase}${path}`,
          send_resolved: integration.send_resolved === true,
        });
      });
    }
    if (webhooks.length > 0) receiver.webhook_configs = webhooks;
  }
  const changes = assertOnlyAllowed("alertmanager.yml", diffValues(rendered, config), ALERTMANAGER_ALLOWED);
  const names = receivers.map((r) => String(r.name));
  return { config, changes, report: summarize("alertmanager.yml", changes, names), paths };
}

/** Groups a long diff of integrations by receiver (one line each) instead of one line per key. */
function summarize(
  artifact: string,
  changes: ReturnType<typeof assertOnlyAllowed>,
  receiverNames: readonly string[],
): string {
  const byReceiver = new Map<string, Set<string>>();
  const other: typeof changes = [];
  for (const c of changes) {
    const m = /^receivers\[(\d+)\]\.([a-z]+)_configs/.exec(c.path);
    if (!m) {
      other.push(c);
      continue;
    }
    const key = `receivers[${m[1]}] ${receiverNames[Number(m[1])] ?? "?"}`;
    const set = byReceiver.get(key) ?? new Set<string>();
    set.add(`${m[2]} ${c.kind === "added" ? "+" : c.kind === "removed" ? "-" : "~"}`);
    byReceiver.set(key, set);
  }
  const lines = [`    ${artifact}: ${changes.length} key(s) differ from the rendered configuration`];
  for (const [receiver, set] of byReceiver) {
    lines.push(`      [notifier → test webhook] ${receiver}: ${[...set].join(", ")}`);
  }
  if (other.length > 0) lines.push(formatChanges(artifact, other));
  lines.push(
    "      unchanged: global, route (tree, matchers, group_by/wait/interval, repeat), inhibit_rules",
  );
  return lines.join("\n");
}

/** A local scrape target standing in for one pod of a producer's `MetricsEndpoint`. */
export interface LocalTarget {
  /** The pod the target stands in for (a PodMonitor's `pod` label). */
  readonly pod: string;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
}

/** Everything the local Prometheus needs. */
export interface LocalPrometheusInputs {
  readonly scrapeIntervalSeconds: number;
  readonly evaluationIntervalSeconds: number;
  /** The external labels production sets (`cluster`, `environment`), with local values. */
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly ruleFiles: readonly string[];
  readonly alertmanager: string;
  readonly scrapes: ReadonlyArray<{
    readonly endpoint: MetricsEndpoint;
    readonly targets: readonly LocalTarget[];
    /** For HTTPS endpoints: the CA file and the name on the local certificate. */
    readonly tls?: { readonly caFile: string; readonly serverName: string };
  }>;
}

/** The `job` the endpoint's monitor gives its targets (derived from the monitor this layer renders). */
function localJob(e: MetricsEndpoint, scrapeIntervalSeconds: number): string {
  const m = monitorObject(e, scrapeIntervalSeconds);
  const [job] = producedJobs({
    kind: m.kind,
    metadata: { name: e.name, namespace: e.namespace },
    spec: m.spec,
  });
  if (!job || !("job" in job))
    throw new Error(`the job of ${e.namespace}/${e.name} is not known: ${JSON.stringify(job)}`);
  return job.job;
}

/**
 * prometheus.yml standing in for what prometheus-operator generates from the PodMonitors of the
 * producers' endpoints: one job per endpoint, with the labels the operator gives a PodMonitor target
 * (`job` as the monitor's relabeling sets it: the endpoint's name; `namespace`, `pod`, `endpoint` =
 * the port name) as static labels, since there is no Kubernetes service discovery on this machine.
 */
export function localPrometheusConfig(inputs: LocalPrometheusInputs): string {
  const config = {
    global: {
      scrape_interval: `${inputs.scrapeIntervalSeconds}s`,
      evaluation_interval: `${inputs.evaluationIntervalSeconds}s`,
      external_labels: { ...inputs.externalLabels },
    },
    rule_files: [...inputs.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [inputs.alertmanager] }] }] },
    scrape_configs: inputs.scrapes.map(({ endpoint: e, targets, tls }) => {
      if (e.scheme === "https" && tls === undefined) {
        throw new Error(`endpoint ${e.namespace}/${e.name} is HTTPS: give the local CA and server name`);
      }
      return {
        job_name: `${e.namespace}/${e.name}`,
        scheme: e.scheme,
        metrics_path: e.path,
        ...(tls ? { tls_config: { ca_file: tls.caFile, server_name: tls.serverName } } : {}),
        static_configs: targets.map((t) => ({
          targets: [t.address],
          labels: {
            job: localJob(e, inputs.scrapeIntervalSeconds),
            namespace: e.namespace,
            pod: t.pod,
            endpoint: e.port,
          },
        })),
      };
    }),
  };
  return stringify(config, { lineWidth: 0 });
}

/**
 * Queries for Debian's postgres_exporter 0.11 (`--extend.query-path`): the `replication` collector
 * that postgres_exporter 0.13+ (the production image: 0.17) has built in, with the same SQL and so
 * the same metric names (`pg_replication_lag_seconds`, `pg_replication_is_replica`,
 * `pg_replication_last_replay_seconds`; a query `pg_replication` with column `x` yields
 * `pg_replication_x`). The rules read these names; 0.11 would otherwise not serve them, and the
 * rules are never rewritten for the older exporter.
 */
export const POSTGRES_EXPORTER_0_11_QUERIES = stringify(
  {
    pg_replication: {
      query: [
        "SELECT",
        "  CASE WHEN NOT pg_is_in_recovery() THEN 0",
        "       WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0",
        "       ELSE GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END AS lag_seconds,",
        "  CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica,",
        "  GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) AS last_replay_seconds",
      ].join("\n"),
      master: true,
      metrics: [
        { lag_seconds: { usage: "GAUGE", description: "Replication lag behind primary in seconds" } },
        { is_replica: { usage: "GAUGE", description: "Indicates if the server is a replica" } },
        {
          last_replay_seconds: {
            usage: "GAUGE",
            description: "Age of last transaction replay in seconds",
          },
        },
      ],
    },
  },
  { lineWidth: 0 },
);

/**
 * The postgres_exporter sidecar's `DATA_SOURCE_URI` and listen address (rendered for the pod) turned
 * into a local member's: the member's PostgreSQL port and socket directory, a loopback listen port.
 * Returns the values and the printed list of what changed.
 */
export function localizeExporterUri(
  rendered: { readonly uri: string; readonly listen: string },
  local: {
    readonly renderedPort: number;
    readonly renderedSocketDir: string;
    readonly pgPort: number;
    readonly socketDir: string;
    readonly listenPort: number;
  },
): { readonly uri: string; readonly listen: string; readonly report: string } {
  const uri = rendered.uri
    .replace(`port=${local.renderedPort}&`, `port=${local.pgPort}&`)
    .replace(`host=${local.renderedSocketDir}&`, `host=${local.socketDir}&`);
  const expected = `/postgres?port=${local.pgPort}&host=${local.socketDir}&sslmode=disable`;
  if (uri !== expected) {
    throw new Error(
      `postgres_exporter DATA_SOURCE_URI '${rendered.uri}' is not the form this harness localizes`,
    );
  }
  const listen = `127.0.0.1:${local.listenPort}`;
  return {
    uri,
    listen,
    report: [
      `      [port / socket path] DATA_SOURCE_URI: ${rendered.uri} -> ${uri}`,
      `      [address/port: loopback] --web.listen-address: ${rendered.listen} -> ${listen}`,
    ].join("\n"),
  };
}

/** A route of Alertmanager's configuration (the fields the timers need). */
interface RouteNode {
  readonly receiver?: string;
  readonly matchers?: readonly string[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly continue?: boolean;
  readonly routes?: readonly RouteNode[];
}

function matches(matcher: string, labels: Readonly<Record<string, string>>): boolean {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(matcher);
  if (!m) throw new Error(`matcher form not supported here: ${matcher}`);
  const [, name, op, value] = m;
  const actual = labels[name] ?? "";
  switch (op) {
    case "=":
      return actual === value;
    case "!=":
      return actual !== value;
    case "=~":
      return new RegExp(`^(?:${value})$`).test(actual);
    default:
      return !new RegExp(`^(?:${value})$`).test(actual);
  }
}

/**
 * The receiver and `group_wait` Alertmanager applies to an alert with `labels` (first matching route
 * at each level, children inheriting unset timers), as `amtool config routes test` resolves the
 * receiver. Used to print the timer the benchmark attributes time to.
 */
export function effectiveRoute(
  config: Readonly<Record<string, unknown>>,
  labels: Readonly<Record<string, string>>,
): { readonly receiver: string; readonly groupWait: string } {
  let node = config.route as RouteNode;
  let receiver = node.receiver ?? "";
  let groupWait = node.group_wait ?? "30s";
  for (;;) {
    const child = (node.routes ?? []).find((r) => (r.matchers ?? []).every((m) => matches(m, labels)));
    if (!child) return { receiver, groupWait };
    receiver = child.receiver ?? receiver;
    groupWait = child.group_wait ?? groupWait;
    node = child;
  }
}
