import {
  cidrContains,
  type ClusterModel,
  connectionAllowed,
  type EndpointModel,
  type Labels,
  type PodModel,
  type Protocol,
  type Selector,
  selectorMatches,
} from "./reachability";

/**
 * Istio ambient mode on top of the NetworkPolicy evaluator: a connection exists only if the
 * NetworkPolicies admit the packets that actually cross the network AND, when the destination is in
 * the mesh, its mTLS mode and AuthorizationPolicies (as ztunnel enforces them) admit the connection.
 * A pure model of the L4 semantics, from these sources (Istio 1.30):
 *
 * - Enrolment: a pod is in the mesh when its namespace has `istio.io/dataplane-mode: ambient` and the
 *   pod itself does not say `none` (istio-cni chart values, `ambient.enablementSelectors`).
 * - Transport: a mesh pod's TCP connection to a mesh pod goes through ztunnel over HBONE, i.e. to the
 *   destination pod's address on port 15008, with the source pod's address and its ServiceAccount's
 *   identity `<trust domain>/ns/<ns>/sa/<sa>`; so the NetworkPolicies must admit port 15008, and the
 *   application port is what the destination's policies see. Anything else (a source outside the
 *   mesh, UDP, a destination outside the mesh) is plain text on the real port: NetworkPolicies only,
 *   plus the destination's mTLS mode and policies when it is in the mesh (istio.io
 *   docs/ambient/usage/networkpolicy, docs/ambient/architecture/traffic-redirection).
 * - Kubelet probes are SNATed to 169.254.7.127 and skip ztunnel's policies (NetworkPolicies still
 *   apply) (docs/ambient/usage/networkpolicy).
 * - mTLS mode of a destination port: a workload PeerAuthentication selecting the pod (its
 *   `portLevelMtls` entry, else its `mtls.mode`), else the namespace's (no selector), else the root
 *   namespace's, else PERMISSIVE; `UNSET` inherits. STRICT refuses plain text; DISABLE is ignored in
 *   ambient (counts as PERMISSIVE). Port-level settings of a policy without a selector are ignored
 *   (pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go, convertPeerAuthentication).
 * - AuthorizationPolicies that apply to a pod: those of its namespace selecting it or without a
 *   selector, and the root namespace's without a selector. Any matching DENY rule denies; then, with
 *   no ALLOW policy everything is allowed, otherwise a matching ALLOW rule is needed. A rule matches
 *   when every one of its `from` lists has a matching source (none: any), every `to` an operation
 *   (none: any); a policy without rules matches nothing (allow-nothing). In a source every field set
 *   must match: `principals` / `namespaces` need a mesh identity (`*` = any identity, `x*` prefix,
 *   `*x` suffix), `notPrincipals` / `notNamespaces` match when there is none, `ipBlocks` /
 *   `notIpBlocks` the source address. Operations: `ports`, `notPorts`. ztunnel drops an ALLOW rule
 *   with HTTP attributes (it never matches) and enforces a DENY rule without them
 *   (authorization.go, handleRule). Actions other than ALLOW and DENY are not enforced by ztunnel.
 */

/** The mesh's root namespace (mesh-wide policies). */
export const ISTIO_ROOT_NAMESPACE = "istio-system";
/** ztunnel's HBONE port. */
export const HBONE_PORT = 15008;
/** Where the CNI SNATs kubelet probes. */
export const PROBE_SOURCE = "169.254.7.127";

type MtlsMode = "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";

