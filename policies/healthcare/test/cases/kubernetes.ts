import type * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import { NODE_AGENTS_NAMESPACE } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import { type ArgsOf, policyConfigFor } from "../../src/lib";
import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import type { Fixture } from "../harness";
import { customResource, res, unknown } from "../fixtures";

type Container = Unwrap<k8s.types.input.core.v1.Container>;
type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;

/** A container that meets the restricted profile. */
export const RESTRICTED_CONTAINER: Container = {
  name: "app",
  // Pinned by digest, as production requires (container-image-pinned).
  image: `111122223333.dkr.ecr.sa-east-1.amazonaws.com/healthcare-app@sha256:${"0f".repeat(32)}`,
  securityContext: {
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  },
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
};

const POD_SPEC: PodSpec = {
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
  containers: [RESTRICTED_CONTAINER],
};

const LABELS = { "app.kubernetes.io/name": "app" };

/** A Deployment of `replicas` restricted pods in `namespace`, with pod spec changes. */
export function deployment(
  spec: Partial<PodSpec> = {},
  options: { replicas?: number; namespace?: string; name?: string; container?: Partial<Container> } = {},
): Fixture {
  const container = { ...RESTRICTED_CONTAINER, ...options.container };
  return res("kubernetes:apps/v1:Deployment", options.name ?? "app", {
    metadata: { name: options.name ?? "app", namespace: options.namespace ?? "app" },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: LABELS },
      template: { metadata: { labels: LABELS }, spec: { ...POD_SPEC, containers: [container], ...spec } },
    },
  });
}

const pdb = (matchLabels: Record<string, string> = LABELS, namespace = "app") =>
  res("kubernetes:policy/v1:PodDisruptionBudget", "app-pdb", {
    metadata: { name: "app", namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels } },
  });

const namespace = (labels: Record<string, string>, name = "app") =>
  res("kubernetes:core/v1:Namespace", name, { metadata: { name, labels } });

const RESTRICTED_NS = { "pod-security.kubernetes.io/enforce": "restricted" };

