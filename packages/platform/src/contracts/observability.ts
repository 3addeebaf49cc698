import { z } from "zod";
import type { LogClass } from "../config/types";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";

/** The log classes of the platform, in order (retention per class is `retention.logs` in config). */
export const LOG_CLASSES: readonly LogClass[] = ["audit", "security", "application", "diagnostic"];

/** What an observability stack exports as `observability`. */
export interface ObservabilityOutputs {
  readonly namespace: string;
  /** In-cluster URLs. */
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly grafanaUrl: string;
  /** SNS topic (KMS-encrypted) receiving CloudWatch alarms, EventBridge events and critical alerts. */
  readonly alertTopicArn: string;
  /** CloudWatch log groups by log class (`audit`, `security`, `application`, `diagnostic`). */
  readonly logGroupNames: Readonly<Record<string, string>>;
  /** KMS keys of the stack: CloudWatch Logs, and alerting (SNS, Secrets Manager, AMP). */
  readonly kmsKeyArns: { readonly logs: string; readonly alerting: string };
  /**
   * The Amazon Managed Service for Prometheus workspace Prometheus remote-writes to, or `null` where
   * the region does not offer the service (or remote write is off in config).
   */
  readonly remoteWrite: { readonly workspaceArn: string; readonly url: string } | null;
}

const schema = z.object({
  namespace: text(),
  prometheusUrl: z.url(),
  alertmanagerUrl: z.url(),
  grafanaUrl: z.url(),
  alertTopicArn: arn(),
  logGroupNames: z.record(z.string(), text()),
  kmsKeyArns: z.object({ logs: arn(), alerting: arn() }),
  remoteWrite: z.object({ workspaceArn: arn(), url: z.url({ protocol: /^https$/ }) }).nullable(),
});
const _matches: SchemaMatches<typeof schema, ObservabilityOutputs> = true;
void _matches;

/** The observability layer's contract. */
export const observabilityContract: Contract<ObservabilityOutputs> = {
  layer: "observability",
  outputName: "observability",
  schema,
  secretFields: [],
};

/** Reads the observability stack of an environment's region. */
export function readObservability(environment: string, region: string): ContractRef<ObservabilityOutputs> {
  return readContract(observabilityContract, stackId("observability", environment, region));
}
