import { z } from "zod";
import type { PathFn } from "./validate";
import { cacheSchema, checkCache } from "./cache";
import { type ConfigProblem, show } from "./problems";

/**
 * The `workloads` section: the application services of the environment (what the workloads layer
 * deploys in every region) and the platform pieces they need (mesh, External Secrets Operator,
 * ingress, cache, buckets). Structure and per-key guidance live in the schema; the cross-field rules
 * (image pins, references between services, the database connection budget) in
 * {@link checkWorkloads}, reported in the same format as every other config problem.
 */

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CPU = /^(\d+m|\d+(\.\d+)?)$/;
const MEMORY = /^\d+(Ki|Mi|Gi|Ti)$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Environment variables the platform sets itself; a service cannot set them in `env`. */
export const PLATFORM_ENV = [
  "DATABASE_URL",
  "DATABASE_CA_FILE",
  "POOL_SIZE",
  "REDIS_URL",
  "READ_ONLY_MODE",
  "DOCUMENTS_BUCKET",
  "EXPORTS_BUCKET",
  "AWS_REGION",
  "HCP_REGION",
  "HCP_REGION_ROLE",
  "PORT",
  "METRICS_PORT",
] as const;

const chartPin = z
  .object({
    repository: z.url({ protocol: /^https$/ }).describe("an https Helm repository URL"),
    version: z
      .string()
      .regex(/^v?\d+\.\d+\.\d+$/)
      .describe("an exact chart version such as 1.30.4, never a range"),
  })
  .strict();

const quantity = (re: RegExp, example: string) =>
  z.string().regex(re).describe(`a Kubernetes quantity such as ${example}`);

const probe = z
  .object({
    path: z
      .string()
      .regex(/^\/[^\s]*$/)
      .describe("the HTTP path the kubelet GETs, e.g. /health/ready"),
    port: z.enum(["http", "metrics"]).default("http").describe("which of the service's ports the probe uses"),
    initialDelaySeconds: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(0)
      .describe("seconds before the first probe (0 when a startup probe covers the boot)"),
    periodSeconds: z.number().int().min(1).max(300).default(10).describe("seconds between probes"),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe("seconds a probe may take; less than periodSeconds"),
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(3)
      .describe("consecutive failures before the kubelet acts"),
  })
  .strict();

const scalingPolicy = z
  .object({
    type: z.enum(["Percent", "Pods"]).describe("Percent of current replicas, or a number of Pods"),
    value: z.number().int().min(1).describe("how many (percent or pods) per period"),
    periodSeconds: z.number().int().min(1).max(1800).describe("the period the value applies to"),
  })
  .strict();

const scalingRules = z
  .object({
    stabilizationWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .describe("seconds of past recommendations the HPA considers before changing the scale"),
    policies: z.array(scalingPolicy).min(1).describe("how fast the HPA may change the replica count"),
    selectPolicy: z
      .enum(["Max", "Min", "Disabled"])
      .default("Max")
      .describe("which policy wins when several apply"),
  })
  .strict();

