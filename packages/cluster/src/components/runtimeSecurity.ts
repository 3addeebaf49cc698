import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GuardDutyConfig } from "@hcp/platform";
import { detectorArgs, runtimeMonitoringFeature } from "../guardDuty";

/** Arguments of {@link RuntimeSecurity}. */
export interface RuntimeSecurityArgs {
  /** `cluster.guardDuty`: whether the stack owns the region's detector or uses the account's. */
  readonly guardDuty: GuardDutyConfig;
  /**
   * Protect the detector (production): deleting a detector deletes its findings.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * Amazon GuardDuty Runtime Monitoring with the GuardDuty-managed EKS agent for the region (see
 * `src/guardDuty.ts`). A detector exists at most once per account and region: with `managed` the
 * stack creates it; with `existing` it looks the account's detector up (`aws.guardduty.getDetector`,
 * which fails the preview if the region has none) and only adds the feature. Removing the feature
 * resource does not disable it (pulumi-aws `DetectorFeature`: it is only dropped from state), so a
 * teardown of this stack never switches off monitoring another environment relies on.
 */
export class RuntimeSecurity extends pulumi.ComponentResource {
  /** The detector this stack created (`undefined` with `existing`). */
  readonly detector: aws.guardduty.Detector | undefined;
  readonly detectorId: pulumi.Output<string>;
  readonly runtimeMonitoring: aws.guardduty.DetectorFeature;

  constructor(name: string, args: RuntimeSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:RuntimeSecurity", name, {}, opts);
    if (args.guardDuty.detector === "managed") {
      this.detector = new aws.guardduty.Detector(
        `${name}-detector`,
        detectorArgs(args.guardDuty.findingPublishingFrequency),
        { parent: this, protect: args.protect ?? false },
      );
      this.detectorId = this.detector.id;
    } else {
      this.detector = undefined;
      this.detectorId = aws.guardduty.getDetectorOutput({}, { parent: this }).id;
    }
    this.runtimeMonitoring = new aws.guardduty.DetectorFeature(
      `${name}-runtime-monitoring`,
      { detectorId: this.detectorId, ...runtimeMonitoringFeature() },
      { parent: this },
    );
    this.registerOutputs({ detectorId: this.detectorId });
  }
}