const networkPolicy = (spec: ArgsOf<"kubernetes:networking.k8s.io/v1:NetworkPolicy">["spec"], ns = "app") =>
  res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${ns}-default-deny`, {
    metadata: { name: "default-deny", namespace: ns },
    spec,
  });

const DEFAULT_DENY = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

const lbService = (annotations: Record<string, string>, name = "pgbouncer") =>
  res("kubernetes:core/v1:Service", name, {
    metadata: { name, namespace: "data", annotations },
    spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port: 5432 }] },
  });

const EXEMPT_OBS = {
  exemptNamespaces: [
    { name: "observability", reason: "node-exporter reads host metrics (hostPID, hostPath /proc)" },
  ],
};

const AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const authz = (spec: Record<string, unknown>) =>
  customResource(AUTHZ, "app", { metadata: { name: "app", namespace: "app" }, spec });
const FROM_CALLER = [{ source: { principals: ["cluster.local/ns/app/sa/web"] } }];
const TO_HTTP = [{ operation: { ports: ["8080"] } }];

/** The config the plan and CI send for the production environment (its node-agent exemption). */
const PLATFORM_CONFIG = policyConfigFor(repoTopology("production"));

/** A node agent as the observability layer runs one: root, hostPath log buffer, host PID and network. */
const nodeAgent = (namespace: string) =>
  res("kubernetes:apps/v1:DaemonSet", `agent-${namespace}`, {
    metadata: { name: "agent", namespace },
    spec: {
      selector: { matchLabels: LABELS },
      template: {
        metadata: { labels: LABELS },
        spec: {
          ...POD_SPEC,
          hostPID: true,
          hostNetwork: true,
          securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
          volumes: [{ name: "state", hostPath: { path: "/var/fluent-bit", type: "DirectoryOrCreate" } }],
        },
      },
    },
  });

/** What the platform's exemption must not reach: other namespaces, a prefix-sharing name. */
const NOT_EXEMPT = ["monitoring", `${NODE_AGENTS_NAMESPACE}-extra`, "kube-system"];

export const kubernetesCases: Case[] = [
  ...cases("istio-authorization-no-allow-all", [
    {
      kind: "pass",
      title: "callers by principal on their port",
      resource: authz({ action: "ALLOW", rules: [{ from: FROM_CALLER, to: TO_HTTP }] }),
      expect: pass,
    },
    { kind: "pass", title: "allow-nothing (no rules)", resource: authz({}), expect: pass },
    {
      kind: "pass",
      title: "a DENY policy with an empty rule (denies everything)",
      resource: authz({ action: "DENY", rules: [{}] }),
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "the seeds' allow-all (rules: [{}])",
      resource: authz({ action: "ALLOW", rules: [{}] }),
      expect: violation(/spec\.rules\[0\] restricts neither the source nor the operation/),
    },
    {
      kind: "fail",
      title: "allow-all with the action left to its default",
      resource: authz({
        rules: [
          { from: FROM_CALLER, to: TO_HTTP },
          { from: [{ source: {} }], to: [{}] },
        ],
      }),
      expect: violation(/spec\.rules\[1\] restricts neither/),
    },
    {
      kind: "fail",
      title: "a port without a source",
      resource: authz({ action: "ALLOW", rules: [{ to: TO_HTTP }] }),
      expect: violation(/spec\.rules\[0\] has no source/),
    },
    {
      kind: "fail",
      title: "v1beta1 too",
      resource: customResource("kubernetes:security.istio.io/v1beta1:AuthorizationPolicy", "old", {
        metadata: { name: "old", namespace: "app" },
        spec: { rules: [{}] },
      }),
      expect: violation(/restricts neither/),
    },
    {
      kind: "unknown",
      title: "rules unknown in a preview",
      resource: authz({ action: "ALLOW", rules: unknown.array() }),
      expect: preview,
    },
  ]),
  ...cases("k8s-no-host-access", [
    { kind: "pass", title: "restricted pod", resource: deployment(), expect: pass },
    {
      kind: "fail",
      title: "hostNetwork",
      resource: deployment({ hostNetwork: true }),
      expect: violation(/spec\.template\.spec\.hostNetwork is true/),
    },
    {
      kind: "fail",
      title: "hostPath volume",
      resource: deployment({ volumes: [{ name: "proc", hostPath: { path: "/proc" } }] }),
      expect: violation(/hostPath volume/),
    },
    {
      kind: "fail",
      title: "privileged container",
      resource: deployment(
        {},
        { container: { securityContext: { ...RESTRICTED_CONTAINER.securityContext, privileged: true } } },
      ),
      expect: violation(/containers 'app' .* is privileged/),
    },
    {
      kind: "fail",
      title: "hostPort",
      resource: deployment({}, { container: { ports: [{ containerPort: 80, hostPort: 80 }] } }),
      expect: violation(/hostPort/),
    },
    {
      kind: "fail",
      title: "privileged bare Pod",
      resource: res("kubernetes:core/v1:Pod", "debug", {
        metadata: { namespace: "app" },
        spec: { hostPID: true, containers: [RESTRICTED_CONTAINER] },
      }),
      expect: violation(/spec\.hostPID is true/),
    },
    {
      kind: "pass",
      title: "exempt namespace",
      resource: deployment({ hostPID: true }, { namespace: "observability" }),
      config: { "k8s-no-host-access": EXEMPT_OBS },
      expect: notApplicable,
    },
    {
      kind: "pass",
      title: "the platform's node-agent namespace (policyConfigFor)",
      resource: nodeAgent(NODE_AGENTS_NAMESPACE),
      config: PLATFORM_CONFIG,
      expect: notApplicable,
    },
    ...NOT_EXEMPT.map((ns) => ({
      kind: "fail" as const,
      title: `the same node agent in ${ns} under the platform's config`,
      resource: nodeAgent(ns),
      config: PLATFORM_CONFIG,
      expect: violation(/hostPID is true|hostNetwork is true|hostPath volume/, { count: 3 }),
    })),
    {
      kind: "unknown",
      title: "unknown hostNetwork",
      resource: deployment({ hostNetwork: unknown.boolean() }),
      expect: preview,
    },
  ]),
  ...cases("k8s-restricted-security-context", [
    { kind: "pass", title: "restricted pod", resource: deployment(), expect: pass },
    {
      kind: "pass",
      title: "a root node agent in the platform's node-agent namespace (policyConfigFor)",
      resource: nodeAgent(NODE_AGENTS_NAMESPACE),
      config: PLATFORM_CONFIG,
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "the same root node agent in monitoring under the platform's config",
      resource: nodeAgent("monitoring"),
      config: PLATFORM_CONFIG,
      expect: violation(/a non-zero runAsUser/),
    },
    {
      kind: "fail",
      title: "writable root filesystem",
      resource: deployment(
        {},
        {
          container: {
            securityContext: { ...RESTRICTED_CONTAINER.securityContext, readOnlyRootFilesystem: false },
          },
        },
      ),
      expect: violation(/lacks readOnlyRootFilesystem: true/),
    },
    {
      kind: "fail",
      title: "capabilities not dropped",
      resource: deployment(
        {},
        {
          container: {
            securityContext: { ...RESTRICTED_CONTAINER.securityContext, capabilities: { drop: ["NET_RAW"] } },
          },
        },
      ),
      expect: violation(/capabilities.drop \['ALL'\]/),
    },
    {
      kind: "fail",
      title: "no seccomp profile",
      resource: deployment({ securityContext: { runAsNonRoot: true } }),
      expect: violation(/seccompProfile RuntimeDefault/),
    },
    {
      kind: "fail",
      title: "root user",
      resource: deployment(
        { securityContext: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } } },
        {
          container: {
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
            },
          },
        },
      ),
      expect: violation(/runAsNonRoot: true/),
    },
    {
      kind: "fail",
      title: "init container of a CronJob",
      resource: res("kubernetes:batch/v1:CronJob", "backup", {
        metadata: { namespace: "data" },
        spec: {
          schedule: "0 3 * * *",
          jobTemplate: {
            spec: {
              template: { spec: { ...POD_SPEC, initContainers: [{ name: "init", image: "busybox" }] } },
            },
          },
        },
      }),
      expect: violation(
        /initContainers 'init' \(spec\.jobTemplate\.spec\.template\.spec\.initContainers\[0\]\)/,
      ),
    },
    {
      kind: "unknown",
      title: "unknown security context",
      resource: deployment({}, { container: { securityContext: unknown.object() } }),
      expect: preview,
    },
  ]),
  ...cases("k8s-resource-limits", [
    { kind: "pass", title: "requests and memory limit", resource: deployment(), expect: pass },
    {
      kind: "fail",
      title: "no memory limit",
      resource: deployment({}, { container: { resources: { requests: { cpu: "1", memory: "1Gi" } } } }),
      expect: violation(/resources\.limits\.memory/),
    },
    {
      kind: "fail",
      title: "cpu limit required by config",
      resource: deployment(),
      config: { "k8s-resource-limits": { requireCpuLimit: true } },
      expect: violation(/limits\.cpu/),
    },
    {
      kind: "unknown",
      title: "unknown resources",
      resource: deployment({}, { container: { resources: unknown.object() } }),
      expect: preview,
    },
  ]),
  ...cases("k8s-namespace-restricted", [
    { kind: "pass", title: "restricted namespace", resource: namespace(RESTRICTED_NS), expect: pass },
    {
      kind: "fail",
      title: "baseline namespace",
      resource: namespace({ "pod-security.kubernetes.io/enforce": "baseline" }),
      expect: violation(/is 'baseline'; it must be 'restricted'/),
    },
    { kind: "fail", title: "no label", resource: namespace({}), expect: violation(/missing/) },
    {
      kind: "pass",
      title: "exempt namespace with an explicit privileged label",
      resource: namespace({ "pod-security.kubernetes.io/enforce": "privileged" }, "observability"),
      config: { "k8s-namespace-restricted": EXEMPT_OBS },
      expect: pass,
    },
    {
      kind: "fail",
      title: "exempt namespace without a label",
      resource: namespace({}, "observability"),
      config: { "k8s-namespace-restricted": EXEMPT_OBS },
      expect: violation(/exempt namespace has no/),
    },
    {
      kind: "pass",
      title: "the platform's privileged node-agent namespace (policyConfigFor)",
      resource: namespace({ "pod-security.kubernetes.io/enforce": "privileged" }, NODE_AGENTS_NAMESPACE),
      config: PLATFORM_CONFIG,
      expect: pass,
    },
    {
      kind: "fail",
      title: "a privileged monitoring namespace under the platform's config",
      resource: namespace({ "pod-security.kubernetes.io/enforce": "privileged" }, "monitoring"),
      config: PLATFORM_CONFIG,
      expect: violation(/is 'privileged'; it must be 'restricted'/),
    },
    { kind: "unknown", title: "unknown labels", resource: namespace(unknown.object()), expect: preview },
  ]),
  ...cases("k8s-default-deny-network-policy", [
    {
      kind: "pass",
      title: "namespace with a default-deny policy",
      stack: [namespace(RESTRICTED_NS), deployment(), networkPolicy(DEFAULT_DENY)],
      expect: pass,
    },
    {
      kind: "fail",
      title: "namespace without one",
      stack: [namespace(RESTRICTED_NS), deployment()],
      expect: violation(
        /Namespace 'app' runs workloads \(e\.g\. 'app'\) but has no default-deny NetworkPolicy/,
      ),
    },
    {
      kind: "fail",
      title: "a policy that only denies ingress",
      stack: [deployment(), networkPolicy({ podSelector: {}, policyTypes: ["Ingress"] })],
      expect: violation(/no default-deny/),
    },
    {
      kind: "fail",
      title: "a policy in another namespace",
      stack: [deployment(), networkPolicy(DEFAULT_DENY, "data")],
      expect: violation(/'app'/),
    },
    {
      kind: "pass",
      title: "namespace linked by dependency while its name is unknown",
      stack: (() => {
        const ns = res("kubernetes:core/v1:Namespace", "app-ns", {
          metadata: { name: unknown.string(), labels: RESTRICTED_NS },
        });
        const d = res(
          "kubernetes:apps/v1:Deployment",
          "app",
          { metadata: { namespace: unknown.string() }, spec: { selector: {}, template: {} } },
          { dependsOn: { metadata: [ns] } },
        );
        const np = res(
          "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          "deny",
          { metadata: { namespace: unknown.string() }, spec: DEFAULT_DENY },
          { dependsOn: { metadata: [ns] } },
        );
        return [ns, d, np];
      })(),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "workload namespace unknown and not linked",
      stack: [
        res("kubernetes:apps/v1:Deployment", "app", {
          metadata: { namespace: unknown.string() },
          spec: { selector: {}, template: {} },
        }),
      ],
      expect: preview,
    },
  ]),
  ...cases("k8s-internal-load-balancer", [
    {
      kind: "pass",
      title: "internal NLB",
      resource: lbService({ "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "internet-facing NLB",
      resource: lbService({ "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing" }),
      expect: violation(/'data\/pgbouncer' is internet-facing/),
    },
    {
      kind: "pass",
      title: "allow-listed public Service",
      resource: lbService({}),
      config: { "k8s-internal-load-balancer": { allowedPublicServices: ["data/pgbouncer"] } },
      expect: pass,
    },
    {
      kind: "pass",
      title: "ClusterIP Service",
      resource: res("kubernetes:core/v1:Service", "svc", { spec: { type: "ClusterIP" } }),
      expect: notApplicable,
    },
    { kind: "unknown", title: "unknown annotations", resource: lbService(unknown.object()), expect: preview },
  ]),
  ...cases("k8s-no-helm-release", [
    {
      kind: "pass",
      title: "helm v4 Chart is fine",
      resource: res("kubernetes:helm.sh/v4:Chart", "cm", { chart: "cert-manager" }),
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "helm v3 Release",
      resource: res("kubernetes:helm.sh/v3:Release", "cm", { chart: "cert-manager" }),
      expect: violation(/helm\.v3\.Release/),
    },
    {
      kind: "unknown",
      title: "a Release is banned whatever its (unknown) values",
      resource: res("kubernetes:helm.sh/v3:Release", "cm", {
        chart: "cert-manager",
        values: unknown.object(),
      }),
      expect: violation(/helm\.v3\.Release/),
    },
  ]),
  ...cases("pod-disruption-budget", [
    { kind: "pass", title: "3 replicas with a matching PDB", stack: [deployment(), pdb()], expect: pass },
    {
      kind: "fail",
      title: "3 replicas without a PDB",
      stack: [deployment()],
      expect: violation(/Deployment 'app' runs 3 replicas without a PodDisruptionBudget/),
    },
    {
      kind: "fail",
      title: "PDB selecting other pods",
      stack: [deployment(), pdb({ "app.kubernetes.io/name": "other" })],
      expect: violation(/without a PodDisruptionBudget/),
    },
    {
      kind: "fail",
      title: "PDB in another namespace",
      stack: [deployment(), pdb(LABELS, "data")],
      expect: violation(/without a PodDisruptionBudget/),
    },
    {
      kind: "pass",
      title: "single replica needs none",
      stack: [deployment({}, { replicas: 1 })],
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown replica count",
      stack: [
        res("kubernetes:apps/v1:StatefulSet", "patroni", {
          metadata: { namespace: "data" },
          spec: { serviceName: "patroni", replicas: unknown.number(), selector: {}, template: {} },
        }),
      ],
      expect: preview,
    },
  ]),
  ...cases("k8s-storage-class-retain", [
    {
      kind: "pass",
      title: "Retain",
      resource: res("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", {
        provisioner: "ebs.csi.aws.com",
        reclaimPolicy: "Retain",
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "default Delete",
      resource: res("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", { provisioner: "ebs.csi.aws.com" }),
      expect: violation(/reclaimPolicy is unset \(Delete\)/),
    },
    {
      kind: "unknown",
      title: "unknown policy",
      resource: res("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", {
        provisioner: "ebs.csi.aws.com",
        reclaimPolicy: unknown.string(),
      }),
      expect: preview,
    },
  ]),
];
