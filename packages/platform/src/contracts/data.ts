import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, certificatePem, hostname, port, region, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";
import { type MetricsEndpoint, metricsEndpointsSchema } from "./metrics";

/** One pgBackRest repository (an S3 bucket in one region). */
export interface BackupRepository {
  /** pgBackRest repo index (`repo1`, `repo2`, ...). */
  readonly index: number;
  readonly region: string;
  readonly bucketName: string;
  readonly bucketArn: string;
  /** KMS key encrypting the bucket (the multi-region key or its replica in that region). */
  readonly kmsKeyArn: string;
}

/**
 * In-cluster DNS names of a region's database tier, the same shape in the primary (`data`) and in a
 * DR region (`dr`), so the workloads layer reads either without knowing which.
 */
export interface DatabaseEndpoints {
  /** Follows the Patroni leader: read-write in the primary; the standby leader (read-only) in DR. */
  readonly primaryHost: string;
  /** Load-balances the streaming replicas (read-only). */
  readonly replicasHost: string;
  /** PgBouncer in front of the leader: what applications connect to. */
  readonly pgbouncerHost: string;
  readonly port: number;
  readonly pgbouncerPort: number;
}

/** Schema of {@link DatabaseEndpoints}. */
export const databaseEndpointsSchema = z.object({
  primaryHost: hostname(),
  replicasHost: hostname(),
  pgbouncerHost: hostname(),
  port: port(),
  pgbouncerPort: port(),
});

/** What a data stack exports as `data`. */
export interface DataOutputs {
  readonly namespace: string;
  /** Patroni cluster scope (name). */
  readonly patroniScope: string;
  readonly databaseName: string;
  /** In-cluster DNS names clients use. */
  readonly endpoints: DatabaseEndpoints;
  /** References to credentials (never the credentials themselves). */
  readonly secrets: {
    /** Secrets Manager secret with the application's connection credentials. */
    readonly appCredentialsSecretArn: string;
    /**
     * Every generated database credential's Secrets Manager secret, by purpose (`app`, `admin` for
     * schema migrations, `reader`, `monitoring`, `superuser` and `restApi` for operators, ...).
     */
    readonly credentialSecretArns: Readonly<Record<string, string>>;
    /** Kubernetes Secret names in `namespace`. */
    readonly kubernetesSecretNames: Readonly<Record<string, string>>;
  };
  readonly kmsKeyArns: {
    /** Multi-region primary key in the data stack's region. */
    readonly primary: string;
    /** Replica keys by DR region. */
    readonly replicas: Readonly<Record<string, string>>;
  };
  readonly backups: {
    readonly stanza: string;
    readonly repositories: readonly BackupRepository[];
    /** Object-Locked bucket of the long-term (clinical-record retention) copies. */
    readonly archiveBucketName: string;
    readonly archiveBucketArn: string;
  };
  /** What clients need to verify the tier's server certificates (verify-full). */
  readonly tls: {
    /** PEM of the CA that signs the tier's server certificates (public part only). */
    readonly caCertificatePem: string;
  };
  /** What a DR standby cluster needs to stream from the primary. */
  readonly replication: {
    /**
     * Stable DNS name (a private Route 53 record) of the endpoint that always follows the leader,
     * reachable from peered VPCs; it is on the server certificate (verify-full).
     */
    readonly host: string;
    /** The private hosted zone of that name: a DR stack associates its VPC with it. */
    readonly privateZoneId: string;
    readonly port: number;
    readonly user: string;
    /** Secrets Manager secret (replicated to DR regions) with the replication password. */
    readonly passwordSecretArn: string;
  };
  /**
   * The tier's metrics endpoints (postgres_exporter, Patroni, PgBouncer and pgBackRest exporters);
   * the observability layer creates the monitors that scrape them.
   */
  readonly metrics: readonly MetricsEndpoint[];
}

const schema = z.object({
  namespace: text(),
  patroniScope: text(),
  databaseName: text(),
  endpoints: databaseEndpointsSchema,
  secrets: z.object({
    appCredentialsSecretArn: arn(),
    credentialSecretArns: z.record(z.string(), arn()),
    kubernetesSecretNames: z.record(z.string(), text()),
  }),
  kmsKeyArns: z.object({ primary: arn(), replicas: z.record(z.string(), arn()) }),
  backups: z.object({
    stanza: text(),
    repositories: z
      .array(
        z.object({
          index: z.number().int().min(1),
          region: region(),
          bucketName: text(),
          bucketArn: arn(),
          kmsKeyArn: arn(),
        }),
      )
      .min(1),
    archiveBucketName: text(),
    archiveBucketArn: arn(),
  }),
  tls: z.object({ caCertificatePem: certificatePem() }),
  replication: z.object({
    host: hostname(),
    privateZoneId: text(),
    port: port(),
    user: text(),
    passwordSecretArn: arn(),
  }),
  metrics: metricsEndpointsSchema,
});
const _matches: SchemaMatches<typeof schema, DataOutputs> = true;
void _matches;

/** The data layer's contract. */
export const dataContract: Contract<DataOutputs> = {
  layer: "data",
  outputName: "data",
  schema,
  secretFields: [],
};

/** Reads the data stack of an environment (it runs in the primary region). */
export function readData(environment: string, region: string): ContractRef<DataOutputs> {
  return readContract(dataContract, stackId("data", environment, region));
}
