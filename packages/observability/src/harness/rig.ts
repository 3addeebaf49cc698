import { type EnvironmentTopology, type MetricsEndpoint, primaryRegion } from "@hcp/platform";
import {
  DATA_TIER_TLS_SECRETS,
  dataTierMetricsEndpoints,
  exporterFamily,
  PATHS,
  PORTS,
  postgresExporterContainer,
  renderArtifacts,
  type RenderedArtifacts,
  SYSTEM_USERS,
} from "@hcp/postgres";
import {
  freePorts,
  type Proc,
  queryOnce,
  type RenderedCluster,
  renderedCluster,
  type Sandbox,
  testPassword,
  waitFor,
} from "@hcp/postgres/harness";
import { alertmanagerConfig } from "../alertmanager";
import {
  alertsOf,
  HEALTHCARE_APP,
  libraryInputs,
  renderContext,
  type RuleGroup,
  ruleFileYaml,
  ruleLibrary,
} from "../rules";
import {
  localizeAlertmanager,
  localizeExporterUri,
  localPrometheusConfig,
  type LocalizedAlertmanager,
  POSTGRES_EXPORTER_0_11_QUERIES,
} from "./localize";
import {
  PrometheusApi,
  startAlertmanager,
  startPostgresExporter,
  startPrometheus,
  WebhookReceiver,
} from "./processes";

/**
 * The whole alerting path on one machine, built from the rendered production artifacts: a 3-member
 * Patroni cluster from the rendered `patroni.yml` (`@hcp/postgres/harness`), a postgres_exporter per
 * member with the sidecar's settings, Prometheus scraping the data contract's metrics endpoints with
 * the product's rendered rule file, Alertmanager with the rendered routing whose notifiers post to a
 * local webhook. Every local difference is computed and printed.
 */

/** Where the local setup deviates from production and why, printed by the test and the benchmark. */
export interface RigReport {
  readonly patroni: string;
  readonly exporter: string;
  readonly prometheus: string;
  readonly alertmanager: string;
}

export interface AlertingRig {
  readonly sandbox: Sandbox;
  readonly artifacts: RenderedArtifacts;
  readonly rc: RenderedCluster;
  readonly groups: readonly RuleGroup[];
  readonly prometheus: PrometheusApi;
  readonly alertmanagerPort: number;
  readonly webhook: WebhookReceiver;
  readonly alertmanager: LocalizedAlertmanager;
  /** postgres_exporter process of each member (the pod's sidecar: dies with the node). */
  readonly exporters: ReadonlyMap<string, Proc>;
  /** The data contract's endpoints the local Prometheus scrapes (Patroni, postgres_exporter). */
  readonly endpoints: readonly MetricsEndpoint[];
  readonly settings: {
    readonly scrapeIntervalSeconds: number;
    readonly evaluationIntervalSeconds: number;
    readonly externalLabels: Readonly<Record<string, string>>;
  };
  readonly leader: string;
  readonly report: RigReport;
  /** Stops the webhook server (every process is stopped by `sandbox.cleanup()`). */
  close(): Promise<void>;
}

export interface AlertingRigOptions {
  readonly sandbox: Sandbox;
  readonly topology: EnvironmentTopology;
  /** The region whose data tier is booted. @default - the environment's primary region */
  readonly region?: string;
}

/** The data contract's endpoints served on this machine (pgBouncer / pgBackRest exporters are not run). */
const LOCAL_ENDPOINTS = ["patroni", "postgres-exporter"];

