import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, hostname, region, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";
import { namePrefix } from "../naming";

/**
 * Route 53 publishes health-check metrics (`AWS/Route53` `HealthCheckStatus`) only in us-east-1,
 * whatever region the checked endpoint is in: every health-check alarm lives there, and so does the
 * rule of the observability layer that routes them.
 */
export const ROUTE53_METRICS_REGION = "us-east-1";

/**
 * Start of the name of every health-check alarm the edge layer of `environment` creates
 * (`hcp-<env>-edge-<target>-unhealthy`): the observability layer routes their state changes by it,
 * so an alarm added by the next edge deploy is routed without redeploying observability.
 */
export function edgeAlarmNamePrefix(environment: string): string {
  return `${namePrefix(environment)}-edge-`;
}

/** Name of the alarm on the health check of one failover target (see {@link edgeAlarmNamePrefix}). */
export function edgeAlarmName(environment: string, targetId: string): string {
  return `${edgeAlarmNamePrefix(environment)}${targetId}-unhealthy`;
}

/** One region behind a public host name. */
export interface FailoverTarget {
  readonly region: string;
  /** `PRIMARY` for the primary region's load balancer, `SECONDARY` for a DR region's. */
  readonly failover: "PRIMARY" | "SECONDARY";
  /** The Route 53 health check the record is conditioned on. */
  readonly healthCheckId: string;
  /** Load balancer the alias record points at. */
  readonly loadBalancerDnsName: string;
}

/** A Route 53 health check of one region's public endpoint. */
export interface EdgeHealthCheck {
  readonly id: string;
  readonly region: string;
  /** Public host name it stands for. */
  readonly hostname: string;
  /** The region's own name of the endpoint that is probed (SNI and Host header). */
  readonly fqdn: string;
  /** Path probed over HTTPS (the service's readiness path). */
  readonly resourcePath: string;
  /** CloudWatch alarm on the health check's status (routed by the observability layer). */
  readonly alarmArn: string;
  readonly alarmName: string;
  /**
   * Region of the alarm: Route 53 publishes health-check metrics only in us-east-1, so every alarm
   * lives there whatever region the endpoint is in; an SNS action must be a topic of that region.
   */
  readonly alarmRegion: string;
}

/** What the edge stack (once per environment) exports as `edge`. */
export interface EdgeOutputs {
  /** The environment's public hosted zone the records live in. */
  readonly zoneId: string;
  /** Failover records, one entry per public host name. */
  readonly failoverRecords: ReadonlyArray<{
    readonly hostname: string;
    readonly targets: readonly FailoverTarget[];
  }>;
  readonly healthChecks: readonly EdgeHealthCheck[];
}

const schema = z.object({
  zoneId: text(),
  failoverRecords: z.array(
    z.object({
      hostname: hostname(),
      targets: z
        .array(
          z.object({
            region: region(),
            failover: z.enum(["PRIMARY", "SECONDARY"]),
            healthCheckId: text(),
            loadBalancerDnsName: hostname(),
          }),
        )
        .min(1),
    }),
  ),
  healthChecks: z.array(
    z.object({
      id: text(),
      region: region(),
      hostname: hostname(),
      fqdn: hostname(),
      resourcePath: z.string().regex(/^\//, "expected an absolute path"),
      alarmArn: arn(),
      alarmName: text(),
      alarmRegion: region(),
    }),
  ),
});
const _matches: SchemaMatches<typeof schema, EdgeOutputs> = true;
void _matches;

/** The edge layer's contract. */
export const edgeContract: Contract<EdgeOutputs> = {
  layer: "edge",
  outputName: "edge",
  schema,
  secretFields: [],
};

/** Reads the edge stack of an environment. */
export function readEdge(environment: string): ContractRef<EdgeOutputs> {
  return readContract(edgeContract, stackId("edge", environment));
}
