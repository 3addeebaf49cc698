import {
  DATA_TIER_ACCESS_LABELS,
  type Flow,
  labelMap,
  type Peer,
  selectorLabels,
  WORKLOAD_PORT_NAMES,
  type WorkloadSpec,
} from "@hcp/kube";
import {
  type MetricsEndpoint,
  type RegionRole,
  scaledReplicas,
  type WorkloadsConfig,
  type WorkloadServiceConfig,
} from "@hcp/platform";
import { meshFlows } from "./mesh";

/**
 * The application services of a region as `@hcp/kube` Workload specs: pure functions of the
 * `workloads` config section and what the region's stacks export, so every rule (image pins, pool
 * sizes, who may reach whom, read-only mode) is testable without Pulumi.
 */

/** ConfigMap holding the database CA (mounted into every pod that connects to the database). */
export const DATABASE_CA = {
  configMapName: "database-ca",
  volumeName: "database-ca",
  mountPath: "/etc/hcp/database-ca",
  key: "ca.crt",
} as const;

/** ConfigMap with the region's platform values (bucket names, region, mode), `envFrom` of every pod. */
export const PLATFORM_ENV_CONFIGMAP = "hcp-platform";

/** Name of the ClusterSecretStore (AWS Secrets Manager of the region). */
export const SECRET_STORE = "aws-secrets-manager";

/** The Kubernetes Secret an ExternalSecret of a service writes. */
export function secretNames(service: string) {
  return { database: `${service}-database`, app: `${service}-app`, cache: `${service}-cache` } as const;
}

/** Where IMDS lives: never reachable from an application pod. */
export const IMDS_CIDR = "169.254.169.254/32";
/** The EKS Pod Identity agent (on every node, link-local): pods with an AWS role fetch credentials here. */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;

/** Everything outside the private and link-local ranges: "the internet" of a NetworkPolicy. */
export const INTERNET: Peer = {
  cidr: "0.0.0.0/0",
  except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"],
};

/** What a region's services connect to (from the data / dr and network contracts). */
export interface RegionInputs {
  readonly region: string;
  readonly role: RegionRole;
  /** `readOnly` in a DR region whose database is still a standby. */
  readonly mode: "readWrite" | "readOnly";
  /** `workloadScale` of the region (DR regions run a fraction of the replicas). */
  readonly workloadScale: number;
  /** Registry URL of each image repository in this region (`<registry>/<name>`). */
  readonly repositoryUrls: Readonly<Record<string, string>>;
  readonly database: {
    readonly namespace: string;
    readonly host: string;
    readonly port: number;
    readonly databaseName: string;
  };
  /** Subnets the internet-facing ALB's nodes live in (its traffic reaches the pods from there). */
  readonly loadBalancerSubnetCidrs: readonly string[];
  /** The region's ElastiCache replication group: where its nodes are (their addresses are not fixed). */
  readonly cache: {
    /** CIDRs of the cache's subnet group (the private subnets). */
    readonly subnetCidrs: readonly string[];
    readonly port: number;
  };
}

/** Full image reference: the digest when pinned (production always is), else the tag. */
export function imageRef(
  service: WorkloadServiceConfig,
  repositoryUrls: RegionInputs["repositoryUrls"],
): string {
  const url = repositoryUrls[service.image.repository];
  if (url === undefined) {
    throw new Error(
      `workloads.services '${service.name}': image repository '${service.image.repository}' is not one of the environment's ECR repositories (${Object.keys(repositoryUrls).join(", ")}); add it to ecr.repositories.`,
    );
  }
  return service.image.digest ? `${url}@${service.image.digest}` : `${url}:${service.image.tag}`;
}

/**
 * The registry URL of a repository in another region: ECR replication keeps the account and the
 * repository name, only the registry's region changes.
 */
export function replicaRepositoryUrl(url: string, region: string): string {
  return url.replace(/^(\d+\.dkr\.ecr\.)[a-z0-9-]+(\.)/, `$1${region}$2`);
}

/** The `postgresql://` URL template ESO renders (username and password filled in from Secrets Manager). */
export function databaseUrlTemplate(db: RegionInputs["database"]): string {
  const query = `sslmode=verify-full&sslrootcert=${DATABASE_CA.mountPath}/${DATABASE_CA.key}`;
  return `postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@${db.host}:${db.port}/${db.databaseName}?${query}`;
}

/**
 * The `rediss://` URL template ESO renders from the cache's secret (AUTH token, primary endpoint,
 * port): TLS (the `s`), no user name (the AUTH token authenticates the `default` user). No CA is
 * mounted: the ElastiCache guide's TLS client examples ("In-transit encryption", connecting with
 * redis-cli `--tls`) verify the nodes' certificates against the client's default trust store.
 */
export function redisUrlTemplate(): string {
  return "rediss://:{{ .authToken | urlquery }}@{{ .host }}:{{ .port }}";
}

/** The database role a service's access maps to (a key of the data tier's `credentialSecretArns`). */
export function databaseCredential(access: "readWrite" | "readOnly", mode: RegionInputs["mode"]): string {
  // In a read-only region the writer role would only collect errors: every service reads.
  return access === "readWrite" && mode === "readWrite" ? "app" : "reader";
}

