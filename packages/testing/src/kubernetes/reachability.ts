import type { RegisteredResource } from "../recorder";
import type { IstioObjectModel } from "./mesh";

/**
 * Which pod can reach which pod, port and external address under a set of Kubernetes
 * NetworkPolicies: a pure evaluator of the `networking.k8s.io/v1` semantics
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/), for tests that
 * compare what generated policies allow with a declared intent.
 *
 * - A pod is isolated for a direction when some policy of its namespace selects it (`podSelector`)
 *   and has that direction among its policy types; a policy without `policyTypes` has `Ingress`, and
 *   `Egress` when it has egress rules (the API server's defaulting). A pod not isolated for a
 *   direction allows everything in it.
 * - A connection is allowed when the source allows it as egress AND the destination allows it as
 *   ingress; policies are additive (any rule of any selecting policy admits).
 * - A rule without `from` / `to` (or an empty list) admits every peer; without `ports` (or an empty
 *   list), every port. A peer with `podSelector` alone means pods of the policy's namespace; with
 *   `namespaceSelector` alone, every pod of the matching namespaces; with both, pods matching both;
 *   `ipBlock` means addresses in `cidr` outside every `except` (pods too when they have an address,
 *   as with the AWS VPC CNI, where pod addresses are VPC addresses).
 * - Ports: `protocol` defaults to TCP, `port` may be a number, a range up to `endPort`, or the name
 *   of a container port of the destination pod; a port entry without `port` admits every port of its
 *   protocol.
 *
 * IPv4 only. Traffic a CNI always admits (kubelet probes from the node) is out of scope; Istio's
 * PeerAuthentications and AuthorizationPolicies are the second filter of `./mesh`.
 */

export type Labels = Readonly<Record<string, string>>;
export type Protocol = "TCP" | "UDP" | "SCTP";

/** A label selector (`matchLabels` and `matchExpressions`). */
export interface Selector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }>;
}

/** A NetworkPolicy peer. */
export interface PolicyPeer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** A NetworkPolicy port. */
export interface PolicyPort {
  readonly protocol?: Protocol;
  readonly port?: number | string;
  readonly endPort?: number;
}

/** The parts of a NetworkPolicy the evaluation reads. */
export interface NetworkPolicyModel {
  readonly name: string;
  readonly namespace: string;
  readonly spec: {
    readonly podSelector?: Selector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: ReadonlyArray<{
      readonly from?: readonly PolicyPeer[];
      readonly ports?: readonly PolicyPort[];
    }>;
    readonly egress?: ReadonlyArray<{
      readonly to?: readonly PolicyPeer[];
      readonly ports?: readonly PolicyPort[];
    }>;
  };
}

/** A named container port of a pod. */
export interface ContainerPortModel {
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A pod (one stands for every replica of a workload: they share labels). */
export interface PodModel {
  readonly kind: "pod";
  /** How reports name it, e.g. `healthcare-platform/healthcare-app`. */
  readonly id: string;
  readonly namespace: string;
  readonly labels: Labels;
  /** Ports its containers listen on. */
  readonly ports: readonly ContainerPortModel[];
  /** Its address, for `ipBlock` peers. @default - none: no ipBlock matches it */
  readonly ip?: string;
  /** Its ServiceAccount (its mesh identity). @default - none */
  readonly serviceAccount?: string;
}

/** An address outside the pod network (the internet, IMDS, a load balancer's node, a VPC host). */
export interface ExternalModel {
  readonly kind: "external";
  readonly id: string;
  readonly ip: string;
  /** Ports probed when this is a destination. */
  readonly ports: ReadonlyArray<{ readonly port: number; readonly protocol: Protocol }>;
}

export type EndpointModel = PodModel | ExternalModel;

/** Everything the evaluation knows: namespaces (labels), endpoints, policies. */
export interface ClusterModel {
  /** Namespace name → its labels (`kubernetes.io/metadata.name` is added as the API server does). */
  readonly namespaces: Readonly<Record<string, Labels>>;
  readonly endpoints: readonly EndpointModel[];
  readonly policies: readonly NetworkPolicyModel[];
}

/** One allowed connection, written `from -> to:port/protocol`. */
export type FlowText = string;

export function flowText(from: string, to: string, port: number, protocol: Protocol): FlowText {
  return `${from} -> ${to}:${port}/${protocol}`;
}

/** True if `labels` satisfy `selector` (an empty selector matches everything). */
export function selectorMatches(selector: Selector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) {
      return false;
    }
  }
  return (selector.matchExpressions ?? []).every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        return has && values.includes(labels[e.key]);
      case "NotIn":
        return !has || !values.includes(labels[e.key]);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        throw new Error(`label selector operator '${e.operator}' is not In, NotIn, Exists or DoesNotExist`);
    }
  });
}

