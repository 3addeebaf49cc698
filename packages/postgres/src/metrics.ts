import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";
import { type ImageRef, imageReference, type MetricsEndpoint } from "@hcp/platform";
import { type DbClientPodArgs, DB_CLIENT_LABELS, JOB_WRITABLE } from "./components/pgbackrestClient";
import { PGBOUNCER_LABELS } from "./components/pgbouncerPool";
import { CONTAINER_SECURITY, POD_SECURITY } from "./components/security";
import { patroniLabels } from "./render";
import { type DataTierNames, PATHS, PORTS } from "./render/layout";

/**
 * The data tier's metrics (an option of `PatroniCluster`, `PgbouncerPool` and the separate
 * `PgbackrestExporter`): exporters next to the database pods, reading as the `hcp_monitoring` role
 * (pg_monitor), and the endpoint list the data / DR contracts export so that the observability layer
 * creates the monitors. Nothing here changes how the database itself runs.
 */

/** Ports of the exporters (the defaults of each project). */
export const METRICS_PORTS = {
  postgresExporter: 9187,
  pgbouncerExporter: 9127,
  pgbackrestExporter: 9854,
} as const;

/** Container port names of the metrics endpoints (15 characters at most). */
export const METRICS_PORT_NAMES = {
  patroni: "patroni",
  postgresExporter: "pg-metrics",
  pgbouncerExporter: "metrics",
  pgbackrestExporter: "metrics",
} as const;

/** Pod labels of the pgBackRest exporter. */
export const PGBACKREST_EXPORTER_LABELS = {
  "app.kubernetes.io/name": "pgbackrest-exporter",
  "app.kubernetes.io/part-of": "hcp-data",
} as const;

/**
 * The Patroni version family of the timescaledb-ha image (its `/metrics` names: Patroni 4 adds the
 * `name` label and drops `patroni_master`); the observability layer's rules use only metrics every
 * supported family serves, and the integration test runs them on Debian's Patroni 3.0.2.
 */
export const PATRONI_EXPORTER_FAMILY = "patroni-4";

/** What an exporter sidecar needs. */
export interface ExporterSidecarArgs {
  readonly image: ImageRef;
  /** Secret with `username` and `password` of the metrics role (`DatabaseSecrets` creates it). */
  readonly credentialsSecretName: pulumi.Input<string>;
}

const SIDECAR_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } };

function credentialEnv(
  secret: pulumi.Input<string>,
  user: string,
  password: string,
): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: user, valueFrom: { secretKeyRef: { name: secret, key: "username" } } },
    { name: password, valueFrom: { secretKeyRef: { name: secret, key: "password" } } },
  ];
}

/**
 * postgres_exporter next to each Patroni member: it connects through the member's Unix socket (the
 * shared socket emptyDir; `local all all scram-sha-256` in pg_hba), so it needs no network path to
 * PostgreSQL and sees exactly its own member (replication lag on replicas, pg_stat_replication on the
 * leader). The URI has no host part: the exporter prefixes it with `postgresql://user:pass@`, and
 * lib/pq sorts the options it reads from a URL, so with `localhost` in the authority the socket
 * directory in `?host=` lost to it and the exporter went to TCP, where pg_hba only admits TLS (found
 * by the alerting integration test, packages/observability/README.md).
 */
export function postgresExporterContainer(args: ExporterSidecarArgs): k8s.types.input.core.v1.Container {
  return {
    name: "postgres-exporter",
    image: imageReference(args.image),
    args: [`--web.listen-address=:${METRICS_PORTS.postgresExporter}`],
    env: [
      {
        name: "DATA_SOURCE_URI",
        value: `/postgres?port=${PORTS.postgres}&host=${PATHS.socketDir}&sslmode=disable`,
      },
      ...credentialEnv(args.credentialsSecretName, "DATA_SOURCE_USER", "DATA_SOURCE_PASS"),
    ],
    ports: [{ name: METRICS_PORT_NAMES.postgresExporter, containerPort: METRICS_PORTS.postgresExporter }],
    resources: SIDECAR_RESOURCES,
    readinessProbe: { httpGet: { path: "/", port: METRICS_PORTS.postgresExporter }, periodSeconds: 10 },
    securityContext: CONTAINER_SECURITY,
    // The pod's writable emptyDirs (the root filesystem is read-only).
    volumeMounts: [
      { name: "socket", mountPath: PATHS.socketDir },
      { name: "tmp", mountPath: PATHS.tmp },
    ],
  };
}

/**
 * pgbouncer_exporter next to each PgBouncer: it reads the admin console (`SHOW POOLS`, `SHOW STATS`)
 * on loopback as the metrics role, which pgbouncer.ini lists in `stats_users` (read-only console).
 * TLS is required by PgBouncer for every client, so the loopback session uses it too.
 */
export function pgbouncerExporterContainer(args: ExporterSidecarArgs): k8s.types.input.core.v1.Container {
  return {
    name: "pgbouncer-exporter",
    image: imageReference(args.image),
    env: credentialEnv(args.credentialsSecretName, "MONITORING_USER", "MONITORING_PASSWORD"),
    // Kubernetes expands $(VAR) from the container's own environment; the password has only letters
    // and digits (DatabaseSecrets), so it needs no URL escaping.
    args: [
      `--web.listen-address=:${METRICS_PORTS.pgbouncerExporter}`,
      `--pgBouncer.connectionString=postgres://$(MONITORING_USER):$(MONITORING_PASSWORD)@localhost:${PORTS.pgbouncer}/pgbouncer?sslmode=require`,
    ],
    ports: [{ name: METRICS_PORT_NAMES.pgbouncerExporter, containerPort: METRICS_PORTS.pgbouncerExporter }],
    resources: SIDECAR_RESOURCES,
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [{ name: "tmp", mountPath: PATHS.tmp }],
  };
}

