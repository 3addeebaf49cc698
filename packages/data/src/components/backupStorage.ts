import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PodIdentityRole } from "@hcp/kube";
import { SecureBucket, shortHash, yearsToDays } from "@hcp/platform";

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
  /** Namespace of the service accounts. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Service accounts that run pgBackRest (the Patroni members, the backup and bootstrap Jobs): the
   * only ones the role trusts. Keep the order: the associations were once named by position
   * (`<name>-identity-<i>`), and their aliases follow it.
   */
  readonly serviceAccounts: readonly string[];
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
 * Identity: trusted by the named service accounts only, granted read-write on the repositories and
 * read + put (never delete) on the archive. The keys' grants are the caller's (`DataKeys`), since the
 * keys are not this component's.
 */
export class BackupStorage extends pulumi.ComponentResource {
  readonly repositories: ReadonlyArray<{
    readonly index: number;
    readonly region: string;
    readonly bucket: SecureBucket;
  }>;
  readonly archive: SecureBucket;
  readonly role: PodIdentityRole;
  /** The bucket grants, by bucket key (`repo1`, ..., `archive`). */
  readonly grants: Readonly<Record<string, readonly aws.iam.RolePolicy[]>>;

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

    this.role = new PodIdentityRole(
      `${name}-role`,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccounts: args.serviceAccounts,
        description: "pgBackRest (Patroni members, backup and bootstrap Jobs) through EKS Pod Identity",
        tags: { DataClassification: "phi" },
        // The role and its associations were children of this component, the associations named by
        // position; they keep their state under the new names.
        childAliases: {
          role: [{ parent: this }],
          associations: Object.fromEntries(
            args.serviceAccounts.map((sa, i) => [sa, [{ name: `${name}-identity-${i}`, parent: this }]]),
          ),
        },
      },
      { parent: this },
    );
    this.grants = {
      ...Object.fromEntries(
        this.repositories.map((r) => [`repo${r.index}`, [r.bucket.grantReadWrite(this.role)]]),
      ),
      // Yearly copies are written once and never deleted (the lock would refuse it anyway).
      archive: [this.archive.grantRead(this.role), this.archive.grantPut(this.role)],
    };
    this.registerOutputs({ roleArn: this.role.arn, archiveBucket: this.archive.bucketName });
  }
}
