import { z } from "zod";
import type { SchemaMatches } from "../typecheck";
import type { ConfigProblem } from "./problems";

/**
 * The `cluster.guardDuty` key: how the cluster layer gets Amazon GuardDuty Runtime Monitoring (with
 * the GuardDuty-managed EKS agent) in every region. A GuardDuty detector exists at most once per
 * account and region, so the layer either owns it (`managed`) or configures the feature on the one
 * the account already has (`existing`). {@link guardDutyOwnershipProblems} finds two environments
 * that would both create the detector of one account and region.
 */

/** Who owns the GuardDuty detector of each region of the environment's account. */
export type GuardDutyDetectorMode =
  /** The cluster stack creates the region's detector (the account has none; one environment per account). */
  | "managed"
  /**
   * The account already has a detector in each region (another environment in the same account, a
   * security team's baseline): the stack looks it up and only enables Runtime Monitoring on it.
   */
  | "existing";

/** How often GuardDuty publishes updates of an active finding (the first occurrence is published at once). */
export type FindingPublishingFrequency = "FIFTEEN_MINUTES" | "ONE_HOUR" | "SIX_HOURS";

/** GuardDuty settings of the environment's clusters. */
export interface GuardDutyConfig {
  /** Whether the stack creates the detector or uses the account's. */
  readonly detector: GuardDutyDetectorMode;
  /** Update frequency of a managed detector's findings (an existing detector keeps its own). */
  readonly findingPublishingFrequency: FindingPublishingFrequency;
}

/** Defaults: the stack owns the detector and publishes finding updates every 15 minutes. */
export const GUARD_DUTY_DEFAULTS: GuardDutyConfig = {
  detector: "managed",
  findingPublishingFrequency: "FIFTEEN_MINUTES",
};

/** Schema of the `cluster.guardDuty` key. */
export const guardDutySchema = z
  .object({
    detector: z
      .enum(["managed", "existing"])
      .default(GUARD_DUTY_DEFAULTS.detector)
      .describe(
        "managed: the cluster stack creates the region's GuardDuty detector (the account has none); existing: the account already has one in each region (another environment of the same account, a security baseline) and the stack only enables Runtime Monitoring on it",
      ),
    findingPublishingFrequency: z
      .enum(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"])
      .default(GUARD_DUTY_DEFAULTS.findingPublishingFrequency)
      .describe(
        "how often a managed detector publishes updates of an active finding (to EventBridge); an existing detector keeps its own setting",
      ),
  })
  .strict()
  .default(GUARD_DUTY_DEFAULTS)
  .describe(
    "Amazon GuardDuty Runtime Monitoring of the clusters (GuardDuty-managed EKS agent): who owns the account's detector in each region",
  );

const _matches: SchemaMatches<typeof guardDutySchema, GuardDutyConfig> = true;
void _matches;

/** What {@link guardDutyOwnershipProblems} needs of one environment. */
export interface GuardDutyOwner {
  readonly environment: string;
  readonly accountId: string;
  readonly regions: readonly string[];
  readonly detector: GuardDutyDetectorMode;
}

/** A conflict of {@link guardDutyOwnershipProblems}, with the environment whose file must change. */
export interface GuardDutyOwnershipProblem extends ConfigProblem {
  readonly environment: string;
}

/**
 * Two environments in one AWS account sharing a region cannot both own that region's detector: the
 * second `pulumi up` would fail (GuardDuty allows one detector per account and region). Each
 * conflict is reported once, on the environments after the first owner, with the fix.
 */
export function guardDutyOwnershipProblems(owners: readonly GuardDutyOwner[]): GuardDutyOwnershipProblem[] {
  const problems: GuardDutyOwnershipProblem[] = [];
  const first = new Map<string, string>();
  for (const owner of owners) {
    if (owner.detector !== "managed") {
      continue;
    }
    for (const region of owner.regions) {
      const key = `${owner.accountId}/${region}`;
      const earlier = first.get(key);
      if (earlier === undefined) {
        first.set(key, owner.environment);
        continue;
      }
      problems.push({
        environment: owner.environment,
        path: `Pulumi.${owner.environment}.yaml healthcare-platform:cluster.guardDuty.detector`,
        received: `"managed" (account ${owner.accountId}, region ${region})`,
        allowed: `"existing": environment ${earlier} already creates the GuardDuty detector of account ${owner.accountId} in ${region} (one detector per account and region)`,
        fix: `set cluster.guardDuty.detector: existing in ${owner.environment} (it then enables Runtime Monitoring on ${earlier}'s detector), or move the environment to its own account`,
      });
    }
  }
  return problems;
}
