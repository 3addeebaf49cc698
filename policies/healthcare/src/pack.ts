import type { PolicyPackArgs } from "@pulumi/policy";
import type { Rule } from "./policy";
import { coverageRule } from "./policies/coverage";
import { encryptionAtRestRules } from "./policies/encryptionAtRest";
import { encryptionInTransitRules } from "./policies/encryptionInTransit";
import { kubernetesSecurityRules } from "./policies/kubernetesSecurity";
import { networkSecurityRules } from "./policies/networkSecurity";
import { peeringRules } from "./policies/peering";
import { observabilityRules } from "./policies/observability";
import { residencyRules } from "./policies/residency";
import { resilienceRules } from "./policies/resilience";
import { retentionRules } from "./policies/retention";
import { runtimeSecurityRules } from "./policies/runtimeSecurity";
import { secretsHygieneRules } from "./policies/secretsHygiene";
import { taggingRules } from "./policies/tagging";
import { workloadsRules } from "./policies/workloads";

/** Name of the pack (PulumiPolicy.yaml, `--policy-pack`, reports). */
export const PACK_NAME = "healthcare-compliance";

/** Every rule except coverage, which is computed from them. */
export const CHECK_RULES: readonly Rule[] = [
  ...encryptionAtRestRules,
  ...encryptionInTransitRules,
  ...retentionRules,
  ...residencyRules,
  ...resilienceRules,
  ...networkSecurityRules,
  ...peeringRules,
  ...kubernetesSecurityRules,
  ...taggingRules,
  ...secretsHygieneRules,
  ...observabilityRules,
  ...workloadsRules,
  ...runtimeSecurityRules,
];

/** Every rule of the pack, in report order. */
export const RULES: readonly Rule[] = [...CHECK_RULES, coverageRule(CHECK_RULES)];

const duplicate = RULES.map((r) => r.policy.name).find((n, i, all) => all.indexOf(n) !== i);
if (duplicate) {
  throw new Error(`policy name '${duplicate}' is used twice`);
}

/** The arguments of the pack's one `PolicyPack` (constructed only by src/index.ts). */
export function packArgs(): PolicyPackArgs {
  return {
    description:
      "HIPAA / LGPD controls of the healthcare platform: encryption at rest and in transit, retention, residency (LGPD Art. 33), resilience, network security, Kubernetes security, tagging, secrets hygiene and policy coverage.",
    displayName: "Healthcare compliance (HIPAA / LGPD)",
    provider: "aws",
    tags: ["hipaa", "lgpd", "aws", "kubernetes"],
    enforcementLevel: "advisory",
    policies: RULES.map((r) => r.policy),
  };
}