export async function startAlertingRig(options: AlertingRigOptions): Promise<AlertingRig> {
  const { sandbox, topology } = options;
  const region = options.region ?? primaryRegion(topology).name;
  const o = topology.observability;
  const artifacts = renderArtifacts(topology, region);
  const names = artifacts.names;
  const rc = await renderedCluster({ sandbox, rendered: artifacts.patroni });
  const webhook = new WebhookReceiver();
  try {
    rc.cluster.startAll();
    const leader = await rc.cluster.waitHealthy(240_000, undefined, {
      syncStandby: artifacts.patroni.config.bootstrap.dcs.synchronous_mode,
    });

    // The metrics role exactly as the bootstrap SQL creates it (pg_monitor), with a test password;
    // like the bootstrap Job, statement logging and pgaudit are off in the session that sets it.
    const monitoringPassword = testPassword();
    await queryOnce(
      rc.cluster.target(leader),
      [
        "SET log_statement = 'none'",
        "SET pgaudit.log = 'none'",
        `CREATE ROLE ${SYSTEM_USERS.monitoring} LOGIN PASSWORD '${monitoringPassword}'`,
        `GRANT pg_monitor TO ${SYSTEM_USERS.monitoring}`,
      ].join("; "),
    );

    const endpoints = dataTierMetricsEndpoints(names, {
      postgresTlsSecretName: DATA_TIER_TLS_SECRETS.postgres,
      postgresExporterFamily: exporterFamily("postgres_exporter", o.exporters.postgres),
    }).filter((e) => LOCAL_ENDPOINTS.includes(e.name));

    // postgres_exporter: the sidecar's container spec, localized.
    const sidecar = postgresExporterContainer({
      image: o.exporters.postgres,
      credentialsSecretName: "unused-locally",
    });
    // The component's inputs are plain values here (no Outputs): read them as such.
    const sidecarEnv = sidecar.env as unknown as ReadonlyArray<{ name: string; value?: unknown }> | undefined;
    const sidecarArgs = sidecar.args as unknown as readonly string[] | undefined;
    const renderedUri = sidecarEnv?.find((e) => e.name === "DATA_SOURCE_URI")?.value;
    const renderedListen = sidecarArgs
      ?.find((a) => a.startsWith("--web.listen-address="))
      ?.slice("--web.listen-address=".length);
    if (typeof renderedUri !== "string" || renderedListen === undefined) {
      throw new Error(
        "postgres_exporter sidecar: no DATA_SOURCE_URI / --web.listen-address in the rendered container",
      );
    }
    const queryFile = sandbox.writeFile("exporter-queries.yml", POSTGRES_EXPORTER_0_11_QUERIES, 0o644);
    const [promPort, amPort, ...exporterPorts] = await freePorts(2 + rc.cluster.members.length);
    const exporters = new Map<string, Proc>();
    const exporterTargets: Array<{ pod: string; address: string }> = [];
    let exporterReport = "";
    for (const [i, m] of rc.cluster.members.entries()) {
      const local = localizeExporterUri(
        { uri: renderedUri, listen: renderedListen },
        {
          renderedPort: PORTS.postgres,
          renderedSocketDir: PATHS.socketDir,
          pgPort: m.pgPort,
          socketDir: m.socketDir ?? "",
          listenPort: exporterPorts[i],
        },
      );
      if (i === 0) exporterReport = local.report;
      exporters.set(
        m.name,
        await startPostgresExporter(sandbox, `${m.name}-postgres-exporter`, {
          listen: local.listen,
          queryFile,
          env: {
            DATA_SOURCE_URI: local.uri,
            DATA_SOURCE_USER: SYSTEM_USERS.monitoring,
            DATA_SOURCE_PASS: monitoringPassword,
          },
        }),
      );
      exporterTargets.push({ pod: m.name, address: local.listen });
    }

    // Alertmanager: the rendered configuration, notifiers pointed at the webhook.
    await webhook.start();
    const rendered = alertmanagerConfig({
      // Deploy-time values; the SNS integrations that use them are replaced by the webhook.
      alertTopicArn: "<deploy:alertTopicArn>",
      heartbeatTopicArn: "<deploy:heartbeatTopicArn>",
      region,
      environment: topology.name,
    });
    const am = localizeAlertmanager(rendered, webhook.base);
    await startAlertmanager(sandbox, JSON.stringify(am.config, null, 2), amPort);

    // Prometheus: production intervals, the product's rule file exactly as index.ts renders it.
    const groups = ruleLibrary(libraryInputs(topology, [HEALTHCARE_APP]));
    const ruleFile = sandbox.writeFile(
      "prometheus/hcp.rules.yml",
      ruleFileYaml(groups, renderContext(topology)),
      0o644,
    );
    const externalLabels = { cluster: `local-${names.scope}`, environment: topology.name };
    const settings = {
      scrapeIntervalSeconds: o.prometheus.scrapeIntervalSeconds,
      evaluationIntervalSeconds: o.prometheus.evaluationIntervalSeconds,
      externalLabels,
    };
    const patroniTargets = rc.cluster.members.map((m) => ({
      pod: m.name,
      address: `127.0.0.1:${m.restPort}`,
    }));
    const config = localPrometheusConfig({
      ...settings,
      ruleFiles: [ruleFile],
      alertmanager: `127.0.0.1:${amPort}`,
      scrapes: endpoints.map((endpoint) =>
        endpoint.name === "patroni"
          ? { endpoint, targets: patroniTargets, tls: { caFile: rc.tls.caFile, serverName: "localhost" } }
          : { endpoint, targets: exporterTargets },
      ),
    });
    await startPrometheus(sandbox, config, promPort);
    const patroniEndpoint = endpoints.find((e) => e.name === "patroni");
    const report: RigReport = {
      patroni: rc.localized[0].report,
      exporter: [
        "    postgres_exporter (sidecar container of every member): Debian 0.11 for the image's " +
          `${o.exporters.postgres.tag}`,
        exporterReport,
        `      [role] ${SYSTEM_USERS.monitoring} created with pg_monitor and a test password (the bootstrap SQL's role)`,
        "      [exporter version] --extend.query-path: the 0.13+ replication collector's queries " +
          "(pg_replication_lag_seconds, _is_replica, _last_replay_seconds)",
      ].join("\n"),
      prometheus: [
        `    prometheus.yml: scrape ${settings.scrapeIntervalSeconds}s / evaluation ` +
          `${settings.evaluationIntervalSeconds}s (production values, unchanged); rule file = the ` +
          `product's (${groups.length} groups, ${alertsOf(groups).length} alerts, unchanged)`,
        "      [no Kubernetes discovery] one static job per data-contract endpoint with the PodMonitor " +
          `target labels (job=<name> as the monitor relabels it, namespace, pod, endpoint): ${endpoints
            .map((e) => `${e.namespace}/${e.name}`)
            .join(", ")}`,
        `      [TLS file location / name] Patroni /metrics verified against the test CA as 'localhost' ` +
          `(production: the tier's CA as ${patroniEndpoint?.tls?.serverName ?? "?"})`,
        `      [external labels] cluster=${externalLabels.cluster} (production: the EKS cluster name), ` +
          `environment=${externalLabels.environment}`,
        "      [not run here] pgbouncer / pgbackrest exporters, the application, kube-state-metrics",
      ].join("\n"),
      alertmanager: `${am.report}\n      [HA] one instance, gossip off (production: ${o.alertmanager.replicas} replicas)`,
    };
    return {
      sandbox,
      artifacts,
      rc,
      groups,
      prometheus: new PrometheusApi(promPort),
      alertmanagerPort: amPort,
      webhook,
      alertmanager: am,
      exporters,
      endpoints,
      settings,
      leader,
      report,
      close: () => webhook.close(),
    };
  } catch (error) {
    await webhook.close();
    throw error;
  }
}

