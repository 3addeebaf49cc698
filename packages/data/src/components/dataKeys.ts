import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type Grantee, grantPolicy, KmsKey, keyGrantStatements } from "@hcp/platform";

/** Arguments of {@link DataKeys}. */
export interface DataKeysArgs {
  /** Region of the primary key (the data stack's). */
  readonly region: string;
  /** Alias of the primary key (without `alias/`); replicas get the same alias in their region. */
  readonly alias: string;
  /** Providers of the DR regions that get a replica key, by region. */
  readonly replicaProviders: Readonly<Record<string, aws.Provider>>;
  /** Protect the keys from deletion (production). */
  readonly protect: boolean;
}

/**
 * The data tier's KMS key: a multi-region key in the primary region (database secrets, backups,
 * the long-term archive) and its replica in every DR region, so DR-region backup copies and the
 * replicated replication secret are encrypted with the same key material under each region's own
 * control. IAM policies grant use; the key policy keeps the account administrable.
 */
export class DataKeys extends pulumi.ComponentResource {
  readonly primary: KmsKey;
  readonly replicas: Readonly<Record<string, aws.kms.ReplicaKey>>;
  /** Key ARN per region (primary region included). */
  readonly arnsByRegion: pulumi.Output<Record<string, string>>;
  private readonly logicalName: string;
  private readonly region: string;

  constructor(name: string, args: DataKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:data:DataKeys", name, {}, opts);
    this.logicalName = name;
    this.region = args.region;
    this.primary = new KmsKey(
      name,
      {
        description: "Data tier: PostgreSQL backups, archive and database secrets",
        alias: args.alias,
        scope: "multiRegion",
        protect: args.protect,
      },
      { parent: this },
    );
    const replicas: Record<string, aws.kms.ReplicaKey> = {};
    for (const [region, provider] of Object.entries(args.replicaProviders)) {
      const replica = new aws.kms.ReplicaKey(
        `${name}-${region}`,
        {
          primaryKeyArn: this.primary.arn,
          description: `Data tier replica key in ${region}: DR backups and the replicated replication secret`,
          deletionWindowInDays: 30,
          bypassPolicyLockoutSafetyCheck: false,
        },
        { parent: this, provider, protect: args.protect },
      );
      new aws.kms.Alias(
        `${name}-${region}-alias`,
        { name: `alias/${args.alias}`, targetKeyId: replica.keyId },
        { parent: this, provider },
      );
      replicas[region] = replica;
    }
    this.replicas = replicas;
    this.arnsByRegion = pulumi
      .all([this.primary.arn, ...Object.values(replicas).map((r) => r.arn)])
      .apply(([primaryArn, ...replicaArns]) => ({
        [args.region]: primaryArn,
        ...Object.fromEntries(Object.keys(replicas).map((r, i) => [r, replicaArns[i]])),
      }));
    this.registerOutputs({ arnsByRegion: this.arnsByRegion });
  }

  /**
   * Lets the grantee encrypt and decrypt with the key in every region, each region's copy only
   * through `viaService(region)` (e.g. that region's S3 endpoint): the primary key's grant is the
   * `KmsKey`'s, each replica's an inline policy `<name>-<region>-encrypt-decrypt-<grantee>`.
   */
  grantEncryptDecrypt(
    grantee: Grantee,
    options: { readonly viaService: (region: string) => string },
  ): aws.iam.RolePolicy[] {
    return [
      this.primary.grantEncryptDecrypt(grantee, { viaService: options.viaService(this.region) }),
      ...Object.entries(this.replicas).map(([region, replica]) =>
        grantPolicy(
          `${this.logicalName}-${region}`,
          "encryptDecrypt",
          grantee,
          keyGrantStatements(replica.arn, "encryptDecrypt", { viaService: options.viaService(region) }),
          { parent: this },
        ),
      ),
    ];
  }
}
