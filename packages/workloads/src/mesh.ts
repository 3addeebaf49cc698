import type { Flow } from "@hcp/kube";
import { selectorLabels } from "@hcp/kube";
import { MESH_SYSTEM_NAMESPACE, type WorkloadServiceConfig, type WorkloadsConfig } from "@hcp/platform";

/**
 * Istio ambient mode for the application namespace, as pure functions: the charts' values, the
 * namespace label, the PeerAuthentications and the AuthorizationPolicies, and what the mesh adds to
 * the NetworkPolicies. The component (`components/ambientMesh.ts`) only registers them.
 *
 * Sources (Istio 1.30, the pinned charts):
 * - PeerAuthentication in ambient: istiod converts a workload policy with `portLevelMtls` into a
 *   ztunnel `Authorization` (DENY unauthenticated traffic except on the PERMISSIVE ports) and then
 *   no longer sends the static STRICT policy for that workload (istio/istio
 *   architecture/ambient/peer-authentication.md; pilot/pkg/serviceregistry/kube/controller/ambient/
 *   authorization.go, `convertPeerAuthentication` / `convertedSelectorPeerAuthentications`).
 *   Port-level settings need a workload selector (ignored on a namespace-wide policy).
 * - L4 AuthorizationPolicy in ztunnel: `principals`, `notPrincipals`, `namespaces`, `ipBlocks`,
 *   `ports` are enforced by the destination's ztunnel; an ALLOW rule with HTTP attributes never
 *   matches; `principals: ["*"]` is "has a mesh identity" (authorization.go, `handleRule`,
 *   `stringToMatch`; istio.io docs/ambient/usage/l4-policy).
 * - NetworkPolicy with ambient: mesh traffic arrives on the HBONE port 15008, which the destination's
 *   policy must admit; kubelet probes are SNATed to 169.254.7.127, which ztunnel lets through and
 *   which NetworkPolicies must admit (istio.io docs/ambient/usage/networkpolicy).
 */

/** Where the mesh's components run and the addresses and ports ambient mode uses. */
export const MESH = {
  /** The charts' namespace: istiod, ztunnel and the CNI node agent. */
  namespace: MESH_SYSTEM_NAMESPACE,
  /** The label that enrols a namespace's pods (istio-cni `ambient.enablementSelectors`). */
  dataplaneLabel: "istio.io/dataplane-mode",
  /** ztunnel's HBONE (mTLS tunnel) port in every enrolled pod. */
  hbonePort: 15008,
  /** The link-local address the CNI SNATs kubelet probes to. */
  probeSource: "169.254.7.127/32",
  /** The trust domain of the SPIFFE identities (the charts' default `cluster.local`). */
  trustDomain: "cluster.local",
} as const;

/** The CNI directories of the Amazon VPC CNI on EKS nodes (the chart's defaults, set explicitly). */
export const EKS_CNI_DIRS = { cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" } as const;

/** The four charts, in install order: CRDs, control plane, node agent, node proxy. */
export const ISTIO_CHARTS = ["base", "istiod", "cni", "ztunnel"] as const;
export type IstioChart = (typeof ISTIO_CHARTS)[number];

/** Helm release name of each chart (the names of Istio's Helm installation guide). */
export const ISTIO_RELEASES: Readonly<Record<IstioChart, string>> = {
  base: "istio-base",
  istiod: "istiod",
  cni: "istio-cni",
  ztunnel: "ztunnel",
};

/** True when the environment runs the mesh. */
export function meshEnabled(config: Pick<WorkloadsConfig, "mesh">): boolean {
  return config.mesh === "ambient";
}

/** The SPIFFE principal of a service account (what a caller presents through ztunnel). */
export function principalOf(namespace: string, serviceAccount: string): string {
  return `${MESH.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Labels of an application namespace: enrolled in ambient mode, or nothing without the mesh. */
export function meshNamespaceLabels(config: Pick<WorkloadsConfig, "mesh">): Record<string, string> {
  return meshEnabled(config) ? { [MESH.dataplaneLabel]: "ambient" } : {};
}

/** Pod Security labels of the mesh's namespace: privileged (the CNI agent and ztunnel need the node). */
export function meshNamespaceLabelsOfSystem(kubernetesVersion: string): Record<string, string> {
  if (!/^\d+\.\d+$/.test(kubernetesVersion)) {
    throw new Error(
      `Istio namespace: Kubernetes version '${kubernetesVersion}' is not a minor version. Fix: pass the cluster's version as <major>.<minor>, e.g. 1.34.`,
    );
  }
  return {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/enforce-version": `v${kubernetesVersion}`,
    // Recorded, not enforced: the audit log shows what would break a stricter level.
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": `v${kubernetesVersion}`,
  };
}

