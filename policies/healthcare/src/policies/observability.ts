import { type Rule, resourceRule } from "../policy";
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

export const observabilityRules: readonly Rule[] = [ampWorkspaceCustomerKey];
