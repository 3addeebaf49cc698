import type { PolicyResource } from "@pulumi/policy";
import { REQUIRED_TAG_KEYS } from "@hcp/platform";
import { type LabelSelector, type ObjectMeta, namespaceOf, podTemplate, selectorMatches } from "../k8s";
import { type Rule, resourceRule, stackRule } from "../policy";
import type { ArgsOf } from "../types";
import { known } from "../unknowns";

/**
 * Resilience: state that cannot be recreated (keys, data, volumes) is protected from deletion in
 * production, security settings are never silently frozen, and replicated workloads survive
 * voluntary disruptions (node drains, upgrades).
 */

interface ProtectConfig {
  /** Whether stateful resources must be protected (true for production environments). */
  readonly requireProtect: boolean;
  readonly statefulTypes: string[];
}

/** Types whose deletion loses data or keys. */
export const DEFAULT_STATEFUL_TYPES = [
  "aws:kms/key:Key",
  "aws:kms/replicaKey:ReplicaKey",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:ebs/volume:Volume",
  "aws:efs/fileSystem:FileSystem",
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:dynamodb/table:Table",
  "aws:backup/vault:Vault",
  "aws:secretsmanager/secret:Secret",
  "aws:ecr/repository:Repository",
  "aws:route53/zone:Zone",
  "kubernetes:core/v1:PersistentVolumeClaim",
  "kubernetes:core/v1:PersistentVolume",
];

/** Stateful resources are `protect`ed in production. */
export const statefulResourcesProtected = resourceRule<ProtectConfig>({
  name: "stateful-resources-protected",
  concern: "resilience",
  description:
    "In production, stateful resources (KMS keys, buckets, volumes, databases, secrets, registries, DNS zones) must have the protect resource option, so that a refactoring or `pulumi destroy` cannot delete data or keys.",
  remediationSteps:
    "Pass { protect: ctx.protectStateful } to the resource (components forward it to their stateful children).",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://www.pulumi.com/docs/iac/concepts/options/protect/"],
  },
  evidence: { generic: ["option:protect"] },
  config: {
    defaults: { requireProtect: true, statefulTypes: DEFAULT_STATEFUL_TYPES },
    schema: {
      requireProtect: { type: "boolean", description: "True for production environments (tier production)." },
      statefulTypes: { type: "array", items: { type: "string", minLength: 1 }, uniqueItems: true },
    },
  },
  generic: {
    scope: "stateful resource types",
    appliesTo: () => true,
    check: ({ args, config, report }) => {
      if (!config.requireProtect || !config.statefulTypes.includes(args.type)) {
        args.notApplicable(
          config.requireProtect ? "not a stateful type" : "protection not required in this environment",
        );
      }
      if (!args.opts.protect) {
        report("the resource is not protected (protect: true).");
      }
    },
  },
});

interface IgnoreChangesConfig {
  readonly securityProperties: string[];
}

/** Property names whose changes must never be ignored: they carry encryption, access or retention. */
export const DEFAULT_SECURITY_PROPERTIES = [
  "serverSideEncryptionConfiguration",
  "serverSideEncryptionConfigurations",
  "rules",
  "rule",
  "policy",
  "assumeRolePolicy",
  "kmsKeyId",
  "kmsKeyArn",
  "kmsMasterKeyId",
  "kmsKey",
  "encrypted",
  "encryptionConfig",
  "encryptionConfigurations",
  "enableKeyRotation",
  "deletionWindowInDays",
  "bypassPolicyLockoutSafetyCheck",
  "sslPolicy",
  "protocol",
  "certificateArn",
  "retentionInDays",
  "versioningConfiguration",
  "objectLockConfiguration",
  "objectLockEnabled",
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
  "ingress",
  "egress",
  "securityContext",
  "vpcConfig",
  "accessConfig",
];

