import type { PolicyResource } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import {
  type Container,
  containersOf,
  isWorkloadType,
  namespaceOf,
  type PodTemplate,
  podTemplate,
  WORKLOAD_TYPES,
  workloadEvidence,
  type WorkloadType,
} from "../k8s";
import { type ResourceChecks, type ResourceContext, type Rule, resourceRule, stackRule } from "../policy";
import type { ArgsOf } from "../types";
import { namespaceKey, namespaceResourceKey } from "./resilience";

/**
 * Kubernetes security: pods of the PHI cluster run under the Pod Security `restricted` profile,
 * namespaces enforce it, traffic is denied unless allowed, and nothing is exposed to the internet by
 * accident.
 */

/** A namespace allowed to deviate from the restricted profile, with the reason. */
export interface NamespaceExemption {
  readonly name: string;
  readonly reason: string;
}

interface ExemptionConfig {
  readonly exemptNamespaces: NamespaceExemption[];
}

const exemptionSchema: PolicyConfigJSONSchema = {
  type: "array",
  items: {
    type: "object",
    properties: { name: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 10 } },
    required: ["name", "reason"],
    additionalProperties: false,
  },
  description:
    "Namespaces exempt from the restricted profile, each with the reason (e.g. node agents needing host access).",
};

function exempt(metadata: { namespace?: string } | undefined, cfg: ExemptionConfig): boolean {
  const ns = namespaceOf(metadata);
  return cfg.exemptNamespaces.some((e) => e.name === ns);
}

/** Builds the same check for every workload type from a pod-template check. */
function workloadChecks<C extends ExemptionConfig>(
  check: (template: PodTemplate, ctx: ResourceContext<C>) => void,
): ResourceChecks<C> {
  const checks: Partial<
    Record<WorkloadType, (props: ArgsOf<WorkloadType>, ctx: ResourceContext<C>) => void>
  > = {};
  for (const type of WORKLOAD_TYPES) {
    checks[type] = (props, ctx) => {
      const metadata = (props as ArgsOf<"kubernetes:apps/v1:Deployment">).metadata;
      if (exempt(metadata, ctx.config)) {
        ctx.args.notApplicable(`namespace ${namespaceOf(metadata)} is exempt`);
      }
      check(podTemplate(type, props), ctx);
    };
  }
  return checks;
}

const exemptionConfig = {
  defaults: { exemptNamespaces: [] as NamespaceExemption[] },
  schema: { exemptNamespaces: exemptionSchema },
};

/** No privileged containers and no host namespaces, paths or ports. */
export const k8sNoHostAccess = resourceRule<ExemptionConfig>({
  name: "k8s-no-host-access",
  concern: "kubernetes-security",
  description:
    "Pods must not be privileged or share the node: no privileged containers, no hostNetwork/hostPID/hostIPC, no hostPath volumes, no hostPort (Pod Security baseline).",
  remediationSteps:
    "Remove privileged, hostNetwork, hostPID, hostIPC, hostPath volumes and hostPort; use a PVC or emptyDir instead of hostPath.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
  },
  evidence: {
    properties: workloadEvidence([
      "hostNetwork",
      "hostPID",
      "hostIPC",
      "volumes[].hostPath",
      "containers[].securityContext.privileged",
      "containers[].ports[].hostPort",
      "initContainers[].securityContext.privileged",
    ]),
  },
  config: exemptionConfig,
  checks: workloadChecks((template, { report }) => {
    const spec = template.spec;
    if (!spec) {
      return;
    }
    for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
      if (spec[field] === true) {
        report(`${template.path}.${field} is true.`);
      }
    }
    (spec.volumes ?? []).forEach((v, i) => {
      if (v.hostPath) {
        report(`${template.path}.volumes[${i}] ('${v.name}') is a hostPath volume.`);
      }
    });
    for (const { container, path, label } of containersOf(template)) {
      if (container.securityContext?.privileged === true) {
        report(`${label} (${path}) is privileged.`);
      }
      if ((container.ports ?? []).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) {
        report(`${label} (${path}) uses a hostPort.`);
      }
    }
  }),
});

function dropsAll(container: Container): boolean {
  return (container.securityContext?.capabilities?.drop ?? []).includes("ALL");
}

const SECCOMP_OK = ["RuntimeDefault", "Localhost"];