const service = z
  .object({
    name: z
      .string()
      .regex(DNS_LABEL)
      .max(40)
      .describe("a DNS label (the Deployment, Service and ServiceAccount name), each service once"),
    kind: z
      .enum(["http", "worker", "job", "cronjob"])
      .describe(
        "http: Deployment + Service; worker: Deployment without a Service; job: a Job per release; cronjob: a CronJob",
      ),
    image: z
      .object({
        repository: z
          .string()
          .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/)
          .describe("an ECR repository of the environment (one of ecr.repositories)"),
        tag: z
          .string()
          .regex(TAG)
          .optional()
          .describe("an immutable release tag (never latest); enough outside production"),
        digest: z
          .string()
          .regex(DIGEST)
          .optional()
          .describe(
            "sha256:<64 hex> of the released image; required in production (set by the release pipeline)",
          ),
      })
      .strict()
      .describe("the image: ECR repository plus tag or digest (the digest wins when both are given)"),
    command: z.array(z.string().min(1)).optional().describe("the container command (default: the image's)"),
    args: z.array(z.string()).optional().describe("the container arguments (default: the image's)"),
    runAs: z
      .object({
        uid: z.number().int().min(1).describe("the image's non-root user id"),
        gid: z.number().int().min(1).optional().describe("its group id (default: the uid)"),
      })
      .strict()
      .describe("the non-root user the image runs as (Pod Security restricted refuses uid 0)"),
    ports: z
      .object({
        http: z.number().int().min(1024).max(65535).optional().describe("the port the service serves on"),
        metrics: z
          .number()
          .int()
          .min(1024)
          .max(65535)
          .optional()
          .describe("the Prometheus metrics port, never the serving port (not routed by the ingress)"),
      })
      .strict()
      .default({})
      .describe("container ports; http services need ports.http"),
    metrics: z
      .object({
        exporter: z
          .string()
          .regex(/^[a-z0-9][a-z0-9:._-]*$/)
          .describe(
            "what serves the metrics, as the observability layer's metric catalogue names it (e.g. app:healthcare for the PromEx metrics of otp_app healthcare)",
          ),
        path: z
          .string()
          .regex(/^\/\S*$/)
          .default("/metrics")
          .describe("the HTTP path Prometheus scrapes on ports.metrics"),
      })
      .strict()
      .optional()
      .describe(
        "what ports.metrics serves (required with it): the observability layer scrapes it, job = the service's name",
      ),
    probes: z
      .object({
        startup: probe.optional().describe("runs until the app has booted; liveness starts after it"),
        liveness: probe.describe(
          "restarts the container when it fails: the process only, never dependencies",
        ),
        readiness: probe.describe(
          "removes the pod from the Service (and the load balancer) when it fails: dependencies included",
        ),
      })
      .strict()
      .optional()
      .describe("HTTP probes; required for http services"),
    resources: z
      .object({
        requests: z
          .object({ cpu: quantity(CPU, "250m"), memory: quantity(MEMORY, "512Mi") })
          .strict()
          .describe("what the scheduler reserves"),
        limits: z
          .object({
            memory: quantity(MEMORY, "1Gi").describe("the memory limit, at least the request"),
            cpu: quantity(CPU, "1")
              .optional()
              .describe(
                "a CPU limit, at least the request (omit it for runtimes a CPU quota throttles, e.g. the BEAM)",
              ),
          })
          .strict()
          .describe("limits"),
      })
      .strict()
      .describe("container resources"),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("a fixed replica count, for services without autoscaling"),
    autoscaling: z
      .object({
        minReplicas: z.number().int().min(1).max(100).describe("the fewest pods (production: 2 or more)"),
        maxReplicas: z.number().int().min(1).max(200).describe("the most pods, at least minReplicas"),
        cpuUtilizationPercent: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe("target average CPU utilization of the requests"),
        memoryUtilizationPercent: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe("target average memory utilization of the requests"),
        scaleUp: scalingRules.optional().describe("scale-up behaviour (default: Kubernetes')"),
        scaleDown: scalingRules.optional().describe("scale-down behaviour (default: Kubernetes')"),
      })
      .strict()
      .optional()
      .describe("a HorizontalPodAutoscaler (autoscaling/v2); the Deployment then leaves replicas to it"),
    rollout: z
      .object({
        maxSurge: z
          .union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/)])
          .default(1)
          .describe("extra pods during a rollout"),
        maxUnavailable: z
          .union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/)])
          .default(0)
          .describe("pods that may be unavailable during a rollout: 0 in production"),
      })
      .strict()
      .default({ maxSurge: 1, maxUnavailable: 0 })
      .describe("the Deployment's rolling update"),
    database: z
      .object({
        access: z
          .enum(["readWrite", "readOnly", "none"])
          .describe("readWrite: the application role; readOnly: the reader role; none: no DATABASE_URL"),
        poolSize: z
          .number()
          .int()
          .min(1)
          .max(200)
          .default(10)
          .describe(
            "connections each pod opens to PgBouncer (POOL_SIZE); counted against PgBouncer's limits",
          ),
      })
      .strict()
      .default({ access: "none", poolSize: 10 })
      .describe("database access through the region's PgBouncer (verify-full TLS)"),
    cache: z
      .enum(["readWrite", "none"])
      .default("none")
      .describe("readWrite gives the service REDIS_URL (TLS, AUTH token) to the region's cache"),
    objectStorage: z
      .object({
        documents: z
          .enum(["readWrite", "read", "none"])
          .default("none")
          .describe("access to the documents bucket (DOCUMENTS_BUCKET)"),
        exports: z
          .enum(["readWrite", "none"])
          .default("none")
          .describe("access to the LGPD export bucket (EXPORTS_BUCKET)"),
      })
      .strict()
      .default({ documents: "none", exports: "none" })
      .describe("S3 buckets the service's Pod Identity role may use"),
    secrets: z
      .array(z.string().regex(ENV_NAME))
      .default([])
      .describe("names of workloads.secrets entries the service gets as environment variables"),
    env: z
      .record(z.string().regex(ENV_NAME), z.string())
      .default({})
      .describe("plain, non-secret environment variables (a ConfigMap); never credentials"),
    writablePaths: z
      .record(z.string().regex(DNS_LABEL), z.string().regex(/^\/\S*$/))
      .default({ tmp: "/tmp" })
      .describe(
        "volume name to absolute path: what the container may write (the root filesystem is read-only)",
      ),
    ingress: z
      .object({
        hosts: z
          .array(z.string().regex(DNS_LABEL))
          .min(1)
          .describe("host labels under dns.domain (app → app.<domain>), each used by one service only"),
        paths: z
          .array(
            z
              .object({
                path: z
                  .string()
                  .regex(/^\/\S*$/)
                  .describe("an absolute path"),
                pathType: z.enum(["Prefix", "Exact"]).default("Prefix").describe("Prefix or Exact"),
              })
              .strict(),
          )
          .default([{ path: "/", pathType: "Prefix" }])
          .describe("paths routed to the service"),
      })
      .strict()
      .optional()
      .describe("public HTTPS hosts through the region's ALB (http services only)"),
    callers: z
      .array(z.string().regex(DNS_LABEL))
      .default([])
      .describe(
        "services of this section that may call this one (the ALB may when ingress is set); nothing else can",
      ),
    externalHttps: z
      .boolean()
      .default(false)
      .describe(
        "true lets the pods open HTTPS (443) connections to the internet, e.g. PubMed; never the metadata address",
      ),
    migrations: z
      .object({
        command: z
          .array(z.string().min(1))
          .min(1)
          .describe("the migration command, run with the service's image"),
        poolSize: z.number().int().min(1).max(10).default(2).describe("connections of the migration run"),
        timeoutSeconds: z
          .number()
          .int()
          .min(60)
          .max(7200)
          .default(900)
          .describe("how long the Job may run before the rollout fails"),
      })
      .strict()
      .optional()
      .describe("schema migrations: a Job with the admin role before the rollout, primary region only"),
    schedule: z
      .string()
      .regex(/^\S+ \S+ \S+ \S+ \S+$/)
      .optional()
      .describe("a five-field cron schedule (cronjob only)"),
    timeZone: z.string().min(1).default("Etc/UTC").describe("the CronJob's time zone (IANA name)"),
  })
  .strict()
  .describe("one application service");

