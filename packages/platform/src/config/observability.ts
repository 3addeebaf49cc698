import { z } from "zod";
import { imageDigest } from "./images";
import type { PathFn } from "./validate";
import { REGION_NAMES } from "../regions";
import { type ConfigProblem, show } from "./problems";

/**
 * The `observability` section of the environment definition: the monitoring stack's charts, sizes,
 * retention, exporters, notification addresses and SLO targets. Secrets (PagerDuty routing key, Slack
 * webhook) are never here: they live in Secrets Manager (see packages/observability/README.md).
 */

/**
 * Regions offering Amazon Managed Service for Prometheus (service `aps`), from botocore 1.43.11's
 * `endpoints.json` (partitions aws and aws-us-gov) and the AWS General Reference page "Amazon Managed Service for
 * Prometheus endpoints and quotas": both sa-east-1 and us-east-1 are listed. A region missing here
 * keeps Prometheus' local TSDB as its only metrics store (remoteWrite `amp` is refused for it).
 */
export const AMP_REGIONS: ReadonlySet<string> = new Set([
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "us-gov-east-1",
  "us-gov-west-1",
]);

const chartPin = z
  .object({
    repository: z.url({ protocol: /^https$/ }).describe("an https Helm repository URL"),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .describe("an exact chart version such as 86.3.2, never a range"),
  })
  .strict();

const exactImage = (what: string, example: string) =>
  z
    .object({
      repository: z.string().min(1).describe(`the ${what} image or an ECR mirror of it`),
      tag: z
        .string()
        .regex(/^v?\d+\.\d+\.\d+$/)
        .describe(`an exact release tag such as ${example}, never latest`),
      digest: imageDigest,
    })
    .strict()
    .describe(`the ${what} image`);

/** Schema of `observability`. */
export const observabilitySchema = z
  .object({
    charts: z
      .object({
        kubePrometheusStack: chartPin.describe(
          "kube-prometheus-stack (prometheus-community); its CRDs must be those of prometheus-operator v0.91 (chart 86.x) for the offline schema check",
        ),
        fluentBit: chartPin.describe("the fluent-bit chart (fluent/helm-charts) that ships container logs"),
      })
      .strict()
      .describe("the Helm charts the observability layer installs"),
    prometheus: z
      .object({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(2)
          .describe("Prometheus replicas (2 or more in production: each scrapes everything)"),
        retentionDays: z
          .number()
          .int()
          .min(1)
          .max(365)
          .default(15)
          .describe("days of local TSDB retention (durable history goes to AMP by remote write)"),
        storageGiB: z
          .number()
          .int()
          .min(10)
          .max(16384)
          .default(100)
          .describe("the encrypted gp3 volume of each Prometheus replica in GiB"),
        retentionSizeGiB: z
          .number()
          .int()
          .min(1)
          .default(85)
          .describe(
            "size-based retention in GiB: at most 90 % of storageGiB, so the WAL and compaction never fill the volume",
          ),
        scrapeIntervalSeconds: z
          .number()
          .int()
          .min(5)
          .max(120)
          .default(15)
          .describe("seconds between scrapes (part of the kill-to-notification latency)"),
        evaluationIntervalSeconds: z
          .number()
          .int()
          .min(5)
          .max(120)
          .default(15)
          .describe("seconds between rule evaluations"),
      })
      .strict()
      .describe("Prometheus replicas, storage, retention and intervals"),
    alertmanager: z
      .object({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(3)
          .describe("Alertmanager replicas (a gossip cluster; 3 in production)"),
        storageGiB: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(5)
          .describe("the encrypted gp3 volume of each Alertmanager replica (silences, notification log)"),
      })
      .strict()
      .describe("Alertmanager replicas and storage"),
    remoteWrite: z
      .enum(["amp", "off"])
      .default("amp")
      .describe(
        "amp: remote write to a KMS-encrypted Amazon Managed Service for Prometheus workspace through Pod Identity (every region must offer it); off: local TSDB only",
      ),
    exporters: z
      .object({
        postgres: exactImage("postgres_exporter", "v0.17.1"),
        pgbouncer: exactImage("pgbouncer_exporter", "v0.10.2"),
        pgbackrest: exactImage("pgbackrest_exporter", "v0.20.0"),
      })
      .strict()
      .describe("the exporters the data tier runs next to its pods"),
    notifications: z
      .object({
        emailAddresses: z
          .array(z.email())
          .min(1)
          .describe(
            "team addresses subscribed (by email) to the region's alert SNS topic: CloudWatch alarms, EventBridge events and critical alerts",
          ),
      })
      .strict()
      .describe("who is notified by email; the pager and chat keys are Secrets Manager secrets"),
    slo: z
      .object({
        availabilityPercent: z
          .number()
          .gt(90)
          .lt(100)
          .default(99.99)
          .describe("share of requests that must succeed over 30 days, e.g. 99.99"),
        latencyThresholdSeconds: z
          .number()
          .gt(0)
          .max(10)
          .default(0.05)
          .describe("the latency target: a request slower than this counts against the latency SLO"),
        latencyObjectivePercent: z
          .number()
          .gt(50)
          .lt(100)
          .default(99)
          .describe("share of requests that must be faster than latencyThresholdSeconds over 30 days"),
      })
      .strict()
      .default({ availabilityPercent: 99.99, latencyThresholdSeconds: 0.05, latencyObjectivePercent: 99 })
      .describe("the service level objectives the burn-rate alerts protect"),
  })
  .strict()
  .describe("Prometheus, Alertmanager, Grafana, exporters, log shipping and SLOs of every region");