function flowsOf(service: WorkloadServiceConfig, config: WorkloadsConfig, inputs: RegionInputs) {
  const all = config.services;
  const ingress: Flow[] = [];
  const egress: Flow[] = [];
  if (service.ports.http !== undefined) {
    const callers = service.callers.map((c) => ({ pods: selectorLabels(c) }));
    if (callers.length > 0) {
      ingress.push({ peers: callers, ports: [service.ports.http] });
    }
    if (service.ingress) {
      // Target type ip: the ALB connects to the pod from its nodes' addresses in these subnets.
      ingress.push({
        peers: inputs.loadBalancerSubnetCidrs.map((cidr) => ({ cidr })),
        ports: [service.ports.http],
      });
    }
  }
  if (service.ports.metrics !== undefined) {
    ingress.push({
      peers: [{ namespaces: labelMap(DATA_TIER_ACCESS_LABELS.monitoring) }],
      ports: [service.ports.metrics],
    });
  }
  if (service.database.access !== "none" || service.migrations) {
    egress.push({
      peers: [{ namespaces: { "kubernetes.io/metadata.name": inputs.database.namespace } }],
      ports: [inputs.database.port],
    });
  }
  for (const callee of all) {
    if (callee.callers.includes(service.name) && callee.ports.http !== undefined) {
      egress.push({ peers: [{ pods: selectorLabels(callee.name) }], ports: [callee.ports.http] });
    }
  }
  const needsAws = service.objectStorage.documents !== "none" || service.objectStorage.exports !== "none";
  if (needsAws) {
    egress.push({ peers: [{ cidr: POD_IDENTITY_AGENT.cidr }], ports: [POD_IDENTITY_AGENT.port] });
  }
  if (service.externalHttps || needsAws) {
    egress.push({ peers: [INTERNET], ports: [443] });
  }
  if (service.cache === "readWrite") {
    // The cache's node addresses change with failovers and replacements: the subnets, on its port only.
    egress.push({
      peers: inputs.cache.subnetCidrs.map((cidr) => ({ cidr })),
      ports: [inputs.cache.port],
    });
  }
  // Ambient mode: mesh traffic arrives on the HBONE port, probes from the CNI's SNAT address.
  const mesh = meshFlows(service, all, config);
  return { ingress: [...ingress, ...mesh.ingress], egress: [...egress, ...mesh.egress] };
}

/** Plain environment of a service: its own `env` plus the values the platform sets. */
export function serviceEnv(service: WorkloadServiceConfig): Record<string, string> {
  return {
    ...service.env,
    ...(service.ports.http !== undefined ? { PORT: String(service.ports.http) } : {}),
    ...(service.ports.metrics !== undefined ? { METRICS_PORT: String(service.ports.metrics) } : {}),
    ...(service.database.access !== "none"
      ? {
          POOL_SIZE: String(service.database.poolSize),
          DATABASE_CA_FILE: `${DATABASE_CA.mountPath}/${DATABASE_CA.key}`,
        }
      : {}),
  };
}

function common(
  service: WorkloadServiceConfig,
  config: WorkloadsConfig,
  inputs: RegionInputs,
): Omit<WorkloadSpec, "kind" | "name" | "ingress" | "egress" | "secretEnv" | "env"> {
  return {
    namespace: config.namespace,
    image: imageRef(service, inputs.repositoryUrls),
    ...(service.command ? { command: service.command } : {}),
    ...(service.args ? { args: service.args } : {}),
    runAs: { uid: service.runAs.uid, ...(service.runAs.gid ? { gid: service.runAs.gid } : {}) },
    ports: service.ports,
    resources: service.resources,
    writablePaths: service.writablePaths,
    configMapMounts:
      service.database.access !== "none" || service.migrations
        ? [
            {
              configMapName: DATABASE_CA.configMapName,
              volumeName: DATABASE_CA.volumeName,
              mountPath: DATABASE_CA.mountPath,
            },
          ]
        : [],
    envConfigMaps: [PLATFORM_ENV_CONFIGMAP],
    podLabels: {},
    serviceAnnotations: {},
    automountServiceAccountToken: false,
    placement: {},
    terminationGracePeriodSeconds: 30,
  };
}

