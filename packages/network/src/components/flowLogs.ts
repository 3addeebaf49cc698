import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDWATCH_RETENTION_DAYS, isValidCloudWatchRetention } from "@hcp/platform";
import { flowLogsDeliveryPolicy, flowLogsTrustPolicy } from "../policies";

/** Arguments of {@link FlowLogs}. */
export interface FlowLogsArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Log group name, e.g. `/hcp/production/sa-east-1/vpc-flow-logs`. */
  readonly logGroupName: string;
  /** Days CloudWatch keeps the records; must be a value CloudWatch accepts (security class: 2557). */
  readonly retentionDays: number;
  /** Customer-managed key that encrypts the log group. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Protect the log group from deletion by Pulumi (production). */
  readonly protect: boolean;
  /**
   * Seconds a flow is aggregated before it is written (60 or 600).
   * @default 60 - the finest granularity, for incident response
   */
  readonly aggregationIntervalSeconds?: 60 | 600;
}

/**
 * VPC flow logs of ALL traffic (accepted and rejected) to a KMS-encrypted CloudWatch log group with
 * compliant retention, delivered by a role only VPC Flow Logs of this account and region can assume.
 */
export class FlowLogs extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly flowLog: aws.ec2.FlowLog;

  constructor(name: string, args: FlowLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:FlowLogs", name, {}, opts);
    if (!isValidCloudWatchRetention(args.retentionDays)) {
      throw new Error(
        `FlowLogs ${name}: retentionDays ${args.retentionDays} is not a CloudWatch retention value ` +
          `(${CLOUDWATCH_RETENTION_DAYS.join(", ")}). Fix: set healthcare-platform:retention.logs.security to one of them.`,
      );
    }
    const partition = aws.getPartitionOutput({}, { parent: this });
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const region = aws.getRegionOutput({}, { parent: this }).region;

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: args.logGroupName,
        retentionInDays: args.retentionDays,
        kmsKeyId: args.kmsKeyArn,
        logGroupClass: "STANDARD",
      },
      { parent: this, protect: args.protect },
    );
    this.role = new aws.iam.Role(
      `${name}-delivery`,
      {
        description: "VPC flow logs delivery to CloudWatch Logs",
        assumeRolePolicy: pulumi
          .all([partition.partition, partition.dnsSuffix, accountId, region])
          .apply(([p, dnsSuffix, a, r]) =>
            JSON.stringify(flowLogsTrustPolicy({ partition: p, accountId: a, region: r, dnsSuffix })),
          ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-delivery-policy`,
      {
        role: this.role.id,
        policy: this.logGroup.arn.apply((arn) => JSON.stringify(flowLogsDeliveryPolicy(arn))),
      },
      { parent: this },
    );
    this.flowLog = new aws.ec2.FlowLog(
      name,
      {
        vpcId: args.vpcId,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: this.logGroup.arn,
        iamRoleArn: this.role.arn,
        maxAggregationInterval: args.aggregationIntervalSeconds ?? 60,
      },
      { parent: this },
    );
    this.registerOutputs({ logGroupName: this.logGroup.name, flowLogId: this.flowLog.id });
  }
}
