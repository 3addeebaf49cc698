import type { FindingPublishingFrequency } from "@hcp/platform";

/**
 * Amazon GuardDuty Runtime Monitoring of the region's cluster, as data (exact tests in
 * test/pure.test.ts).
 *
 * Why `RUNTIME_MONITORING` and not `EKS_RUNTIME_MONITORING`: GuardDuty folded EKS Runtime Monitoring
 * into Runtime Monitoring (one plan for EKS, ECS and EC2) and recommends migrating to it; a detector
 * may carry only one of the two ("Only one of two features `EKS_RUNTIME_MONITORING` or
 * `RUNTIME_MONITORING` can be added", pulumi-aws 7.48 `aws.guardduty.DetectorFeature`; AWS GuardDuty
 * API `DetectorFeatureConfiguration`). `EKS_ADDON_MANAGEMENT` lets GuardDuty install and update its
 * security agent (the `aws-guardduty-agent` EKS add-on, namespace `amazon-guardduty`) on every
 * cluster of the account and region, and create the `guardduty-data` VPC endpoint the agent reports
 * through (GuardDuty user guide, "How Runtime Monitoring works with Amazon EKS clusters"). The ECS
 * Fargate and EC2 agent configurations are left alone: the platform runs neither outside EKS.
 */

/** The feature that enables runtime monitoring (see the module comment for the choice). */
export const RUNTIME_MONITORING = "RUNTIME_MONITORING";

/** The additional configuration under which GuardDuty manages the EKS agent. */
export const EKS_ADDON_MANAGEMENT = "EKS_ADDON_MANAGEMENT";

/**
 * Namespace the GuardDuty-managed add-on runs its privileged agent DaemonSet in (created by EKS, not
 * by this stack). It carries no Pod Security label, so EKS's default (privileged) applies there
 * while every namespace of the platform enforces `restricted` by its own label.
 */
export const GUARD_DUTY_AGENT_NAMESPACE = "amazon-guardduty";

/** Arguments of the `aws.guardduty.DetectorFeature` that enables runtime monitoring (without the detector id). */
export function runtimeMonitoringFeature(): {
  name: string;
  status: "ENABLED";
  additionalConfigurations: Array<{ name: string; status: "ENABLED" }>;
} {
  return {
    name: RUNTIME_MONITORING,
    status: "ENABLED",
    additionalConfigurations: [{ name: EKS_ADDON_MANAGEMENT, status: "ENABLED" }],
  };
}

/** Arguments of a detector the stack owns. */
export function detectorArgs(findingPublishingFrequency: FindingPublishingFrequency) {
  return { enable: true, findingPublishingFrequency } as const;
}
