import type * as aws from "@pulumi/aws";
import { CI_JOB_TIMEOUT_MINUTES, type StatementList } from "@hcp/platform";
import type { AccountRegion } from "./policies";

/**
 * The in-VPC GitHub Actions runner of a region (AWS CodeBuild-hosted runners) as data: its build
 * environment, its network reach and its IAM documents, exactly tested.
 */

/** HTTPS: the only port a runner opens connections to (GitHub, package registries, AWS and EKS APIs). */
export const RUNNER_EGRESS_PORT = 443;

/**
 * Build environment of the runner project. The image is a CodeBuild curated image (pulled with
 * CodeBuild's own credentials); jobs install their Node.js, pnpm and Pulumi CLI themselves.
 */
export const RUNNER_ENVIRONMENT = {
  type: "LINUX_CONTAINER",
  computeType: "BUILD_GENERAL1_MEDIUM",
  image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
  imagePullCredentialsType: "CODEBUILD",
  privilegedMode: false,
} as const;

/**
 * Minutes CodeBuild lets one runner live: a runner build lasts as long as the job it runs, so this
 * covers the longest job (a deployment's), whose own timeout stops it first.
 */
export const RUNNER_BUILD_TIMEOUT_MINUTES = CI_JOB_TIMEOUT_MINUTES.deploy + 15;

/** The webhook filter that makes CodeBuild start a runner for every queued workflow job. */
export const RUNNER_WEBHOOK_FILTER_GROUPS = [
  { filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] },
] as const;

/** Clone URL of the repository the runner serves. */
export function repositoryUrl(owner: string, repository: string): string {
  return `https://github.com/${owner}/${repository}.git`;
}

/**
 * Trust policy of the runner's service role: only CodeBuild, only for this project of this account
 * (confused-deputy protection).
 */
export function runnerTrustPolicy(where: AccountRegion, projectName: string): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CodeBuildRunnerProject",
        Effect: "Allow",
        Principal: { Service: `codebuild.${where.dnsSuffix}` },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": where.accountId },
          ArnLike: {
            "aws:SourceArn": `arn:${where.partition}:codebuild:${where.region}:${where.accountId}:project/${projectName}`,
          },
        },
      },
    ],
  };
}

/** Both service prefixes a CodeConnections connection ARN may be addressed with. */
export function connectionArns(connectionArn: string): string[] {
  const other = connectionArn.includes(":codestar-connections:")
    ? connectionArn.replace(":codestar-connections:", ":codeconnections:")
    : connectionArn.replace(":codeconnections:", ":codestar-connections:");
  return [...new Set([connectionArn, other])];
}

/** What the runner's service role may do: the addresses of its own log group, network and connection. */
export interface RunnerGrants {
  readonly where: AccountRegion;
  readonly logGroupArn: string;
  /** Subnets the runner's network interfaces are created in. */
  readonly subnetIds: readonly string[];
  readonly connectionArn: string;
}

/**
 * Permissions of the runner's service role, and nothing else: write its own log group, create and
 * remove its network interfaces in its subnets (the VPC configuration of a CodeBuild project), and use
 * the region's GitHub connection. It has no access to the cluster, the state or any data: a job gets
 * its cloud permissions from the CI role it assumes through GitHub OIDC, never from the runner.
 */
export function runnerPolicy(grants: RunnerGrants): StatementList {
  const { partition, region, accountId } = grants.where;
  const statements: aws.iam.PolicyStatement[] = [
    {
      Sid: "WriteOwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [grants.logGroupArn, `${grants.logGroupArn}:log-stream:*`],
    },
    {
      Sid: "DescribeVpcForNetworkInterfaces",
      Effect: "Allow",
      Action: [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
      ],
      Resource: "*",
    },
    {
      Sid: "ManageNetworkInterfaces",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    {
      Sid: "AttachNetworkInterfacesInRunnerSubnets",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterfacePermission",
      Resource: `arn:${partition}:ec2:${region}:${accountId}:network-interface/*`,
      Condition: {
        StringEquals: {
          "ec2:Subnet": grants.subnetIds.map(
            (id) => `arn:${partition}:ec2:${region}:${accountId}:subnet/${id}`,
          ),
          "ec2:AuthorizedService": `codebuild.${grants.where.dnsSuffix}`,
        },
      },
    },
    {
      Sid: "UseGitHubConnection",
      Effect: "Allow",
      Action: [
        "codeconnections:GetConnection",
        "codeconnections:GetConnectionToken",
        "codestar-connections:GetConnection",
        "codestar-connections:GetConnectionToken",
      ],
      Resource: connectionArns(grants.connectionArn),
    },
  ];
  return { Version: "2012-10-17", Statement: statements };
}
