import { type Rule, resourceRule } from "../policy";

/**
 * CI runners inside the PHI network (AWS CodeBuild-hosted GitHub Actions runners): they run in the
 * VPC behind their own security group, unprivileged, log to CloudWatch, reach GitHub through a
 * connection (never a token in the project), and start only for queued workflow jobs, so a job's
 * cloud permissions always come from the OIDC role it assumes (whose trust names the GitHub
 * environment or event), never from a build the repository's contents alone can start.
 */

/** Authentication types that keep the GitHub credential out of the project (a connection or a secret). */
const REFERENCED_AUTH = ["CODECONNECTIONS", "SECRETS_MANAGER"];

/** Source types that talk to a Git host and need credentials. */
const GIT_SOURCES = ["GITHUB", "GITHUB_ENTERPRISE", "GITLAB", "GITLAB_SELF_MANAGED", "BITBUCKET"];

export const codebuildProjectIsolated = resourceRule({
  name: "codebuild-project-isolated",
  concern: "network-security",
  description:
    "CodeBuild projects must run in a VPC (vpcConfig with subnets and security groups), without privileged mode (no Docker daemon with host-level access), with CloudWatch logs enabled to a named log group, and authenticate to a Git host through a CodeConnections connection or a Secrets Manager secret, never an inline token.",
  remediationSteps:
    "Use the network layer's CiRunner component: vpcConfig in the private subnets, environment.privilegedMode false, logsConfig.cloudwatchLogs { status: 'ENABLED', groupName }, source.auth { type: 'CODECONNECTIONS', resource: <connection ARN> }.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.308(a)(4)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://docs.aws.amazon.com/codebuild/latest/userguide/vpc-support.html",
      "https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner.html",
    ],
  },
  evidence: {
    properties: {
      "aws:codebuild/project:Project": [
        "vpcConfig",
        "environment.privilegedMode",
        "logsConfig.cloudwatchLogs",
        "source.type",
        "source.auth",
      ],
    },
  },
  checks: {
    "aws:codebuild/project:Project": (props, { report }) => {
      const vpc = props.vpcConfig;
      if (!vpc || (vpc.subnets ?? []).length === 0 || (vpc.securityGroupIds ?? []).length === 0) {
        report(
          "the project has no vpcConfig with subnets and security groups: its builds run outside the VPC.",
        );
      }
      if (props.environment.privilegedMode === true) {
        report("environment.privilegedMode is true: builds get a Docker daemon with host-level access.");
      }
      const logs = props.logsConfig?.cloudwatchLogs;
      if (!logs || logs.status === "DISABLED" || !logs.groupName) {
        report(
          "logsConfig.cloudwatchLogs is not enabled with a groupName: build logs are not kept in the encrypted log group.",
        );
      }
      if (GIT_SOURCES.includes(props.source.type)) {
        const auth = props.source.auth;
        if (!auth || !REFERENCED_AUTH.includes(auth.type)) {
          report(
            `source.auth is ${auth ? `'${auth.type}'` : "not set"}: authenticate with a CodeConnections connection or a Secrets Manager secret (${REFERENCED_AUTH.join(", ")}).`,
          );
        }
      }
    },
  },
});

/** Events a webhook may build on: queued GitHub Actions jobs (the runner), nothing else. */
const RUNNER_EVENTS = ["WORKFLOW_JOB_QUEUED"];

export const codebuildWebhookRunnerOnly = resourceRule({
  name: "codebuild-webhook-runner-only",
  concern: "network-security",
  description:
    "CodeBuild webhooks must start builds only for queued GitHub Actions workflow jobs (an EVENT filter of WORKFLOW_JOB_QUEUED in every filter group): a webhook that builds on pushes or pull requests would run the repository's buildspec with the project's role, outside the workflows' OIDC roles and environment approvals.",
  remediationSteps:
    "Give the webhook filterGroups: [{ filters: [{ type: 'EVENT', pattern: 'WORKFLOW_JOB_QUEUED' }] }].",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.308(a)(4)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner.html"],
  },
  evidence: { properties: { "aws:codebuild/webhook:Webhook": ["filterGroups"] } },
  checks: {
    "aws:codebuild/webhook:Webhook": (props, { report }) => {
      const groups = props.filterGroups ?? [];
      if (groups.length === 0) {
        report("the webhook has no filter groups: every push and pull request event starts a build.");
      }
      groups.forEach((group, i) => {
        const events = (group.filters ?? [])
          .filter((f) => f.type === "EVENT" && f.excludeMatchedPattern !== true)
          .flatMap((f) => f.pattern.split(",").map((e) => e.trim()));
        const other = events.filter((e) => !RUNNER_EVENTS.includes(e));
        if (events.length === 0 || other.length > 0) {
          report(
            `filterGroups[${i}] builds on ${events.length === 0 ? "every event" : other.join(", ")}; only ${RUNNER_EVENTS.join(", ")} is allowed.`,
          );
        }
      });
    },
  },
});

/** The rules of CI runners. */
export const ciRunnerRules: readonly Rule[] = [codebuildProjectIsolated, codebuildWebhookRunnerOnly];
