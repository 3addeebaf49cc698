import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CI_SESSION_SECONDS, type GitHubConfig, physicalName, type StateBackend } from "@hcp/platform";

/** Arguments of {@link CiAccess}. */
export interface CiAccessArgs {
  /** Repository whose workflows may assume the roles. */
  readonly github: GitHubConfig;
  /** Where Pulumi state lives: the preview role gets exactly read access to it. */
  readonly stateBackend: StateBackend;
  /** Prefix of the role names, e.g. `hcp-production`. */
  readonly namePrefix: string;
  /** Audit resources the deploy role may manage but never stop, delete or disable. */
  readonly auditTrailArn: pulumi.Input<string>;
  readonly auditBucketArn: pulumi.Input<string>;
  readonly auditKeyArn: pulumi.Input<string>;
}

const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * GitHub Actions access through OIDC (no long-lived keys): a `preview` role for pull requests
 * (read-only, plus the state it needs, and explicitly denied reading data: objects, secrets,
 * parameters, logs) and a `deploy` role that only jobs of the protected GitHub environment can assume.
 */
export class CiAccess extends pulumi.ComponentResource {
  readonly oidcProvider: aws.iam.OpenIdConnectProvider;
  readonly previewRole: aws.iam.Role;
  readonly deployRole: aws.iam.Role;

  constructor(name: string, args: CiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:environment:CiAccess", name, {}, opts);
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const repo = `repo:${args.github.owner}/${args.github.repository}`;

    this.oidcProvider = new aws.iam.OpenIdConnectProvider(
      `${name}-github`,
      { url: `https://${GITHUB_OIDC_HOST}`, clientIdLists: ["sts.amazonaws.com"] },
      { parent: this },
    );
    const trust = (subjects: string[], operator: "StringEquals" | "StringLike") =>
      pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: this.oidcProvider.arn },
            Action: "sts:AssumeRoleWithWebIdentity",
            // Both keys may share one operator block; building the blocks separately would let the
            // subject condition replace the audience condition.
            Condition: trustConditions(subjects, operator),
          },
        ],
      });

    this.previewRole = new aws.iam.Role(
      `${name}-preview`,
      {
        name: physicalName("iamRole", args.namePrefix, "ci-preview"),
        description: "pulumi preview from pull requests: read-only, no data access",
        assumeRolePolicy: trust(
          [`${repo}:pull_request`, `${repo}:ref:refs/heads/${args.github.deployBranch}`],
          "StringLike",
        ),
        maxSessionDuration: CI_SESSION_SECONDS.preview,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-preview-readonly`,
      {
        role: this.previewRole.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/ReadOnlyAccess`,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-preview-state`,
      {
        role: this.previewRole.id,
        policy: partition.apply((p) =>
          JSON.stringify({ Version: "2012-10-17", Statement: previewStatements(p, args.stateBackend) }),
        ),
      },
      { parent: this },
    );

    this.deployRole = new aws.iam.Role(
      `${name}-deploy`,
      {
        name: physicalName("iamRole", args.namePrefix, "ci-deploy"),
        description: `pulumi up from the ${args.github.deployEnvironment} GitHub environment (required reviewers)`,
        assumeRolePolicy: trust([`${repo}:environment:${args.github.deployEnvironment}`], "StringEquals"),
        // A deploy job assumes the role once, for its whole timeout (docs/ci.md, "Credential lifetime").
        maxSessionDuration: CI_SESSION_SECONDS.deploy,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-deploy-admin`,
      {
        role: this.deployRole.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AdministratorAccess`,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-deploy-guardrails`,
      {
        role: this.deployRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "NeverStopTheAuditTrail",
              Effect: "Deny",
              Action: ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
              Resource: args.auditTrailArn,
            },
            {
              Sid: "NeverDeleteAuditLogs",
              Effect: "Deny",
              Action: ["s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteObjectVersion"],
              Resource: [args.auditBucketArn, pulumi.interpolate`${args.auditBucketArn}/*`],
            },
            {
              Sid: "NeverDisableTheAuditKey",
              Effect: "Deny",
              Action: ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
              Resource: args.auditKeyArn,
            },
          ] satisfies aws.iam.PolicyStatement[],
        }),
      },
      { parent: this },
    );
    this.registerOutputs({ previewRoleArn: this.previewRole.arn, deployRoleArn: this.deployRole.arn });
  }
}

/** Conditions of a GitHub OIDC trust policy: the STS audience and the allowed subjects. */
export function trustConditions(
  subjects: readonly string[],
  operator: "StringEquals" | "StringLike",
): Record<string, Record<string, string | readonly string[]>> {
  const conditions: Record<string, Record<string, string | readonly string[]>> = {
    StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com" },
  };
  conditions[operator] = { ...conditions[operator], [`${GITHUB_OIDC_HOST}:sub`]: subjects };
  return conditions;
}

/** The preview role's inline statements: state access for an S3 backend, and no data reads anywhere else. */
export function previewStatements(partition: string, backend: StateBackend): aws.iam.PolicyStatement[] {
  const statements: aws.iam.PolicyStatement[] = [];
  const stateObjects: string[] = [];
  if (backend.type === "s3") {
    const bucketArn = `arn:${partition}:s3:::${backend.bucket}`;
    stateObjects.push(`${bucketArn}/*`);
    statements.push(
      { Sid: "ListState", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
      { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/*` },
      {
        Sid: "LockState",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:DeleteObject"],
        Resource: `${bucketArn}/.pulumi/locks/*`,
      },
      {
        Sid: "DecryptStateSecrets",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": backend.kmsKeyAlias } },
      },
    );
  }
  statements.push({
    Sid: "NoDataPlaneReads",
    Effect: "Deny",
    Action: [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "secretsmanager:GetSecretValue",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
      "logs:StartQuery",
    ],
    NotResource: stateObjects.length > 0 ? stateObjects : [`arn:${partition}:s3:::no-state-bucket/*`],
  });
  return statements;
}