function ipv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`'${text}' is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** True if `ip` lies in `cidr` (IPv4). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (bitsText === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new Error(`'${cidr}' is not an IPv4 CIDR`);
  }
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipv4(base) / size) * size;
  const address = ipv4(ip);
  return address >= start && address < start + size;
}

function namespaceLabels(model: ClusterModel, namespace: string): Labels {
  return { ...model.namespaces[namespace], "kubernetes.io/metadata.name": namespace };
}

function peerMatches(
  model: ClusterModel,
  policyNamespace: string,
  peer: PolicyPeer,
  endpoint: EndpointModel,
): boolean {
  if (peer.ipBlock) {
    const ip = endpoint.ip;
    return (
      ip !== undefined &&
      cidrContains(peer.ipBlock.cidr, ip) &&
      !(peer.ipBlock.except ?? []).some((e) => cidrContains(e, ip))
    );
  }
  if (endpoint.kind !== "pod") {
    return false;
  }
  if (peer.namespaceSelector) {
    if (!selectorMatches(peer.namespaceSelector, namespaceLabels(model, endpoint.namespace))) {
      return false;
    }
  } else if (endpoint.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? selectorMatches(peer.podSelector, endpoint.labels) : true;
}

function portMatches(
  ports: readonly PolicyPort[] | undefined,
  destination: EndpointModel,
  port: number,
  protocol: Protocol,
): boolean {
  if (!ports || ports.length === 0) {
    return true;
  }
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) {
      return false;
    }
    if (p.port === undefined) {
      return true;
    }
    if (typeof p.port === "string") {
      // A named port is the destination pod's container port of that name.
      return (
        destination.kind === "pod" &&
        destination.ports.some((c) => c.name === p.port && c.port === port && c.protocol === protocol)
      );
    }
    return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
  });
}

function policyTypes(policy: NetworkPolicyModel): readonly string[] {
  if (policy.spec.policyTypes && policy.spec.policyTypes.length > 0) {
    return policy.spec.policyTypes;
  }
  return (policy.spec.egress ?? []).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

/** The policies that isolate a pod for a direction. */
export function isolatingPolicies(
  model: ClusterModel,
  pod: PodModel,
  direction: "Ingress" | "Egress",
): NetworkPolicyModel[] {
  return model.policies.filter(
    (p) =>
      p.namespace === pod.namespace &&
      policyTypes(p).includes(direction) &&
      selectorMatches(p.spec.podSelector ?? {}, pod.labels),
  );
}

/** True if `from` may open a connection to `to` on `port`/`protocol`. */
export function connectionAllowed(
  model: ClusterModel,
  from: EndpointModel,
  to: EndpointModel,
  port: number,
  protocol: Protocol,
): boolean {
  if (from.kind === "pod") {
    const egress = isolatingPolicies(model, from, "Egress");
    const out =
      egress.length === 0 ||
      egress.some((p) =>
        (p.spec.egress ?? []).some(
          (rule) =>
            (!rule.to ||
              rule.to.length === 0 ||
              rule.to.some((peer) => peerMatches(model, p.namespace, peer, to))) &&
            portMatches(rule.ports, to, port, protocol),
        ),
      );
    if (!out) {
      return false;
    }
  }
  if (to.kind === "pod") {
    const ingress = isolatingPolicies(model, to, "Ingress");
    return (
      ingress.length === 0 ||
      ingress.some((p) =>
        (p.spec.ingress ?? []).some(
          (rule) =>
            (!rule.from ||
              rule.from.length === 0 ||
              rule.from.some((peer) => peerMatches(model, p.namespace, peer, from))) &&
            portMatches(rule.ports, to, port, protocol),
        ),
      )
    );
  }
  return true;
}

/** Ports probed on a destination: its own, plus `extraPorts` (ports nothing should listen on). */
function probedPorts(
  endpoint: EndpointModel,
  extraPorts: ReadonlyArray<{ readonly port: number; readonly protocol: Protocol }>,
) {
  const own: ReadonlyArray<{ readonly port: number; readonly protocol: Protocol }> = endpoint.ports;
  const all = [...own.map((p) => ({ port: p.port, protocol: p.protocol })), ...extraPorts];
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** What {@link reachableFlows} probes and reports. */
export interface FlowOptions {
  /** Ports probed on every destination besides its own (ports nothing should reach). @default - none */
  readonly extraPorts?: ReadonlyArray<{ readonly port: number; readonly protocol: Protocol }>;
  /**
   * Only flows with a pod of these namespaces at one end (the namespaces whose policies are under
   * test; pods elsewhere stand for the rest of the cluster). @default - every flow
   */
  readonly within?: readonly string[];
}

function inScope(e: EndpointModel, within: readonly string[] | undefined): boolean {
  return within === undefined || (e.kind === "pod" && within.includes(e.namespace));
}

/**
 * Every allowed connection between the model's endpoints (at least one end a pod, never a pod to
 * itself), on each destination's ports plus `extraPorts`, sorted. `allowed` decides a connection:
 * the NetworkPolicies by default ({@link connectionAllowed}); `meshConnectionAllowed` adds Istio's.
 */
export function reachableFlows(
  model: ClusterModel,
  options: FlowOptions = {},
  allowed: (from: EndpointModel, to: EndpointModel, port: number, protocol: Protocol) => boolean = (
    from,
    to,
    port,
    protocol,
  ) => connectionAllowed(model, from, to, port, protocol),
): FlowText[] {
  const flows: FlowText[] = [];
  for (const from of model.endpoints) {
    for (const to of model.endpoints) {
      if (from === to || (from.kind === "external" && to.kind === "external")) {
        continue;
      }
      if (!inScope(from, options.within) && !inScope(to, options.within)) {
        continue;
      }
      for (const { port, protocol } of probedPorts(to, options.extraPorts ?? [])) {
        if (allowed(from, to, port, protocol)) {
          flows.push(flowText(from.id, to.id, port, protocol));
        }
      }
    }
  }
  return flows.sort();
}

/** What differs between the allowed flows and the intended ones. */
export interface ReachabilityDiff {
  /** Allowed but not intended (a policy allows too much). */
  readonly unexpected: readonly FlowText[];
  /** Intended but not allowed (a policy allows too little). */
  readonly missing: readonly FlowText[];
}

export function compareFlows(actual: readonly FlowText[], intended: readonly FlowText[]): ReachabilityDiff {
  const a = new Set(actual);
  const i = new Set(intended);
  return {
    unexpected: [...a].filter((f) => !i.has(f)).sort(),
    missing: [...i].filter((f) => !a.has(f)).sort(),
  };
}

const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:apps/v1:Deployment": ["spec", "template"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template"],
  "kubernetes:batch/v1:Job": ["spec", "template"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template"],
};

function dig(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

interface TemplateLike {
  readonly metadata?: { readonly labels?: Labels };
  readonly spec?: {
    readonly serviceAccountName?: string;
    readonly containers?: ReadonlyArray<{
      readonly ports?: ReadonlyArray<{
        readonly name?: string;
        readonly containerPort: number;
        readonly protocol?: Protocol;
      }>;
    }>;
  };
}

/**
 * The pods and NetworkPolicies a program registered (inputs as the program gave them, so run it
 * with every value known): one pod per workload, named `<namespace>/<metadata.name>`, with its pod
 * template's labels and container ports; the namespaces it created, with their labels.
 */
export function clusterModelOf(resources: readonly RegisteredResource[]): {
  readonly namespaces: Record<string, Labels>;
  readonly pods: PodModel[];
  readonly policies: NetworkPolicyModel[];
  /** `security.istio.io/v1` PeerAuthentications and AuthorizationPolicies (`./mesh`). */
  readonly istio: IstioObjectModel[];
} {
  const namespaces: Record<string, Labels> = {};
  const pods: PodModel[] = [];
  const policies: NetworkPolicyModel[] = [];
  const istio: IstioObjectModel[] = [];
  for (const r of resources) {
    const metadata = (r.inputs["metadata"] ?? {}) as { name?: string; namespace?: string; labels?: Labels };
    const istioKind =
      /^kubernetes:security\.istio\.io\/v1(beta1)?:(PeerAuthentication|AuthorizationPolicy)$/.exec(
        r.type,
      )?.[2] as IstioObjectModel["kind"] | undefined;
    if (istioKind !== undefined) {
      if (typeof metadata.namespace !== "string" || typeof metadata.name !== "string") {
        throw new Error(
          `${istioKind} ${r.urn} has no known name and namespace: run the program with known values`,
        );
      }
      istio.push({
        kind: istioKind,
        name: metadata.name,
        namespace: metadata.namespace,
        spec: r.inputs["spec"] ?? {},
      });
    } else if (r.type === "kubernetes:core/v1:Namespace" && typeof metadata.name === "string") {
      namespaces[metadata.name] = { ...metadata.labels };
    } else if (r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy") {
      if (typeof metadata.namespace !== "string" || typeof metadata.name !== "string") {
        throw new Error(
          `NetworkPolicy ${r.urn} has no known name and namespace: run the program with known values`,
        );
      }
      policies.push({
        name: metadata.name,
        namespace: metadata.namespace,
        spec: r.inputs["spec"] ?? {},
      });
    } else if (r.type in POD_TEMPLATE_PATHS) {
      const template = dig(r.inputs, POD_TEMPLATE_PATHS[r.type]) as TemplateLike | undefined;
      const namespace = metadata.namespace ?? "default";
      pods.push({
        kind: "pod",
        id: `${namespace}/${metadata.name ?? r.name}`,
        namespace,
        labels: { ...template?.metadata?.labels },
        ...(template?.spec?.serviceAccountName !== undefined
          ? { serviceAccount: template.spec.serviceAccountName }
          : {}),
        ports: (template?.spec?.containers ?? []).flatMap((c) =>
          (c.ports ?? []).map((p) => ({
            ...(p.name !== undefined ? { name: p.name } : {}),
            port: p.containerPort,
            protocol: p.protocol ?? "TCP",
          })),
        ),
      });
    }
  }
  return { namespaces, pods, policies, istio };
}
