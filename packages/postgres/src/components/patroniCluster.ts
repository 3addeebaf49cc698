import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, writableVolumes } from "@hcp/kube";
import { type ImageRef, imageReference, type NodePlacement } from "@hcp/platform";
import { ROLE_LABELS, patroniLabels } from "../render";
import { type DataTierNames, PATHS, PORTS } from "../render/layout";
import type { RenderedPatroni, StandbySource } from "../render/patroni";
import { ENV } from "../render/placeholders";
import { SIDECAR_CPU_MILLIS, SIDECAR_MEMORY_MIB } from "../sizing";
import { type ExporterSidecarArgs, postgresExporterContainer } from "../metrics";
import { CONTAINER_SECURITY, POD_SECURITY } from "./security";

/**
 * The member container: Patroni, and PostgreSQL as its child writing to the same stderr (so its
 * log, pgaudit's `AUDIT:` lines included, is this container's log). The observability layer's log
 * routing selects the data tier's PostgreSQL lines by this name.
 */
export const POSTGRES_CONTAINER = "postgres";

/** Where the replication NLB lives and who may reach it. */
export interface ReplicationEndpointArgs {
  /** Private subnets of the VPC (the NLB's subnets). */
  readonly subnetIds: pulumi.Input<readonly string[]>;
  /** CIDRs of the other regions' VPCs allowed through the NLB (its listener's source ranges). */
  readonly sourceCidrs: readonly string[];
  /**
   * Frontend security groups of the NLB, created by the caller with rules limited to `sourceCidrs` and
   * the PostgreSQL port (see {@link ReplicationFirewall}). The AWS Load Balancer Controller attaches
   * them instead of generating one and adds the rule that lets the NLB reach the members to the
   * nodes' cluster security group (`manage-backend-security-group-rules`); with security groups on
   * the NLB the members accept its traffic although client IPs are preserved.
   * @default - the controller generates the frontend group from `sourceCidrs`
   */
  readonly securityGroupIds?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Arguments of {@link PatroniCluster}. */
export interface PatroniClusterArgs {
  /**
   * `primary` accepts writes. `standby` is a DR standby cluster (`standby_cluster`) streaming from
   * `standbySource`; its leader gets the same role label value, so its Services keep working after
   * promotion.
   */
  readonly role: "primary" | "standby";
  /** What a standby cluster streams from; required with role `standby`, refused with `primary`. */
  readonly standbySource?: StandbySource;
  /** Deterministic names of the tier (scope, Services, hosts). */
  readonly names: DataTierNames;
  /** Namespace (an output of the namespace resource, so everything waits for it). */
  readonly namespace: pulumi.Input<string>;
  /** Patroni members (StatefulSet replicas). */
  readonly members: number;
  /** timescaledb-ha image (bundles Patroni, PostgreSQL, TimescaleDB, pgBackRest). */
  readonly image: ImageRef;
  /** Rendered Patroni configuration, rendered for the same role. */
  readonly patroni: RenderedPatroni;
  /** Rendered pgBackRest configuration of the members. */
  readonly pgbackrestConf: pulumi.Input<string>;
  /** PostgreSQL container resources (requests = limits). */
  readonly container: { readonly cpuMillis: number; readonly memoryMiB: number };
  /** Data volume per member. */
  readonly storage: { readonly storageClassName: pulumi.Input<string>; readonly sizeGiB: number };
  /** The database node group's labels and taints. */
  readonly placement: pulumi.Input<NodePlacement>;
  /** Secret with Patroni's passwords (keys = Patroni's environment variables). */
  readonly credentialsSecretName: pulumi.Input<string>;
  /** cert-manager Secret of the PostgreSQL server certificate. */
  readonly tlsSecretName: pulumi.Input<string>;
  /** Replicas lagging more than this are not ready (and not in the replicas Service). */
  readonly readinessLagBytes: number;
  /**
   * An internal NLB following the leader, for DR standby clusters in peered VPCs.
   * @default - no NLB
   */
  readonly replicationEndpoint?: ReplicationEndpointArgs;
  /** Protect the StatefulSet (and so its volume claims) from deletion (production). */
  readonly protect: boolean;
  /**
   * Metrics: a postgres_exporter sidecar in every member, reading its own member through the Unix
   * socket as the metrics role (Patroni's own `/metrics` needs nothing extra).
   * @default - no exporter
   */
  readonly metrics?: ExporterSidecarArgs;
}

/** Problems with the role arguments, e.g. a standby without a source. */
export function checkRole(args: Pick<PatroniClusterArgs, "role" | "standbySource" | "patroni">): string[] {
  const problems: string[] = [];
  const rendered = args.patroni.config.bootstrap.dcs.standby_cluster;
  if (args.role === "standby") {
    if (!args.standbySource) {
      problems.push("role standby needs standbySource (the source cluster's replication endpoint)");
    }
    if (!rendered) {
      problems.push(
        "role standby needs a Patroni configuration rendered with role standby (standby_cluster)",
      );
    } else if (
      args.standbySource &&
      (rendered.host !== args.standbySource.host || rendered.port !== args.standbySource.port)
    ) {
      problems.push(
        `standby_cluster ${rendered.host}:${rendered.port} differs from standbySource ${args.standbySource.host}:${args.standbySource.port}`,
      );
    }
  } else {
    if (args.standbySource) {
      problems.push("role primary takes no standbySource");
    }
    if (rendered) {
      problems.push("role primary needs a Patroni configuration rendered without standby_cluster");
    }
  }
  return problems;
}

/**
 * A Patroni cluster on Kubernetes: ServiceAccount and Role with what the Kubernetes DCS needs, the
 * rendered configuration, a StatefulSet on the database nodes (one member per node, spread over
 * zones), a PodDisruptionBudget, and the Services (leader, replicas, headless members, and an
 * optional internal NLB that follows the leader for cross-region standbys). The component's `dependsOn`
 * reaches the StatefulSet (the members start after it).
 */
export class PatroniCluster extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly role: k8s.rbac.v1.Role;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  readonly services: {
    readonly primary: k8s.core.v1.Service;
    readonly replicas: k8s.core.v1.Service;
    readonly config: k8s.core.v1.Service;
    readonly replication?: k8s.core.v1.Service;
  };
  /** DNS name of the replication NLB (`undefined` without one). */
  readonly replicationHost: pulumi.Output<string> | undefined;

