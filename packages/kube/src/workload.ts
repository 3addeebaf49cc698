import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "./dependencies";
import { PodIdentityRole } from "./podIdentityRole";
import { type Flow, networkPolicySpec } from "./restrictedNamespace";
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  type RunAs,
  writableVolumes,
} from "./securityContext";

/**
 * An application service as Kubernetes objects: ServiceAccount (no token unless asked), the env
 * ConfigMap, a Deployment (or a Job / CronJob) whose pods pass Pod Security `restricted` with a
 * read-only root filesystem, zone and node spread, a rolling update that keeps every serving pod
 * until its replacement is ready when asked, a PodDisruptionBudget, an autoscaling/v2
 * HorizontalPodAutoscaler, the Service, the NetworkPolicy of its pods and an EKS Pod Identity role.
 * Every manifest comes from a pure function below ({@link workloadManifests}); the component only
 * registers them.
 */

/** What a service is. */
export type WorkloadKind = "http" | "worker" | "job" | "cronjob";

/** An HTTP probe on one of the service's ports. */
export interface HttpProbe {
  readonly path: string;
  readonly port: "http" | "metrics";
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

/** How fast an HPA may change the scale in one direction. */
export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly policies: ReadonlyArray<{
    readonly type: "Percent" | "Pods";
    readonly value: number;
    readonly periodSeconds: number;
  }>;
  readonly selectPolicy: "Max" | "Min" | "Disabled";
}

/** A fixed replica count, or a HorizontalPodAutoscaler (then the Deployment leaves replicas to it). */
export type Scaling =
  | { readonly mode: "fixed"; readonly replicas: number }
  | {
      readonly mode: "autoscaled";
      readonly minReplicas: number;
      readonly maxReplicas: number;
      readonly cpuUtilizationPercent?: number;
      readonly memoryUtilizationPercent?: number;
      readonly scaleUp?: ScalingRules;
      readonly scaleDown?: ScalingRules;
    };

/** A value of a Secret as an environment variable. */
export interface SecretKeyRef {
  readonly secretName: string;
  readonly key: string;
}

/** A ConfigMap mounted read-only as files. */
export interface ConfigMapMount {
  readonly configMapName: string;
  /** Volume name (a DNS label). */
  readonly volumeName: string;
  readonly mountPath: string;
}

/** Where the pods may be scheduled. */
export interface Placement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: ReadonlyArray<{
    readonly key: string;
    readonly value?: string;
    readonly effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
    readonly operator?: "Equal" | "Exists";
  }>;
}

/** What a service's objects are made of (plain values: every manifest is a pure function of it). */
export interface WorkloadSpec {
  /** Kubernetes name of the objects (a DNS label). */
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  /** Full image reference, `<registry>/<repository>@sha256:...` or `...:<tag>`. */
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly runAs: RunAs;
  readonly ports: { readonly http?: number; readonly metrics?: number };
  readonly probes?: {
    readonly startup?: HttpProbe;
    readonly liveness: HttpProbe;
    readonly readiness: HttpProbe;
  };
  readonly resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly memory: string; readonly cpu?: string };
  };
  /** Deployments only. */
  readonly scaling?: Scaling;
  /** Deployments only. */
  readonly rollout?: { readonly maxSurge: number | string; readonly maxUnavailable: number | string };
  /** Plain environment (the `<name>-env` ConfigMap). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * ConfigMaps (existing, in the namespace) whose every key becomes an environment variable, e.g.
   * values only known at deployment such as bucket names.
   * @default - none
   */
  readonly envConfigMaps?: readonly string[];
  /** Environment variables from Secrets (by variable name). */
  readonly secretEnv: Readonly<Record<string, SecretKeyRef>>;
  /** Volume name → path the container may write. */
  readonly writablePaths: Readonly<Record<string, string>>;
  readonly configMapMounts: readonly ConfigMapMount[];
  /** Extra pod labels (never part of the selector). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Connections the pods accept and open besides DNS (their NetworkPolicy). */
  readonly ingress: readonly Flow[];
  readonly egress: readonly Flow[];
  /** Annotations of the Service (e.g. the load balancer's health check path). */
  readonly serviceAnnotations: Readonly<Record<string, string>>;
  /** Mount the ServiceAccount token (only for pods that call the Kubernetes API). */
  readonly automountServiceAccountToken: boolean;
  readonly placement: Placement;
  /** Cronjobs: five-field schedule and IANA time zone. */
  readonly schedule?: { readonly cron: string; readonly timeZone: string };
  /** Jobs and cronjobs: how long a run may take. */
  readonly activeDeadlineSeconds?: number;
  /** Seconds a stopping pod gets to finish its requests. */
  readonly terminationGracePeriodSeconds: number;
}