/** Prints every local difference. */
export function formatRigReport(report: RigReport): string {
  return [report.patroni, report.exporter, report.prometheus, report.alertmanager].join("\n");
}

/**
 * Waits until Prometheus scrapes every local target healthily (at least twice), every exporter
 * reaches its PostgreSQL, and the rules have been evaluated on that data once more.
 */
export async function waitScraped(rig: AlertingRig, timeoutMs = 180_000): Promise<void> {
  const expected = rig.endpoints.length * rig.rc.cluster.members.length;
  await waitFor(
    `Prometheus scraping ${expected} healthy targets twice and pg_up == 1 on every member`,
    async () => {
      const targets = await rig.prometheus.targets();
      if (targets.length !== expected || targets.some((t) => t.health !== "up")) return undefined;
      const twice = await rig.prometheus.vector("count_over_time(up[2m]) >= 2");
      if (twice.length !== expected) return undefined;
      const pgUp = await rig.prometheus.vector("pg_up == 1");
      return pgUp.length === rig.rc.cluster.members.length ? true : undefined;
    },
    {
      timeoutMs,
      intervalMs: 1_000,
      detail: () => rig.rc.cluster.logs(5),
    },
  );
  // One more evaluation of every group on complete data.
  await new Promise((r) => setTimeout(r, (rig.settings.evaluationIntervalSeconds + 1) * 1000));
}
