import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "./dependencies";
import { cidrProblem } from "@hcp/platform";

/**
 * A namespace that enforces Pod Security `restricted` (enforce, audit and warn, pinned to the
 * cluster's Kubernetes version so an upgrade does not silently change the rules), denies all traffic
 * in both directions by default, lets every pod resolve names through kube-dns, and allows exactly the
 * declared flows: per group of pods, which peers (pods of the namespace, pods of labelled namespaces,
 * IP blocks) may connect in or be connected to, on which ports.
 * https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
 */

/** Labels as a `matchLabels` map. */
export type Labels = Readonly<Record<string, string>>;

/** Who a flow is from (ingress) or to (egress). */
export type Peer =
  /** Pods of this namespace with these labels. */
  | { readonly pods: Labels }
  /** Pods of namespaces with these labels (every pod of them, or those with `pods`). */
  | { readonly namespaces: Labels; readonly pods?: Labels }
  /** An IP block (outside the cluster's pod network, or a peered VPC), minus `except`. */
  | { readonly cidr: string; readonly except?: readonly string[] };

/** A port: a number is TCP. */
export type Port = number | { readonly port: number; readonly protocol: "TCP" | "UDP" };

/** Peers and the ports they may use. */
export interface Flow {
  readonly peers: readonly Peer[];
  readonly ports: readonly Port[];
}

/** The flows of one group of pods (one NetworkPolicy). */
export interface PodFlows {
  /** Labels selecting the pods of the namespace the policy applies to. */
  readonly pods: Labels;
  /** Connections these pods accept. @default - none */
  readonly ingress?: readonly Flow[];
  /** Connections these pods open (besides DNS). @default - none */
  readonly egress?: readonly Flow[];
}

/** kube-dns in kube-system: what every pod may reach for name resolution. */
export const KUBE_DNS: Peer = {
  namespaces: { "kubernetes.io/metadata.name": "kube-system" },
  pods: { "k8s-app": "kube-dns" },
};

/** Names of the policies every restricted namespace has. */
export const BASELINE_POLICIES = { defaultDeny: "default-deny", dns: "allow-dns" } as const;

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/**
 * The Pod Security labels: `level` (default `restricted`) enforced, audited and warned, pinned to
 * `v<version>`.
 */
export function podSecurityLabels(
  kubernetesVersion: string,
  level: PodSecurityLevel = "restricted",
): Record<string, string> {
  if (!/^\d+\.\d+$/.test(kubernetesVersion)) {
    throw new Error(
      `Pod Security labels: Kubernetes version '${kubernetesVersion}' is not a minor version. Fix: pass the ` +
        `cluster's version as <major>.<minor>, e.g. 1.34 (the labels pin v1.34).`,
    );
  }
  const version = `v${kubernetesVersion}`;
  return Object.fromEntries(
    ["enforce", "audit", "warn"].flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, level],
      [`pod-security.kubernetes.io/${mode}-version`, version],
    ]),
  );
}

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type PolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

function peer(p: Peer): PolicyPeer {
  if ("cidr" in p) {
    return { ipBlock: { cidr: p.cidr, ...(p.except?.length ? { except: [...p.except] } : {}) } };
  }
  if ("namespaces" in p) {
    return {
      namespaceSelector: { matchLabels: { ...p.namespaces } },
      ...(p.pods ? { podSelector: { matchLabels: { ...p.pods } } } : {}),
    };
  }
  return { podSelector: { matchLabels: { ...p.pods } } };
}

function port(p: Port): k8s.types.input.networking.v1.NetworkPolicyPort {
  return typeof p === "number" ? { protocol: "TCP", port: p } : { protocol: p.protocol, port: p.port };
}

/** Problems of the declared flows (bad CIDRs and ports, reserved names, flows without peers or ports). */
export function flowProblems(policies: Readonly<Record<string, PodFlows>>): string[] {
  const problems: string[] = [];
  for (const [name, flows] of Object.entries(policies)) {
    if ((Object.values(BASELINE_POLICIES) as string[]).includes(name)) {
      problems.push(`policy name '${name}' is reserved for the namespace's own policies`);
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
      problems.push(`policy name '${name}' is not a DNS label`);
    }
    if (Object.keys(flows.pods).length === 0) {
      problems.push(`${name}: pods selects no labels, so it would apply to every pod; name the pods`);
    }
    for (const [direction, list] of [
      ["ingress", flows.ingress ?? []],
      ["egress", flows.egress ?? []],
    ] as const) {
      list.forEach((flow, i) => {
        const where = `${name}.${direction}[${i}]`;
        if (flow.peers.length === 0 || flow.ports.length === 0) {
          problems.push(
            `${where}: a flow needs at least one peer and one port (an empty list allows everything)`,
          );
        }
        for (const p of flow.peers) {
          if (!("cidr" in p)) {
            continue;
          }
          for (const block of [p.cidr, ...(p.except ?? [])]) {
            const problem = cidrProblem(block);
            if (problem) {
              problems.push(`${where}: '${block}' ${problem}`);
            }
          }
        }
        for (const p of flow.ports) {
          const n = typeof p === "number" ? p : p.port;
          if (!Number.isInteger(n) || n < 1 || n > 65535) {
            problems.push(`${where}: port ${n} is not 1-65535`);
          }
        }
      });
    }
  }
  return problems;
}

