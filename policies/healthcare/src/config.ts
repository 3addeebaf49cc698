import {
  type EnvironmentTopology,
  MESH_SYSTEM_EXEMPTION,
  NODE_AGENTS_EXEMPTION,
  yearsToDays,
} from "@hcp/platform";
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
  // Namespaces of node agents that need the host, each exempt from exactly the rules its agents
  // cannot meet (host access, the restricted security context, the Pod Security level); they still
  // get default-deny NetworkPolicies and resource limits (those rules stay in force there):
  // - the observability layer's node agents (node-exporter, Fluent Bit), in every environment;
  // - Istio ambient's system namespace (workloads.mesh: ambient): ztunnel runs as root with
  //   NET_ADMIN / SYS_ADMIN, the CNI agent writes the node's CNI configuration.
  const nodeAgents = {
    exemptNamespaces: [
      { ...NODE_AGENTS_EXEMPTION },
      ...(topology.workloads.mesh === "ambient" ? [{ ...MESH_SYSTEM_EXEMPTION }] : []),
    ],
  };
  return {
    "k8s-no-host-access": nodeAgents,
    "k8s-restricted-security-context": nodeAgents,
    "k8s-namespace-restricted": nodeAgents,
    "stateful-resources-protected": { requireProtect: topology.tier === "production" },
    "container-image-pinned": { requireDigest: topology.tier === "production" },
    "elasticache-high-availability": { requireMultiAz: topology.tier === "production" },
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

/** Enforcement levels a policy config may set. */
export type EnforcementLevelName = "advisory" | "mandatory" | "remediate" | "disabled";

/** One policy's entry of the analyzer's `Configure` call. */
export interface AnalyzerPolicyConfig {
  readonly enforcementLevel: EnforcementLevelName;
  readonly properties: Record<string, unknown>;
}

/**
 * What the Pulumi CLI sends to the pack's `Configure` RPC for a `--policy-pack-config` object: every
 * policy, with its enforcement level (the configured one, else the policy's own) and its properties
 * over the schema defaults. The analyzer server uses the sent level as is, so a caller that sends a
 * policy without its level would turn a mandatory policy advisory.
 */
export function analyzerConfig(config: PolicyPackConfigJson = {}): Record<string, AnalyzerPolicyConfig> {
  return Object.fromEntries(
    RULES.map((r) => {
      const { enforcementLevel, ...properties } = (config[r.policy.name] ?? {}) as {
        enforcementLevel?: EnforcementLevelName;
      } & Record<string, unknown>;
      return [
        r.policy.name,
        {
          enforcementLevel: enforcementLevel ?? r.policy.enforcementLevel ?? "advisory",
          properties: { ...r.defaults, ...properties },
        },
      ];
    }),
  );
}
