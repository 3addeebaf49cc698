import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { type Contract, type ContractRef, readContract } from "./contract";

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

/** What a data stack exports as `data`. */
export interface DataOutputs {
  readonly namespace: string;
  /** Patroni cluster scope (name). */
  readonly patroniScope: string;
  readonly databaseName: string;
  /** In-cluster DNS names clients use. */
  readonly endpoints: {
    /** Follows the Patroni leader (read-write). */
    readonly primaryHost: string;
    /** Load-balances the streaming replicas (read-only). */
    readonly replicasHost: string;
    /** PgBouncer in front of the primary: what applications connect to. */
    readonly pgbouncerHost: string;
    readonly port: number;
    readonly pgbouncerPort: number;
  };
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
  /** What a DR standby cluster needs to stream from the primary. */
  readonly replication: {
    /** Endpoint that always follows the leader, reachable from peered VPCs. */
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** Secrets Manager secret (replicated to DR regions) with the replication password. */
    readonly passwordSecretArn: string;
  };
}

const schema = z.object({
  namespace: z.string(),
  patroniScope: z.string(),
  databaseName: z.string(),
  endpoints: z.object({
    primaryHost: z.string(),
    replicasHost: z.string(),
    pgbouncerHost: z.string(),
    port: z.number(),
    pgbouncerPort: z.number(),
  }),
  secrets: z.object({
    appCredentialsSecretArn: z.string(),
    credentialSecretArns: z.record(z.string(), z.string()),
    kubernetesSecretNames: z.record(z.string(), z.string()),
  }),
  kmsKeyArns: z.object({ primary: z.string(), replicas: z.record(z.string(), z.string()) }),
  backups: z.object({
    stanza: z.string(),
    repositories: z.array(
      z.object({
        index: z.number(),
        region: z.string(),
        bucketName: z.string(),
        bucketArn: z.string(),
        kmsKeyArn: z.string(),
      }),
    ),
    archiveBucketName: z.string(),
    archiveBucketArn: z.string(),
  }),
  replication: z.object({
    host: z.string(),
    port: z.number(),
    user: z.string(),
    passwordSecretArn: z.string(),
  }),
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