/**
 * The namespace's NetworkPolicy specs by name: `default-deny` (every pod, both directions),
 * `allow-dns` (every pod to kube-dns, UDP and TCP 53), then one per declared group of pods with its
 * ingress and egress flows (both directions are stated, so a policy is the whole list of what its
 * pods may do besides DNS).
 */
export function networkPolicySpecs(policies: Readonly<Record<string, PodFlows>>): Record<string, PolicySpec> {
  const problems = flowProblems(policies);
  if (problems.length > 0) {
    throw new Error(`Network policies: ${problems.join("; ")}.`);
  }
  return {
    [BASELINE_POLICIES.defaultDeny]: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    [BASELINE_POLICIES.dns]: {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [peer(KUBE_DNS)],
          ports: [port({ protocol: "UDP", port: 53 }), port({ protocol: "TCP", port: 53 })],
        },
      ],
    },
    ...Object.fromEntries(
      Object.entries(policies).map(([name, flows]): [string, PolicySpec] => [name, podFlowsSpec(flows)]),
    ),
  };
}

function podFlowsSpec(flows: PodFlows): PolicySpec {
  const rules = (list: readonly Flow[] | undefined, key: "from" | "to") =>
    (list ?? []).map((f) => ({ [key]: f.peers.map(peer), ports: f.ports.map(port) }));
  return {
    podSelector: { matchLabels: { ...flows.pods } },
    policyTypes: ["Ingress", "Egress"],
    ...(flows.ingress ? { ingress: rules(flows.ingress, "from") } : {}),
    ...(flows.egress ? { egress: rules(flows.egress, "to") } : {}),
  };
}

/**
 * The NetworkPolicy spec of one group of pods (for a namespace that already has the baseline
 * policies of {@link networkPolicySpecs}): both directions stated, so the policy is the whole list of
 * what its pods may do besides DNS. Refuses the flows {@link flowProblems} refuses.
 */
export function networkPolicySpec(name: string, flows: PodFlows): PolicySpec {
  const problems = flowProblems({ [name]: flows });
  if (problems.length > 0) {
    throw new Error(`Network policy ${name}: ${problems.join("; ")}.`);
  }
  return podFlowsSpec(flows);
}

/** Arguments of {@link RestrictedNamespace}. */
export interface RestrictedNamespaceArgs {
  /** Namespace name. */
  readonly name: string;
  /**
   * Kubernetes minor version of the cluster, e.g. `1.34`: the Pod Security Standards version the
   * labels pin (`v1.34`).
   */
  readonly kubernetesVersion: string;
  /**
   * Namespace labels besides the Pod Security ones (data classification, access labels).
   * @default - none
   */
  readonly labels?: Labels;
  /**
   * NetworkPolicies by name (the policy's `metadata.name`): which pods they select and the flows
   * allowed in and out of them.
   * @default - none: pods may only resolve names
   */
  readonly policies?: Readonly<Record<string, PodFlows>>;
}

/**
 * A namespace enforcing Pod Security `restricted`, default-deny in both directions, DNS to kube-dns,
 * and the declared flows (see {@link networkPolicySpecs}). Kubelet probes come from the node's own IP,
 * which the VPC CNI's policy agent always admits, so no rule is needed for them.
 */
export class RestrictedNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  /** NetworkPolicies by name. */
  readonly policies: Readonly<Record<string, k8s.networking.v1.NetworkPolicy>>;
  /** Namespace name (known once the namespace exists, so dependents wait for it). */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: RestrictedNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything: a refused namespace leaves no half-registered component.
    const labels = { ...podSecurityLabels(args.kubernetesVersion), ...args.labels };
    const specs = networkPolicySpecs(args.policies ?? {});
    super("hcp:kube:RestrictedNamespace", name, {}, opts);
    this.namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: args.name, labels } },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.name = this.namespace.metadata.name;
    this.policies = Object.fromEntries(
      Object.entries(specs).map(([policyName, spec]) => [
        policyName,
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${policyName}`,
          { metadata: { name: policyName, namespace: this.name }, spec },
          { parent: this, dependsOn: inheritedDependsOn(opts) },
        ),
      ]),
    );
    this.registerOutputs({ name: this.name });
  }
}
