import type * as aws from "@pulumi/aws";
import type { StatementList } from "@hcp/platform";

/**
 * IAM and key policy documents of the network layer as plain data (exactly tested), given the
 * partition, account, region and DNS suffix that the components read from their provider.
 */

/** Where a policy applies: the provider's partition, account and region. */
export interface AccountRegion {
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  /** DNS suffix of the partition (`amazonaws.com`), for service principals. */
  readonly dnsSuffix: string;
}

/**
 * Key policy statement that lets CloudWatch Logs of this region use the key, only for log groups of
 * this account and region (the `aws:logs:arn` encryption context is the log group ARN).
 */
export function logsKeyStatements(where: AccountRegion): aws.iam.PolicyStatement[] {
  return [
    {
      Sid: "CloudWatchLogsOfThisAccountAndRegion",
      Effect: "Allow",
      Principal: { Service: `logs.${where.region}.${where.dnsSuffix}` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${where.partition}:logs:${where.region}:${where.accountId}:log-group:*`,
        },
      },
    },
  ];
}

/**
 * Trust policy of the flow-log delivery role: only the VPC Flow Logs service, only for flow logs of
 * this account and region (confused-deputy protection).
 */
export function flowLogsTrustPolicy(where: AccountRegion): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "VpcFlowLogsOfThisAccount",
        Effect: "Allow",
        Principal: { Service: `vpc-flow-logs.${where.dnsSuffix}` },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": where.accountId },
          ArnLike: {
            "aws:SourceArn": `arn:${where.partition}:ec2:${where.region}:${where.accountId}:vpc-flow-log/*`,
          },
        },
      },
    ],
  };
}

/** Permissions of the flow-log delivery role: write to one log group. */
export function flowLogsDeliveryPolicy(logGroupArn: string): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DeliverToTheFlowLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:log-stream:*`],
      },
      {
        Sid: "DescribeLogGroups",
        Effect: "Allow",
        Action: "logs:DescribeLogGroups",
        Resource: "*",
      },
    ],
  };
}
