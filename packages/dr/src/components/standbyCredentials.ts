import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";
import { ENV, fillPlaceholders, KUBERNETES_SECRET_NAMES, SYSTEM_USERS } from "@hcp/postgres";
import {
  MONITORING_CREDENTIAL,
  PATRONI_CREDENTIALS,
  PGBOUNCER_AUTH_CREDENTIAL,
  passwordOf,
  replicaSecretArn,
} from "../plan";

/** Arguments of {@link StandbyCredentials}. */
export interface StandbyCredentialsArgs {
  /** Region of the replicas (this DR region). */
  readonly region: string;
  /** The data layer's secrets by credential (primary-region ARNs, from its contract). */
  readonly primarySecretArns: pulumi.Input<Readonly<Record<string, string>>>;
  readonly namespace: pulumi.Input<string>;
  /** The rendered PgBouncer userlist with the `${PGBOUNCER_AUTH_PASSWORD}` placeholder. */
  readonly pgbouncerUserlist: string;
  /** This region's AWS provider (reads the replicas, which answer in their own region only). */
  readonly awsProvider: aws.Provider;
  readonly k8sProvider: k8s.Provider;
}

/**
 * The DR region's copies of the data tier's credentials. The standby cluster is a physical copy of
 * the primary, so its roles and passwords are the primary's: this reads the replicas of the data
 * layer's Secrets Manager secrets in this region (encrypted with the data key's replica here, so they
 * stay readable when the primary region is gone) and writes the Kubernetes Secrets Patroni,
 * PgBouncer and the exporters mount, with the same names as in the primary region. The values exist only as secrets:
 * in the stack state (encrypted by its secrets provider) and in the Kubernetes Secrets.
 */
export class StandbyCredentials extends pulumi.ComponentResource {
  /** Replica ARNs in this region, by credential. */
  readonly secretArns: pulumi.Output<Record<string, string>>;
  readonly kubernetesSecrets: {
    readonly patroni: k8s.core.v1.Secret;
    readonly pgbouncerAuth: k8s.core.v1.Secret;
    /** The metrics role's login, which the exporters next to the database pods read. */
    readonly monitoring: k8s.core.v1.Secret;
  };

  constructor(name: string, args: StandbyCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:dr:StandbyCredentials", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    this.secretArns = pulumi
      .output(args.primarySecretArns)
      .apply((arns) =>
        Object.fromEntries(
          Object.entries(arns).map(([cred, arn]) => [cred, replicaSecretArn(arn, args.region)]),
        ),
      );
    const password = (credential: string): pulumi.Output<string> => {
      const secretId = this.secretArns.apply((arns) => {
        const arn = arns[credential];
        if (!arn) {
          throw new Error(
            `StandbyCredentials ${name}: the data contract has no secret for '${credential}' (it has ${Object.keys(arns).join(", ")}). ` +
              "Fix: deploy the data stack with the current code (it replicates every credential).",
          );
        }
        return arn;
      });
      const version = aws.secretsmanager.getSecretVersionOutput(
        { secretId },
        { parent: this, provider: args.awsProvider },
      );
      return pulumi.secret(
        version.secretString.apply((s) => passwordOf(s, `${credential} in ${args.region}`)),
      );
    };
    const secret = (
      key: keyof typeof KUBERNETES_SECRET_NAMES,
      stringData: Record<string, pulumi.Input<string>>,
    ) =>
      new k8s.core.v1.Secret(
        `${name}-${key}`,
        {
          metadata: { name: KUBERNETES_SECRET_NAMES[key], namespace: args.namespace },
          type: "Opaque",
          stringData,
        },
        { ...child, provider: args.k8sProvider },
      );
    this.kubernetesSecrets = {
      patroni: secret(
        "patroni",
        Object.fromEntries(
          Object.entries(PATRONI_CREDENTIALS).map(([credential, envName]) => [envName, password(credential)]),
        ),
      ),
      pgbouncerAuth: secret("pgbouncerAuth", {
        "userlist.txt": pulumi
          .all([password(PGBOUNCER_AUTH_CREDENTIAL), password(MONITORING_CREDENTIAL)])
          .apply(([auth, monitoring]) =>
            fillPlaceholders(args.pgbouncerUserlist, {
              [ENV.pgbouncerAuthPassword]: auth,
              [ENV.monitoringPassword]: monitoring,
            }),
          ),
      }),
      monitoring: secret("monitoring", {
        username: SYSTEM_USERS.monitoring,
        password: password(MONITORING_CREDENTIAL),
      }),
    };
    this.registerOutputs({ secretArns: this.secretArns });
  }
}
