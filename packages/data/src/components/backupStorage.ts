import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type PolicyStatement, SecureBucket, shortHash, yearsToDays } from "@hcp/platform";

/** One region's pgBackRest repository bucket. */
export interface RepositoryBucketArgs {
  readonly region: string;
  /** pgBackRest repo index (1 = the data stack's region). */
  readonly index: number;
  /** `hcp-<env>-<region>` of the bucket's region (prefix of its name). */
  readonly namePrefix: string;
  /** Provider of that region. */
  readonly provider: aws.Provider;
  /** KMS key in that region (the multi-region key or its replica). */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** Arguments of {@link BackupStorage}. */
export interface BackupStorageArgs {
  /** `hcp-<env>-<region>` of the data stack: prefix of the archive bucket's name. */
  readonly namePrefix: string;
  /** The repositories, repo1 first. */
  readonly repositories: readonly RepositoryBucketArgs[];
  /** Key of the long-term archive bucket (in the data stack's region). */
  readonly archiveKmsKeyArn: pulumi.Input<string>;
  /** Years the long-term archive keeps each yearly copy (COMPLIANCE Object Lock). */
  readonly archiveRetentionYears: number;
  /**
   * Days pgBackRest-deleted object versions stay recoverable in the repository buckets (versioning
   * keeps them; a deleted or overwritten backup can be recovered within this window).
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /** EKS cluster whose pods get the role. */
  readonly clusterName: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
  /** Service accounts that run pgBackRest (the Patroni members, the backup and bootstrap Jobs). */
  readonly serviceAccounts: readonly pulumi.Input<string>[];
  /** Protect the buckets (production). */
  readonly protect: boolean;
}

/** A bucket prefix of at most 37 characters (SecureBucket's limit: S3 appends 26). */
export function bucketPrefix(namePrefix: string, purpose: string): string {
  const full = `${namePrefix}-${purpose}-`;
  return full.length <= 37 ? full : `hcp-${shortHash(namePrefix)}-${purpose}-`.slice(0, 37);
}

/**
 * pgBackRest's S3 repositories (one bucket per region, each encrypted with that region's copy of the
 * data key; not Object-Locked because pgBackRest rewrites its info files and expires backups), the
 * Object-Locked long-term archive bucket, and the IAM role the pgBackRest pods assume through EKS Pod
 * Identity, allowed exactly these buckets and keys.
 */
export class BackupStorage extends pulumi.ComponentResource {
  readonly repositories: ReadonlyArray<{
    readonly index: number;
    readonly region: string;
    readonly bucket: SecureBucket;
  }>;
  readonly archive: SecureBucket;
  readonly role: aws.iam.Role;
  readonly associations: aws.eks.PodIdentityAssociation[];

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:data:BackupStorage", name, {}, opts);
    const noncurrentDays = args.noncurrentVersionDays ?? 30;
    this.repositories = args.repositories.map((repo) => ({
      index: repo.index,
      region: repo.region,
      bucket: new SecureBucket(
        `${name}-repo${repo.index}`,
        {
          bucketPrefix: bucketPrefix(repo.namePrefix, "pgbackrest"),
          kmsKeyArn: repo.kmsKeyArn,
          dataClassification: "phi",
          lifecycleRules: [
            {
              id: "expire-deleted-backup-versions",
              status: "Enabled",
              filter: {},
              noncurrentVersionExpiration: { noncurrentDays: noncurrentDays },
              expiration: { expiredObjectDeleteMarker: true },
            },
          ],
          protect: args.protect,
        },
        { parent: this, providers: [repo.provider] },
      ),
    }));

    const lockDays = yearsToDays(args.archiveRetentionYears);
    this.archive = new SecureBucket(
      `${name}-archive`,
      {
        bucketPrefix: bucketPrefix(args.namePrefix, "archive"),
        kmsKeyArn: args.archiveKmsKeyArn,
        dataClassification: "phi",
        objectLock: { mode: "COMPLIANCE", days: lockDays },
        lifecycleRules: [
          {
            id: "deep-archive-then-expire-after-retention",
            status: "Enabled",
            filter: {},
            transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }],
            // LGPD data minimisation: nothing outlives the retention the lock enforces.
            expiration: { days: lockDays + 1 },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
          },
        ],
        protect: args.protect,
      },
      { parent: this },
    );

    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "pgBackRest (Patroni members, backup and bootstrap Jobs) through EKS Pod Identity",
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "pods.eks.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession"],
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
        tags: { DataClassification: "phi" },
      },
      { parent: this },
    );

    const repoArns = this.repositories.map((r) => r.bucket.arn);
    const keyArns = [...args.repositories.map((r) => r.kmsKeyArn), args.archiveKmsKeyArn];
    const s3Services = [...new Set(args.repositories.map((r) => r.region))].map(
      (r) => `s3.${r}.amazonaws.com`,
    );
    const statements: PolicyStatement[] = [
      {
        Sid: "ListRepositories",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: [...repoArns, this.archive.arn],
      },
      {
        Sid: "ReadWriteRepositories",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: repoArns.map((arn) => pulumi.interpolate`${arn}/*`),
      },
      {
        // Yearly copies are written once and never deleted (the lock would refuse it anyway).
        Sid: "WriteArchive",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: pulumi.interpolate`${this.archive.arn}/*`,
      },
      {
        Sid: "UseDataKeysThroughS3",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: keyArns,
        Condition: { StringEquals: { "kms:ViaService": s3Services } },
      },
    ];
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.name,
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
      },
      { parent: this },
    );
    this.associations = args.serviceAccounts.map(
      (serviceAccount, i) =>
        new aws.eks.PodIdentityAssociation(
          `${name}-identity-${i}`,
          {
            clusterName: args.clusterName,
            namespace: args.namespace,
            serviceAccount,
            roleArn: this.role.arn,
            tags: { DataClassification: "phi" },
          },
          { parent: this },
        ),
    );
    this.registerOutputs({ roleArn: this.role.arn, archiveBucket: this.archive.bucketName });
  }
}
