import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  bucketGrantStatements,
  keyGrantStatements,
  REPLICATION_TIME_MINUTES,
  replicationRules,
  replicationTrustPolicy,
} from "../src";

/** The value of an output built from plain values (what `@hcp/testing`'s unwrap does). */
async function unwrap<T>(value: pulumi.Input<T>): Promise<T> {
  const out = pulumi.output(value) as unknown as { promise(): Promise<T> };
  return out.promise();
}

const SOURCE = "arn:aws:s3:::hcp-production-sa-east-1-documents-abc";
const REPLICA = "arn:aws:s3:::hcp-production-us-east-1-doc-replica-abc";
const SOURCE_KEY = "arn:aws:kms:sa-east-1:111122223333:key/src";
const REPLICA_KEY = "arn:aws:kms:us-east-1:111122223333:key/dst";

describe("replication grant statements", () => {
  it("gives the replication role exactly the source-bucket actions of the S3 guide's minimum policy", async () => {
    assert.deepEqual(await unwrap(bucketGrantStatements(SOURCE, "replicationSource")), [
      {
        Sid: "ReplicationConfiguration",
        Effect: "Allow",
        Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
        Resource: SOURCE,
      },
      {
        Sid: "ReplicationSourceObjects",
        Effect: "Allow",
        Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
        Resource: `${SOURCE}/*`,
      },
    ]);
  });

  it("lets it write replicas, delete markers and tags to a destination, and nothing else", async () => {
    assert.deepEqual(await unwrap(bucketGrantStatements(REPLICA, "replicationDestination")), [
      {
        Sid: "ReplicateObjects",
        Effect: "Allow",
        Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
        Resource: `${REPLICA}/*`,
      },
    ]);
  });

  it("decrypts the source objects only through the source region's S3 and for the source bucket", async () => {
    assert.deepEqual(
      await unwrap(
        keyGrantStatements(SOURCE_KEY, "replicationSource", {
          viaService: "s3.sa-east-1.amazonaws.com",
          encryptionContextBucketArn: SOURCE,
        }),
      ),
      [
        {
          Sid: "DecryptReplicationSource",
          Effect: "Allow",
          Action: ["kms:Decrypt"],
          Resource: SOURCE_KEY,
          Condition: {
            StringEquals: { "kms:ViaService": "s3.sa-east-1.amazonaws.com" },
            // S3 Bucket Keys: the context is the bucket ARN; objects without one use the object ARN.
            StringLike: { "kms:EncryptionContext:aws:s3:arn": [SOURCE, `${SOURCE}/*`] },
          },
        },
      ],
    );
  });

  it("encrypts replicas (and checks the Bucket Key with Decrypt) only through the destination's S3", async () => {
    assert.deepEqual(
      await unwrap(
        keyGrantStatements(REPLICA_KEY, "replicationDestination", {
          viaService: "s3.us-east-1.amazonaws.com",
          encryptionContextBucketArn: REPLICA,
        }),
      ),
      [
        {
          Sid: "EncryptReplicas",
          Effect: "Allow",
          Action: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
          Resource: REPLICA_KEY,
          Condition: {
            StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" },
            StringLike: { "kms:EncryptionContext:aws:s3:arn": [REPLICA, `${REPLICA}/*`] },
          },
        },
      ],
    );
  });

  it("adds no condition to a key grant without viaService or bucket", () => {
    assert.deepEqual(keyGrantStatements(SOURCE_KEY, "replicationSource"), [
      { Sid: "DecryptReplicationSource", Effect: "Allow", Action: ["kms:Decrypt"], Resource: SOURCE_KEY },
    ]);
  });
});

describe("replicationRules", () => {
  const rule = (region: string, priority: number, bucket: string, key: string) => ({
    id: `to-${region}`,
    priority,
    status: "Enabled",
    filter: {},
    deleteMarkerReplication: { status: "Enabled" },
    sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
    destination: {
      bucket,
      storageClass: "STANDARD",
      encryptionConfiguration: { replicaKmsKeyId: key },
      replicationTime: { status: "Enabled", time: { minutes: 15 } },
      metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
    },
  });

  it("makes one rule per destination: every object, delete markers, SSE-KMS objects with the replica key, RTC 15 minutes", () => {
    assert.equal(REPLICATION_TIME_MINUTES, 15);
    assert.deepEqual(
      replicationRules([{ region: "us-east-1", bucketArn: REPLICA, kmsKeyArn: REPLICA_KEY }]),
      [rule("us-east-1", 1, REPLICA, REPLICA_KEY)],
    );
  });

  it("orders and prioritises the rules by region name, so adding a region never renumbers another", () => {
    const east = { region: "us-east-1", bucketArn: "arn:aws:s3:::e", kmsKeyArn: "ke" };
    const west = { region: "us-west-2", bucketArn: "arn:aws:s3:::w", kmsKeyArn: "kw" };
    const central = { region: "ca-central-1", bucketArn: "arn:aws:s3:::c", kmsKeyArn: "kc" };
    const expected = [
      rule("ca-central-1", 1, "arn:aws:s3:::c", "kc"),
      rule("us-east-1", 2, "arn:aws:s3:::e", "ke"),
      rule("us-west-2", 3, "arn:aws:s3:::w", "kw"),
    ];
    assert.deepEqual(replicationRules([west, east, central]), expected);
    assert.deepEqual(replicationRules([central, east, west]), expected);
  });

  it("refuses no destination or a region given twice", () => {
    assert.throws(() => replicationRules([]), /one or more distinct regions.*Fix/);
    const twice = { region: "us-east-1", bucketArn: "b", kmsKeyArn: "k" };
    assert.throws(() => replicationRules([twice, twice]), /\["us-east-1","us-east-1"\].*Fix/);
  });
});

describe("replicationTrustPolicy", () => {
  it("lets only the S3 service assume the replication role", () => {
    assert.deepEqual(replicationTrustPolicy(), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "S3Replication",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
  });
});
