import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, networkPolicySpecs } from "@hcp/kube";
import {
  authorizationPolicies,
  ISTIO_CHARTS,
  ISTIO_RELEASES,
  istioChartValues,
  MESH,
  type MeshPolicyInputs,
  meshNamespaceLabelsOfSystem,
  peerAuthentications,
} from "../mesh";

/** Arguments of {@link AmbientMesh}. */
export interface AmbientMeshArgs {
  /** The Istio charts (base, istiod, cni, ztunnel), all at this exact version (`workloads.charts.istio`). */
  readonly chart: { readonly repository: string; readonly version: string };
  /** Kubernetes minor version of the cluster (the Pod Security labels pin it). */
  readonly kubernetesVersion: string;
  /** Production: istiod runs two or more replicas behind its PodDisruptionBudget. */
  readonly production: boolean;
}

/**
 * Istio in ambient mode: the `istio-system` namespace (Pod Security `privileged`: the CNI node agent
 * and ztunnel need the node's network and host paths) with a default-deny NetworkPolicy and DNS, and
 * the four charts at the pinned version, each after the previous one (CRDs, istiod, CNI, ztunnel).
 *
 * istiod runs there too although it needs no host access: ztunnel finds its XDS and CA at
 * `istiod.istio-system.svc:15012` and istiod trusts ztunnel's identity in its own namespace unless
 * both `trustedZtunnelNamespace` and the ztunnel chart's `xdsAddress` / `caAddress` are moved (the
 * charts' values.yaml), and istiod's own pod template is non-root with no host access, so the
 * namespace's level adds nothing to it. Application namespaces stay `restricted`: ambient puts no
 * sidecar or init container into their pods. NetworkPolicies: the charts render istiod's and
 * ztunnel's (`global.networkPolicy.enabled`); the CNI node agent uses the host network, to which
 * NetworkPolicies do not apply.
 */
export class AmbientMesh extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  /** The charts by name; the last (ztunnel) is what enrolled namespaces wait for. */
  readonly charts: Readonly<Record<(typeof ISTIO_CHARTS)[number], k8s.helm.v4.Chart>>;

  constructor(name: string, args: AmbientMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    const labels = meshNamespaceLabelsOfSystem(args.kubernetesVersion);
    super("hcp:workloads:AmbientMesh", name, {}, opts);
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: MESH.namespace, labels } },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    for (const [policyName, spec] of Object.entries(networkPolicySpecs({}))) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policyName}`,
        { metadata: { name: policyName, namespace: this.namespace.metadata.name }, spec },
        { parent: this, dependsOn: inheritedDependsOn(opts) },
      );
    }
    const charts: Partial<Record<(typeof ISTIO_CHARTS)[number], k8s.helm.v4.Chart>> = {};
    let previous: pulumi.Resource = this.namespace;
    for (const chart of ISTIO_CHARTS) {
      const release = new k8s.helm.v4.Chart(
        `${name}-${chart}`,
        {
          chart,
          name: ISTIO_RELEASES[chart],
          version: args.chart.version,
          repositoryOpts: { repo: args.chart.repository },
          namespace: this.namespace.metadata.name,
          values: istioChartValues(chart, args.production),
        },
        { parent: this, dependsOn: inheritedDependsOn(opts, previous) },
      );
      charts[chart] = release;
      previous = release;
    }
    this.charts = charts as Record<(typeof ISTIO_CHARTS)[number], k8s.helm.v4.Chart>;
    this.registerOutputs({});
  }
}

/** Arguments of {@link MeshPolicies}. */
export type MeshPoliciesArgs = MeshPolicyInputs;

/**
 * The application namespace's mesh policies: STRICT PeerAuthentication with the per-service
 * plain-text port exceptions, the deny-by-default `allow-nothing` AuthorizationPolicy and one per
 * service admitting exactly its declared callers (see `../mesh`).
 */
export class MeshPolicies extends pulumi.ComponentResource {
  /** Every PeerAuthentication and AuthorizationPolicy, by `<kind>/<name>`. */
  readonly objects: Readonly<Record<string, k8s.apiextensions.CustomResource>>;

  constructor(name: string, args: MeshPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = [...peerAuthentications(args), ...authorizationPolicies(args)];
    super("hcp:workloads:MeshPolicies", name, {}, opts);
    this.objects = Object.fromEntries(
      manifests.map((m) => [
        `${m.kind}/${m.metadata.name}`,
        new k8s.apiextensions.CustomResource(
          `${name}-${m.kind === "PeerAuthentication" ? "peer" : "authz"}-${m.metadata.name}`,
          { apiVersion: m.apiVersion, kind: m.kind, metadata: { ...m.metadata }, spec: m.spec },
          { parent: this, dependsOn: inheritedDependsOn(opts) },
        ),
      ]),
    );
    this.registerOutputs({});
  }
}
