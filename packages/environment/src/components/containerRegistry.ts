import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KmsKey } from "@hcp/platform";

/** Arguments of {@link ContainerRegistry}. */
export interface ContainerRegistryArgs {
  /** Repository names, one per application image. */
  readonly repositories: readonly string[];
  /** Days after which untagged images are expired. */
  readonly untaggedImageExpiryDays: number;
  /**
   * Providers of the regions images are replicated to (the DR regions), by region. Each gets a
   * replica of the registry key and a creation template so replicated repositories are KMS-encrypted
   * and immutable too.
   */
  readonly replicaProviders: Readonly<Record<string, aws.Provider>>;
  /** Alias (without `alias/`) of the registry key. */
  readonly keyAlias: string;
  /** Protect repositories and keys from deletion (production). */
  readonly protect: boolean;
}

/**
 * ECR repositories for the application images: immutable tags, scan on push, KMS encryption with a
 * multi-region key, untagged-image expiry, and registry replication to every DR region so a region
 * failover does not depend on the primary's registry.
 */
export class ContainerRegistry extends pulumi.ComponentResource {
  readonly key: KmsKey;
  readonly replicaKeys: Record<string, aws.kms.ReplicaKey>;
  readonly repositories: Record<string, aws.ecr.Repository>;
  readonly replication: aws.ecr.ReplicationConfiguration | undefined;

  constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:environment:ContainerRegistry", name, {}, opts);
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const lifecyclePolicy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: `Expire untagged images after ${args.untaggedImageExpiryDays} days`,
          selection: {
            tagStatus: "untagged",
            countType: "sinceImagePushed",
            countUnit: "days",
            countNumber: args.untaggedImageExpiryDays,
          },
          action: { type: "expire" },
        },
      ],
    });

    this.key = new KmsKey(
      `${name}-key`,
      {
        description: "ECR repositories of the application images",
        alias: args.keyAlias,
        scope: "multiRegion",
        protect: args.protect,
        serviceStatements: (partition, account): aws.iam.PolicyStatement[] => [
          {
            // Replicated repositories are created by ECR's template service-linked role.
            Sid: "EcrTemplateServiceLinkedRole",
            Effect: "Allow",
            Principal: {
              AWS: `arn:${partition}:iam::${account}:role/aws-service-role/ecr.amazonaws.com/AWSServiceRoleForECRTemplate`,
            },
            Action: [
              "kms:CreateGrant",
              "kms:DescribeKey",
              "kms:Encrypt",
              "kms:Decrypt",
              "kms:GenerateDataKey*",
            ],
            Resource: "*",
          },
        ],
      },
      { parent: this },
    );

    this.repositories = {};
    for (const repo of args.repositories) {
      const repository = new aws.ecr.Repository(
        `${name}-${repo}`,
        {
          name: repo,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: this.key.arn }],
          forceDelete: false,
        },
        { parent: this, protect: args.protect },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-${repo}-lifecycle`,
        { repository: repository.name, policy: lifecyclePolicy },
        { parent: this },
      );
      this.repositories[repo] = repository;
    }

    this.replicaKeys = {};
    for (const [region, provider] of Object.entries(args.replicaProviders)) {
      const replica = new aws.kms.ReplicaKey(
        `${name}-key-${region}`,
        {
          primaryKeyArn: this.key.arn,
          description: `Replica in ${region} of the ECR repositories key`,
          deletionWindowInDays: 30,
          bypassPolicyLockoutSafetyCheck: false,
        },
        { parent: this, provider, protect: args.protect },
      );
      this.replicaKeys[region] = replica;
      for (const repo of args.repositories) {
        new aws.ecr.RepositoryCreationTemplate(
          `${name}-${repo}-template-${region}`,
          {
            prefix: repo,
            description: `Replicated ${repo} repositories: KMS-encrypted, immutable tags`,
            appliedFors: ["REPLICATION"],
            imageTagMutability: "IMMUTABLE",
            encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: replica.arn }],
            lifecyclePolicy,
          },
          { parent: this, provider },
        );
      }
    }

    const regions = Object.keys(args.replicaProviders);
    this.replication =
      regions.length === 0
        ? undefined
        : new aws.ecr.ReplicationConfiguration(
            `${name}-replication`,
            {
              replicationConfiguration: {
                rules: [
                  {
                    destinations: regions.map((region) => ({ region, registryId: accountId })),
                    repositoryFilters: args.repositories.map((repo) => ({
                      filter: repo,
                      filterType: "PREFIX_MATCH",
                    })),
                  },
                ],
              },
            },
            { parent: this },
          );
    this.registerOutputs({ keyArn: this.key.arn });
  }
}
