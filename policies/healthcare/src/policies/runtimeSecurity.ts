import { type Rule, stackRule } from "../policy";
import { known, UNKNOWN } from "../unknowns";

/**
 * Runtime threat detection of the EKS clusters: GuardDuty Runtime Monitoring with the
 * GuardDuty-managed agent, in every stack that creates a cluster (the cluster layer of each region).
 * The detector may be the stack's own (`aws:guardduty/detector:Detector`) or the account's (looked
 * up, then only the feature is in the stack), so the rule requires the feature and refuses a
 * disabled detector wherever one is defined.
 */

/** Feature names that carry EKS runtime monitoring (only one of them may be on a detector). */
const RUNTIME_FEATURES = ["RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"];

/** The additional configuration under which GuardDuty installs and updates the EKS agent itself. */
const AGENT_MANAGEMENT = "EKS_ADDON_MANAGEMENT";

export const guardDutyEksRuntimeMonitoring = stackRule({
  name: "guardduty-eks-runtime-monitoring",
  concern: "kubernetes-security",
  description:
    "A stack that creates an EKS cluster must enable GuardDuty runtime monitoring for it: an aws.guardduty.DetectorFeature RUNTIME_MONITORING (or the older EKS_RUNTIME_MONITORING) with status ENABLED and the additional configuration EKS_ADDON_MANAGEMENT ENABLED, so GuardDuty deploys its agent to the cluster; no GuardDuty detector in the stack may be disabled.",
  remediationSteps:
    "Add the cluster layer's RuntimeSecurity component (cluster.guardDuty.detector: managed creates the region's detector, existing uses the account's) or an aws.guardduty.DetectorFeature { detectorId, name: 'RUNTIME_MONITORING', status: 'ENABLED', additionalConfigurations: [{ name: 'EKS_ADDON_MANAGEMENT', status: 'ENABLED' }] }; set enable: true on the detector.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(D)", "164.312(b)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html",
      "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorFeatureConfiguration.html",
    ],
  },
  evidence: {
    properties: {
      "aws:eks/cluster:Cluster": ["name"],
      "aws:guardduty/detector:Detector": ["enable"],
      "aws:guardduty/detectorFeature:DetectorFeature": ["name", "status", "additionalConfigurations"],
    },
  },
  examines: [
    "aws:eks/cluster:Cluster",
    "aws:guardduty/detector:Detector",
    "aws:guardduty/detectorFeature:DetectorFeature",
  ],
  validate: (ctx) => {
    for (const detector of ctx.ofType("aws:guardduty/detector:Detector")) {
      ctx.each(() => {
        if (detector.props.enable === false) {
          ctx.report(
            `GuardDuty detector '${detector.resource.name}' is disabled (enable: false): it produces no findings.`,
            detector.resource.urn,
          );
        }
      });
    }
    const clusters = ctx.ofType("aws:eks/cluster:Cluster");
    if (clusters.length === 0) {
      return;
    }
    let covered = false;
    const undecided: Array<() => unknown> = [];
    const problems: string[] = [];
    for (const feature of ctx.ofType("aws:guardduty/detectorFeature:DetectorFeature")) {
      const label = `DetectorFeature '${feature.resource.name}'`;
      const name = known(() => feature.props.name);
      if (name === UNKNOWN) {
        undecided.push(() => feature.props.name);
        continue;
      }
      if (typeof name !== "string" || !RUNTIME_FEATURES.includes(name)) {
        continue;
      }
      const status = known(() => feature.props.status);
      const extra = known(() => feature.props.additionalConfigurations);
      if (status === UNKNOWN || extra === UNKNOWN) {
        undecided.push(() => [feature.props.status, feature.props.additionalConfigurations]);
        continue;
      }
      const configs = Array.isArray(extra) ? (extra as Array<{ name?: unknown; status?: unknown }>) : [];
      const agent = configs.find((c) => known(() => c.name) === AGENT_MANAGEMENT);
      const agentStatus = agent ? known(() => agent.status) : undefined;
      if (agentStatus === UNKNOWN) {
        undecided.push(() => agent?.status);
        continue;
      }
      const wrong: string[] = [];
      if (status !== "ENABLED") {
        wrong.push(`status is ${String(status)}`);
      }
      if (agentStatus !== "ENABLED") {
        wrong.push(
          agent
            ? `${AGENT_MANAGEMENT} is ${String(agentStatus)}`
            : `${AGENT_MANAGEMENT} is not configured, so no agent is deployed to the cluster`,
        );
      }
      if (wrong.length === 0) {
        covered = true;
      } else {
        problems.push(`${label} (${name}): ${wrong.join("; ")}`);
      }
    }
    if (covered) {
      return;
    }
    if (undecided.length > 0) {
      // A feature whose values are known only after deployment may be the one that covers the cluster.
      ctx.each(() => undecided.forEach((read) => read()));
      return;
    }
    for (const cluster of clusters) {
      ctx.report(
        `EKS cluster '${cluster.resource.name}' has no GuardDuty runtime monitoring in this stack${
          problems.length > 0
            ? `: ${problems.join(", ")}`
            : " (no RUNTIME_MONITORING or EKS_RUNTIME_MONITORING feature)"
        }.`,
        cluster.resource.urn,
      );
    }
  },
});

/** Rules of runtime threat detection. */
export const runtimeSecurityRules: readonly Rule[] = [guardDutyEksRuntimeMonitoring];
