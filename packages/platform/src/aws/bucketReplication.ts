import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { roleGrantee } from "./grants";
import type { KmsKey } from "./kmsKey";
import { policyDocument, type StatementList } from "./policy";
import type { SecureBucket } from "./secureBucket";

/**
 * S3 Replication Time Control's only threshold: RTC replicates 99.99% of objects within 15 minutes,
 * and the `Time` / `EventThreshold` elements accept only 15 (S3 API reference,
 * `ReplicationTime` and `Metrics`; S3 User Guide, "Meeting compliance requirements with S3 RTC").
 */
export const REPLICATION_TIME_MINUTES = 15;

/** One destination of a replication, as the rules see it. */
export interface ReplicationTarget<T = pulumi.Input<string>> {
  /** Region of the destination bucket (names the rule). */
  readonly region: string;
  /** ARN of the destination bucket. */
  readonly bucketArn: T;
  /** ARN of the destination's key, in its region: S3 encrypts the replicas with it. */
  readonly kmsKeyArn: T;
}

/**
 * The replication rules of a source bucket: one per destination region, ordered (and prioritised)
 * by region name so a new destination never renumbers another. Each rule replicates every object
 * (`filter {}`), the delete markers (an LGPD erasure, which a versioned bucket records as a delete
 * marker, reaches the replicas), the SSE-KMS objects (S3 skips them unless asked), re-encrypted with
 * the destination's key, under S3 Replication Time Control with its metrics (15 minutes).
 *
 * Not replicated by S3, whatever the rules say: deletes of a specific object version (permanent
 * deletes) and objects that existed before the configuration (S3 Batch Replication copies those).
 */
export function replicationRules<T>(
  targets: readonly ReplicationTarget<T>[],
): aws.types.input.s3.BucketReplicationConfigRule[] {
  const regions = targets.map((t) => t.region);
  const repeated = regions.filter((r, i) => regions.indexOf(r) !== i);
  if (targets.length === 0 || repeated.length > 0) {
    throw new Error(
      `replicationRules: destinations ${JSON.stringify(regions)} must be one or more distinct regions ` +
        `(S3 keeps one replication configuration per bucket: one rule per region). Fix: give each DR ` +
        `region once.`,
    );
  }
  return [...targets]
    .sort((a, b) => a.region.localeCompare(b.region))
    .map((t, i) => ({
      id: `to-${t.region}`,
      priority: i + 1,
      status: "Enabled",
      filter: {},
      deleteMarkerReplication: { status: "Enabled" },
      sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
      destination: {
        bucket: t.bucketArn as pulumi.Input<string>,
        storageClass: "STANDARD",
        encryptionConfiguration: { replicaKmsKeyId: t.kmsKeyArn as pulumi.Input<string> },
        replicationTime: { status: "Enabled", time: { minutes: REPLICATION_TIME_MINUTES } },
        metrics: { status: "Enabled", eventThreshold: { minutes: REPLICATION_TIME_MINUTES } },
      },
    }));
}

/**
 * Trust policy of the replication role: the S3 service principal, as in the S3 User Guide
 * ("Setting up permissions for live replication"). No `aws:SourceAccount` / `aws:SourceArn`
 * condition: the guide documents none for live replication, and a condition S3 does not send would
 * deny the AssumeRole and stop replication silently. The role cannot be used by another account's
 * bucket (iam:PassRole does not cross accounts) and its policies name only these buckets and keys.
 */
export function replicationTrustPolicy(): StatementList {
  return policyDocument([
    {
      Sid: "S3Replication",
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ]);
}

/** One destination of a {@link BucketReplication}. */
export interface BucketReplicationDestination {
  /** Region of the destination (the bucket's and the key's provider must be of this region). */
  readonly region: string;
  /** Destination bucket (versioned, like every SecureBucket). */
  readonly bucket: SecureBucket;
  /** The destination's key, in its region: encrypts the replicas. */
  readonly key: KmsKey;
}

/** Arguments of {@link BucketReplication}. */
export interface BucketReplicationArgs {
  /** Region of the source bucket (the component's provider must be of this region). */
  readonly sourceRegion: string;
  /** Source bucket. */
  readonly source: SecureBucket;
  /** Key that encrypts the source's objects. */
  readonly sourceKey: KmsKey;
  /** One or more destinations, one per region (S3 allows one replication configuration per bucket). */
  readonly destinations: readonly BucketReplicationDestination[];
}

/**
 * Live replication of a SecureBucket to buckets of other regions: the IAM role S3 assumes, its
 * grants (through the buckets' and keys' grant helpers: `replicationSource` on the source and its
 * key, `replicationDestination` on each destination and its key, each key only through S3 of its
 * region and for its bucket's encryption context), and the one `BucketReplicationConfig` of the
 * source with a rule per destination ({@link replicationRules}). The configuration waits for the
 * versioning of every bucket (S3 refuses replication on an unversioned bucket) and the grants.
 */
export class BucketReplication extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly configuration: aws.s3.BucketReplicationConfig;
  /** The role's grants (bucket and key policies), in the order made. */
  readonly grants: readonly aws.iam.RolePolicy[];

  constructor(name: string, args: BucketReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:platform:BucketReplication", name, {}, opts);
    const rules = replicationRules(
      args.destinations.map((d) => ({ region: d.region, bucketArn: d.bucket.arn, kmsKeyArn: d.key.arn })),
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `S3 replication of ${name} to ${args.destinations.map((d) => d.region).join(", ")}`,
        assumeRolePolicy: JSON.stringify(replicationTrustPolicy()),
      },
      { parent: this },
    );
    const grantee = roleGrantee(`${name}-role`, this.role);
    const via = (region: string) => `s3.${region}.amazonaws.com`;
    this.grants = [
      args.source.grant(grantee, "replicationSource"),
      args.sourceKey.grant(grantee, "replicationSource", {
        viaService: via(args.sourceRegion),
        encryptionContextBucketArn: args.source.arn,
      }),
      ...args.destinations.flatMap((d) => [
        d.bucket.grant(grantee, "replicationDestination"),
        d.key.grant(grantee, "replicationDestination", {
          viaService: via(d.region),
          encryptionContextBucketArn: d.bucket.arn,
        }),
      ]),
    ];
    this.configuration = new aws.s3.BucketReplicationConfig(
      name,
      { bucket: args.source.bucket.id, role: this.role.arn, rules },
      {
        parent: this,
        dependsOn: [
          args.source.versioning,
          ...args.destinations.map((d) => d.bucket.versioning),
          ...this.grants,
        ],
      },
    );
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
