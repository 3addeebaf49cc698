import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  type Grantee,
  GrantRegistry,
  type KeyAccess,
  type KeyGrantOptions,
  keyGrantStatements,
} from "./grants";
import { accountRoot } from "./policy";

/** Whether a key exists in one region or is the primary of a multi-region key set. */
export type KeyScope = "singleRegion" | "multiRegion";

/** Arguments of {@link KmsKey}. */
export interface KmsKeyArgs {
  /** What the key protects; becomes the key description. */
  readonly description: string;
  /** Alias name without the `alias/` prefix, e.g. `hcp/production/sa-east-1/logs`. */
  readonly alias: string;
  /**
   * Key policy statements for the services that use the key (CloudWatch Logs, CloudTrail, the
   * autoscaling service-linked role, ...), given the partition and account. The account-root
   * administration statement is always added first, so the key can never become unmanageable.
   * @default - only the account-root statement
   */
  readonly serviceStatements?: (
    partition: string,
    accountId: string,
  ) => pulumi.Input<aws.iam.PolicyStatement[]>;
  /** @default "singleRegion" */
  readonly scope?: KeyScope;
  /** Days a scheduled deletion waits (7-30). @default 30 - the maximum, to recover from a mistaken deletion */
  readonly deletionWindowDays?: number;
  /** Protect the key from deletion by Pulumi (production). */
  readonly protect: boolean;
}

/**
 * A customer-managed KMS key with annual rotation, a 30-day deletion window, the lockout safety check
 * left on, and an alias. Partition and account come from the provider, never from literals.
 */
export class KmsKey extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly alias: aws.kms.Alias;
  /** Key ARN. */
  readonly arn: pulumi.Output<string>;
  /** Key id. */
  readonly keyId: pulumi.Output<string>;
  private readonly grants: GrantRegistry;

  constructor(name: string, args: KmsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:platform:KmsKey", name, {}, opts);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const policy = pulumi.all([partition, accountId]).apply(([p, a]) =>
      pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: pulumi.output(args.serviceStatements?.(p, a) ?? []).apply((service) => [
          {
            Sid: "AccountAdministration",
            Effect: "Allow",
            Principal: { AWS: accountRoot(p, a) },
            Action: "kms:*",
            Resource: "*",
          },
          ...service,
        ]),
      }),
    );
    this.key = new aws.kms.Key(
      name,
      {
        description: args.description,
        enableKeyRotation: true,
        rotationPeriodInDays: 365,
        deletionWindowInDays: args.deletionWindowDays ?? 30,
        multiRegion: (args.scope ?? "singleRegion") === "multiRegion",
        bypassPolicyLockoutSafetyCheck: false,
        policy,
      },
      { parent: this, protect: args.protect },
    );
    this.alias = new aws.kms.Alias(
      `${name}-alias`,
      { name: `alias/${args.alias}`, targetKeyId: this.key.keyId },
      { parent: this },
    );
    this.arn = this.key.arn;
    this.keyId = this.key.keyId;
    this.grants = new GrantRegistry(name, this);
    this.registerOutputs({ arn: this.arn, keyId: this.keyId });
  }

  /** Lets the grantee encrypt and decrypt with the key (an inline policy on its role). */
  grantEncryptDecrypt(grantee: Grantee, options?: KeyGrantOptions): aws.iam.RolePolicy {
    return this.grant(grantee, "encryptDecrypt", options);
  }

  /** Lets the grantee encrypt (and generate data keys) with the key. */
  grantEncrypt(grantee: Grantee, options?: KeyGrantOptions): aws.iam.RolePolicy {
    return this.grant(grantee, "encrypt", options);
  }

  /** Lets the grantee decrypt with the key. */
  grantDecrypt(grantee: Grantee, options?: KeyGrantOptions): aws.iam.RolePolicy {
    return this.grant(grantee, "decrypt", options);
  }

  /**
   * Grants `access` to the key as the inline policy `<key>-<access>-<grantee>` (a child of the key).
   * The key policy delegates to IAM (account-root statement), so the role's policy is what decides.
   */
  grant(grantee: Grantee, access: KeyAccess, options: KeyGrantOptions = {}): aws.iam.RolePolicy {
    return this.grants.grant(access, grantee, () => keyGrantStatements(this.arn, access, options), options);
  }
}