const appSecret = z
  .object({
    name: z.string().regex(ENV_NAME).describe("the environment variable name, e.g. SECRET_KEY_BASE"),
    source: z
      .enum(["generated", "operator"])
      .describe(
        "generated: random bytes made by the primary's workloads stack; operator: an empty Secrets Manager secret an operator fills (aws secretsmanager put-secret-value)",
      ),
    bytes: z
      .number()
      .int()
      .min(16)
      .max(512)
      .default(32)
      .describe("random bytes of a generated secret (base64-encoded), e.g. 64 for SECRET_KEY_BASE"),
  })
  .strict();

/** Schema of the `workloads` section. */
export const workloadsSchema = z
  .object({
    namespace: z
      .string()
      .regex(DNS_LABEL)
      .max(40)
      .default("healthcare-platform")
      .describe("the namespace of the application services"),
    mesh: z
      .enum(["ambient", "none"])
      .describe(
        "ambient: Istio ambient mode (ztunnel mTLS, STRICT PeerAuthentication, AuthorizationPolicies per declared caller); required in production",
      ),
    charts: z
      .object({
        externalSecrets: chartPin.describe("the external-secrets chart (https://charts.external-secrets.io)"),
        istio: chartPin.describe(
          "the Istio charts base, istiod, cni and ztunnel, all at this version (https://istio-release.storage.googleapis.com/charts)",
        ),
      })
      .strict()
      .describe("charts the cluster layer installs for the workloads"),
    ingress: z
      .object({
        sslPolicy: z
          .string()
          .regex(/^ELBSecurityPolicy-TLS13-1-2-[A-Za-z0-9-]+$/)
          .default("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
          .describe(
            "an ELBSecurityPolicy-TLS13-1-2-* policy: TLS 1.3, and TLS 1.2 for Route 53 health checkers (they do not speak TLS 1.3)",
          ),
        waf: z
          .object({
            rateLimit: z
              .object({
                limit: z
                  .number()
                  .int()
                  .min(10)
                  .max(2000000000)
                  .describe("requests per client IP per window (AWS WAF: 10 or more)"),
                windowSeconds: z
                  .literal([60, 120, 300, 600])
                  .describe("the evaluation window AWS WAF accepts: 60, 120, 300 or 600"),
              })
              .strict()
              .describe("the rate-based rule (the seeds: 1000 per minute)"),
            blockedCountries: z
              .array(z.string().regex(/^[A-Z]{2}$/))
              .default([])
              .describe(
                "ISO 3166-1 alpha-2 countries whose requests are blocked (geo match); empty for none",
              ),
          })
          .strict()
          .describe("the WAFv2 web ACL of the ALB (AWS managed rule groups are always on)"),
        accessLogExpiryDays: z
          .number()
          .int()
          .min(90)
          .max(3653)
          .default(400)
          .describe("days ALB access logs are kept"),
      })
      .strict()
      .describe("the internet-facing ALB of each region"),
    cache: cacheSchema,
    exports: z
      .object({
        expiryDays: z
          .number()
          .int()
          .min(1)
          .max(30)
          .default(30)
          .describe("days after which LGPD export objects expire (at most 30)"),
      })
      .strict()
      .default({ expiryDays: 30 })
      .describe("the LGPD data-portability export bucket"),
    secrets: z
      .array(appSecret)
      .default([])
      .describe(
        "application secrets in Secrets Manager (generated once in the primary, replicated to DR regions)",
      ),
    services: z.array(service).min(1).describe("the application services"),
  })
  .strict()
  .describe("the application services and what they need");

/** The parsed `workloads` section. */
export type WorkloadsConfig = z.output<typeof workloadsSchema>;
/** One parsed service. */
export type WorkloadServiceConfig = WorkloadsConfig["services"][number];

type Raw = Record<string, unknown>;

function obj(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Bytes of a memory quantity, or undefined. */
export function memoryBytes(q: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) {
    return undefined;
  }
  const pow = { Ki: 1, Mi: 2, Gi: 3, Ti: 4 }[m[2] as "Ki" | "Mi" | "Gi" | "Ti"];
  return Number(m[1]) * 1024 ** pow;
}

/** Millicores of a CPU quantity, or undefined. */
export function cpuMillis(q: string): number | undefined {
  const m = /^(\d+)m$/.exec(q);
  if (m) {
    return Number(m[1]);
  }
  return /^\d+(\.\d+)?$/.test(q) ? Math.round(Number(q) * 1000) : undefined;
}

/** Replicas of a region: the configured count scaled by the region's workloadScale, at least 1. */
export function scaledReplicas(count: number, workloadScale: number): number {
  return Math.max(1, Math.ceil(count * workloadScale));
}

/** The most pods a service runs in a region at full scale (1 for a job or cronjob). */
function maxPods(service: Raw): number {
  const kind = str(service["kind"]);
  if (kind === "job" || kind === "cronjob") {
    return 1;
  }
  return num(obj(service["autoscaling"])?.["maxReplicas"]) ?? num(service["replicas"]) ?? 1;
}

/**
 * Cross-field rules of the `workloads` section, on the raw values of the whole namespace (they need
 * `tier`, `ecr`, `regions`, `data.pgbouncer`, `residency`).
 */
export function checkWorkloads(raw: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const workloads = obj(raw["workloads"]);
  if (!workloads) {
    return problems;
  }
  const production = str(raw["tier"]) === "production";
  const repositories = arr(obj(raw["ecr"])?.["repositories"]).map(str);
  const services = arr(workloads["services"]).map(obj);
  const names = services.map((s) => str(s?.["name"]));
  const secretNames = arr(workloads["secrets"]).map((s) => str(obj(s)?.["name"]));
  const hostOwner = new Map<string, number>();

  if (production && str(workloads["mesh"]) === "none") {
    problems.push({
      path: path("workloads", "mesh"),
      received: show("none"),
      allowed: "ambient in a production environment (mTLS between every pod and caller-scoped authorization)",
      fix: "set mesh: ambient",
    });
  }
  problems.push(...checkCache(raw, path));
  const home = str(obj(raw["residency"])?.["homeCountry"]);
  arr(obj(obj(workloads["ingress"])?.["waf"])?.["blockedCountries"]).forEach((c, i) => {
    if (c === home) {
      problems.push({
        path: path("workloads", "ingress", "waf", "blockedCountries", i),
        received: show(c),
        allowed: "countries other than residency.homeCountry (the patients' own country)",
        fix: `remove ${String(c)} from the list`,
      });
    }
  });
  const seenSecrets = new Set<string>();
  secretNames.forEach((name, i) => {
    if (name === undefined) {
      return;
    }
    if (seenSecrets.has(name)) {
      problems.push({
        path: path("workloads", "secrets", i, "name"),
        received: show(name),
        allowed: "each secret listed once",
        fix: "remove the duplicate",
      });
    }
    seenSecrets.add(name);
    if ((PLATFORM_ENV as readonly string[]).includes(name)) {
      problems.push({
        path: path("workloads", "secrets", i, "name"),
        received: show(name),
        allowed: `a name the platform does not set itself (${PLATFORM_ENV.join(", ")})`,
        fix: "rename it; DATABASE_URL and REDIS_URL come from database and cache access",
      });
    }
  });

  services.forEach((s, i) => {
    if (!s) {
      return;
    }
    const p = (...rest: Array<string | number>) => path("workloads", "services", i, ...rest);
    const name = str(s["name"]);
    const kind = str(s["kind"]);
    if (name !== undefined && names.indexOf(name) !== i) {
      problems.push({
        path: p("name"),
        received: show(name),
        allowed: "each service name once",
        fix: "rename one of them",
      });
    }
    problems.push(...checkImage(obj(s["image"]), production, repositories, p));

    const ports = obj(s["ports"]) ?? {};
    const http = num(ports["http"]);
    const metrics = num(ports["metrics"]);
    if (kind === "http" && http === undefined) {
      problems.push({
        path: p("ports", "http"),
        received: show(undefined),
        allowed: "a port for an http service",
        fix: "set ports.http to the port the service listens on",
      });
    }
    if (http !== undefined && http === metrics) {
      problems.push({
        path: p("ports", "metrics"),
        received: show(metrics),
        allowed: "a port other than ports.http (metrics must not be reachable through the serving port)",
        fix: "serve metrics on their own port, e.g. 9568",
      });
    }
    const metricsSource = obj(s["metrics"]);
    if (metrics !== undefined && !metricsSource) {
      problems.push({
        path: p("metrics"),
        received: show(undefined),
        allowed: "metrics.exporter naming what serves ports.metrics (the observability layer scrapes it)",
        fix: "add metrics: { exporter: <family of the metric catalogue, e.g. app:healthcare> }",
      });
    }
    if (metricsSource && metrics === undefined) {
      problems.push({
        path: p("metrics"),
        received: show(metricsSource),
        allowed: "metrics only for a service that declares ports.metrics",
        fix: "declare ports.metrics or remove metrics",
      });
    }
    const probes = obj(s["probes"]);
    if ((kind === "http" || kind === "worker") && !probes) {
      problems.push({
        path: p("probes"),
        received: show(undefined),
        allowed: "liveness and readiness probes for long-running services",
        fix: "add probes.liveness and probes.readiness (and probes.startup for slow boots)",
      });
    }
    for (const which of ["startup", "liveness", "readiness"]) {
      const pr = obj(probes?.[which]);
      if (!pr) {
        continue;
      }
      const portName = str(pr["port"]) ?? "http";
      if ((portName === "http" ? http : metrics) === undefined) {
        problems.push({
          path: p("probes", which, "port"),
          received: show(portName),
          allowed: "a port the service declares in ports",
          fix: `declare ports.${portName} or probe the other port`,
        });
      }
      const period = num(pr["periodSeconds"]) ?? 10;
      const timeout = num(pr["timeoutSeconds"]) ?? 5;
      if (timeout >= period) {
        problems.push({
          path: p("probes", which, "timeoutSeconds"),
          received: show(timeout),
          allowed: `less than periodSeconds (${period})`,
          fix: `lower timeoutSeconds below ${period}`,
        });
      }
    }

    problems.push(...checkResources(obj(s["resources"]), p));

    const scaling = obj(s["autoscaling"]);
    const replicas = num(s["replicas"]);
    if (kind === "job" || kind === "cronjob") {
      if (scaling || replicas !== undefined) {
        problems.push({
          path: p(scaling ? "autoscaling" : "replicas"),
          received: show(scaling ?? replicas),
          allowed: "no replicas or autoscaling for a job or cronjob",
          fix: "remove it",
        });
      }
    } else if (scaling && replicas !== undefined) {
      problems.push({
        path: p("replicas"),
        received: show(replicas),
        allowed:
          "either replicas or autoscaling: with an HPA the Deployment must not set replicas (each deploy would reset the HPA's count)",
        fix: "remove replicas (autoscaling.minReplicas is the floor)",
      });
    } else if (!scaling && replicas === undefined) {
      problems.push({
        path: p("replicas"),
        received: show(undefined),
        allowed: "replicas or autoscaling for a long-running service",
        fix: "set autoscaling (min/max) or replicas",
      });
    }
    if (scaling) {
      const min = num(scaling["minReplicas"]);
      const max = num(scaling["maxReplicas"]);
      if (min !== undefined && max !== undefined && min > max) {
        problems.push({
          path: p("autoscaling", "maxReplicas"),
          received: show(max),
          allowed: `at least minReplicas (${min})`,
          fix: `raise maxReplicas to ${min} or lower minReplicas`,
        });
      }
      if (production && min !== undefined && min < 2) {
        problems.push({
          path: p("autoscaling", "minReplicas"),
          received: show(min),
          allowed: "2 or more in production (one pod lost to a node or zone must not take the service down)",
          fix: "set minReplicas: 2",
        });
      }
      if (
        scaling["cpuUtilizationPercent"] === undefined &&
        scaling["memoryUtilizationPercent"] === undefined
      ) {
        problems.push({
          path: p("autoscaling"),
          received: show(scaling),
          allowed: "at least one of cpuUtilizationPercent, memoryUtilizationPercent",
          fix: "set cpuUtilizationPercent: 70",
        });
      }
    } else if (production && replicas !== undefined && replicas < 2 && kind !== "job" && kind !== "cronjob") {
      problems.push({
        path: p("replicas"),
        received: show(replicas),
        allowed: "2 or more in production",
        fix: "set replicas: 2",
      });
    }
    const maxUnavailable = obj(s["rollout"])?.["maxUnavailable"];
    if (production && maxUnavailable !== undefined && maxUnavailable !== 0 && maxUnavailable !== "0%") {
      problems.push({
        path: p("rollout", "maxUnavailable"),
        received: show(maxUnavailable),
        allowed: "0 in production (a rollout never removes a serving pod before its replacement is ready)",
        fix: "set maxUnavailable: 0 (and maxSurge: 1 or more)",
      });
    }

    arr(s["secrets"]).forEach((secret, j) => {
      if (typeof secret === "string" && !secretNames.includes(secret)) {
        problems.push({
          path: p("secrets", j),
          received: show(secret),
          allowed: `a name from workloads.secrets (${secretNames.filter(Boolean).join(", ") || "none defined"})`,
          fix: "add the secret to workloads.secrets or remove it here",
        });
      }
    });
    for (const key of Object.keys(obj(s["env"]) ?? {})) {
      if ((PLATFORM_ENV as readonly string[]).includes(key) || secretNames.includes(key)) {
        problems.push({
          path: p("env", key),
          received: show(key),
          allowed: "a variable the platform and the service's secrets do not set",
          fix: "remove it: the platform (or the secret of that name) provides it",
        });
      }
    }

    const ingress = obj(s["ingress"]);
    if (ingress && kind !== "http") {
      problems.push({
        path: p("ingress"),
        received: show(kind),
        allowed: "ingress on http services only",
        fix: "remove ingress or make the service kind: http",
      });
    }
    if (ingress && !obj(probes?.["readiness"])) {
      problems.push({
        path: p("ingress"),
        received: show(ingress),
        allowed:
          "a public service with a readiness probe (its path is the load balancer's and Route 53's health check)",
        fix: "add probes.readiness",
      });
    }
    arr(ingress?.["hosts"]).forEach((h, j) => {
      if (typeof h !== "string") {
        return;
      }
      const owner = hostOwner.get(h);
      if (owner !== undefined) {
        problems.push({
          path: p("ingress", "hosts", j),
          received: show(h),
          allowed: "each host used by one service",
          fix: `remove it here or from services[${owner}]`,
        });
      } else {
        hostOwner.set(h, i);
      }
    });
    arr(s["callers"]).forEach((c, j) => {
      if (typeof c !== "string") {
        return;
      }
      const target = services[names.indexOf(c)];
      if (!target || c === name) {
        problems.push({
          path: p("callers", j),
          received: show(c),
          allowed: `another service of this section (${names.filter((n) => n !== name).join(", ")})`,
          fix: "name a service, or remove it",
        });
      }
      if (kind !== "http") {
        problems.push({
          path: p("callers", j),
          received: show(c),
          allowed: "callers of http services only (nothing else listens)",
          fix: "remove callers or make the service kind: http",
        });
      }
    });

    const database = obj(s["database"]);
    const migrations = obj(s["migrations"]);
    if (migrations && str(database?.["access"]) !== "readWrite") {
      problems.push({
        path: p("migrations"),
        received: show(database?.["access"] ?? "none"),
        allowed: "migrations on a service with database.access readWrite",
        fix: "set database.access: readWrite or remove migrations",
      });
    }
    if (kind === "cronjob" && s["schedule"] === undefined) {
      problems.push({
        path: p("schedule"),
        received: show(undefined),
        allowed: "a five-field cron schedule for a cronjob",
        fix: 'set schedule, e.g. "0 2 * * *"',
      });
    }
    if (kind !== "cronjob" && s["schedule"] !== undefined) {
      problems.push({
        path: p("schedule"),
        received: show(s["schedule"]),
        allowed: "a schedule on cronjob services only",
        fix: "remove schedule or make the service kind: cronjob",
      });
    }
  });

  problems.push(...checkConnectionBudget(raw, workloads, path));
  return problems;
}

function checkImage(
  image: Raw | undefined,
  production: boolean,
  repositories: ReadonlyArray<string | undefined>,
  p: (...rest: Array<string | number>) => string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!image) {
    return problems;
  }
  const repository = str(image["repository"]);
  const tag = str(image["tag"]);
  const digest = str(image["digest"]);
  if (repository !== undefined && !repositories.includes(repository)) {
    problems.push({
      path: p("image", "repository"),
      received: show(repository),
      allowed: `an ECR repository of the environment (ecr.repositories: ${repositories.filter(Boolean).join(", ")})`,
      fix: "add it to ecr.repositories or use one of those",
    });
  }
  if (tag !== undefined && /^latest$/i.test(tag)) {
    problems.push({
      path: p("image", "tag"),
      received: show(tag),
      allowed:
        "an immutable release tag or a digest, never latest (it moves, so two pods can run different code)",
      fix: "set the release's tag, or digest: sha256:<64 hex>",
    });
  }
  if (tag === undefined && digest === undefined) {
    problems.push({
      path: p("image"),
      received: show(image),
      allowed: "a tag or a digest",
      fix: "set digest: sha256:<64 hex> (production) or tag: <release>",
    });
  }
  if (production && digest === undefined) {
    problems.push({
      path: p("image", "digest"),
      received: show(undefined),
      allowed: "a digest in production: only the digest names exactly the image that was approved",
      fix: "set digest: sha256:<64 hex> of the approved image (the release workflow's pull request does)",
    });
  }
  return problems;
}

