import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";

/** What an observability stack exports as `observability`. */
export interface ObservabilityOutputs {
  readonly namespace: string;
  /** In-cluster URLs. */
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly grafanaUrl: string;
  /** SNS topic receiving critical alerts (KMS-encrypted). */
  readonly alertTopicArn: string;
  /** CloudWatch log groups by log class. */
  readonly logGroupNames: Readonly<Record<string, string>>;
}

const schema = z.object({
  namespace: text(),
  prometheusUrl: z.url(),
  alertmanagerUrl: z.url(),
  grafanaUrl: z.url(),
  alertTopicArn: arn(),
  logGroupNames: z.record(z.string(), text()),
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
