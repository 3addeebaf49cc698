import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDWATCH_RETENTION_DAYS, isValidCloudWatchRetention } from "@hcp/platform";
import {
  repositoryUrl,
  RUNNER_BUILD_TIMEOUT_MINUTES,
  RUNNER_EGRESS_PORT,
  RUNNER_ENVIRONMENT,
  RUNNER_WEBHOOK_FILTER_GROUPS,
  runnerPolicy,
  runnerTrustPolicy,
} from "../runner";

/** Arguments of {@link CiRunner}. */
export interface CiRunnerArgs {
  /**
   * CodeBuild project name: `ciRunnerProjectName(env, region)` of `@hcp/platform`, which the
   * workflows' `runs-on: codebuild-<project>-...` labels are built from.
   */
  readonly projectName: string;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (one per zone): runners reach the cluster's private endpoint from there, via NAT. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** GitHub repository the runners serve. */
  readonly github: { readonly owner: string; readonly repository: string };
  /** CodeConnections GitHub connection of the region (environment layer). */
  readonly connectionArn: pulumi.Input<string>;
  /** Runner log group name, e.g. `/hcp/production/sa-east-1/ci-runner`. */
  readonly logGroupName: string;
  /** Days the job logs are kept (a CloudWatch value; deployment logs are audit records: 2557). */
  readonly logRetentionDays: number;
  /** The region's logs key (encrypts the log group). */
  readonly logsKeyArn: pulumi.Input<string>;
  /** Protect the log group from deletion (production). */
  readonly protect: boolean;
}

/**
 * In-VPC GitHub Actions runners of a region: an AWS CodeBuild project whose builds run in the private
 * subnets and register as just-in-time GitHub runners for jobs labelled
 * `codebuild-<project>-<run id>-<attempt>` (the webhook's `WORKFLOW_JOB_QUEUED` filter starts one
 * build per queued job). The runners' security group opens HTTPS connections and nothing else, and
 * accepts none; the project's service role can write its log group, manage its network interfaces
 * and use the GitHub connection, nothing more (a job's permissions come from the CI role it assumes
 * through OIDC). Job logs go to a KMS-encrypted log group with compliant retention.
 */
export class CiRunner extends pulumi.ComponentResource {
  readonly project: aws.codebuild.Project;
  readonly role: aws.iam.Role;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly webhook: aws.codebuild.Webhook;

  constructor(name: string, args: CiRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:CiRunner", name, {}, opts);
    if (!isValidCloudWatchRetention(args.logRetentionDays)) {
      throw new Error(
        `CiRunner ${name}: logRetentionDays ${args.logRetentionDays} is not a CloudWatch retention value ` +
          `(${CLOUDWATCH_RETENTION_DAYS.join(", ")}). Fix: set healthcare-platform:retention.logs.audit to one of them.`,
      );
    }
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child);
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    const where = pulumi
      .all([partition.partition, partition.dnsSuffix, accountId, region])
      .apply(([p, dnsSuffix, a, r]) => ({ partition: p, dnsSuffix, accountId: a, region: r }));

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: args.logGroupName,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.logsKeyArn,
        logGroupClass: "STANDARD",
      },
      { parent: this, protect: args.protect },
    );

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "CI runners: outbound HTTPS only, no inbound",
        tags: { Name: args.projectName },
      },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-sg-https-out`,
      {
        securityGroupId: this.securityGroup.id,
        description: "HTTPS to GitHub, package registries and the AWS and EKS APIs",
        ipProtocol: "tcp",
        fromPort: RUNNER_EGRESS_PORT,
        toPort: RUNNER_EGRESS_PORT,
        cidrIpv4: "0.0.0.0/0",
      },
      child,
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Service role of the ${args.projectName} CodeBuild runners (logs, network interfaces, GitHub connection)`,
        assumeRolePolicy: where.apply((w) => JSON.stringify(runnerTrustPolicy(w, args.projectName))),
      },
      child,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: this.role.id,
        policy: pulumi
          .all([where, this.logGroup.arn, pulumi.output(args.subnetIds), pulumi.output(args.connectionArn)])
          .apply(([w, logGroupArn, subnetIds, connectionArn]) =>
            JSON.stringify(runnerPolicy({ where: w, logGroupArn, subnetIds, connectionArn })),
          ),
      },
      child,
    );

    this.project = new aws.codebuild.Project(
      name,
      {
        name: args.projectName,
        description: `In-VPC GitHub Actions runners for ${args.github.owner}/${args.github.repository}`,
        serviceRole: this.role.arn,
        source: {
          type: "GITHUB",
          location: repositoryUrl(args.github.owner, args.github.repository),
          auth: { type: "CODECONNECTIONS", resource: args.connectionArn },
          gitCloneDepth: 1,
          reportBuildStatus: false,
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: { ...RUNNER_ENVIRONMENT },
        vpcConfig: {
          vpcId: args.vpcId,
          subnets: args.subnetIds,
          securityGroupIds: [this.securityGroup.id],
        },
        logsConfig: {
          cloudwatchLogs: { status: "ENABLED", groupName: this.logGroup.name },
          s3Logs: { status: "DISABLED" },
        },
        buildTimeout: RUNNER_BUILD_TIMEOUT_MINUTES,
        queuedTimeout: 60,
      },
      { parent: this, dependsOn: [policy] },
    );

    this.webhook = new aws.codebuild.Webhook(
      `${name}-webhook`,
      {
        projectName: this.project.name,
        buildType: "BUILD",
        filterGroups: RUNNER_WEBHOOK_FILTER_GROUPS.map((g) => ({
          filters: g.filters.map((f) => ({ ...f })),
        })),
      },
      child,
    );
    this.registerOutputs({
      projectName: this.project.name,
      roleArn: this.role.arn,
      securityGroupId: this.securityGroup.id,
      logGroupName: this.logGroup.name,
    });
  }
}