  constructor(name: string, args: PatroniClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything: a refused cluster leaves no half-registered component.
    const problems = checkRole(args);
    if (args.members < 1) {
      problems.push(`members must be 1 or more, got ${args.members}`);
    }
    if (problems.length > 0) {
      throw new Error(`PatroniCluster ${name}: ${problems.join("; ")}.`);
    }
    super("hcp:postgres:PatroniCluster", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const { names } = args;
    const ns = args.namespace;
    const scope = names.scope;
    const labels = { ...patroniLabels(scope), "app.kubernetes.io/part-of": "hcp-data" };
    const selector = patroniLabels(scope);

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: scope, namespace: ns, labels } },
      child,
    );
    // What Patroni's Kubernetes DCS calls in ConfigMaps mode (use_endpoints: false): it keeps the
    // leader lock, config, sync and failover keys in ConfigMaps (create/get/list/watch, patch/update to
    // renew the lock) and each member's status plus the role label on its own pod (get/list/watch,
    // patch/update). `services: create` is Patroni's own creation of the `<scope>-config` headless
    // Service, which only Endpoints mode performs; that Service is declared below, so the grant keeps
    // a switch of DCS mode from needing an RBAC change. Nothing may delete (no `patronictl remove`).
    this.role = new k8s.rbac.v1.Role(
      `${name}-role`,
      {
        metadata: { name: scope, namespace: ns, labels },
        rules: [
          {
            apiGroups: [""],
            resources: ["configmaps"],
            verbs: ["create", "get", "list", "patch", "update", "watch"],
          },
          { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "patch", "update", "watch"] },
          { apiGroups: [""], resources: ["services"], verbs: ["create"] },
        ],
      },
      child,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-rolebinding`,
      {
        metadata: { name: scope, namespace: ns, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: this.serviceAccount.metadata.name, namespace: ns }],
      },
      child,
    );

    const patroniConfig = new k8s.core.v1.ConfigMap(
      `${name}-patroni-config`,
      {
        metadata: { name: `patroni-${scope}`, namespace: ns, labels },
        data: { "patroni.yml": args.patroni.yaml },
      },
      child,
    );
    const pgbackrestConfig = new k8s.core.v1.ConfigMap(
      `${name}-pgbackrest-config`,
      {
        metadata: { name: `pgbackrest-${scope}`, namespace: ns, labels },
        data: { "pgbackrest.conf": args.pgbackrestConf },
      },
      child,
    );

    const memberDomain = `${names.services.config}.${names.namespace}.svc.cluster.local`;
    const secretEnv = (envName: string): k8s.types.input.core.v1.EnvVar => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: args.credentialsSecretName, key: envName } },
    });
    const https = (path: string) => ({ path, port: PORTS.patroniApi, scheme: "HTTPS" });
    const placement = pulumi.output(args.placement);
    const writable = writableVolumes({ socket: PATHS.socketDir, tmp: PATHS.tmp });
    const mounts = {
      ...writable.mounts,
      data: { name: "pgdata", mountPath: PATHS.dataVolume },
      tls: { name: "tls", mountPath: PATHS.postgresTls, readOnly: true },
      pgbackrest: { name: "pgbackrest-config", mountPath: "/etc/pgbackrest", readOnly: true },
    };

    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: scope, namespace: ns, labels },
        spec: {
          serviceName: names.services.config,
          replicas: args.members,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          template: {
            metadata: {
              labels,
              // A changed configuration rolls the members (Patroni reads its file at start).
              annotations: { "hcp.io/patroni-config-sha": sha(args.patroni.yaml) },
            },
            spec: {
              serviceAccountName: this.serviceAccount.metadata.name,
              automountServiceAccountToken: true,
              securityContext: POD_SECURITY,
              terminationGracePeriodSeconds: 60,
              tolerations: placement.taints.apply((taints) =>
                taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
              ),
              affinity: {
                nodeAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                      {
                        matchExpressions: placement.labels.apply((l) =>
                          Object.entries(l).map(([key, value]) => ({ key, operator: "In", values: [value] })),
                        ),
                      },
                    ],
                  },
                },
                // One member per node: a node loss never takes two members.
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
                  ],
                },
              },
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "DoNotSchedule",
                  labelSelector: { matchLabels: selector },
                },
              ],
              containers: [
                {
                  name: POSTGRES_CONTAINER,
                  image: imageReference(args.image),
                  command: ["patroni", PATHS.patroniConfig],
                  ports: [
                    { name: "postgresql", containerPort: PORTS.postgres },
                    { name: "patroni", containerPort: PORTS.patroniApi },
                  ],
                  env: [
                    { name: ENV.memberName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    {
                      name: ENV.postgresConnectAddress,
                      value: `$(${ENV.memberName}).${memberDomain}:${PORTS.postgres}`,
                    },
                    {
                      name: ENV.restApiConnectAddress,
                      value: `$(${ENV.memberName}).${memberDomain}:${PORTS.patroniApi}`,
                    },
                    secretEnv(ENV.superuserPassword),
                    secretEnv(ENV.replicationPassword),
                    secretEnv(ENV.rewindPassword),
                    secretEnv(ENV.restApiPassword),
                    { name: "PGBACKREST_CONFIG", value: PATHS.pgbackrestConfig },
                  ],
                  resources: {
                    requests: {
                      cpu: `${args.container.cpuMillis}m`,
                      memory: `${args.container.memoryMiB}Mi`,
                    },
                    limits: { cpu: `${args.container.cpuMillis}m`, memory: `${args.container.memoryMiB}Mi` },
                  },
                  startupProbe: { httpGet: https("/liveness"), periodSeconds: 10, failureThreshold: 360 },
                  livenessProbe: {
                    httpGet: https("/liveness"),
                    periodSeconds: 10,
                    timeoutSeconds: 5,
                    failureThreshold: 6,
                  },
                  readinessProbe: {
                    httpGet: https(`/readiness?lag=${args.readinessLagBytes}`),
                    periodSeconds: 5,
                    timeoutSeconds: 3,
                    failureThreshold: 3,
                  },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [
                    mounts.data,
                    mounts.socket,
                    mounts.tls,
                    mounts.pgbackrest,
                    { name: "patroni-config", mountPath: "/etc/patroni", readOnly: true },
                    mounts.tmp,
                  ],
                },
                {
                  // pgBackRest TLS server: the backup Jobs back up the leader through it.
                  name: "pgbackrest",
                  image: imageReference(args.image),
                  command: ["pgbackrest", "server"],
                  ports: [{ name: "pgbackrest", containerPort: PORTS.pgbackrestServer }],
                  env: [{ name: "PGBACKREST_CONFIG", value: PATHS.pgbackrestConfig }],
                  resources: {
                    requests: { cpu: `${SIDECAR_CPU_MILLIS}m`, memory: `${SIDECAR_MEMORY_MIB}Mi` },
                    limits: { cpu: `${SIDECAR_CPU_MILLIS}m`, memory: `${SIDECAR_MEMORY_MIB}Mi` },
                  },
                  readinessProbe: { tcpSocket: { port: PORTS.pgbackrestServer }, periodSeconds: 10 },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [mounts.data, mounts.socket, mounts.tls, mounts.pgbackrest, mounts.tmp],
                },
                ...(args.metrics ? [postgresExporterContainer(args.metrics)] : []),
              ],
              volumes: [
                ...writable.volumes,
                { name: "patroni-config", configMap: { name: patroniConfig.metadata.name } },
                { name: "pgbackrest-config", configMap: { name: pgbackrestConfig.metadata.name } },
                // 0640 root:postgres is what PostgreSQL accepts for a key file it does not own.
                { name: "tls", secret: { secretName: args.tlsSecretName, defaultMode: 0o640 } },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "pgdata", labels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storage.storageClassName,
                resources: { requests: { storage: `${args.storage.sizeGiB}Gi` } },
              },
            },
          ],
        },
      },
      // What the cluster is created after (the backup buckets and their IAM) holds for the members:
      // they archive WAL from their first start.
      { parent: this, dependsOn: inheritedDependsOn(opts), protect: args.protect },
    );

    this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name: scope, namespace: ns, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      },
      child,
    );

    const leader = { ...selector, [ROLE_LABELS.label]: ROLE_LABELS.leader };
    const service = (
      suffix: string,
      serviceName: string,
      spec: k8s.types.input.core.v1.ServiceSpec,
      annotations?: Record<string, pulumi.Input<string>>,
    ) =>
      new k8s.core.v1.Service(
        `${name}-${suffix}`,
        { metadata: { name: serviceName, namespace: ns, labels, annotations }, spec },
        child,
      );
    const pgPort = { name: "postgresql", port: PORTS.postgres, targetPort: PORTS.postgres };
    const primary = service("primary", names.services.primary, {
      type: "ClusterIP",
      selector: leader,
      ports: [
        pgPort,
        { name: "pgbackrest", port: PORTS.pgbackrestServer, targetPort: PORTS.pgbackrestServer },
      ],
    });
    const replicas = service("replicas", names.services.replicas, {
      type: "ClusterIP",
      selector: { ...selector, [ROLE_LABELS.label]: ROLE_LABELS.follower },
      ports: [pgPort],
    });
    const config = service("config", names.services.config, {
      clusterIP: "None",
      // Members must resolve each other while they bootstrap, before they are ready.
      publishNotReadyAddresses: true,
      selector,
      ports: [pgPort, { name: "patroni", port: PORTS.patroniApi, targetPort: PORTS.patroniApi }],
    });
    let replication: k8s.core.v1.Service | undefined;
    if (args.replicationEndpoint) {
      const endpoint = args.replicationEndpoint;
      replication = service(
        "replication",
        names.services.replication,
        {
          type: "LoadBalancer",
          loadBalancerClass: "service.k8s.aws/nlb",
          selector: leader,
          ports: [pgPort],
          loadBalancerSourceRanges: [...endpoint.sourceCidrs],
        },
        {
          // AWS Load Balancer Controller: internal NLB straight to the pod IPs. The listener is plain
          // TCP, so the PostgreSQL TLS session passes through to the leader untouched.
          "service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
          "service.beta.kubernetes.io/aws-load-balancer-subnets": pulumi
            .output(endpoint.subnetIds)
            .apply((ids) => ids.join(",")),
          // Besides the role selector, the NLB only sends traffic to a target whose Patroni says it
          // holds the leader lock, so a stale label never routes a standby to a replica. `/leader`
          // (Patroni 2.1+) answers 200 on the lock holder of a primary cluster and of a standby
          // cluster alike, so the endpoint keeps working when the DR commands promote or demote the
          // cluster through its dynamic configuration, before any `pulumi up`.
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTPS",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": String(PORTS.patroniApi),
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/leader",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "10",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold": "2",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold": "2",
          // DR pod addresses reach PostgreSQL (pg_hba and the NetworkPolicy check them).
          "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
            "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=10",
          "service.beta.kubernetes.io/aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true",
          ...(endpoint.securityGroupIds
            ? {
                "service.beta.kubernetes.io/aws-load-balancer-security-groups": pulumi
                  .output(endpoint.securityGroupIds)
                  .apply((ids) => ids.join(",")),
                "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules": "true",
              }
            : {}),
        },
      );
    }
    this.services = { primary, replicas, config, replication };
    this.replicationHost = replication?.status.loadBalancer.ingress.apply(
      (ingress) => ingress[0]?.hostname ?? "",
    );
    this.registerOutputs({
      statefulSet: this.statefulSet.metadata.name,
      replicationHost: this.replicationHost,
    });
  }
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