/** The selector labels of a service's pods (stable: a Deployment's selector is immutable). */
export function selectorLabels(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name };
}

/** Every label of a service's pods. */
export function podLabelsOf(spec: Pick<WorkloadSpec, "name" | "kind" | "podLabels">): Record<string, string> {
  return {
    ...spec.podLabels,
    ...selectorLabels(spec.name),
    "app.kubernetes.io/component": spec.kind,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Names of a workload's container (and Service) ports: probes and monitors refer to them by name. */
export const WORKLOAD_PORT_NAMES = { http: "http", metrics: "metrics" } as const;
const PORT_NAMES = WORKLOAD_PORT_NAMES;

function probe(p: HttpProbe): k8s.types.input.core.v1.Probe {
  return {
    httpGet: { path: p.path, port: PORT_NAMES[p.port] },
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
    successThreshold: 1,
  };
}

/** Hash of the plain environment: a pod annotation, so changing a value rolls the pods. */
export function envHash(env: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(
    Object.keys(env)
      .sort()
      .map((k) => [k, env[k]]),
  );
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** Problems of a spec (every one listed). */
export function workloadProblems(spec: WorkloadSpec): string[] {
  const problems: string[] = [];
  const longRunning = spec.kind === "http" || spec.kind === "worker";
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(spec.name) || spec.name.length > 52) {
    problems.push(`name '${spec.name}' is not a DNS label of at most 52 characters`);
  }
  if (!/[@:][^/]+$/.test(spec.image) || /:latest$/i.test(spec.image)) {
    problems.push(`image '${spec.image}' has neither a digest nor a release tag (latest is not one)`);
  }
  if (spec.kind === "http" && spec.ports.http === undefined) {
    problems.push("an http service needs ports.http");
  }
  if (longRunning && !spec.probes) {
    problems.push(`a ${spec.kind} needs liveness and readiness probes`);
  }
  if (longRunning && !spec.scaling) {
    problems.push(`a ${spec.kind} needs scaling (fixed replicas or an autoscaler)`);
  }
  if (!longRunning && spec.scaling) {
    problems.push(`a ${spec.kind} does not scale`);
  }
  if (spec.kind === "cronjob" && !spec.schedule) {
    problems.push("a cronjob needs a schedule");
  }
  if (spec.scaling?.mode === "autoscaled") {
    const s = spec.scaling;
    if (s.minReplicas > s.maxReplicas) {
      problems.push(`minReplicas ${s.minReplicas} exceeds maxReplicas ${s.maxReplicas}`);
    }
    if (s.cpuUtilizationPercent === undefined && s.memoryUtilizationPercent === undefined) {
      problems.push("an autoscaler needs a CPU or memory target");
    }
  }
  for (const [which, p] of Object.entries(spec.probes ?? {})) {
    if (p && spec.ports[p.port] === undefined) {
      problems.push(`probes.${which} uses port ${p.port}, which the service does not declare`);
    }
  }
  const names = [...Object.keys(spec.writablePaths), ...spec.configMapMounts.map((m) => m.volumeName)];
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0) {
    problems.push(`volume names used twice: ${dup.join(", ")}`);
  }
  const clash = Object.keys(spec.secretEnv).filter((k) => k in spec.env);
  if (clash.length > 0) {
    problems.push(`variables both plain and secret: ${clash.join(", ")}`);
  }
  return problems;
}

/** The pod template of a service. */
export function podTemplate(spec: WorkloadSpec): k8s.types.input.core.v1.PodTemplateSpec {
  const writable = writableVolumes(spec.writablePaths);
  const ports: k8s.types.input.core.v1.ContainerPort[] = [];
  if (spec.ports.http !== undefined) {
    ports.push({ name: PORT_NAMES.http, containerPort: spec.ports.http, protocol: "TCP" });
  }
  if (spec.ports.metrics !== undefined) {
    ports.push({ name: PORT_NAMES.metrics, containerPort: spec.ports.metrics, protocol: "TCP" });
  }
  const env: k8s.types.input.core.v1.EnvVar[] = [
    ...Object.keys(spec.secretEnv)
      .sort()
      .map((name) => ({
        name,
        valueFrom: {
          secretKeyRef: {
            name: spec.secretEnv[name].secretName,
            key: spec.secretEnv[name].key,
            optional: false,
          },
        },
      })),
  ];
  const envFrom = [
    ...(spec.envConfigMaps ?? []).map((name) => ({ configMapRef: { name, optional: false } })),
    ...(Object.keys(spec.env).length > 0
      ? [{ configMapRef: { name: `${spec.name}-env`, optional: false } }]
      : []),
  ];
  const longRunning = spec.kind === "http" || spec.kind === "worker";
  const labels = podLabelsOf(spec);
  const container: k8s.types.input.core.v1.Container = {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: "IfNotPresent",
    ...(spec.command ? { command: [...spec.command] } : {}),
    ...(spec.args ? { args: [...spec.args] } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(envFrom.length > 0 ? { envFrom } : {}),
    ...(env.length > 0 ? { env } : {}),
    resources: {
      requests: { cpu: spec.resources.requests.cpu, memory: spec.resources.requests.memory },
      limits: {
        memory: spec.resources.limits.memory,
        ...(spec.resources.limits.cpu ? { cpu: spec.resources.limits.cpu } : {}),
      },
    },
    ...(spec.probes?.startup ? { startupProbe: probe(spec.probes.startup) } : {}),
    ...(spec.probes ? { livenessProbe: probe(spec.probes.liveness) } : {}),
    ...(spec.probes ? { readinessProbe: probe(spec.probes.readiness) } : {}),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [
      ...Object.keys(spec.writablePaths).map((name) => writable.mounts[name]),
      ...spec.configMapMounts.map((m) => ({ name: m.volumeName, mountPath: m.mountPath, readOnly: true })),
    ],
  };
  return {
    metadata: {
      labels,
      annotations: { "hcp.io/env-hash": envHash(spec.env) },
    },
    spec: {
      serviceAccountName: spec.name,
      automountServiceAccountToken: spec.automountServiceAccountToken,
      enableServiceLinks: false,
      securityContext: restrictedPodSecurityContext(spec.runAs),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      ...(spec.placement.nodeSelector ? { nodeSelector: { ...spec.placement.nodeSelector } } : {}),
      ...(spec.placement.tolerations
        ? { tolerations: spec.placement.tolerations.map((t) => ({ ...t })) }
        : {}),
      ...(longRunning
        ? {
            // Zones: never more than one pod apart (a zone lost takes at most its share); nodes of a
            // zone that has gone away are not domains, and tainted (unreachable) nodes are ignored,
            // so a zone outage does not block scheduling. Nodes: spread when possible. Per revision
            // (pod-template-hash), so a rollout spreads the new pods too.
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "DoNotSchedule",
                nodeTaintsPolicy: "Honor",
                labelSelector: { matchLabels: selectorLabels(spec.name) },
                matchLabelKeys: ["pod-template-hash"],
              },
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: selectorLabels(spec.name) },
                matchLabelKeys: ["pod-template-hash"],
              },
            ],
          }
        : { restartPolicy: "Never" }),
      containers: [container],
      volumes: [
        ...writable.volumes,
        ...spec.configMapMounts.map((m) => ({
          name: m.volumeName,
          configMap: { name: m.configMapName, optional: false },
        })),
      ],
    },
  };
}

