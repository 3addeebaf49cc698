import type * as pulumi from "@pulumi/pulumi";
import { SECRET_STORE } from "../services";

/** One value read from a Secrets Manager secret (JSON property, or the whole string). */
export interface RemoteValue {
  /** Key in the ExternalSecret's data (a template variable). */
  readonly secretKey: string;
  /** Secret name or ARN. */
  readonly key: pulumi.Input<string>;
  /** JSON property of the secret's value. @default - the whole value */
  readonly property?: string;
}

/**
 * An `external-secrets.io/v1` ExternalSecret writing the Kubernetes Secret `target` from the region's
 * ClusterSecretStore: `template` (Go templates over the values' `secretKey`s) composes the keys of
 * the Secret, e.g. DATABASE_URL from a username and a password; without it the Secret holds the
 * values under their keys. The Secret is owned by the ExternalSecret (deleted with it) and
 * refreshed hourly, so a rotated credential reaches the pods at their next restart.
 */
export function externalSecretManifest(args: {
  readonly name: string;
  readonly namespace: string;
  readonly values: readonly RemoteValue[];
  readonly template?: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}) {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: args.name, namespace: args.namespace, labels: { ...args.labels } },
    spec: {
      refreshInterval: "1h",
      secretStoreRef: { kind: "ClusterSecretStore", name: SECRET_STORE },
      target: {
        name: args.name,
        creationPolicy: "Owner",
        deletionPolicy: "Delete",
        ...(args.template
          ? { template: { engineVersion: "v2", type: "Opaque", data: { ...args.template } } }
          : {}),
      },
      data: args.values.map((v) => ({
        secretKey: v.secretKey,
        remoteRef: { key: v.key, ...(v.property ? { property: v.property } : {}) },
      })),
    },
  };
}
