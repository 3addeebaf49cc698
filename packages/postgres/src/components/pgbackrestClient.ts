import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, writableVolumes } from "@hcp/kube";
import { type ImageRef, imageReference } from "@hcp/platform";
import { DB_CLIENT_LABEL } from "../network";
import { PATHS } from "../render/layout";
import { CONTAINER_SECURITY, POD_SECURITY } from "./security";

/** What every data-tier Job pod (bootstrap, backups, archive copy) shares. */
export interface DbClientPodArgs {
  /** ServiceAccount with the pgBackRest Pod Identity association. */
  readonly serviceAccountName: pulumi.Input<string>;
  readonly image: ImageRef;
  /** ConfigMap with the backup Jobs' pgbackrest.conf. */
  readonly pgbackrestConfigMap: pulumi.Input<string>;
  /** cert-manager Secret of the pgBackRest client certificate (its ca.crt also verifies PostgreSQL). */
  readonly clientTlsSecretName: pulumi.Input<string>;
}

/** What a Job pod may write to besides its own volumes: /tmp (pgBackRest's lock files, psql's history). */
export const JOB_WRITABLE = writableVolumes({ tmp: PATHS.tmp });

/** Labels of the data tier's Job pods (the NetworkPolicy lets them reach the members). */
export const DB_CLIENT_LABELS = {
  [DB_CLIENT_LABEL.key]: DB_CLIENT_LABEL.value,
  "app.kubernetes.io/part-of": "hcp-data",
} as const;

/** The main container of a Job pod running `script` with sh. */
export function dbClientContainer(
  args: DbClientPodArgs,
  name: string,
  script: pulumi.Input<string>,
  extra: Partial<k8s.types.input.core.v1.Container> = {},
): k8s.types.input.core.v1.Container {
  return {
    name,
    image: imageReference(args.image),
    command: ["sh", "-ec", script],
    env: [{ name: "PGBACKREST_CONFIG", value: PATHS.pgbackrestConfig }],
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: "pgbackrest-config", mountPath: "/etc/pgbackrest", readOnly: true },
      { name: "client-tls", mountPath: PATHS.pgbackrestTls, readOnly: true },
      JOB_WRITABLE.mounts.tmp,
    ],
    ...extra,
  };
}

/** Pod spec around containers of a Job pod. */
export function dbClientPodSpec(
  args: DbClientPodArgs,
  containers: k8s.types.input.core.v1.Container[],
  extra: Partial<k8s.types.input.core.v1.PodSpec> = {},
): k8s.types.input.core.v1.PodSpec {
  const { volumes = [], ...rest } = extra;
  return {
    serviceAccountName: args.serviceAccountName,
    automountServiceAccountToken: false,
    restartPolicy: "Never",
    securityContext: POD_SECURITY,
    containers,
    volumes: [
      { name: "pgbackrest-config", configMap: { name: args.pgbackrestConfigMap } },
      { name: "client-tls", secret: { secretName: args.clientTlsSecretName, defaultMode: 0o440 } },
      ...JOB_WRITABLE.volumes,
      ...(volumes as k8s.types.input.core.v1.Volume[]),
    ],
    ...rest,
  };
}

/** Arguments of {@link PgbackrestClient}. */
export interface PgbackrestClientArgs {
  readonly namespace: pulumi.Input<string>;
  /** ServiceAccount name (the Pod Identity association names it). */
  readonly serviceAccountName: string;
  /** Rendered pgbackrest.conf of the backup Jobs. */
  readonly conf: pulumi.Input<string>;
  readonly image: ImageRef;
  readonly clientTlsSecretName: pulumi.Input<string>;
}

/**
 * What the data tier's Jobs share: the ServiceAccount that EKS Pod Identity maps to the pgBackRest
 * role, and the ConfigMap with the Jobs' pgbackrest.conf.
 */
export class PgbackrestClient extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly configMap: k8s.core.v1.ConfigMap;
  /** Inputs of the Job pods. */
  readonly pod: DbClientPodArgs;

  constructor(name: string, args: PgbackrestClientArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:PgbackrestClient", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { name: args.serviceAccountName, namespace: args.namespace, labels: DB_CLIENT_LABELS },
        automountServiceAccountToken: false,
      },
      child,
    );
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: "pgbackrest-jobs", namespace: args.namespace, labels: DB_CLIENT_LABELS },
        data: { "pgbackrest.conf": args.conf },
      },
      child,
    );
    this.pod = {
      serviceAccountName: this.serviceAccount.metadata.name,
      image: args.image,
      pgbackrestConfigMap: this.configMap.metadata.name,
      clientTlsSecretName: args.clientTlsSecretName,
    };
    this.registerOutputs({});
  }
}