/**
 * Helm values of each chart (keys as in the charts' values.yaml of 1.30: top level, the charts
 * merge them over `_internal_defaults_do_not_set`). `profile: ambient` everywhere; the CNI with
 * ambient redirection on the VPC CNI's directories (no `global.platform`: EKS is not one of the
 * charts' platform profiles, and its paths are the defaults); istiod with two or more replicas and
 * its PodDisruptionBudget in production (one replica elsewhere, where a `minAvailable: 1` budget
 * would block every node drain); NetworkPolicies of istiod and ztunnel rendered by the charts
 * (`global.networkPolicy.enabled`).
 */
export function istioChartValues(chart: IstioChart, production: boolean): Record<string, unknown> {
  const networkPolicy = { networkPolicy: { enabled: true } };
  switch (chart) {
    case "base":
      return { profile: "ambient" };
    case "istiod":
      return {
        profile: "ambient",
        autoscaleEnabled: true,
        autoscaleMin: production ? 2 : 1,
        autoscaleMax: 5,
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
        global: { ...networkPolicy, defaultPodDisruptionBudget: { enabled: production } },
      };
    case "cni":
      return {
        profile: "ambient",
        ...EKS_CNI_DIRS,
        ambient: { enabled: true },
        resources: { requests: { cpu: "100m", memory: "100Mi" }, limits: { memory: "512Mi" } },
      };
    case "ztunnel":
      return {
        profile: "ambient",
        resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { memory: "2Gi" } },
        global: networkPolicy,
      };
  }
}

/** Inputs of the mesh policies of the application namespace. */
export interface MeshPolicyInputs {
  readonly namespace: string;
  readonly services: readonly WorkloadServiceConfig[];
  /** The ALB's subnets: its `ip` targets connect from its nodes there, in plain text. */
  readonly loadBalancerSubnetCidrs: readonly string[];
  /** Where pods (Prometheus among them) get their addresses: the private subnets (VPC CNI). */
  readonly podSubnetCidrs: readonly string[];
}

/** A `security.istio.io/v1` object as a CustomResource's arguments. */
export interface IstioManifest {
  readonly apiVersion: "security.istio.io/v1";
  readonly kind: "PeerAuthentication" | "AuthorizationPolicy";
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: Record<string, unknown>;
}

/** The ports of a service that plain-text clients from outside the mesh reach, with who they are. */
export function plaintextPorts(
  service: WorkloadServiceConfig,
): Array<{ port: number; from: "alb" | "prometheus" }> {
  const ports: Array<{ port: number; from: "alb" | "prometheus" }> = [];
  if (service.ingress && service.ports.http !== undefined) {
    ports.push({ port: service.ports.http, from: "alb" });
  }
  if (service.ports.metrics !== undefined) {
    ports.push({ port: service.ports.metrics, from: "prometheus" });
  }
  return ports;
}

/**
 * PeerAuthentications: `default`, STRICT for the whole namespace; per service with plain-text
 * clients, a workload policy keeping STRICT but PERMISSIVE on exactly those ports (the ALB's target
 * port, the metrics port). PERMISSIVE only lets plain text past the mTLS check: the service's
 * AuthorizationPolicy still admits it only from the ALB's subnets / the pod subnets, and only
 * without a mesh identity.
 */
export function peerAuthentications(inputs: MeshPolicyInputs): IstioManifest[] {
  const meta = (name: string) => ({ name, namespace: inputs.namespace });
  return [
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: meta("default"),
      spec: { mtls: { mode: "STRICT" } },
    },
    ...inputs.services.flatMap((s): IstioManifest[] => {
      const ports = plaintextPorts(s);
      return ports.length === 0
        ? []
        : [
            {
              apiVersion: "security.istio.io/v1",
              kind: "PeerAuthentication",
              metadata: meta(`${s.name}-plaintext-ports`),
              spec: {
                selector: { matchLabels: selectorLabels(s.name) },
                mtls: { mode: "STRICT" },
                portLevelMtls: Object.fromEntries(ports.map((p) => [String(p.port), { mode: "PERMISSIVE" }])),
              },
            },
          ];
    }),
  ];
}