function checkResources(resources: Raw | undefined, p: (...rest: Array<string | number>) => string) {
  const problems: ConfigProblem[] = [];
  const requests = obj(resources?.["requests"]);
  const limits = obj(resources?.["limits"]);
  const reqMem = memoryBytes(str(requests?.["memory"]) ?? "");
  const limMem = memoryBytes(str(limits?.["memory"]) ?? "");
  if (reqMem !== undefined && limMem !== undefined && limMem < reqMem) {
    problems.push({
      path: p("resources", "limits", "memory"),
      received: show(limits?.["memory"]),
      allowed: `at least the request (${String(requests?.["memory"])})`,
      fix: `set the limit to ${String(requests?.["memory"])} or more`,
    });
  }
  const reqCpu = cpuMillis(str(requests?.["cpu"]) ?? "");
  const limCpu = cpuMillis(str(limits?.["cpu"]) ?? "");
  if (reqCpu !== undefined && limCpu !== undefined && limCpu < reqCpu) {
    problems.push({
      path: p("resources", "limits", "cpu"),
      received: show(limits?.["cpu"]),
      allowed: `at least the request (${String(requests?.["cpu"])}), or no CPU limit`,
      fix: "raise the CPU limit to the request or remove it",
    });
  }
  return problems;
}

/**
 * PgBouncer must accept every connection the services can open in a region with one PgBouncer
 * replica drained (its PodDisruptionBudget allows one): Σ poolSize × most pods (scaled by the
 * region's workloadScale) + the migration Job ≤ maxClientConnections × (pgbouncerReplicas − 1).
 * PostgreSQL itself cannot be exceeded through the pooler: each PgBouncer replica opens at most
 * defaultPoolSize + reserve server connections, which is what max_connections is sized for; only
 * the client side depends on these pools.
 */
