import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { type DatabaseEndpoints, databaseEndpointsSchema } from "./data";
import { arn, certificatePem, hostname, port, region, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";
import { type MetricsEndpoint, metricsEndpointsSchema } from "./metrics";

/**
 * What a DR stack exports as `dr`: the DR region's local database endpoints, which the DR-region
 * workloads use (read-only while the standby follows the primary, read-write once the environment
 * file marks the region promoted with `dr.promotedRegion`). DNS failover is the edge layer's, not
 * this one's.
 */
export interface DrOutputs {
  /** Region the standby runs in. */
  readonly region: string;
  /** Primary region it follows. */
  readonly primaryRegion: string;
  /** `standby` (read-only, streaming from the primary) or `promoted` (read-write). */
  readonly mode: "standby" | "promoted";
  readonly namespace: string;
  /** Patroni scope of the standby cluster. */
  readonly patroniScope: string;
  readonly databaseName: string;
  /** Local endpoints: the standby leader and the PgBouncer in front of it. */
  readonly endpoints: DatabaseEndpoints;
  /** References to the credentials available in this region (never the credentials themselves). */
  readonly secrets: {
    /** Secrets Manager secrets readable in this region (replicas of the primary's), by purpose. */
    readonly credentialSecretArns: Readonly<Record<string, string>>;
    /** Kubernetes Secret names in `namespace`. */
    readonly kubernetesSecretNames: Readonly<Record<string, string>>;
  };
  /** What clients need to verify this region's server certificates (verify-full). */
  readonly tls: {
    /** PEM of the CA signing the DR region's database certificates (public part only). */
    readonly caCertificatePem: string;
  };
  /** The data key's replica in this region. */
  readonly kmsKeyArn: string;
  /** The pgBackRest repository in this region. */
  readonly backups: {
    readonly stanza: string;
    readonly repositoryIndex: number;
    readonly bucketName: string;
  };
  /** VPC peering connection to the primary region. */
  readonly peeringConnectionId: string;
  /**
   * This region's replication endpoint: a stable private name (on the region's server certificate)
   * for the NLB that follows this cluster's leader. After a promotion the old primary and every
   * other region stream from it.
   */
  readonly replication: {
    readonly host: string;
    readonly port: number;
  };
  /**
   * The standby tier's metrics endpoints (the same exporters as the primary's data tier): the
   * observability layer of this region scrapes them, so the standby's lag and archive fallback, and
   * after a promotion the writer, are watched where they run.
   */
  readonly metrics: readonly MetricsEndpoint[];
}

const schema = z.object({
  region: region(),
  primaryRegion: region(),
  mode: z.enum(["standby", "promoted"]),
  namespace: text(),
  patroniScope: text(),
  databaseName: text(),
  endpoints: databaseEndpointsSchema,
  secrets: z.object({
    credentialSecretArns: z.record(z.string(), arn()),
    kubernetesSecretNames: z.record(z.string(), text()),
  }),
  tls: z.object({ caCertificatePem: certificatePem() }),
  kmsKeyArn: arn(),
  backups: z.object({
    stanza: text(),
    repositoryIndex: z.number().int().min(1),
    bucketName: text(),
  }),
  peeringConnectionId: text(),
  replication: z.object({ host: hostname(), port: port() }),
  metrics: metricsEndpointsSchema,
});
const _matches: SchemaMatches<typeof schema, DrOutputs> = true;
void _matches;

/** The DR layer's contract. */
export const drContract: Contract<DrOutputs> = {
  layer: "dr",
  outputName: "dr",
  schema,
  secretFields: [],
};

/** Reads the DR stack of an environment's DR region. */
export function readDr(environment: string, region: string): ContractRef<DrOutputs> {
  return readContract(drContract, stackId("dr", environment, region));
}
