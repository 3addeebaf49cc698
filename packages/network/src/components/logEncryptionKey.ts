import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KmsKey } from "@hcp/platform";
import { logsKeyStatements } from "../policies";

/** Arguments of {@link LogEncryptionKey}. */
export interface LogEncryptionKeyArgs {
  /** Alias without `alias/`, e.g. `hcp/production/sa-east-1/logs`. */
  readonly alias: string;
  /** Protect the key from deletion by Pulumi (production). */
  readonly protect: boolean;
}

/**
 * The region's customer-managed key for CloudWatch Logs (VPC flow logs here, the EKS control-plane
 * log group in the cluster layer): rotation on, 30-day deletion window, and a key policy that lets
 * the CloudWatch Logs service of this region use it only for log groups of this account and region.
 * Partition, account, region and DNS suffix come from the provider.
 */
export class LogEncryptionKey extends pulumi.ComponentResource {
  readonly key: KmsKey;
  /** Key ARN. */
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: LogEncryptionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:LogEncryptionKey", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const dnsSuffix = aws.getPartitionOutput({}, { parent: this }).dnsSuffix;
    this.key = new KmsKey(
      `${name}-key`,
      {
        description: "CloudWatch Logs of the region (VPC flow logs, EKS control-plane logs)",
        alias: args.alias,
        protect: args.protect,
        serviceStatements: (partition, accountId) =>
          pulumi
            .all([region, dnsSuffix])
            .apply(([r, d]) => logsKeyStatements({ partition, accountId, region: r, dnsSuffix: d })),
      },
      { parent: this },
    );
    this.arn = this.key.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