/** Every Kubernetes object of a service, by its role. */
export interface WorkloadManifests {
  readonly serviceAccount: k8s.types.input.core.v1.ServiceAccount;
  readonly configMap?: k8s.types.input.core.v1.ConfigMap;
  readonly deployment?: k8s.types.input.apps.v1.Deployment;
  readonly job?: k8s.types.input.batch.v1.Job;
  readonly cronJob?: k8s.types.input.batch.v1.CronJob;
  readonly service?: k8s.types.input.core.v1.Service;
  readonly podDisruptionBudget?: k8s.types.input.policy.v1.PodDisruptionBudget;
  readonly horizontalPodAutoscaler?: k8s.types.input.autoscaling.v2.HorizontalPodAutoscaler;
  readonly networkPolicy: k8s.types.input.networking.v1.NetworkPolicy;
}

function scalingRules(r: ScalingRules): k8s.types.input.autoscaling.v2.HPAScalingRules {
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    policies: r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })),
    selectPolicy: r.selectPolicy,
  };
}

/**
 * The manifests of a service. Long-running kinds get a Deployment (without `replicas` when an HPA
 * owns the count: a deploy must not reset what the HPA chose), a PodDisruptionBudget (one pod at a
 * time: a static `minAvailable` under an HPA either blocks every drain or protects nothing) and,
 * when they serve, a ClusterIP Service with named ports. Jobs and cronjobs run to completion with no
 * retries beyond `backoffLimit: 2` and are kept for a day for their logs.
 */
