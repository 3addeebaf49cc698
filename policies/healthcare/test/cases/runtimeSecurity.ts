import type { ArgsOf } from "../../src/lib";
import { type Case, cases, pass, preview, violation } from "../case";
import type { Fixture } from "../harness";
import { res, unknown } from "../fixtures";

/** Cases of the runtime threat detection rule (src/policies/runtimeSecurity.ts). */

const DETECTOR_ID = "12abc34d567e8fa901bc2d34e56789f0";

const cluster = res("aws:eks/cluster:Cluster", "eks", {
  name: "hcp-production-sa-east-1",
  roleArn: "arn:aws:iam::111122223333:role/eks",
  vpcConfig: { subnetIds: ["subnet-1"] },
});

const detector = (enable: boolean) =>
  res("aws:guardduty/detector:Detector", "runtime-security-detector", {
    enable,
    findingPublishingFrequency: "FIFTEEN_MINUTES",
  });

type FeatureArgs = ArgsOf<"aws:guardduty/detectorFeature:DetectorFeature">;

const feature = (args: Partial<FeatureArgs> = {}): Fixture =>
  res("aws:guardduty/detectorFeature:DetectorFeature", "runtime-security-runtime-monitoring", {
    detectorId: DETECTOR_ID,
    name: "RUNTIME_MONITORING",
    status: "ENABLED",
    additionalConfigurations: [{ name: "EKS_ADDON_MANAGEMENT", status: "ENABLED" }],
    ...args,
  });

export const runtimeSecurityCases: Case[] = [
  ...cases("guardduty-eks-runtime-monitoring", [
    {
      kind: "pass",
      title: "the stack's detector with Runtime Monitoring and the managed agent",
      stack: [cluster, detector(true), feature()],
      expect: pass,
    },
    {
      kind: "pass",
      title: "the account's existing detector: only the feature is in the stack",
      stack: [cluster, feature()],
      expect: pass,
    },
    {
      kind: "pass",
      title: "the older EKS_RUNTIME_MONITORING feature with the managed agent",
      stack: [cluster, feature({ name: "EKS_RUNTIME_MONITORING" })],
      expect: pass,
    },
    {
      kind: "pass",
      title: "a stack without an EKS cluster needs no feature",
      stack: [detector(true)],
      expect: pass,
    },
    {
      kind: "fail",
      title: "a cluster without any GuardDuty feature",
      stack: [cluster, detector(true)],
      expect: violation(
        /EKS cluster 'eks' has no GuardDuty runtime monitoring in this stack \(no RUNTIME_MONITORING or EKS_RUNTIME_MONITORING feature\)/,
      ),
    },
    {
      kind: "fail",
      title: "only another feature (S3 protection)",
      stack: [cluster, detector(true), feature({ name: "S3_DATA_EVENTS", additionalConfigurations: [] })],
      expect: violation(/no RUNTIME_MONITORING or EKS_RUNTIME_MONITORING feature/),
    },
    {
      kind: "fail",
      title: "runtime monitoring without the managed agent",
      stack: [cluster, detector(true), feature({ additionalConfigurations: [] })],
      expect: violation(/EKS_ADDON_MANAGEMENT is not configured, so no agent is deployed to the cluster/),
    },
    {
      kind: "fail",
      title: "agent management disabled",
      stack: [
        cluster,
        detector(true),
        feature({ additionalConfigurations: [{ name: "EKS_ADDON_MANAGEMENT", status: "DISABLED" }] }),
      ],
      expect: violation(/EKS_ADDON_MANAGEMENT is DISABLED/),
    },
    {
      kind: "fail",
      title: "the feature disabled",
      stack: [cluster, detector(true), feature({ status: "DISABLED" })],
      expect: violation(/\(RUNTIME_MONITORING\): status is DISABLED/),
    },
    {
      kind: "fail",
      title: "a disabled detector",
      stack: [cluster, detector(false), feature()],
      expect: violation(/GuardDuty detector 'runtime-security-detector' is disabled \(enable: false\)/, {
        count: 1,
      }),
    },
    {
      kind: "unknown",
      title: "the feature's status is known only after deployment",
      stack: [cluster, detector(true), feature({ status: unknown.string() })],
      expect: preview,
    },
    {
      kind: "unknown",
      title: "the feature's name is known only after deployment",
      stack: [cluster, detector(true), feature({ name: unknown.string() })],
      expect: preview,
    },
  ]),
];