function checkConnectionBudget(raw: Raw, workloads: Raw, path: PathFn): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const pgbouncer = obj(obj(raw["data"])?.["pgbouncer"]);
  const maxClients = num(pgbouncer?.["maxClientConnections"]) ?? 2000;
  const services = arr(workloads["services"]).map(obj);
  arr(raw["regions"]).forEach((r, ri) => {
    const region = obj(r);
    const sizes = obj(region?.["sizes"]);
    const replicas = num(sizes?.["pgbouncerReplicas"]) ?? 2;
    const scale = num(sizes?.["workloadScale"]) ?? 1;
    const primary = str(region?.["role"]) === "primary";
    const capacity = maxClients * Math.max(1, replicas - 1);
    const parts: string[] = [];
    let demand = 0;
    services.forEach((s) => {
      const access = str(obj(s?.["database"])?.["access"]);
      if (!s || (access !== "readWrite" && access !== "readOnly")) {
        return;
      }
      const pool = num(obj(s["database"])?.["poolSize"]) ?? 10;
      const pods = scaledReplicas(maxPods(s), scale);
      demand += pool * pods;
      parts.push(`${String(s["name"])} ${pool}×${pods}`);
      const migrations = obj(s["migrations"]);
      if (migrations && primary) {
        const m = num(migrations["poolSize"]) ?? 2;
        demand += m;
        parts.push(`${String(s["name"])} migrations ${m}`);
      }
    });
    if (demand > capacity) {
      problems.push({
        path: path("workloads", "services"),
        received: `${demand} client connections in ${String(region?.["name"])} (${parts.join(" + ")})`,
        allowed: `at most ${capacity}: data.pgbouncer.maxClientConnections ${maxClients} × (regions[${ri}].sizes.pgbouncerReplicas ${replicas} − 1 drained)`,
        fix: "lower database.poolSize or autoscaling.maxReplicas, or raise data.pgbouncer.maxClientConnections / pgbouncerReplicas",
      });
    }
  });
  return problems;
}