export function workloadManifests(spec: WorkloadSpec): WorkloadManifests {
  const problems = workloadProblems(spec);
  if (problems.length > 0) {
    throw new Error(`Workload ${spec.name}: ${problems.join("; ")}. Fix the service's settings.`);
  }
  const meta = (name: string) => ({ name, namespace: spec.namespace, labels: podLabelsOf(spec) });
  const template = podTemplate(spec);
  const selector = { matchLabels: selectorLabels(spec.name) };
  const longRunning = spec.kind === "http" || spec.kind === "worker";
  const scaling = spec.scaling;
  const out: {
    -readonly [K in keyof WorkloadManifests]: WorkloadManifests[K];
  } = {
    serviceAccount: {
      metadata: meta(spec.name),
      automountServiceAccountToken: spec.automountServiceAccountToken,
    },
    networkPolicy: {
      metadata: meta(spec.name),
      spec: networkPolicySpec(spec.name, {
        pods: selectorLabels(spec.name),
        ingress: spec.ingress,
        egress: spec.egress,
      }),
    },
  };
  if (Object.keys(spec.env).length > 0) {
    out.configMap = { metadata: meta(`${spec.name}-env`), data: { ...spec.env } };
  }
  if (longRunning && scaling) {
    out.deployment = {
      metadata: meta(spec.name),
      spec: {
        ...(scaling.mode === "fixed" ? { replicas: scaling.replicas } : {}),
        revisionHistoryLimit: 5,
        selector,
        strategy: {
          type: "RollingUpdate",
          rollingUpdate: {
            maxSurge: spec.rollout?.maxSurge ?? 1,
            maxUnavailable: spec.rollout?.maxUnavailable ?? 0,
          },
        },
        template,
      },
    };
    out.podDisruptionBudget = {
      metadata: meta(spec.name),
      spec: { maxUnavailable: 1, selector, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    };
    if (scaling.mode === "autoscaled") {
      const metric = (name: "cpu" | "memory", target: number | undefined) =>
        target === undefined
          ? []
          : [
              {
                type: "Resource",
                resource: { name, target: { type: "Utilization", averageUtilization: target } },
              },
            ];
      out.horizontalPodAutoscaler = {
        metadata: meta(spec.name),
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: spec.name },
          minReplicas: scaling.minReplicas,
          maxReplicas: scaling.maxReplicas,
          metrics: [
            ...metric("cpu", scaling.cpuUtilizationPercent),
            ...metric("memory", scaling.memoryUtilizationPercent),
          ],
          ...(scaling.scaleUp || scaling.scaleDown
            ? {
                behavior: {
                  ...(scaling.scaleUp ? { scaleUp: scalingRules(scaling.scaleUp) } : {}),
                  ...(scaling.scaleDown ? { scaleDown: scalingRules(scaling.scaleDown) } : {}),
                },
              }
            : {}),
        },
      };
    }
  }
  const servicePorts: k8s.types.input.core.v1.ServicePort[] = [];
  if (spec.ports.http !== undefined) {
    servicePorts.push({
      name: "http",
      port: spec.ports.http,
      targetPort: "http",
      protocol: "TCP",
      appProtocol: "http",
    });
  }
  if (spec.ports.metrics !== undefined) {
    servicePorts.push({
      name: "metrics",
      port: spec.ports.metrics,
      targetPort: "metrics",
      protocol: "TCP",
      appProtocol: "http",
    });
  }
  if (spec.kind === "http") {
    out.service = {
      metadata: {
        ...meta(spec.name),
        ...(Object.keys(spec.serviceAnnotations).length > 0
          ? { annotations: { ...spec.serviceAnnotations } }
          : {}),
      },
      spec: { type: "ClusterIP", selector: selectorLabels(spec.name), ports: servicePorts },
    };
  }
  const jobSpec: k8s.types.input.batch.v1.JobSpec = {
    backoffLimit: 2,
    ...(spec.activeDeadlineSeconds !== undefined
      ? { activeDeadlineSeconds: spec.activeDeadlineSeconds }
      : {}),
    ttlSecondsAfterFinished: 86400,
    template,
  };
  if (spec.kind === "job") {
    out.job = { metadata: meta(spec.name), spec: jobSpec };
  }
  if (spec.kind === "cronjob" && spec.schedule) {
    out.cronJob = {
      metadata: meta(spec.name),
      spec: {
        schedule: spec.schedule.cron,
        timeZone: spec.schedule.timeZone,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels: podLabelsOf(spec) }, spec: jobSpec },
      },
    };
  }
  return out;
}