/** Arguments of {@link PgbackrestExporter}. */
export interface PgbackrestExporterArgs {
  readonly namespace: pulumi.Input<string>;
  /** The backup Jobs' pod inputs: their ServiceAccount (Pod Identity: repository access) and config. */
  readonly pod: DbClientPodArgs;
  readonly image: ImageRef;
}

/**
 * pgbackrest_exporter: one Deployment that runs `pgbackrest info` over every repository (every 10
 * minutes: the repositories are S3 buckets) with the backup Jobs' configuration and ServiceAccount,
 * and serves backup ages, stanza and WAL-archive status. It carries the Jobs' client label, so the
 * namespace's policies give it the same egress (HTTPS to S3, the Pod Identity agent).
 */
export class PgbackrestExporter extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: PgbackrestExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:PgbackrestExporter", name, {}, opts);
    const labels = { ...PGBACKREST_EXPORTER_LABELS, ...DB_CLIENT_LABELS };
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: {
          name: PGBACKREST_EXPORTER_LABELS["app.kubernetes.io/name"],
          namespace: args.namespace,
          labels,
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: PGBACKREST_EXPORTER_LABELS },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: args.pod.serviceAccountName,
              automountServiceAccountToken: false,
              securityContext: POD_SECURITY,
              containers: [
                {
                  name: "pgbackrest-exporter",
                  image: imageReference(args.image),
                  args: [
                    `--prom.port=${METRICS_PORTS.pgbackrestExporter}`,
                    "--collect.interval=600",
                    `--backrest.config=${PATHS.pgbackrestConfig}`,
                  ],
                  env: [{ name: "PGBACKREST_CONFIG", value: PATHS.pgbackrestConfig }],
                  ports: [
                    {
                      name: METRICS_PORT_NAMES.pgbackrestExporter,
                      containerPort: METRICS_PORTS.pgbackrestExporter,
                    },
                  ],
                  resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "pgbackrest-config", mountPath: "/etc/pgbackrest", readOnly: true },
                    { name: "client-tls", mountPath: PATHS.pgbackrestTls, readOnly: true },
                    JOB_WRITABLE.mounts.tmp,
                  ],
                },
              ],
              volumes: [
                { name: "pgbackrest-config", configMap: { name: args.pod.pgbackrestConfigMap } },
                {
                  name: "client-tls",
                  secret: { secretName: args.pod.clientTlsSecretName, defaultMode: 0o440 },
                },
                ...JOB_WRITABLE.volumes,
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.registerOutputs({});
  }
}

/** Options of {@link dataTierMetricsEndpoints}. */
export interface DataTierMetricsOptions {
  /** cert-manager Secret of the PostgreSQL certificate (its `ca.crt` verifies Patroni's REST API). */
  readonly postgresTlsSecretName: string;
  /** @default - {@link PATRONI_EXPORTER_FAMILY} */
  readonly patroniFamily?: string;
  /** Version family of the postgres_exporter image, e.g. `postgres_exporter-0.17`. */
  readonly postgresExporterFamily: string;
}

/**
 * The metrics endpoints of a region's data tier, for the data (primary) and DR contracts. Patroni's
 * `/metrics` is served over HTTPS by the REST API (verified against the tier's CA, by the name on the
 * certificate). It is a safe GET that Patroni answers without authentication (its REST basic auth
 * guards only the unsafe methods: switchover, restart, config), so Prometheus is not given the REST
 * password: a leaked Prometheus secret must not be able to trigger a failover.
 */
export function dataTierMetricsEndpoints(
  names: DataTierNames,
  options: DataTierMetricsOptions,
): MetricsEndpoint[] {
  const pod = (
    name: string,
    selector: Readonly<Record<string, string>>,
    port: string,
    exporter: string,
  ): MetricsEndpoint => ({
    name,
    kind: "pod",
    namespace: names.namespace,
    selector: { ...selector },
    port,
    path: "/metrics",
    scheme: "http",
    tls: null,
    basicAuth: null,
    exporter,
  });
  return [
    {
      ...pod(
        "patroni",
        patroniLabels(names.scope),
        METRICS_PORT_NAMES.patroni,
        options.patroniFamily ?? PATRONI_EXPORTER_FAMILY,
      ),
      scheme: "https",
      tls: { ca: { name: options.postgresTlsSecretName, key: "ca.crt" }, serverName: names.hosts.primary },
    },
    pod(
      "postgres-exporter",
      patroniLabels(names.scope),
      METRICS_PORT_NAMES.postgresExporter,
      options.postgresExporterFamily,
    ),
    pod("pgbouncer-exporter", PGBOUNCER_LABELS, METRICS_PORT_NAMES.pgbouncerExporter, "pgbouncer_exporter"),
    pod(
      "pgbackrest-exporter",
      PGBACKREST_EXPORTER_LABELS,
      METRICS_PORT_NAMES.pgbackrestExporter,
      "pgbackrest_exporter",
    ),
  ];
}

/** The version family of an exporter image tag: `v0.17.1` → `<name>-0.17`. */
export function exporterFamily(name: string, image: ImageRef): string {
  const m = /^v?(\d+)\.(\d+)\./.exec(image.tag);
  if (!m) {
    throw new Error(
      `Cannot read the version of ${name} image tag '${image.tag}'. Fix: pin an exact vX.Y.Z tag.`,
    );
  }
  return `${name}-${m[1]}.${m[2]}`;
}