/** A source of an AuthorizationPolicy rule (L4 fields and the HTTP ones ztunnel cannot see). */
export interface IstioSource {
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

/** An operation of an AuthorizationPolicy rule. */
export interface IstioOperation {
  readonly ports?: readonly string[];
  readonly notPorts?: readonly string[];
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

/** An AuthorizationPolicy rule. */
export interface IstioRule {
  readonly from?: ReadonlyArray<{ readonly source?: IstioSource }>;
  readonly to?: ReadonlyArray<{ readonly operation?: IstioOperation }>;
  readonly when?: readonly unknown[];
}

/** A PeerAuthentication or AuthorizationPolicy (the fields the evaluation reads). */
export interface IstioObjectModel {
  readonly kind: "PeerAuthentication" | "AuthorizationPolicy";
  readonly name: string;
  readonly namespace: string;
  readonly spec: {
    readonly selector?: { readonly matchLabels?: Labels };
    readonly mtls?: { readonly mode?: MtlsMode };
    readonly portLevelMtls?: Readonly<Record<string, { readonly mode?: MtlsMode }>>;
    readonly action?: string;
    readonly rules?: readonly IstioRule[];
  };
}

/** A cluster with Istio objects besides its NetworkPolicies. */
export interface MeshClusterModel extends ClusterModel {
  readonly istio: readonly IstioObjectModel[];
  /** @default cluster.local */
  readonly trustDomain?: string;
}

/** True if the pod is enrolled in ambient mode. */
export function inMesh(model: ClusterModel, endpoint: EndpointModel): endpoint is PodModel {
  if (endpoint.kind !== "pod") {
    return false;
  }
  const ns = model.namespaces[endpoint.namespace] ?? {};
  return ns["istio.io/dataplane-mode"] === "ambient" && endpoint.labels["istio.io/dataplane-mode"] !== "none";
}

function selects(selector: { readonly matchLabels?: Labels } | undefined, pod: PodModel): boolean {
  const labels = selector?.matchLabels ?? {};
  return Object.keys(labels).length > 0 && selectorMatches(selector as Selector, pod.labels);
}

function hasSelector(o: IstioObjectModel): boolean {
  return Object.keys(o.spec.selector?.matchLabels ?? {}).length > 0;
}

/** The effective mTLS mode of a mesh pod's port. */
export function mtlsMode(model: MeshClusterModel, pod: PodModel, port: number): "STRICT" | "PERMISSIVE" {
  const pas = model.istio.filter((o) => o.kind === "PeerAuthentication");
  const known = (m: MtlsMode | undefined): m is "DISABLE" | "PERMISSIVE" | "STRICT" =>
    m !== undefined && m !== "UNSET";
  const chain: Array<MtlsMode | undefined> = [];
  const workload = pas.find(
    (o) => o.namespace === pod.namespace && hasSelector(o) && selects(o.spec.selector, pod),
  );
  if (workload) {
    chain.push(workload.spec.portLevelMtls?.[String(port)]?.mode, workload.spec.mtls?.mode);
  }
  chain.push(pas.find((o) => o.namespace === pod.namespace && !hasSelector(o))?.spec.mtls?.mode);
  chain.push(pas.find((o) => o.namespace === ISTIO_ROOT_NAMESPACE && !hasSelector(o))?.spec.mtls?.mode);
  const mode = chain.find(known);
  return mode === "STRICT" ? "STRICT" : "PERMISSIVE";
}

/** What the destination's ztunnel knows of a connection's source. */
interface Peer {
  readonly ip: string | undefined;
  /** `<trust domain>/ns/<ns>/sa/<sa>`, only over mTLS. */
  readonly principal: string | undefined;
  readonly namespace: string | undefined;
}

function stringMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  if (pattern === "*") {
    return true;
  }
  if (pattern.startsWith("*")) {
    return value.endsWith(pattern.slice(1));
  }
  if (pattern.endsWith("*")) {
    return value.startsWith(pattern.slice(0, -1));
  }
  return value === pattern;
}

function ipMatches(block: string, ip: string | undefined): boolean {
  return ip !== undefined && cidrContains(block.includes("/") ? block : `${block}/32`, ip);
}

const HTTP_SOURCE_FIELDS = [
  "requestPrincipals",
  "notRequestPrincipals",
  "remoteIpBlocks",
  "notRemoteIpBlocks",
];
const HTTP_OPERATION_FIELDS = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"];

function hasHttp(rule: IstioRule): boolean {
  const set = (o: object | undefined, fields: string[]) =>
    fields.some((f) => ((o as Record<string, unknown[] | undefined> | undefined)?.[f] ?? []).length > 0);
  return (
    (rule.from ?? []).some((f) => set(f.source, HTTP_SOURCE_FIELDS)) ||
    (rule.to ?? []).some((t) => set(t.operation, HTTP_OPERATION_FIELDS)) ||
    (rule.when ?? []).length > 0
  );
}

function sourceMatches(s: IstioSource, peer: Peer): boolean {
  const all = (list: readonly string[] | undefined, test: (v: string) => boolean) =>
    list === undefined || list.length === 0 || list.some(test);
  const none = (list: readonly string[] | undefined, test: (v: string) => boolean) =>
    list === undefined || list.length === 0 || !list.some(test);
  return (
    all(s.principals, (p) => stringMatches(p, peer.principal)) &&
    none(s.notPrincipals, (p) => stringMatches(p, peer.principal)) &&
    all(s.namespaces, (n) => stringMatches(n, peer.namespace)) &&
    none(s.notNamespaces, (n) => stringMatches(n, peer.namespace)) &&
    all(s.ipBlocks, (b) => ipMatches(b, peer.ip)) &&
    none(s.notIpBlocks, (b) => ipMatches(b, peer.ip))
  );
}

function operationMatches(o: IstioOperation, port: number): boolean {
  const p = String(port);
  return (
    (o.ports === undefined || o.ports.length === 0 || o.ports.includes(p)) &&
    (o.notPorts === undefined || !o.notPorts.includes(p))
  );
}

function ruleMatches(rule: IstioRule, peer: Peer, port: number): boolean {
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  return (
    (from.length === 0 || from.some((f) => sourceMatches(f.source ?? {}, peer))) &&
    (to.length === 0 || to.some((t) => operationMatches(t.operation ?? {}, port)))
  );
}

/** The AuthorizationPolicies that apply to a mesh pod. */
export function applicableAuthorizationPolicies(model: MeshClusterModel, pod: PodModel): IstioObjectModel[] {
  return model.istio.filter(
    (o) =>
      o.kind === "AuthorizationPolicy" &&
      ((o.namespace === pod.namespace && (!hasSelector(o) || selects(o.spec.selector, pod))) ||
        (o.namespace === ISTIO_ROOT_NAMESPACE && !hasSelector(o))),
  );
}

function authorized(model: MeshClusterModel, pod: PodModel, peer: Peer, port: number): boolean {
  const policies = applicableAuthorizationPolicies(model, pod);
  const action = (o: IstioObjectModel) => o.spec.action ?? "ALLOW";
  const denies = policies
    .filter((o) => action(o) === "DENY")
    .some((o) => (o.spec.rules ?? []).some((r) => ruleMatches(r, peer, port)));
  if (denies) {
    return false;
  }
  const allows = policies.filter((o) => action(o) === "ALLOW");
  return (
    allows.length === 0 ||
    allows.some((o) => (o.spec.rules ?? []).some((r) => !hasHttp(r) && ruleMatches(r, peer, port)))
  );
}

/**
 * True if `from` may open a connection to `to` on `port`/`protocol` under the NetworkPolicies and,
 * for a destination in the mesh, its mTLS mode and AuthorizationPolicies (see the module comment).
 */
export function meshConnectionAllowed(
  model: MeshClusterModel,
  from: EndpointModel,
  to: EndpointModel,
  port: number,
  protocol: Protocol,
): boolean {
  if (!inMesh(model, to) || protocol !== "TCP") {
    return connectionAllowed(model, from, to, port, protocol);
  }
  if (from.kind === "external" && from.ip === PROBE_SOURCE) {
    // Kubelet probes: ztunnel lets them through; NetworkPolicies still decide.
    return connectionAllowed(model, from, to, port, protocol);
  }
  if (inMesh(model, from)) {
    if (!connectionAllowed(model, from, to, HBONE_PORT, "TCP")) {
      return false;
    }
    // A pod without a ServiceAccount of its own runs as `default` (the API server's defaulting).
    const principal = `${model.trustDomain ?? "cluster.local"}/ns/${from.namespace}/sa/${from.serviceAccount ?? "default"}`;
    return authorized(model, to, { ip: from.ip, principal, namespace: from.namespace }, port);
  }
  if (!connectionAllowed(model, from, to, port, protocol)) {
    return false;
  }
  if (mtlsMode(model, to, port) === "STRICT") {
    return false;
  }
  return authorized(model, to, { ip: from.ip, principal: undefined, namespace: undefined }, port);
}