/** No `ignoreChanges` on security settings. */
export const noIgnoreChangesOnSecuritySettings = resourceRule<IgnoreChangesConfig>({
  name: "no-ignore-changes-on-security-settings",
  concern: "resilience",
  description:
    "Resources must not use ignoreChanges on security settings (encryption, keys, policies, TLS, retention, versioning, Object Lock, public access, security contexts, the required tags): a drifted or weakened setting would never be corrected.",
  remediationSteps:
    "Remove the property from ignoreChanges; if another controller manages it, manage it in one place only.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(B)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/"],
  },
  evidence: { generic: ["option:ignoreChanges"] },
  config: {
    defaults: { securityProperties: DEFAULT_SECURITY_PROPERTIES },
    schema: {
      securityProperties: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description: "Property names (at any depth of an ignoreChanges path) that must not be ignored.",
      },
    },
  },
  generic: {
    scope: "resources with ignoreChanges",
    appliesTo: () => true,
    check: ({ args, config, report }) => {
      const ignored = args.opts.ignoreChanges ?? [];
      if (ignored.length === 0) {
        args.notApplicable("no ignoreChanges");
      }
      for (const path of ignored) {
        const segments = path.split(/[.[\]"]+/).filter((s) => s !== "");
        const tagPath = segments[0] === "tags" || segments[0] === "tagsAll";
        // Tags that other controllers add (e.g. kubernetes.io/...) may be ignored; the required ones not.
        const requiredTag =
          tagPath &&
          (segments.length === 1 || (REQUIRED_TAG_KEYS as readonly string[]).includes(segments[1]));
        if (
          path === "*" ||
          requiredTag ||
          (!tagPath && segments.some((s) => config.securityProperties.includes(s)))
        ) {
          report(`ignoreChanges includes '${path}', a security setting.`);
        }
      }
    },
  },
});

interface PdbConfig {
  readonly minimumReplicas: number;
}

const REPLICATED = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"] as const;

/**
 * The namespace key of a namespaced object: its `metadata.namespace` if known, else the Namespace
 * resource it was computed from (its name is unknown in a preview of a new namespace).
 */
export function namespaceKey(resource: PolicyResource, metadata: () => ObjectMeta | undefined): string {
  const fromDependency = (resource.propertyDependencies["metadata"] ?? []).find(
    (d) => d.type === "kubernetes:core/v1:Namespace",
  );
  if (fromDependency) {
    return namespaceResourceKey(fromDependency);
  }
  return namespaceOf(metadata());
}

/** The key of a Namespace resource: its name if known, else its URN. */
export function namespaceResourceKey(ns: PolicyResource): string {
  const name = known(() => (ns.props as ArgsOf<"kubernetes:core/v1:Namespace">).metadata?.name);
  return typeof name === "string" && name !== "" ? name : ns.urn;
}

