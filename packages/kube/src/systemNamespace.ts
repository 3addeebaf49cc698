import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "./dependencies";
import {
  type Labels,
  networkPolicySpecs,
  type PodFlows,
  type PodSecurityLevel,
  podSecurityLabels,
} from "./restrictedNamespace";

/**
 * A namespace for node agents (log shippers, node exporters): pods that need what Pod Security
 * `restricted` forbids (host namespaces, hostPath volumes, root). Everything else is as in
 * {@link RestrictedNamespace}: the level is enforced, audited and warned, pinned to the cluster's
 * version; `default-deny` in both directions, DNS to kube-dns, then only the declared flows. The
 * reason is required and recorded on the namespace (annotation {@link EXEMPTION_ANNOTATION}); the
 * policy pack must list the same namespace in its `exemptNamespaces` config, or its rules refuse
 * the agents.
 */

/** Annotation carrying why a namespace is not `restricted`. */
export const EXEMPTION_ANNOTATION = "hcp.io/pod-security-exemption";

/** Arguments of {@link SystemNamespace}. */
export interface SystemNamespaceArgs {
  /** Namespace name (exactly the one the policy pack's `exemptNamespaces` lists). */
  readonly name: string;
  /** Kubernetes minor version of the cluster, e.g. `1.34` (the Pod Security version the labels pin). */
  readonly kubernetesVersion: string;
  /**
   * The Pod Security level: `baseline` when host namespaces and hostPath are not needed,
   * `privileged` otherwise (baseline forbids hostPath, hostPID and hostNetwork).
   */
  readonly podSecurity: Exclude<PodSecurityLevel, "restricted">;
  /** Why the namespace cannot be `restricted` (recorded as an annotation; at least 10 characters). */
  readonly reason: string;
  /** Namespace labels besides the Pod Security ones. @default - none */
  readonly labels?: Labels;
  /**
   * NetworkPolicies by name, as for {@link RestrictedNamespace}.
   * @default - none: pods may only resolve names
   */
  readonly policies?: Readonly<Record<string, PodFlows>>;
}

/** The namespace object's metadata of a {@link SystemNamespace} (pure, for tests). */
export function systemNamespaceMetadata(args: SystemNamespaceArgs): {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
} {
  if (args.reason.trim().length < 10) {
    throw new Error(
      `System namespace ${args.name}: reason '${args.reason}' does not say why the namespace is not ` +
        `restricted. Fix: state what its pods need from the node (at least 10 characters).`,
    );
  }
  return {
    name: args.name,
    labels: { ...podSecurityLabels(args.kubernetesVersion, args.podSecurity), ...args.labels },
    annotations: { [EXEMPTION_ANNOTATION]: args.reason },
  };
}

/** A node agents' namespace: `baseline` or `privileged` Pod Security, default-deny, DNS, declared flows. */
export class SystemNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  /** NetworkPolicies by name. */
  readonly policies: Readonly<Record<string, k8s.networking.v1.NetworkPolicy>>;
  /** Namespace name (known once the namespace exists, so dependents wait for it). */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: SystemNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, like RestrictedNamespace.
    const metadata = systemNamespaceMetadata(args);
    const specs = networkPolicySpecs(args.policies ?? {});
    super("hcp:kube:SystemNamespace", name, {}, opts);
    this.namespace = new k8s.core.v1.Namespace(
      name,
      { metadata },
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