/** Containers run under the restricted profile's security context. */
export const k8sRestrictedSecurityContext = resourceRule<ExemptionConfig>({
  name: "k8s-restricted-security-context",
  concern: "kubernetes-security",
  description:
    "Every container must run as non-root (runAsNonRoot: true on the pod or container), with readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities.drop ['ALL'] and a RuntimeDefault seccomp profile (Pod Security restricted).",
  remediationSteps:
    "Set the pod's securityContext { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } and each container's securityContext { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }; mount an emptyDir where the process writes.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
  },
  evidence: {
    properties: workloadEvidence([
      "securityContext",
      "containers[].securityContext",
      "initContainers[].securityContext",
    ]),
  },
  config: exemptionConfig,
  checks: workloadChecks((template, { report }) => {
    const pod = template.spec?.securityContext;
    for (const { container, path, label } of containersOf(template)) {
      const sc = container.securityContext;
      const missing: string[] = [];
      if ((sc?.runAsNonRoot ?? pod?.runAsNonRoot) !== true) {
        missing.push("runAsNonRoot: true");
      }
      if (sc?.runAsUser === 0 || (sc?.runAsUser === undefined && pod?.runAsUser === 0)) {
        missing.push("a non-zero runAsUser");
      }
      if (sc?.readOnlyRootFilesystem !== true) {
        missing.push("readOnlyRootFilesystem: true");
      }
      if (sc?.allowPrivilegeEscalation !== false) {
        missing.push("allowPrivilegeEscalation: false");
      }
      if (!dropsAll(container)) {
        missing.push("capabilities.drop ['ALL']");
      }
      const seccomp = sc?.seccompProfile?.type ?? pod?.seccompProfile?.type;
      if (!seccomp || !SECCOMP_OK.includes(seccomp)) {
        missing.push("seccompProfile RuntimeDefault");
      }
      if (missing.length > 0) {
        report(`${label} (${path}) lacks ${missing.join(", ")}.`);
      }
    }
  }),
});

interface LimitsConfig extends ExemptionConfig {
  readonly requireCpuLimit: boolean;
}

/** Containers declare requests and a memory limit. */
export const k8sResourceLimits = resourceRule<LimitsConfig>({
  name: "k8s-resource-limits",
  concern: "kubernetes-security",
  description:
    "Every container must declare resources.requests (cpu, memory) and resources.limits.memory (and limits.cpu if configured), so one pod cannot starve the node that also runs patient-data services.",
  remediationSteps: "Set resources: { requests: { cpu, memory }, limits: { memory } } on every container.",
  severity: "medium",
  enforcementLevel: "advisory",
  controls: {
    hipaa: ["164.306(a)(1)"],
    lgpd: ["Art. 49"],
    docs: ["https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"],
  },
  evidence: { properties: workloadEvidence(["containers[].resources", "initContainers[].resources"]) },
  config: {
    defaults: { exemptNamespaces: [], requireCpuLimit: false },
    schema: { exemptNamespaces: exemptionSchema, requireCpuLimit: { type: "boolean" } },
  },
  checks: workloadChecks<LimitsConfig>((template, { config, report }) => {
    for (const { container, path, label } of containersOf(template)) {
      const requests = container.resources?.requests ?? {};
      const limits = container.resources?.limits ?? {};
      const missing = [
        ...(requests["cpu"] === undefined ? ["requests.cpu"] : []),
        ...(requests["memory"] === undefined ? ["requests.memory"] : []),
        ...(limits["memory"] === undefined ? ["limits.memory"] : []),
        ...(config.requireCpuLimit && limits["cpu"] === undefined ? ["limits.cpu"] : []),
      ];
      if (missing.length > 0) {
        report(`${label} (${path}) has no resources.${missing.join(", resources.")}.`);
      }
    }
  }),
});

const PSA = "pod-security.kubernetes.io/";

/** Namespaces enforce the restricted Pod Security profile. */
export const k8sNamespaceRestricted = resourceRule<ExemptionConfig>({
  name: "k8s-namespace-restricted",
  concern: "kubernetes-security",
  description:
    "Namespaces must carry the label pod-security.kubernetes.io/enforce: restricted (exempt namespaces, listed with a reason in the policy config, need at least an explicit enforce label).",
  remediationSteps:
    "Add labels { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } to the Namespace.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://kubernetes.io/docs/concepts/security/pod-security-admission/"],
  },
  evidence: { properties: { "kubernetes:core/v1:Namespace": ["metadata.name", "metadata.labels"] } },
  config: exemptionConfig,
  checks: {
    "kubernetes:core/v1:Namespace": (props, { config, report }) => {
      const labels = props.metadata?.labels ?? {};
      const level = labels[`${PSA}enforce`];
      const name = props.metadata?.name;
      const isExempt = config.exemptNamespaces.some((e) => e.name === name);
      if (isExempt) {
        if (level === undefined) {
          report(`exempt namespace has no ${PSA}enforce label; set baseline or privileged explicitly.`);
        }
        return;
      }
      if (level !== "restricted") {
        report(
          `label ${PSA}enforce is ${level === undefined ? "missing" : `'${level}'`}; it must be 'restricted'.`,
        );
      }
    },
  },
});

