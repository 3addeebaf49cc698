import { type EnvironmentTopology, yearsToDays } from "@hcp/platform";
import { RULES } from "./pack";

/**
 * The `--policy-pack-config` object of an environment, derived from its definition (the root
 * `Pulumi.<env>.yaml`), so thresholds have one source: the environment. Keys are policy names,
 * values the policy's config properties; anything not set keeps the schema default.
 */
export type PolicyPackConfigJson = Record<string, Record<string, unknown>>;

/** The policy config for an environment. */
export function policyConfigFor(topology: EnvironmentTopology): PolicyPackConfigJson {
  const residency = {
    homeCountry: topology.residency.homeCountry,
    allowedRegions: [...topology.residency.allowedRegions],
    transferBasisCountries: [
      ...new Set(topology.residency.internationalTransfers.map((t) => t.destinationCountry)),
    ],
  };
  const logs = topology.retention.logs;
  const bucketRetention = {
    auditMinimumDays: yearsToDays(topology.retention.auditYears),
    clinicalRecordMinimumDays: yearsToDays(topology.retention.clinicalRecordYears),
  };
  return {
    "stateful-resources-protected": { requireProtect: topology.tier === "production" },
    "phi-allowed-regions": residency,
    "phi-international-transfer": residency,
    "phi-cross-border-copy": residency,
    "cloudwatch-log-retention": {
      auditMinimumDays: logs.audit,
      securityMinimumDays: logs.security,
      applicationMinimumDays: logs.application,
      diagnosticMinimumDays: logs.diagnostic,
    },
    "s3-retention-lifecycle": bucketRetention,
    "s3-retention-object-lock": bucketRetention,
    "backup-retention-minimum": {
      minimumFullRetentionCount: topology.retention.backups.fullRetentionCount,
      minimumDiffRetentionCount: topology.retention.backups.diffRetentionCount,
    },
  };
}

/** Every policy's default config (the schema defaults): our compliance posture without an environment. */
export function defaultPolicyConfig(): PolicyPackConfigJson {
  return Object.fromEntries(RULES.map((r) => [r.policy.name, { ...r.defaults }]));
}
