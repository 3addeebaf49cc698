import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { DataClassification } from "../tags";
import { type BucketAccess, bucketGrantStatements, type Grantee, GrantRegistry } from "./grants";
import { tlsOnlyStatements } from "./policy";

/** S3 Object Lock retention of a bucket. */
export interface ObjectLockRetention {
  /** COMPLIANCE: nobody, root included, can shorten it. GOVERNANCE: privileged users can. */
  readonly mode: "COMPLIANCE" | "GOVERNANCE";
  /** Default retention of every new object version, in days. */
  readonly days: number;
}

/** Arguments of {@link SecureBucket}. */
export interface SecureBucketArgs {
  /** Customer-managed KMS key that encrypts every object (SSE-KMS with an S3 bucket key). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Sensitivity of the objects (the `DataClassification` tag). */
  readonly dataClassification: DataClassification;
  /**
   * Object Lock default retention. Buckets that a tool prunes itself (pgBackRest rewrites its info
   * files and expires backups) must not be locked.
   * @default - no Object Lock
   */
  readonly objectLock?: ObjectLockRetention;
  /**
   * Lifecycle rules. An "abort incomplete multipart uploads after 7 days" rule is always added.
   * @default - only that rule
   */
  readonly lifecycleRules?: pulumi.Input<aws.types.input.s3.BucketLifecycleConfigurationRule>[];
  /**
   * Bucket policy statements beyond the TLS-only ones (e.g. the CloudTrail delivery grants), given
   * the bucket ARN.
   * @default - none
   */
  readonly policyStatements?: (bucketArn: pulumi.Output<string>) => pulumi.Input<aws.iam.PolicyStatement[]>;
  /**
   * Prefix of the physical bucket name, at most 37 characters (S3 appends a unique suffix); bucket
   * names are global, so include the environment and region, e.g. `hcp-production-sa-east-1-backup-`.
   */
  readonly bucketPrefix: string;
  /** Protect the bucket from deletion by Pulumi (production data). */
  readonly protect: boolean;
}

/**
 * An S3 bucket that meets the platform's baseline: SSE-KMS with a customer-managed key, versioning,
 * all public access blocked, ACLs disabled (bucket owner enforced), a policy that denies non-TLS and
 * pre-1.2 TLS requests, optional COMPLIANCE Object Lock, and lifecycle rules. Each setting is its own
 * resource (the provider's current model), so policies can check each one.
 */
export class SecureBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
  readonly versioning: aws.s3.BucketVersioning;
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  readonly ownership: aws.s3.BucketOwnershipControls;
  readonly policy: aws.s3.BucketPolicy;
  readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
  readonly objectLock: aws.s3.BucketObjectLockConfiguration | undefined;
  /** Physical bucket name. */
  readonly bucketName: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  private readonly grants: GrantRegistry;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:platform:SecureBucket", name, {}, opts);
    if (args.bucketPrefix.length > 37 || !/^[a-z0-9][a-z0-9-]*$/.test(args.bucketPrefix)) {
      throw new Error(
        `SecureBucket ${name}: bucketPrefix '${args.bucketPrefix}' must be at most 37 lower-case letters, digits and hyphens.`,
      );
    }
    const child = { parent: this };
    this.bucket = new aws.s3.Bucket(
      name,
      {
        bucketPrefix: args.bucketPrefix,
        forceDestroy: false,
        objectLockEnabled: args.objectLock !== undefined,
        tags: { DataClassification: args.dataClassification },
      },
      { parent: this, protect: args.protect },
    );
    const bucket = this.bucket.id;
    this.bucketName = this.bucket.bucket;
    this.arn = this.bucket.arn;

    this.ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    this.encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    this.versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    this.objectLock = args.objectLock
      ? new aws.s3.BucketObjectLockConfiguration(
          `${name}-object-lock`,
          {
            bucket,
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
          },
          { parent: this, dependsOn: [this.versioning] },
        )
      : undefined;

    const objects = pulumi.interpolate`${this.arn}/*`;
    this.policy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: pulumi
            .output(args.policyStatements?.(this.arn) ?? [])
            .apply((extra) => [...tlsOnlyStatements(this.arn, objects), ...extra]),
        }),
      },
      // Put the public access block first: a policy update racing it can be rejected as public.
      { parent: this, dependsOn: [this.publicAccessBlock] },
    );
    this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        rules: [
          {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
          ...(args.lifecycleRules ?? []),
        ],
      },
      { parent: this, dependsOn: [this.versioning] },
    );
    this.grants = new GrantRegistry(name, this);
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }

  /** Lets the grantee list the bucket and get objects. */
  grantRead(grantee: Grantee): aws.iam.RolePolicy {
    return this.grant(grantee, "read");
  }

  /** Lets the grantee put objects, but not delete or list them (write-once copies). */
  grantPut(grantee: Grantee): aws.iam.RolePolicy {
    return this.grant(grantee, "put");
  }

  /** Lets the grantee put and delete objects. */
  grantWrite(grantee: Grantee): aws.iam.RolePolicy {
    return this.grant(grantee, "write");
  }

  /** Lets the grantee list the bucket, get, put and delete objects. */
  grantReadWrite(grantee: Grantee): aws.iam.RolePolicy {
    return this.grant(grantee, "readWrite");
  }

  /**
   * Grants `access` to the bucket as the inline policy `<bucket>-<access>-<grantee>` (a child of the
   * bucket, on its provider). The objects are SSE-KMS encrypted: grant the key too
   * (`KmsKey.grantEncryptDecrypt` with `viaService` S3).
   */
  grant(grantee: Grantee, access: BucketAccess): aws.iam.RolePolicy {
    return this.grants.grant(access, grantee, () => bucketGrantStatements(this.arn, access));
  }
}
