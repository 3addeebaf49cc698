import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "./policy";

/**
 * Grants, aws-cdk's `bucket.grantRead(grantee)` idea: the resource that is accessed knows which
 * actions an access level needs, so layers ask for "read" or "encrypt and decrypt through S3"
 * instead of hand-writing IAM. Each grant is one inline policy on the grantee's role, named after the
 * granting resource, the access level and the grantee (identity, never position), so adding a grant
 * never renames another. Statements are plain data (`pulumi.jsonStringify`), visible to tests and
 * policies.
 */

/** Something IAM permissions can be granted to: an IAM role, or a component that owns one. */
export interface Grantee {
  /**
   * Identity of the grantee in the logical names of the policies granted to it, e.g. `backups-role`:
   * a grant is named `<granting resource>-<access>-<grantName>`.
   */
  readonly grantName: string;
  /** Name of the IAM role the grants' inline policies are attached to. */
  readonly roleName: pulumi.Input<string>;
}

/** A plain IAM role as a {@link Grantee}, identified by `grantName` (usually its logical name). */
export function roleGrantee(grantName: string, role: aws.iam.Role): Grantee {
  return { grantName, roleName: role.name };
}

/** Access levels of an S3 bucket. */
export type BucketAccess =
  /** List the bucket and get objects. */
  | "read"
  /** Put objects only: nothing can be deleted or listed (write-once archives). */
  | "put"
  /** Put and delete objects. */
  | "write"
  /** Both `read` and `write`. */
  | "readWrite"
  /**
   * What S3 replication needs on the source bucket: read the replication configuration, list (the
   * delete markers), get object versions with their ACL and tags for replication. Granted to the
   * replication role, never to an application.
   */
  | "replicationSource"
  /** What S3 replication needs on a destination bucket: write replicas, delete markers and tags. */
  | "replicationDestination";

/**
 * Access levels of a KMS key. `replicationSource` / `replicationDestination` are what the S3
 * replication role needs on the source bucket's key (decrypt) and on a destination's key (encrypt,
 * and decrypt: S3 checks an S3 Bucket Key's integrity with `kms:Decrypt`).
 */
export type KeyAccess =
  "encrypt" | "decrypt" | "encryptDecrypt" | "replicationSource" | "replicationDestination";

/** Options of a key grant. */
export interface KeyGrantOptions {
  /**
   * Allow the key's use only through these AWS services (`kms:ViaService`), e.g.
   * `s3.sa-east-1.amazonaws.com`: the grantee can then use the key for S3 objects but cannot call
   * KMS directly.
   * @default - any caller with the grantee's credentials
   */
  readonly viaService?: string | readonly string[];
  /**
   * Allow the key only for this bucket's objects (`kms:EncryptionContext:aws:s3:arn`): with an S3
   * Bucket Key the encryption context is the bucket ARN, without one the object ARN, so both the
   * bucket ARN and `<bucket ARN>/*` are allowed.
   * @default - any encryption context
   */
  readonly encryptionContextBucketArn?: pulumi.Input<string>;
}

const KEY_ACTIONS: Readonly<Record<KeyAccess, readonly string[]>> = {
  // GenerateDataKey* encrypts new objects; ReEncrypt* lets S3 re-wrap data keys after a key change.
  encrypt: ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
  decrypt: ["kms:Decrypt", "kms:DescribeKey"],
  encryptDecrypt: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
  // S3 User Guide, "Replicating encrypted objects": kms:Decrypt on the source objects' key.
  replicationSource: ["kms:Decrypt"],
  // Same page: kms:Encrypt on the replica key, and kms:Decrypt on it when S3 Bucket Keys are used
  // ("the call to kms:Decrypt verifies the integrity of the S3 Bucket Key"); GenerateDataKey makes
  // the bucket-level (or object) data key of the replica.
  replicationDestination: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
};

const STATEMENT_IDS: Readonly<Record<KeyAccess, string>> = {
  encrypt: "EncryptWithKey",
  decrypt: "DecryptWithKey",
  encryptDecrypt: "EncryptAndDecryptWithKey",
  replicationSource: "DecryptReplicationSource",
  replicationDestination: "EncryptReplicas",
};