/** Name of the namespace's deny-by-default AuthorizationPolicy. */
export const ALLOW_NOTHING = "allow-nothing";

/**
 * AuthorizationPolicies: `allow-nothing` (ALLOW with no rules: once a workload has an ALLOW policy,
 * only a matching rule admits, so this denies everything not admitted below), then per service
 * that anything may reach, an ALLOW policy whose rules are exactly its declared callers (their
 * service accounts' principals) on its HTTP port, the ALB (its subnets, no mesh identity) on its
 * HTTP port when it has an ingress, and Prometheus (the pod subnets, no mesh identity: it is not in
 * the mesh) on its metrics port. Requiring "no identity" on the plain-text rules keeps mesh pods
 * (whose addresses are in the pod subnets too) to their caller rule.
 */
export function authorizationPolicies(inputs: MeshPolicyInputs): IstioManifest[] {
  const meta = (name: string) => ({ name, namespace: inputs.namespace });
  const port = (p: number) => [{ operation: { ports: [String(p)] } }];
  const unauthenticated = (ipBlocks: readonly string[]) => [
    { source: { ipBlocks: [...ipBlocks], notPrincipals: ["*"] } },
  ];
  const perService = inputs.services.flatMap((s): IstioManifest[] => {
    const rules: Array<Record<string, unknown>> = [];
    if (s.ports.http !== undefined && s.callers.length > 0) {
      rules.push({
        from: [{ source: { principals: s.callers.map((c) => principalOf(inputs.namespace, c)) } }],
        to: port(s.ports.http),
      });
    }
    for (const p of plaintextPorts(s)) {
      rules.push({
        from: unauthenticated(p.from === "alb" ? inputs.loadBalancerSubnetCidrs : inputs.podSubnetCidrs),
        to: port(p.port),
      });
    }
    return rules.length === 0
      ? []
      : [
          {
            apiVersion: "security.istio.io/v1",
            kind: "AuthorizationPolicy",
            metadata: meta(s.name),
            spec: { selector: { matchLabels: selectorLabels(s.name) }, action: "ALLOW", rules },
          },
        ];
  });
  return [
    {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: meta(ALLOW_NOTHING),
      spec: {},
    },
    ...perService,
  ];
}

/**
 * What ambient mode adds to a service's NetworkPolicy: its callers reach it (and it reaches its
 * callees) on the HBONE port besides the HTTP port, and kubelet probes arrive from the SNAT address
 * on the probed ports. Nothing without the mesh.
 */
export function meshFlows(
  service: WorkloadServiceConfig,
  all: readonly WorkloadServiceConfig[],
  config: Pick<WorkloadsConfig, "mesh">,
): { ingress: Flow[]; egress: Flow[] } {
  if (!meshEnabled(config)) {
    return { ingress: [], egress: [] };
  }
  const ingress: Flow[] = [];
  const egress: Flow[] = [];
  if (service.ports.http !== undefined && service.callers.length > 0) {
    ingress.push({
      peers: service.callers.map((c) => ({ pods: selectorLabels(c) })),
      ports: [MESH.hbonePort],
    });
  }
  const probed = [
    ...new Set(
      Object.values(service.probes ?? {}).flatMap((p) => {
        const n = p ? service.ports[p.port] : undefined;
        return n === undefined ? [] : [n];
      }),
    ),
  ].sort((a, b) => a - b);
  if (probed.length > 0) {
    ingress.push({ peers: [{ cidr: MESH.probeSource }], ports: probed });
  }
  const callees = all.filter((c) => c.callers.includes(service.name) && c.ports.http !== undefined);
  if (callees.length > 0) {
    egress.push({ peers: callees.map((c) => ({ pods: selectorLabels(c.name) })), ports: [MESH.hbonePort] });
  }
  return { ingress, egress };
}
