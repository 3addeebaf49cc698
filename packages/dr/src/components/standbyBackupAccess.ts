import * as pulumi from "@pulumi/pulumi";
import { PodIdentityRole } from "@hcp/kube";
import { bucketGrantStatements, grantPolicy, keyGrantStatements } from "@hcp/platform";
import { s3Endpoint } from "@hcp/postgres";

/** A pgBackRest repository bucket the DR cluster uses (created by the data layer). */
export interface RepositoryAccess {
  /** Repository index in this cluster's pgbackrest.conf. */
  readonly index: number;
  readonly region: string;
  readonly bucketArn: pulumi.Input<string>;
  /** The data key's copy in the bucket's region. */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** Arguments of {@link StandbyBackupAccess}. */
export interface StandbyBackupAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
  /** Service accounts running pgBackRest: the Patroni members and the backup Jobs. */
  readonly serviceAccounts: readonly string[];
  readonly repositories: readonly RepositoryAccess[];
}

/**
 * What pgBackRest in the DR region may do with the repositories the data layer created for it: read
 * them as a standby (restore_command, building members from a backup) and write them once promoted
 * (archive-push and backups into this region's own stanza). One Pod Identity role trusted only by
 * the named service accounts of the namespace in this cluster, read-write on each repository bucket,
 * and the data key's copy in each bucket's region usable only through that region's S3.
 */
export class StandbyBackupAccess extends pulumi.ComponentResource {
  readonly role: PodIdentityRole;

  constructor(name: string, args: StandbyBackupAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:dr:StandbyBackupAccess", name, {}, opts);
    this.role = new PodIdentityRole(
      `${name}-role`,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccounts: args.serviceAccounts,
        description: "pgBackRest of the DR standby cluster: its region's repositories",
      },
      { parent: this },
    );
    for (const repo of args.repositories) {
      grantPolicy(
        `${name}-repo${repo.index}`,
        "readWrite",
        this.role,
        bucketGrantStatements(repo.bucketArn, "readWrite"),
        { parent: this },
      );
      grantPolicy(
        `${name}-repo${repo.index}-key`,
        "encryptDecrypt",
        this.role,
        keyGrantStatements(repo.kmsKeyArn, "encryptDecrypt", { viaService: s3Endpoint(repo.region) }),
        { parent: this },
      );
    }
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
