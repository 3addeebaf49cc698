import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { type Proc, type Sandbox, waitFor } from "@hcp/postgres/harness";

/**
 * The monitoring processes of the real-failover test and `pnpm bench:alerting`: Debian's Prometheus
 * 2.42, Alertmanager 0.25 and postgres_exporter 0.11 started in a `@hcp/postgres/harness` sandbox (as
 * the engine user, stopped by exact PID on `sandbox.cleanup()`), and the webhook receiver standing
 * in for PagerDuty / Slack / SNS.
 */

/** Debian binaries (packages prometheus, prometheus-alertmanager, prometheus-postgres-exporter). */
export const MONITORING_BINARIES = {
  prometheus: { path: "/usr/bin/prometheus", debian: "prometheus" },
  alertmanager: { path: "/usr/bin/prometheus-alertmanager", debian: "prometheus-alertmanager" },
  postgresExporter: {
    path: "/usr/bin/prometheus-postgres-exporter",
    debian: "prometheus-postgres-exporter",
  },
} as const;

/** One notification as the webhook received it (Alertmanager's webhook payload, version 4). */
export interface Notification {
  /** Receipt time (epoch ms, this process's clock, which Prometheus and Alertmanager share). */
  readonly t: number;
  /** Request path: `/<receiver>/<integration>`. */
  readonly path: string;
  readonly receiver: string;
  readonly status: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly alerts: ReadonlyArray<{
    readonly status: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly startsAt: string;
  }>;
}

/** An HTTP server on loopback recording every notification Alertmanager posts. */
export class WebhookReceiver {
  readonly notifications: Notification[] = [];
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        const t = Date.now();
        try {
          const payload = JSON.parse(body) as Omit<Notification, "t" | "path">;
          this.notifications.push({ ...payload, t, path: req.url ?? "" });
          res.writeHead(200).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function waitReady(sandbox: Sandbox, proc: Proc, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${proc.name} ready at ${url}`,
    async () => {
      if (proc.exitStatus !== undefined) throw new Error(`${proc.name} exited (${proc.exitStatus})`);
      const res = await fetch(url);
      return res.ok ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, detail: () => sandbox.tail(proc) },
  );
}

/** Starts Prometheus with `config` (YAML) on 127.0.0.1:port and waits for `/-/ready`. */
export async function startPrometheus(sandbox: Sandbox, config: string, port: number): Promise<Proc> {
  const file = sandbox.writeFile("prometheus/prometheus.yml", config, 0o644);
  const data = sandbox.mkdir("prometheus/data");
  const proc = sandbox.spawn("prometheus", MONITORING_BINARIES.prometheus.path, [
    `--config.file=${file}`,
    `--storage.tsdb.path=${data}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await waitReady(sandbox, proc, `http://127.0.0.1:${port}/-/ready`);
  return proc;
}

/**
 * Starts one Alertmanager with `config` (YAML) on 127.0.0.1:port. Production runs 3 replicas that
 * gossip to deduplicate; one instance has the same routing, grouping and timers, so gossip is off
 * (`--cluster.listen-address=`).
 */
export async function startAlertmanager(sandbox: Sandbox, config: string, port: number): Promise<Proc> {
  const file = sandbox.writeFile("alertmanager/alertmanager.yml", config, 0o644);
  const data = sandbox.mkdir("alertmanager/data");
  const proc = sandbox.spawn("alertmanager", MONITORING_BINARIES.alertmanager.path, [
    `--config.file=${file}`,
    `--storage.path=${data}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
  ]);
  await waitReady(sandbox, proc, `http://127.0.0.1:${port}/-/ready`);
  return proc;
}

/** Starts a postgres_exporter for one member, with the sidecar's environment (localized). */
export async function startPostgresExporter(
  sandbox: Sandbox,
  name: string,
  options: {
    readonly listen: string;
    readonly env: Readonly<Record<string, string>>;
    readonly queryFile: string;
  },
): Promise<Proc> {
  const proc = sandbox.spawn(
    name,
    MONITORING_BINARIES.postgresExporter.path,
    [`--web.listen-address=${options.listen}`, `--extend.query-path=${options.queryFile}`],
    { env: options.env },
  );
  await waitReady(sandbox, proc, `http://${options.listen}/metrics`, 30_000);
  return proc;
}

/** An alert as Prometheus' `/api/v1/alerts` lists it. */
export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: "pending" | "firing";
  readonly activeAt: string;
  readonly value: string;
}

/** A sample series of an instant query over a range selector (raw samples with their timestamps). */
export interface RawSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: ReadonlyArray<[number, string]>;
}

/** Prometheus' HTTP API. */
export class PrometheusApi {
  constructor(readonly port: number) {}

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  async alerts(): Promise<PrometheusAlert[]> {
    return (await this.get<{ alerts: PrometheusAlert[] }>("/api/v1/alerts")).alerts;
  }

  /** Instant query returning a vector: metric labels and value. */
  async vector(query: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const data = await this.get<{
      resultType: string;
      result: Array<{ metric: Record<string, string>; value: [number, string] }>;
    }>(`/api/v1/query?query=${encodeURIComponent(query)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Raw samples of a range selector (e.g. `x{pod="a"}[10m]`). */
  async samples(selector: string): Promise<RawSeries[]> {
    const data = await this.get<{ result: RawSeries[] }>(
      `/api/v1/query?query=${encodeURIComponent(selector)}`,
    );
    return data.result;
  }

  /** Every metric name Prometheus holds. */
  metricNames(): Promise<string[]> {
    return this.get<string[]>("/api/v1/label/__name__/values");
  }

  /** Scrape targets and their health. */
  async targets(): Promise<Array<{ labels: Record<string, string>; health: string; lastError: string }>> {
    return (
      await this.get<{
        activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }>;
      }>("/api/v1/targets?state=active")
    ).activeTargets;
  }
}

/** Epoch ms of an RFC 3339 timestamp with any number of fractional digits (Prometheus prints nanoseconds). */
export function parseTimestamp(text: string): number {
  const normalized = text.replace(/\.(\d{3})\d*/, ".$1");
  const t = Date.parse(normalized);
  if (Number.isNaN(t)) throw new Error(`not a timestamp: ${text}`);
  return t;
}
