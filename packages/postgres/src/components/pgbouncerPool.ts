import { createHash } from "node:crypto";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, writableVolumes } from "@hcp/kube";
import { type ImageRef, imageReference } from "@hcp/platform";
import { PATHS, PORTS } from "../render/layout";
import { type ExporterSidecarArgs, pgbouncerExporterContainer } from "../metrics";
import { CONTAINER_SECURITY, POD_SECURITY } from "./security";

/** Pod labels of PgBouncer. */
export const PGBOUNCER_LABELS = {
  "app.kubernetes.io/name": "pgbouncer",
  "app.kubernetes.io/part-of": "hcp-data",
};

/** Arguments of {@link PgbouncerPool}. */
export interface PgbouncerPoolArgs {
  readonly namespace: pulumi.Input<string>;
  /** Service (and Deployment) name. */
  readonly serviceName: string;
  /** Replicas (2 or more, spread over zones and nodes). */
  readonly replicas: number;
  /** Image that contains pgbouncer (the timescaledb-ha image does: one pinned image for the tier). */
  readonly image: ImageRef;
  /** Rendered pgbouncer.ini. */
  readonly ini: string;
  /** Secret holding `userlist.txt` (the auth_query role only). */
  readonly userlistSecretName: pulumi.Input<string>;
  /** cert-manager Secret of PgBouncer's certificate (its ca.crt verifies PostgreSQL). */
  readonly tlsSecretName: pulumi.Input<string>;
  /** @default - 500m CPU, 256 MiB (PgBouncer is single-threaded; memory grows ~2 KiB per client) */
  readonly resources?: { readonly cpuMillis: number; readonly memoryMiB: number };
  /**
   * Metrics: a pgbouncer_exporter sidecar reading the admin console on loopback as the metrics role
   * (listed in `stats_users` and the auth_file by the renderer).
   * @default - no exporter
   */
  readonly metrics?: ExporterSidecarArgs;
}

/**
 * PgBouncer in front of the Patroni leader: a Deployment spread over zones and nodes, a
 * PodDisruptionBudget that keeps all but one replica up, and a ClusterIP Service. The component's
 * `dependsOn` reaches the Deployment.
 */
export class PgbouncerPool extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget;

  constructor(name: string, args: PgbouncerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:PgbouncerPool", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const writable = writableVolumes({ tmp: PATHS.tmp });
    if (args.replicas < 2) {
      throw new Error(
        `PgbouncerPool ${name}: replicas must be 2 or more (a PDB needs a spare), got ${args.replicas}.`,
      );
    }
    const ns = args.namespace;
    const labels = PGBOUNCER_LABELS;
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: `${args.serviceName}-config`, namespace: ns, labels },
        data: { "pgbouncer.ini": args.ini },
      },
      child,
    );
    const res = args.resources ?? { cpuMillis: 500, memoryMiB: 256 };
    const spread = (topologyKey: string) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: labels },
    });
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: args.serviceName, namespace: ns, labels },
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: labels },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels,
              annotations: {
                "hcp.io/pgbouncer-config-sha": createHash("sha256").update(args.ini).digest("hex"),
              },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: POD_SECURITY,
              topologySpreadConstraints: [
                spread("topology.kubernetes.io/zone"),
                spread("kubernetes.io/hostname"),
              ],
              containers: [
                {
                  name: "pgbouncer",
                  image: imageReference(args.image),
                  command: ["pgbouncer", PATHS.pgbouncerConfig],
                  ports: [{ name: "pgbouncer", containerPort: PORTS.pgbouncer }],
                  resources: {
                    requests: { cpu: `${res.cpuMillis}m`, memory: `${res.memoryMiB}Mi` },
                    limits: { memory: `${res.memoryMiB * 2}Mi` },
                  },
                  readinessProbe: { tcpSocket: { port: PORTS.pgbouncer }, periodSeconds: 5 },
                  livenessProbe: {
                    tcpSocket: { port: PORTS.pgbouncer },
                    periodSeconds: 10,
                    failureThreshold: 6,
                  },
                  // Let in-flight transactions finish: stop accepting, wait, then exit.
                  lifecycle: { preStop: { exec: { command: ["sh", "-c", "kill -INT 1; sleep 20"] } } },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "config", mountPath: path.dirname(PATHS.pgbouncerConfig), readOnly: true },
                    { name: "auth", mountPath: path.dirname(PATHS.pgbouncerUserlist), readOnly: true },
                    { name: "tls", mountPath: PATHS.pgbouncerTls, readOnly: true },
                    writable.mounts.tmp,
                  ],
                },
                ...(args.metrics ? [pgbouncerExporterContainer(args.metrics)] : []),
              ],
              terminationGracePeriodSeconds: 30,
              volumes: [
                ...writable.volumes,
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "auth", secret: { secretName: args.userlistSecretName, defaultMode: 0o440 } },
                { name: "tls", secret: { secretName: args.tlsSecretName, defaultMode: 0o440 } },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name: args.serviceName, namespace: ns, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
      },
      child,
    );
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: args.serviceName, namespace: ns, labels },
        spec: {
          type: "ClusterIP",
          selector: labels,
          ports: [{ name: "pgbouncer", port: PORTS.pgbouncer, targetPort: PORTS.pgbouncer }],
        },
      },
      child,
    );
    this.registerOutputs({ service: this.service.metadata.name });
  }
}