/** Every multi-replica Deployment/StatefulSet has a PodDisruptionBudget selecting its pods. */
export const podDisruptionBudgetCoverage = stackRule<PdbConfig>({
  name: "pod-disruption-budget",
  concern: "resilience",
  description:
    "Every Deployment and StatefulSet with more than one replica (spec.replicas, or the maxReplicas of a HorizontalPodAutoscaler scaling it, which then owns the count) must have a PodDisruptionBudget in its namespace whose selector matches its pod labels, so node drains and upgrades keep a quorum (Patroni) and capacity.",
  remediationSteps:
    "Add a policy/v1 PodDisruptionBudget { selector: { matchLabels: <the pod labels> }, maxUnavailable: 1 } next to the workload.",
  severity: "medium",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.306(a)(1)"],
    lgpd: ["Art. 49"],
    docs: ["https://kubernetes.io/docs/tasks/run-application/configure-pdb/"],
  },
  evidence: {
    properties: {
      "kubernetes:apps/v1:Deployment": [
        "metadata.namespace",
        "spec.replicas",
        "spec.template.metadata.labels",
      ],
      "kubernetes:apps/v1:StatefulSet": [
        "metadata.namespace",
        "spec.replicas",
        "spec.template.metadata.labels",
      ],
      "kubernetes:policy/v1:PodDisruptionBudget": ["metadata.namespace", "spec.selector"],
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": [
        "metadata.namespace",
        "spec.scaleTargetRef",
        "spec.maxReplicas",
      ],
    },
  },
  config: {
    defaults: { minimumReplicas: 2 },
    schema: {
      minimumReplicas: {
        type: "integer",
        minimum: 2,
        description: "Replica count from which a PDB is required.",
      },
    },
  },
  examines: [
    ...REPLICATED,
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  ],
  validate: (ctx) => {
    // The most replicas an HPA may run, by `<namespace>/<kind>/<name>` of its target.
    const scaled = new Map<string, number>();
    for (const hpa of ctx.ofType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")) {
      ctx.each(() => {
        const ref = hpa.props.spec?.scaleTargetRef;
        if (ref) {
          const key = `${namespaceKey(hpa.resource, () => hpa.props.metadata)}/${ref.kind}/${ref.name}`;
          scaled.set(key, Math.max(scaled.get(key) ?? 0, hpa.props.spec?.maxReplicas ?? 0));
        }
      });
    }
    const pdbs: Array<{ ns: string; selector: LabelSelector | undefined }> = [];
    for (const pdb of ctx.ofType("kubernetes:policy/v1:PodDisruptionBudget")) {
      ctx.each(() => {
        pdbs.push({
          ns: namespaceKey(pdb.resource, () => pdb.props.metadata),
          selector: pdb.props.spec?.selector,
        });
      });
    }
    for (const workload of ctx.ofType(...REPLICATED)) {
      ctx.each(() => {
        const props = workload.props as ArgsOf<"kubernetes:apps/v1:Deployment">;
        const ns = namespaceKey(workload.resource, () => props.metadata);
        const kind = workload.resource.type.split(":").pop() ?? "";
        const replicas = Math.max(
          props.spec?.replicas ?? 1,
          scaled.get(`${ns}/${kind}/${props.metadata?.name ?? ""}`) ?? 0,
        );
        if (replicas < ctx.config.minimumReplicas) {
          return;
        }
        const labels = (podTemplate(workload.resource.type as (typeof REPLICATED)[number], props).metadata
          ?.labels ?? {}) as Record<string, string>;
        const covered = pdbs.some((p) => p.ns === ns && selectorMatches(p.selector, labels));
        if (!covered) {
          ctx.report(
            `${kind} '${workload.resource.name}' runs ${replicas === (props.spec?.replicas ?? 1) ? "" : "up to "}${replicas} replicas without a PodDisruptionBudget selecting its pods.`,
            workload.resource.urn,
          );
        }
      });
    }
  },
});

/** Storage classes keep volumes when claims are deleted (DESIGN §6). */
export const k8sStorageClassRetain = resourceRule({
  name: "k8s-storage-class-retain",
  concern: "resilience",
  description:
    "StorageClasses must set reclaimPolicy: Retain, so deleting a PersistentVolumeClaim (or a StatefulSet's claims) does not delete the database volume.",
  remediationSteps: "Set reclaimPolicy: 'Retain' on the StorageClass.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://kubernetes.io/docs/concepts/storage/storage-classes/#reclaim-policy"],
  },
  evidence: { properties: { "kubernetes:storage.k8s.io/v1:StorageClass": ["reclaimPolicy"] } },
  checks: {
    "kubernetes:storage.k8s.io/v1:StorageClass": (props, { report }) => {
      if (props.reclaimPolicy !== "Retain") {
        report(`reclaimPolicy is ${props.reclaimPolicy ?? "unset (Delete)"}; use Retain.`);
      }
    },
  },
});

/** The rules of this concern. */
export const resilienceRules: readonly Rule[] = [
  statefulResourcesProtected,
  noIgnoreChangesOnSecuritySettings,
  podDisruptionBudgetCoverage,
  k8sStorageClassRetain,
];
