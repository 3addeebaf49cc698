import type { EndpointAccess } from "@hcp/platform";

/**
 * Control-plane settings as data: endpoint exposure, log types and the kubeconfig the cluster layer
 * exports.
 */

/** Every EKS control-plane log type: with `audit` and `authenticator` every API call is attributable. */
export const CONTROL_PLANE_LOG_TYPES = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** The `vpcConfig` endpoint fields of an endpoint access mode. */
export interface EndpointAccessConfig {
  readonly endpointPrivateAccess: boolean;
  readonly endpointPublicAccess: boolean;
  readonly publicAccessCidrs: readonly string[];
}

/**
 * `private`: the API server is reachable only inside the VPC (and peered networks); `privateAndPublic`:
 * also from the given CIDRs, never from the whole internet. Throws when a public endpoint would be
 * open to everyone, because EKS treats an empty list as 0.0.0.0/0.
 */
export function endpointAccessConfig(
  mode: EndpointAccess,
  publicAccessCidrs: readonly string[],
): EndpointAccessConfig {
  switch (mode) {
    case "private":
      return { endpointPrivateAccess: true, endpointPublicAccess: false, publicAccessCidrs: [] };
    case "privateAndPublic":
      if (publicAccessCidrs.length === 0 || publicAccessCidrs.includes("0.0.0.0/0")) {
        throw new Error(
          `A public EKS endpoint must be limited to specific CIDRs, got [${publicAccessCidrs.join(", ")}]. ` +
            `Fix: list the VPN/office egress ranges in healthcare-platform:cluster.publicAccessCidrs, or set endpointAccess: private.`,
        );
      }
      return {
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: [...publicAccessCidrs],
      };
  }
}

/** What a kubeconfig is made of. */
export interface KubeconfigInputs {
  readonly clusterName: string;
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA (`certificateAuthority.data`). */
  readonly certificateAuthorityData: string;
  readonly region: string;
}

/**
 * A kubeconfig (JSON, which is valid YAML) that authenticates with `aws eks get-token`: it holds no
 * credential itself, the caller's AWS identity is mapped by the cluster's access entries. It is
 * still exported as a secret because it names the private endpoint and CA.
 */
export function renderKubeconfig(k: KubeconfigInputs): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: k.clusterName,
        cluster: { server: k.endpoint, "certificate-authority-data": k.certificateAuthorityData },
      },
    ],
    contexts: [{ name: k.clusterName, context: { cluster: k.clusterName, user: k.clusterName } }],
    "current-context": k.clusterName,
    users: [
      {
        name: k.clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              k.clusterName,
              "--region",
              k.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}