type Raw = Record<string, unknown>;

function obj(v: unknown): Raw | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Cross-field rules of `observability` (run on raw values, with the tier and regions). */
export function checkObservability(
  raw: Raw,
  path: PathFn,
  ampRegions: ReadonlySet<string> = AMP_REGIONS,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const o = obj(raw["observability"]);
  if (!o) {
    return problems;
  }
  const prometheus = obj(o["prometheus"]);
  const storage = num(prometheus?.["storageGiB"]) ?? 100;
  const size = num(prometheus?.["retentionSizeGiB"]) ?? 85;
  if (size > Math.floor(storage * 0.9)) {
    problems.push({
      path: path("observability", "prometheus", "retentionSizeGiB"),
      received: show(size),
      allowed: `at most 90 % of storageGiB (${Math.floor(storage * 0.9)} for ${storage} GiB)`,
      fix: `set retentionSizeGiB to ${Math.floor(storage * 0.9)} or raise storageGiB`,
    });
  }
  const scrape = num(prometheus?.["scrapeIntervalSeconds"]) ?? 15;
  const evaluation = num(prometheus?.["evaluationIntervalSeconds"]) ?? 15;
  if (evaluation < scrape) {
    problems.push({
      path: path("observability", "prometheus", "evaluationIntervalSeconds"),
      received: show(evaluation),
      allowed: `at least scrapeIntervalSeconds (${scrape}): evaluating faster than data arrives only repeats results`,
      fix: `set it to ${scrape}`,
    });
  }
  if (raw["tier"] === "production") {
    const minimums: Array<[string, unknown, number, string]> = [
      [
        "prometheus",
        prometheus?.["replicas"] ?? 2,
        2,
        "a single Prometheus is a single point of failure of every alert",
      ],
      [
        "alertmanager",
        obj(o["alertmanager"])?.["replicas"] ?? 3,
        3,
        "Alertmanager needs 3 replicas to keep deduplicating notifications while one is drained",
      ],
    ];
    for (const [key, value, min, why] of minimums) {
      const n = num(value);
      if (n !== undefined && n < min) {
        problems.push({
          path: path("observability", key, "replicas"),
          received: show(n),
          allowed: `${min} or more in production (${why})`,
          fix: `set replicas to ${min}`,
        });
      }
    }
  }
  if ((o["remoteWrite"] ?? "amp") === "amp") {
    const regions = Array.isArray(raw["regions"]) ? raw["regions"] : [];
    regions.forEach((r, i) => {
      const name = obj(r)?.["name"];
      // An unknown region is reported by the region rules; only a known one can lack the service.
      if (typeof name === "string" && REGION_NAMES.includes(name) && !ampRegions.has(name)) {
        problems.push({
          path: path("regions", i, "name"),
          received: show(name),
          allowed: `with observability.remoteWrite amp, a region that offers Amazon Managed Service for Prometheus (${[...ampRegions].join(", ")})`,
          fix: "set observability.remoteWrite to off (local TSDB only) or deploy in a region with AMP",
        });
      }
    });
  }
  return problems;
}
