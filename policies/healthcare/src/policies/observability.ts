import { type Rule, resourceRule } from "../policy";
import { known, UNKNOWN } from "../unknowns";
import { requireCustomerKey } from "./encryptionAtRest";

/**
 * Rules for what the observability layer adds. SNS topic encryption is `messaging-customer-key`,
 * log group retention and keys are `cloudwatch-log-retention` / `cloudwatch-logs-customer-key`.
 */

/** Amazon Managed Service for Prometheus workspaces (metrics of PHI systems) use a customer-managed key. */
export const ampWorkspaceCustomerKey = resourceRule({
  name: "amp-workspace-customer-key",
  concern: "encryption-at-rest",
  description:
    "Amazon Managed Service for Prometheus workspaces must be encrypted with a customer-managed KMS key (kmsKeyArn): series labels can carry identifiers of the systems holding PHI, and the key policy is what governs who can read them.",
  remediationSteps:
    "Set kmsKeyArn to the ARN of a KMS key of the stack (the observability layer's alerting key).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-create-workspace.html"],
  },
  evidence: { properties: { "aws:amp/workspace:Workspace": ["kmsKeyArn"] } },
  checks: {
    "aws:amp/workspace:Workspace": (props, { report }) => {
      requireCustomerKey(() => props.kmsKeyArn, "kmsKeyArn", report);
    },
  },
});

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Indexes of Allow statements granting to everyone (`*`) with no condition narrowing them. */
export function publicAllowStatements(document: unknown): number[] {
  const statements = asList((document as { Statement?: unknown } | null)?.Statement) as Array<{
    Effect?: unknown;
    Principal?: unknown;
    Condition?: unknown;
  }>;
  return statements.flatMap((s, i) => {
    const principal = s.Principal;
    const everyone =
      principal === "*" || asList((principal as { AWS?: unknown } | undefined)?.AWS).includes("*");
    const conditioned =
      typeof s.Condition === "object" && s.Condition !== null && Object.keys(s.Condition).length > 0;
    return s.Effect === "Allow" && everyone && !conditioned ? [i] : [];
  });
}

/** An alert topic's resource policy never opens it to everyone (alerts name the systems holding PHI). */
export const snsTopicPolicyNotPublic = resourceRule({
  name: "sns-topic-policy-not-public",
  concern: "network-security",
  description:
    "SNS topic policies must not allow everyone (Principal '*') without a condition: anyone could publish forged alerts to the on-call team or subscribe to alerts that name the systems holding PHI.",
  remediationSteps:
    "Grant the account (arn:<partition>:iam::<account>:root) and the AWS services that publish (cloudwatch, events) with an aws:SourceAccount or aws:SourceArn condition, never Principal '*' alone.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"],
  },
  evidence: { properties: { "aws:sns/topicPolicy:TopicPolicy": ["policy"] } },
  checks: {
    "aws:sns/topicPolicy:TopicPolicy": (props, { report }) => {
      const policy = known(() => props.policy);
      if (policy === UNKNOWN) return;
      let document: unknown;
      try {
        document = typeof policy === "string" ? JSON.parse(policy) : policy;
      } catch {
        report("policy is not valid JSON.");
        return;
      }
      for (const i of publicAllowStatements(document)) {
        report(`Statement[${i}] allows Principal '*' with no condition.`);
      }
    },
  },
});

export const observabilityRules: readonly Rule[] = [ampWorkspaceCustomerKey, snsTopicPolicyNotPublic];