/** True if a NetworkPolicy denies all ingress and egress of every pod of its namespace. */
export function isDefaultDeny(props: ArgsOf<"kubernetes:networking.k8s.io/v1:NetworkPolicy">): boolean {
  const spec = props.spec;
  if (!spec) {
    return false;
  }
  const selector = spec.podSelector ?? {};
  const selectsAll =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  const types = spec.policyTypes ?? [];
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0
  );
}

interface DefaultDenyConfig extends ExemptionConfig {
  readonly systemNamespaces: string[];
}

/** Every namespace that runs workloads has a default-deny NetworkPolicy. */
export const k8sDefaultDenyNetworkPolicy = stackRule<DefaultDenyConfig>({
  name: "k8s-default-deny-network-policy",
  concern: "kubernetes-security",
  description:
    "Every namespace that runs workloads of the stack must have a default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules); allowed traffic is then opened by narrower policies.",
  remediationSteps:
    "Add a NetworkPolicy { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } to the namespace, plus policies allowing DNS and the flows the workloads need.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-and-all-egress-traffic",
    ],
  },
  evidence: {
    properties: {
      ...workloadEvidence([]),
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": ["metadata.namespace", "spec"],
      "kubernetes:core/v1:Namespace": ["metadata.name"],
    },
  },
  config: {
    defaults: { exemptNamespaces: [], systemNamespaces: ["kube-system"] },
    schema: {
      exemptNamespaces: exemptionSchema,
      systemNamespaces: {
        type: "array",
        items: { type: "string" },
        description:
          "Namespaces managed by EKS add-ons, where a default-deny policy would cut cluster services.",
      },
    },
  },
  examines: [
    ...WORKLOAD_TYPES,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:core/v1:Namespace",
  ],
  validate: (ctx) => {
    const denied = new Set<string>();
    for (const np of ctx.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")) {
      ctx.each(() => {
        if (isDefaultDeny(np.props)) {
          denied.add(namespaceKey(np.resource, () => np.props.metadata));
        }
      });
    }
    const skip = new Set([...ctx.config.systemNamespaces, ...ctx.config.exemptNamespaces.map((e) => e.name)]);
    const reported = new Set<string>();
    for (const r of ctx.args.resources) {
      if (!isWorkloadType(r.type)) {
        continue;
      }
      ctx.each(() => {
        const metadata = () => (r.props as ArgsOf<"kubernetes:apps/v1:Deployment">).metadata;
        const ns = namespaceKey(r, metadata);
        if (skip.has(ns) || denied.has(ns) || reported.has(ns)) {
          return;
        }
        reported.add(ns);
        const nsResource = ctx.args.resources.find(
          (n: PolicyResource) => n.type === "kubernetes:core/v1:Namespace" && namespaceResourceKey(n) === ns,
        );
        const label = ns.startsWith("urn:") ? `of '${nsResource?.name ?? ns}'` : `'${ns}'`;
        ctx.report(
          `Namespace ${label} runs workloads (e.g. '${r.name}') but has no default-deny NetworkPolicy.`,
          nsResource?.urn ?? r.urn,
        );
      });
    }
  },
});

interface LoadBalancerConfig {
  /** `namespace/name` of Services allowed to have an internet-facing load balancer. */
  readonly allowedPublicServices: string[];
}

const SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme";
const LEGACY_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal";

/** LoadBalancer Services are internal unless allow-listed. */
export const k8sInternalLoadBalancer = resourceRule<LoadBalancerConfig>({
  name: "k8s-internal-load-balancer",
  concern: "kubernetes-security",
  description:
    "Services of type LoadBalancer must be internal (annotation service.beta.kubernetes.io/aws-load-balancer-scheme: internal) unless listed (namespace/name) in allowedPublicServices; public traffic enters through the TLS ALB Ingress.",
  remediationSteps:
    "Add the annotation service.beta.kubernetes.io/aws-load-balancer-scheme: internal, or expose the service through the Ingress.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/#lb-scheme",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:core/v1:Service": ["spec.type", "metadata.annotations"],
    },
  },
  config: {
    defaults: { allowedPublicServices: [] },
    schema: { allowedPublicServices: { type: "array", items: { type: "string", pattern: "^[^/]+/[^/]+$" } } },
  },
  checks: {
    "kubernetes:core/v1:Service": (props, { config, report, args }) => {
      if (props.spec?.type !== "LoadBalancer") {
        args.notApplicable("not a LoadBalancer Service");
      }
      const annotations = props.metadata?.annotations ?? {};
      // The controller reads the scheme annotation first; the deprecated one only when it is absent.
      const scheme = annotations[SCHEME];
      const internal = scheme !== undefined ? scheme === "internal" : annotations[LEGACY_INTERNAL] === "true";
      const id = `${namespaceOf(props.metadata)}/${props.metadata?.name ?? args.name}`;
      if (!internal && !config.allowedPublicServices.includes(id)) {
        report(`LoadBalancer Service '${id}' is internet-facing: annotate ${SCHEME}: internal.`);
      }
    },
  },
});