/** The Workload spec of a service in a region (replicas scaled by the region's `workloadScale`). */
export function serviceSpec(
  service: WorkloadServiceConfig,
  config: WorkloadsConfig,
  inputs: RegionInputs,
): WorkloadSpec {
  const names = secretNames(service.name);
  const secretEnv: Record<string, { secretName: string; key: string }> = {};
  if (service.database.access !== "none") {
    secretEnv.DATABASE_URL = { secretName: names.database, key: "DATABASE_URL" };
  }
  for (const s of service.secrets) {
    secretEnv[s] = { secretName: names.app, key: s };
  }
  if (service.cache === "readWrite") {
    secretEnv.REDIS_URL = { secretName: names.cache, key: "REDIS_URL" };
  }
  const scale = (n: number) => scaledReplicas(n, inputs.workloadScale);
  const a = service.autoscaling;
  return {
    ...common(service, config, inputs),
    name: service.name,
    kind: service.kind,
    ...(service.probes ? { probes: service.probes } : {}),
    ...(service.kind === "http" || service.kind === "worker"
      ? {
          scaling: a
            ? {
                mode: "autoscaled" as const,
                minReplicas: scale(a.minReplicas),
                maxReplicas: Math.max(scale(a.minReplicas), scale(a.maxReplicas)),
                ...(a.cpuUtilizationPercent !== undefined
                  ? { cpuUtilizationPercent: a.cpuUtilizationPercent }
                  : {}),
                ...(a.memoryUtilizationPercent !== undefined
                  ? { memoryUtilizationPercent: a.memoryUtilizationPercent }
                  : {}),
                ...(a.scaleUp ? { scaleUp: a.scaleUp } : {}),
                ...(a.scaleDown ? { scaleDown: a.scaleDown } : {}),
              }
            : { mode: "fixed" as const, replicas: scale(service.replicas ?? 1) },
          rollout: service.rollout,
        }
      : {}),
    ...(service.kind === "cronjob" && service.schedule
      ? { schedule: { cron: service.schedule, timeZone: service.timeZone } }
      : {}),
    env: serviceEnv(service),
    secretEnv,
    ...flowsOf(service, config, inputs),
    serviceAnnotations:
      service.ingress && service.probes
        ? { "alb.ingress.kubernetes.io/healthcheck-path": service.probes.readiness.path }
        : {},
  };
}

/** Name of a service's migration Job and of its Secret (the admin role's DATABASE_URL). */
export function migrationName(service: string): string {
  return `${service}-migrate`;
}

/**
 * The migration Job of a service: the service's image with the migration command, the admin role,
 * the migration pool size, nothing but the database reachable. Only where the database is writable.
 */
export function migrationSpec(
  service: WorkloadServiceConfig,
  config: WorkloadsConfig,
  inputs: RegionInputs,
): WorkloadSpec | undefined {
  if (!service.migrations || inputs.mode !== "readWrite" || inputs.role !== "primary") {
    return undefined;
  }
  const name = migrationName(service.name);
  return {
    ...common(service, config, inputs),
    name,
    kind: "job",
    command: service.migrations.command,
    ports: {},
    env: {
      ...service.env,
      POOL_SIZE: String(service.migrations.poolSize),
      DATABASE_CA_FILE: `${DATABASE_CA.mountPath}/${DATABASE_CA.key}`,
    },
    secretEnv: { DATABASE_URL: { secretName: secretNames(name).database, key: "DATABASE_URL" } },
    ingress: [],
    egress: [
      {
        peers: [{ namespaces: { "kubernetes.io/metadata.name": inputs.database.namespace } }],
        ports: [inputs.database.port],
      },
    ],
    activeDeadlineSeconds: service.migrations.timeoutSeconds,
  };
}

/** The platform values every pod gets (`hcp-platform` ConfigMap), bucket names aside. */
export function platformEnv(inputs: RegionInputs): Record<string, string> {
  return {
    AWS_REGION: inputs.region,
    HCP_REGION: inputs.region,
    HCP_REGION_ROLE: inputs.role,
    READ_ONLY_MODE: String(inputs.mode === "readOnly"),
  };
}

/** Host names of a service: the public one (failover record) and this region's own. */
export function hostNames(host: string, region: string, zoneName: string) {
  return { hostname: `${host}.${zoneName}`, regionalHostname: `${host}.${region}.${zoneName}` };
}

/**
 * The metrics endpoint of every service with a metrics port, for the contract's `metrics`: a
 * PodMonitor's worth (pods, so workers and jobs without a Service are scraped too) selecting the
 * service's pods by their selector label, on the container port named `metrics`, plain HTTP inside
 * the pod network (the NetworkPolicy admits only the monitoring namespace on that port). Named after
 * the service: the observability layer relabels `job` to the endpoint's name, so the application's
 * rules and panels select `job="<service>"`. The migration Job's pods carry another name label and
 * no metrics port, so they are not selected.
 */
export function metricsEndpoints(config: WorkloadsConfig): MetricsEndpoint[] {
  return config.services.flatMap((s): MetricsEndpoint[] => {
    if (s.ports.metrics === undefined) {
      return [];
    }
    if (!s.metrics) {
      // The config validator refuses this; a program given such a value must not guess the exporter.
      throw new Error(
        `workloads.services '${s.name}': ports.metrics is set but metrics.exporter is not; add metrics: { exporter: ... }.`,
      );
    }
    return [
      {
        name: s.name,
        kind: "pod",
        namespace: config.namespace,
        selector: selectorLabels(s.name),
        port: WORKLOAD_PORT_NAMES.metrics,
        path: s.metrics.path,
        scheme: "http",
        tls: null,
        basicAuth: null,
        exporter: s.metrics.exporter,
      },
    ];
  });
}
