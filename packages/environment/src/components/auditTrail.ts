import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRoot, KmsKey, SecureBucket, yearsToDays } from "@hcp/platform";

/** Arguments of {@link AuditTrail}. */
export interface AuditTrailArgs {
  /** Physical trail name. */
  readonly trailName: string;
  /** Prefix of the log bucket's name (at most 37 characters). */
  readonly bucketPrefix: string;
  /** Alias (without `alias/`) of the trail's KMS key. */
  readonly keyAlias: string;
  /** Years every log file stays under COMPLIANCE Object Lock (at least 7). */
  readonly retentionYears: number;
  /** Protect the key, bucket and trail from deletion by Pulumi (production). */
  readonly protect: boolean;
}

/**
 * The account's audit trail: a multi-region CloudTrail with log-file validation, encrypted with its
 * own KMS key, delivering to a bucket whose objects are locked in COMPLIANCE mode for the audit
 * retention (nobody, root included, can delete or shorten it). Records management events of every
 * region and object-level S3 events (who read which object of the patient-data buckets).
 */
export class AuditTrail extends pulumi.ComponentResource {
  readonly key: KmsKey;
  readonly bucket: SecureBucket;
  readonly trail: aws.cloudtrail.Trail;
  readonly trailArn: pulumi.Output<string>;

  constructor(name: string, args: AuditTrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:environment:AuditTrail", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    // Known before the trail exists, so the key and bucket policies can be scoped to exactly it.
    const trailArn = pulumi.interpolate`arn:${partition}:cloudtrail:${region}:${identity.accountId}:trail/${args.trailName}`;
    const anyTrailOfAccount = pulumi.interpolate`arn:${partition}:cloudtrail:*:${identity.accountId}:trail/*`;
    const lockDays = yearsToDays(args.retentionYears);

    this.key = new KmsKey(
      `${name}-key`,
      {
        description: `CloudTrail log files of ${args.trailName}`,
        alias: args.keyAlias,
        protect: args.protect,
        serviceStatements: (p, account): aws.iam.PolicyStatement[] => [
          {
            Sid: "CloudTrailEncrypt",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "kms:GenerateDataKey*",
            Resource: "*",
            Condition: {
              StringEquals: { "aws:SourceArn": trailArn },
              StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": anyTrailOfAccount },
            },
          },
          {
            Sid: "CloudTrailDescribeKey",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "kms:DescribeKey",
            Resource: "*",
          },
          {
            Sid: "AccountReadsLogFiles",
            Effect: "Allow",
            Principal: { AWS: accountRoot(p, account) },
            Action: ["kms:Decrypt", "kms:ReEncryptFrom"],
            Resource: "*",
            Condition: { StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": anyTrailOfAccount } },
          },
        ],
      },
      { parent: this },
    );

    this.bucket = new SecureBucket(
      `${name}-logs`,
      {
        kmsKeyArn: this.key.arn,
        bucketPrefix: args.bucketPrefix,
        dataClassification: "confidential",
        objectLock: { mode: "COMPLIANCE", days: lockDays },
        protect: args.protect,
        lifecycleRules: [
          {
            id: "tier-then-expire-after-retention",
            status: "Enabled",
            filter: {},
            transitions: [
              { days: 90, storageClass: "STANDARD_IA" },
              { days: 365, storageClass: "GLACIER" },
            ],
            // Delete after the retention has run out (LGPD Art. 16: keep no longer than needed);
            // Object Lock makes any earlier deletion impossible anyway.
            expiration: { days: lockDays + 30 },
            noncurrentVersionExpiration: { noncurrentDays: lockDays },
          },
        ],
        policyStatements: (bucketArn): aws.iam.PolicyStatement[] => [
          {
            Sid: "CloudTrailAclCheck",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:GetBucketAcl",
            Resource: bucketArn,
            Condition: { StringEquals: { "aws:SourceArn": trailArn } },
          },
          {
            Sid: "CloudTrailWrite",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: pulumi.interpolate`${bucketArn}/AWSLogs/${identity.accountId}/*`,
            Condition: {
              StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn },
            },
          },
        ],
      },
      { parent: this },
    );

    this.trail = new aws.cloudtrail.Trail(
      name,
      {
        name: args.trailName,
        s3BucketName: this.bucket.bucketName,
        kmsKeyId: this.key.arn,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        advancedEventSelectors: [
          { name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] },
          {
            name: "S3 object-level events outside the trail bucket",
            fieldSelectors: [
              { field: "eventCategory", equals: ["Data"] },
              { field: "resources.type", equals: ["AWS::S3::Object"] },
              { field: "resources.ARN", notStartsWiths: [pulumi.interpolate`${this.bucket.arn}/`] },
            ],
          },
        ],
      },
      // CloudTrail checks its delivery permissions when the trail is created.
      { parent: this, protect: args.protect, dependsOn: [this.bucket.policy, this.bucket.encryption] },
    );
    this.trailArn = this.trail.arn;
    this.registerOutputs({ trailArn: this.trailArn });
  }
}