/** Helm releases are opaque to policies: charts are rendered as Pulumi resources instead. */
export const k8sNoHelmRelease = resourceRule({
  name: "k8s-no-helm-release",
  concern: "kubernetes-security",
  description:
    "kubernetes.helm.v3.Release is not allowed: Helm installs its objects itself, so neither policies nor previews see them. Use kubernetes.helm.v4.Chart (objects rendered as Pulumi resources) instead.",
  remediationSteps:
    "Replace the Release with new k8s.helm.v4.Chart(name, { chart, version, repositoryOpts, values }).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(8)"],
    lgpd: ["Art. 49", "Art. 6 X"],
    docs: ["https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v4/chart/"],
  },
  evidence: { properties: { "kubernetes:helm.sh/v3:Release": ["chart"] } },
  checks: {
    "kubernetes:helm.sh/v3:Release": (_props, { report }) => {
      report("this is a helm.v3.Release.");
    },
  },
});

/** The rules of this concern. */

/** Type tokens of Istio's AuthorizationPolicy (a custom resource: no SDK class types its arguments). */
export const ISTIO_AUTHORIZATION_POLICY_TYPES = [
  "kubernetes:security.istio.io/v1:AuthorizationPolicy",
  "kubernetes:security.istio.io/v1beta1:AuthorizationPolicy",
] as const;

interface IstioRuleShape {
  readonly from?: ReadonlyArray<{ readonly source?: Record<string, unknown> }>;
  readonly to?: ReadonlyArray<{ readonly operation?: Record<string, unknown> }>;
  readonly when?: readonly unknown[];
}

/** True if a list field of a source / operation is set (non-empty). */
function setFields(o: Record<string, unknown> | undefined): string[] {
  return Object.entries(o ?? {})
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k]) => k);
}

/**
 * An ALLOW AuthorizationPolicy admits everyone when a rule restricts nothing: an empty rule
 * (`rules: [{}]`, the seeds' defect) or one whose `from` / `to` entries set no field; a rule with
 * an operation but no source admits every caller on its ports. Either is a finding (Istio
 * AuthorizationPolicy reference: "a rule ... matches if ... from, to and when all match"; an empty
 * field matches everything). A policy without rules (`spec: {}`) is allow-nothing and passes.
 */
export const istioNoAllowAll = resourceRule({
  name: "istio-authorization-no-allow-all",
  concern: "kubernetes-security",
  description:
    "An Istio AuthorizationPolicy with action ALLOW must not contain a rule that matches every request (rules: [{}], or a rule whose from/to entries restrict nothing): it turns a deny-by-default namespace into allow-all for the workloads it selects.",
  remediationSteps:
    "Give every ALLOW rule a source (principals of the declared callers, or ipBlocks of a plain-text client) and a destination port; keep an allow-nothing policy (spec: {}) for deny by default.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
      "https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns",
    ],
  },
  evidence: { generic: ["spec.action", "spec.rules"] },
  generic: {
    scope: "Istio AuthorizationPolicies",
    appliesTo: (type) => (ISTIO_AUTHORIZATION_POLICY_TYPES as readonly string[]).includes(type),
    check: ({ args, report }) => {
      const spec = (args.props["spec"] ?? {}) as { action?: string; rules?: readonly IstioRuleShape[] };
      const action = spec.action ?? "ALLOW";
      if (action !== "ALLOW") {
        args.notApplicable(`action ${action} does not admit traffic`);
      }
      (spec.rules ?? []).forEach((rule, i) => {
        const sources = (rule.from ?? []).map((f) => setFields(f.source));
        const operations = (rule.to ?? []).map((t) => setFields(t.operation));
        const restrictsSource = sources.length > 0 && sources.every((f) => f.length > 0);
        const restrictsOperation = operations.length > 0 && operations.every((f) => f.length > 0);
        const restrictsWhen = (rule.when ?? []).length > 0;
        if (!restrictsSource && !restrictsOperation && !restrictsWhen) {
          report(
            `spec.rules[${i}] restricts neither the source nor the operation: it admits every caller on every port.`,
          );
        } else if (!restrictsSource && !restrictsWhen) {
          report(
            `spec.rules[${i}] has no source (from): it admits every caller, mesh or not, on ${JSON.stringify(operations)}.`,
          );
        }
      });
    },
  },
});

export const kubernetesSecurityRules: readonly Rule[] = [
  k8sNoHostAccess,
  k8sRestrictedSecurityContext,
  k8sResourceLimits,
  k8sNamespaceRestricted,
  k8sDefaultDenyNetworkPolicy,
  k8sInternalLoadBalancer,
  k8sNoHelmRelease,
  istioNoAllowAll,
];