/** The statements an access level of a bucket needs. */
export function bucketGrantStatements(
  bucketArn: pulumi.Input<string>,
  access: BucketAccess,
): aws.iam.PolicyStatement[] {
  const objects = pulumi.interpolate`${bucketArn}/*`;
  const list: aws.iam.PolicyStatement = {
    Sid: "ListBucket",
    Effect: "Allow",
    Action: ["s3:ListBucket", "s3:GetBucketLocation"],
    Resource: bucketArn,
  };
  const onObjects = (sid: string, actions: string[]): aws.iam.PolicyStatement => ({
    Sid: sid,
    Effect: "Allow",
    Action: actions,
    Resource: objects,
  });
  switch (access) {
    case "read":
      return [list, onObjects("ReadObjects", ["s3:GetObject"])];
    case "put":
      return [onObjects("PutObjects", ["s3:PutObject"])];
    case "write":
      return [onObjects("WriteObjects", ["s3:PutObject", "s3:DeleteObject"])];
    case "readWrite":
      return [list, onObjects("ReadWriteObjects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])];
    // S3 User Guide, "Setting up permissions for live replication" (minimum role policy).
    case "replicationSource":
      return [
        {
          Sid: "ReplicationConfiguration",
          Effect: "Allow",
          Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
          Resource: bucketArn,
        },
        onObjects("ReplicationSourceObjects", [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
        ]),
      ];
    case "replicationDestination":
      return [
        onObjects("ReplicateObjects", ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]),
      ];
  }
}

/** The statement an access level of one or more keys needs. */
export function keyGrantStatements(
  keyArns: pulumi.Input<string> | ReadonlyArray<pulumi.Input<string>>,
  access: KeyAccess,
  options: KeyGrantOptions = {},
): aws.iam.PolicyStatement[] {
  const via = options.viaService;
  const services = via === undefined ? [] : typeof via === "string" ? [via] : [...via];
  if (via !== undefined && services.length === 0) {
    throw new Error(
      "keyGrantStatements: viaService is an empty list, which would allow no use at all. Fix: name a " +
        "service (e.g. s3.<region>.amazonaws.com) or leave viaService out.",
    );
  }
  const bucket = options.encryptionContextBucketArn;
  const condition = {
    ...(services.length > 0
      ? { StringEquals: { "kms:ViaService": services.length === 1 ? services[0] : services } }
      : {}),
    ...(bucket !== undefined
      ? { StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucket, pulumi.interpolate`${bucket}/*`] } }
      : {}),
  };
  return [
    {
      Sid: STATEMENT_IDS[access],
      Effect: "Allow",
      Action: [...KEY_ACTIONS[access]],
      Resource: isList(keyArns) ? [...keyArns] : keyArns,
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    },
  ];
}

function isList<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

/** `readWrite` -> `read-write`: the access level as it appears in a logical name. */
export function accessSlug(access: string): string {
  return access.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Attaches `statements` to the grantee's role as one inline policy named
 * `<scope>-<access>-<grantee>` (`scope` is the logical name of the granting resource).
 */
export function grantPolicy(
  scope: string,
  access: string,
  grantee: Grantee,
  statements: aws.iam.PolicyStatement[],
  opts: pulumi.CustomResourceOptions,
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    `${scope}-${accessSlug(access)}-${grantee.grantName}`,
    { role: grantee.roleName, policy: pulumi.jsonStringify(policyDocument(statements)) },
    opts,
  );
}

/**
 * The options of a grant as a comparable string. An output (a bucket ARN not known before
 * deployment) cannot be compared, so it stands as `(output)`: JSON.stringify would call the output's
 * toJSON, which only returns a warning text.
 */
function fingerprintOf(options: object): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(options).map(([k, v]) => [k, pulumi.Output.isInstance(v) ? "(output)" : v]),
    ),
  );
}

/**
 * The grants a resource has made, one per (access, grantee): asking again for the same grant returns
 * the policy already made instead of registering a duplicate; asking for it with different options
 * (another `viaService`) is an error, since both would need the same name.
 */
export class GrantRegistry {
  private readonly made = new Map<
    string,
    { readonly policy: aws.iam.RolePolicy; readonly options: string }
  >();

  constructor(
    private readonly scope: string,
    private readonly parent: pulumi.Resource,
  ) {}

  /** The grant of `access` to `grantee`, made with `statements` the first time it is asked for. */
  grant(
    access: string,
    grantee: Grantee,
    statements: () => aws.iam.PolicyStatement[],
    options: object = {},
  ): aws.iam.RolePolicy {
    const key = `${access}\u0000${grantee.grantName}`;
    const fingerprint = fingerprintOf(options);
    const existing = this.made.get(key);
    if (existing) {
      if (existing.options !== fingerprint) {
        throw new Error(
          `${this.scope}: ${access} was already granted to ${grantee.grantName} with options ${existing.options}; ` +
            `asked again with ${fingerprint}. Fix: grant once, with every service the grantee needs.`,
        );
      }
      return existing.policy;
    }
    const policy = grantPolicy(this.scope, access, grantee, statements(), { parent: this.parent });
    this.made.set(key, { policy, options: fingerprint });
    return policy;
  }
}