/** Arguments of {@link Workload}. */
export interface WorkloadArgs {
  /** What the service is (plain values; see {@link WorkloadSpec}). */
  readonly spec: WorkloadSpec;
  /**
   * Content of the ConfigMaps in `spec.configMapMounts` this component creates (by ConfigMap name),
   * e.g. the database CA certificate.
   * @default - none: the mounted ConfigMaps exist already
   */
  readonly configMaps?: Readonly<Record<string, pulumi.Input<Record<string, pulumi.Input<string>>>>>;
  /**
   * An EKS Pod Identity role for the service account (grant it access with `bucket.grantRead(role)`
   * and friends), in the given cluster.
   * @default - no AWS identity
   */
  readonly podIdentity?: { readonly clusterName: pulumi.Input<string>; readonly description: string };
}

/**
 * The Kubernetes objects of one application service ({@link workloadManifests}) and, when asked, its
 * Pod Identity role. Children are named `<name>-<role>`; the component's `dependsOn` reaches every
 * child (e.g. a Deployment created after its migration Job).
 */
export class Workload extends pulumi.ComponentResource {
  readonly manifests: WorkloadManifests;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly deployment: k8s.apps.v1.Deployment | undefined;
  readonly job: k8s.batch.v1.Job | undefined;
  readonly cronJob: k8s.batch.v1.CronJob | undefined;
  readonly service: k8s.core.v1.Service | undefined;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  readonly role: PodIdentityRole | undefined;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything: a refused service leaves no half-registered component.
    const manifests = workloadManifests(args.spec);
    super("hcp:kube:Workload", name, {}, opts);
    this.manifests = manifests;
    const after = (...local: pulumi.Resource[]) => ({
      parent: this,
      dependsOn: inheritedDependsOn(opts, ...local),
    });
    this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, manifests.serviceAccount, after());
    this.role = args.podIdentity
      ? new PodIdentityRole(
          `${name}-identity`,
          {
            clusterName: args.podIdentity.clusterName,
            namespace: args.spec.namespace,
            serviceAccounts: [args.spec.name],
            description: args.podIdentity.description,
          },
          after(),
        )
      : undefined;
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      manifests.networkPolicy,
      after(),
    );
    const podInputs: pulumi.Resource[] = [this.serviceAccount, this.networkPolicy];
    if (this.role) {
      podInputs.push(this.role);
    }
    if (manifests.configMap) {
      podInputs.push(new k8s.core.v1.ConfigMap(`${name}-env`, manifests.configMap, after()));
    }
    for (const mount of args.spec.configMapMounts) {
      const data = args.configMaps?.[mount.configMapName];
      if (data) {
        podInputs.push(
          new k8s.core.v1.ConfigMap(
            `${name}-${mount.volumeName}`,
            {
              metadata: {
                name: mount.configMapName,
                namespace: args.spec.namespace,
                labels: podLabelsOf(args.spec),
              },
              data,
            },
            after(),
          ),
        );
      }
    }
    this.deployment = manifests.deployment
      ? new k8s.apps.v1.Deployment(name, manifests.deployment, after(...podInputs))
      : undefined;
    this.job = manifests.job ? new k8s.batch.v1.Job(name, manifests.job, after(...podInputs)) : undefined;
    this.cronJob = manifests.cronJob
      ? new k8s.batch.v1.CronJob(name, manifests.cronJob, after(...podInputs))
      : undefined;
    this.service = manifests.service
      ? new k8s.core.v1.Service(`${name}-svc`, manifests.service, after())
      : undefined;
    if (manifests.podDisruptionBudget) {
      new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, manifests.podDisruptionBudget, after());
    }
    if (manifests.horizontalPodAutoscaler && this.deployment) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        manifests.horizontalPodAutoscaler,
        after(this.deployment),
      );
    }
    this.registerOutputs({});
  }
}
