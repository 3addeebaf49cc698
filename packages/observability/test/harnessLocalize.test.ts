import * as assert from "node:assert/strict";
import { PATHS, PORTS, postgresExporterContainer } from "@hcp/postgres";
import { repoTopology } from "@hcp/testing";
import { parse } from "yaml";
import { alertmanagerConfig } from "../src/alertmanager";
import {
  durationMs,
  effectiveRoute,
  localizeAlertmanager,
  localizeExporterUri,
  localPrometheusConfig,
  parseTimestamp,
  POSTGRES_EXPORTER_0_11_QUERIES,
} from "../src/harness";
import { METRIC_SOURCES } from "../src/rules";

/** The pure parts of `@hcp/observability/harness` (the processes run in test/integration). */
describe("harness: localizing the monitoring configuration", function () {
  const rendered = alertmanagerConfig({
    alertTopicArn: "<deploy:alertTopicArn>",
    heartbeatTopicArn: "<deploy:heartbeatTopicArn>",
    region: "sa-east-1",
    environment: "production",
  });

  it("points every notifier at the webhook and changes nothing else in Alertmanager's configuration", function () {
    const local = localizeAlertmanager(rendered, "http://127.0.0.1:9999");
    for (const key of ["global", "route", "inhibit_rules"]) {
      assert.deepEqual(local.config[key], rendered[key], `${key} must be unchanged`);
    }
    const before = rendered.receivers as Array<Record<string, unknown>>;
    const after = local.config.receivers as Array<Record<string, unknown>>;
    assert.deepEqual(
      after.map((r) => r.name),
      before.map((r) => r.name),
    );
    for (const [i, r] of after.entries()) {
      const integrations = ["pagerduty_configs", "slack_configs", "sns_configs"].flatMap(
        (k) => (before[i][k] as Array<{ send_resolved?: boolean }> | undefined) ?? [],
      );
      assert.ok(!("pagerduty_configs" in r) && !("slack_configs" in r) && !("sns_configs" in r));
      const hooks = (r.webhook_configs as Array<{ url: string; send_resolved: boolean }> | undefined) ?? [];
      assert.equal(hooks.length, integrations.length, `one webhook per integration of ${String(r.name)}`);
      hooks.forEach((h, j) => {
        assert.ok(h.url.startsWith(`http://127.0.0.1:9999/${String(r.name)}/`), h.url);
        assert.equal(h.send_resolved, integrations[j].send_resolved === true);
      });
    }
    assert.equal(local.paths["/pagerduty-data/pagerduty"], "pagerduty-data");
    assert.equal(local.paths["/pagerduty-data/sns"], "pagerduty-data");
    assert.equal(local.paths["/heartbeat/sns"], "heartbeat");
    assert.ok(local.changes.every((c) => /^receivers\[\d+\]\./.test(c.path)));
  });

  it("turns the integrations of any receiver into webhooks named after it", function () {
    const other = {
      ...rendered,
      receivers: [{ name: "x", pagerduty_configs: [{}, { send_resolved: true }] }],
    };
    const local = localizeAlertmanager(other, "http://127.0.0.1:1");
    assert.deepEqual(local.config.receivers, [
      {
        name: "x",
        webhook_configs: [
          { url: "http://127.0.0.1:1/x/pagerduty-0", send_resolved: false },
          { url: "http://127.0.0.1:1/x/pagerduty-1", send_resolved: true },
        ],
      },
    ]);
  });

  it("writes one static job per endpoint with the PodMonitor target labels, HTTPS only with a CA", function () {
    const endpoint = {
      name: "patroni",
      kind: "pod" as const,
      namespace: "hcp-data",
      selector: {},
      port: "patroni",
      path: "/metrics",
      scheme: "https" as const,
      tls: { ca: { name: "s", key: "ca.crt" }, serverName: "pg.hcp-data.svc" },
      basicAuth: null,
      exporter: "patroni-4",
    };
    const base = {
      scrapeIntervalSeconds: 15,
      evaluationIntervalSeconds: 15,
      externalLabels: { cluster: "c", environment: "production" },
      ruleFiles: ["/r.yml"],
      alertmanager: "127.0.0.1:1",
    };
    const yaml = localPrometheusConfig({
      ...base,
      scrapes: [
        {
          endpoint,
          targets: [{ pod: "pg-0", address: "127.0.0.1:8008" }],
          tls: { caFile: "/ca.crt", serverName: "localhost" },
        },
      ],
    });
    const config = parse(yaml) as {
      global: Record<string, unknown>;
      scrape_configs: Array<Record<string, unknown>>;
    };
    assert.deepEqual(config.global, {
      scrape_interval: "15s",
      evaluation_interval: "15s",
      external_labels: { cluster: "c", environment: "production" },
    });
    assert.deepEqual(config.scrape_configs[0], {
      job_name: "hcp-data/patroni",
      scheme: "https",
      metrics_path: "/metrics",
      tls_config: { ca_file: "/ca.crt", server_name: "localhost" },
      static_configs: [
        {
          targets: ["127.0.0.1:8008"],
          labels: { job: "patroni", namespace: "hcp-data", pod: "pg-0", endpoint: "patroni" },
        },
      ],
    });
    assert.throws(
      () => localPrometheusConfig({ ...base, scrapes: [{ endpoint, targets: [] }] }),
      /HTTPS: give the local CA/,
    );
  });

  it("localizes the sidecar's DATA_SOURCE_URI to a member's port and socket directory only", function () {
    const topology = repoTopology("production");
    const sidecar = postgresExporterContainer({
      image: topology.observability.exporters.postgres,
      credentialsSecretName: "x",
    });
    const env = sidecar.env as unknown as Array<{ name: string; value?: string }>;
    const uri = env.find((e) => e.name === "DATA_SOURCE_URI")?.value ?? "";
    const local = localizeExporterUri(
      { uri, listen: ":9187" },
      {
        renderedPort: PORTS.postgres,
        renderedSocketDir: PATHS.socketDir,
        pgPort: 15432,
        socketDir: "/tmp/s",
        listenPort: 19187,
      },
    );
    assert.equal(local.uri, "/postgres?port=15432&host=/tmp/s&sslmode=disable");
    assert.equal(local.listen, "127.0.0.1:19187");
    assert.throws(
      () =>
        localizeExporterUri(
          { uri: "postgres://elsewhere:5432/db", listen: ":9187" },
          { renderedPort: 5432, renderedSocketDir: "/x", pgPort: 1, socketDir: "/y", listenPort: 2 },
        ),
      /not the form this harness localizes/,
    );
  });

  it("gives postgres_exporter 0.11 exactly the replication metrics 0.17 has and the common set lacks", function () {
    const queries = parse(POSTGRES_EXPORTER_0_11_QUERIES) as Record<
      string,
      { metrics: Array<Record<string, unknown>> }
    >;
    const names = Object.entries(queries).flatMap(([prefix, q]) =>
      q.metrics.flatMap((m) => Object.keys(m).map((column) => `${prefix}_${column}`)),
    );
    const only017 = METRIC_SOURCES["postgres_exporter-0.17"].filter((m) => m.startsWith("pg_replication_"));
    assert.deepEqual(names.sort(), [...only017].sort());
  });

  it("resolves the receiver and group_wait of an alert like amtool's routes test", function () {
    assert.deepEqual(effectiveRoute(rendered, { alertname: "X", severity: "critical", team: "data" }), {
      receiver: "pagerduty-data",
      groupWait: "10s",
    });
    assert.deepEqual(effectiveRoute(rendered, { alertname: "X", severity: "warning", team: "app" }), {
      receiver: "slack-app",
      groupWait: "1m",
    });
    assert.deepEqual(effectiveRoute(rendered, { alertname: "Watchdog", severity: "none" }), {
      receiver: "heartbeat",
      groupWait: "0s",
    });
    assert.equal(
      effectiveRoute(rendered, { alertname: "X", severity: "critical", team: "nobody" }).receiver,
      "sns-email",
    );
  });

  it("parses Prometheus durations and nanosecond timestamps", function () {
    assert.equal(durationMs("0s"), 0);
    assert.equal(durationMs("25s"), 25_000);
    assert.equal(durationMs("1h30m"), 5_400_000);
    assert.throws(() => durationMs("soon"), /not a Prometheus duration/);
    assert.equal(parseTimestamp("2026-01-01T00:00:01.123456789Z"), Date.UTC(2026, 0, 1, 0, 0, 1, 123));
    assert.throws(() => parseTimestamp("never"), /not a timestamp/);
  });
});
