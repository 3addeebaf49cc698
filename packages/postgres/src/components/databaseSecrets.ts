import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { inheritedDependsOn } from "@hcp/kube";
import { SYSTEM_USERS } from "../render/layout";
import { ENV, fillPlaceholders, PSQL_PASSWORD_VARIABLES } from "../render/placeholders";
import { ROLES } from "../render/sql";

/** The generated credentials of the data tier. */
export const CREDENTIALS = {
  superuser: SYSTEM_USERS.superuser,
  replication: SYSTEM_USERS.replication,
  rewind: SYSTEM_USERS.rewind,
  restApi: SYSTEM_USERS.restApi,
  pgbouncerAuth: SYSTEM_USERS.pgbouncerAuth,
  monitoring: SYSTEM_USERS.monitoring,
  app: ROLES.app,
  admin: ROLES.admin,
  reader: ROLES.reader,
} as const;

/** A generated credential. */
export type Credential = keyof typeof CREDENTIALS;

/** Where a credential's user connects (stored with it in Secrets Manager). */
export interface CredentialEndpoint {
  readonly host: pulumi.Input<string>;
  readonly port: number;
}

/** Arguments of {@link DatabaseSecrets}. */
export interface DatabaseSecretsArgs {
  /** Kubernetes namespace of the data tier. */
  readonly namespace: pulumi.Input<string>;
  /** Secrets Manager name prefix, e.g. `hcp/production/data`. */
  readonly secretNamePrefix: string;
  /** KMS key encrypting the Secrets Manager secrets. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * DR regions that get a replica of every credential's secret, with their replica key ARN. A standby
   * cluster is a physical copy of the primary: its roles and passwords are the primary's, so the DR
   * region's Patroni, PgBouncer and workloads need the same credentials, readable there even when the
   * primary region is gone.
   */
  readonly replicaRegions: Readonly<Record<string, pulumi.Input<string>>>;
  readonly databaseName: string;
  /**
   * Endpoint stored with a credential (PgBouncer for the application roles). Credentials without one
   * (replication: its endpoint is in the data contract) store only user and password.
   */
  readonly endpoints: Readonly<Partial<Record<Credential, CredentialEndpoint>>>;
  /** PgBouncer userlist with `${PGBOUNCER_AUTH_PASSWORD}` (filled in here). */
  readonly pgbouncerUserlist: string;
  /** Days a deleted secret stays recoverable. @default 30 */
  readonly recoveryWindowDays?: number;
  readonly protect: boolean;
}

/** Names of the Kubernetes Secrets, by purpose. */
export const KUBERNETES_SECRET_NAMES = {
  /** Patroni's passwords, as Patroni's environment variables. */
  patroni: "patroni-credentials",
  /** PgBouncer's auth_file (only the auth_query lookup role). */
  pgbouncerAuth: "pgbouncer-auth",
  /** The bootstrap Job's superuser session and the login roles' passwords. */
  bootstrap: "bootstrap-credentials",
  /** The metrics role (`username`, `password`), read by the exporters next to the database pods. */
  monitoring: "monitoring-credentials",
} as const;

/** Environment variable of the bootstrap Job holding a psql password variable's value. */
export function bootstrapPasswordEnv(variable: string): string {
  return variable.toUpperCase();
}

/**
 * Generated passwords (never in config), delivered where they are used: Kubernetes Secrets for the
 * pods of the namespace, and Secrets Manager (the data key) for everything outside it, every secret
 * replicated to the DR regions (with the key's replica there) for their standby clusters and
 * workloads. Only references leave the stack.
 */
export class DatabaseSecrets extends pulumi.ComponentResource {
  readonly passwords: Readonly<Record<Credential, random.RandomPassword>>;
  readonly secretArns: pulumi.Output<Record<Credential, string>>;
  readonly kubernetesSecrets: Readonly<Record<keyof typeof KUBERNETES_SECRET_NAMES, k8s.core.v1.Secret>>;

  constructor(name: string, args: DatabaseSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:DatabaseSecrets", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const creds = Object.keys(CREDENTIALS) as Credential[];
    const passwords = Object.fromEntries(
      creds.map((cred) => [
        cred,
        new random.RandomPassword(
          `${name}-${cred}`,
          // Letters and digits only: the values go into YAML, INI, libpq URIs and psql variables.
          { length: 32, special: false, minUpper: 2, minLower: 2, minNumeric: 2 },
          child,
        ),
      ]),
    ) as Record<Credential, random.RandomPassword>;
    this.passwords = passwords;
    const pw = (cred: Credential) => passwords[cred].result;

    const secrets = creds.map((cred) => {
      const replicas = args.replicaRegions;
      const secret = new aws.secretsmanager.Secret(
        `${name}-${cred}`,
        {
          name: `${args.secretNamePrefix}/${cred}`,
          description: `PostgreSQL credential ${CREDENTIALS[cred]}`,
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: args.recoveryWindowDays ?? 30,
          replicas: Object.entries(replicas).map(([region, kmsKeyId]) => ({ region, kmsKeyId })),
          tags: { DataClassification: "phi" },
        },
        { ...child, protect: args.protect },
      );
      const endpoint = args.endpoints[cred];
      new aws.secretsmanager.SecretVersion(
        `${name}-${cred}`,
        {
          secretId: secret.id,
          secretString: pulumi.jsonStringify({
            engine: "postgres",
            username: CREDENTIALS[cred],
            password: pw(cred),
            ...(endpoint ? { host: endpoint.host, port: endpoint.port } : {}),
            dbname: args.databaseName,
            sslmode: "verify-full",
          }),
        },
        child,
      );
      return secret;
    });
    this.secretArns = pulumi
      .all(secrets.map((s) => s.arn))
      .apply((arns) => Object.fromEntries(creds.map((c, i) => [c, arns[i]])) as Record<Credential, string>);

    const secret = (
      key: keyof typeof KUBERNETES_SECRET_NAMES,
      stringData: pulumi.Input<Record<string, pulumi.Input<string>>>,
    ) =>
      new k8s.core.v1.Secret(
        `${name}-${key}`,
        {
          metadata: { name: KUBERNETES_SECRET_NAMES[key], namespace: args.namespace },
          type: "Opaque",
          stringData,
        },
        child,
      );
    const bootstrapPasswords = Object.fromEntries(
      Object.entries(PSQL_PASSWORD_VARIABLES).map(([role, variable]) => [
        bootstrapPasswordEnv(variable),
        pw(credentialOfRole(role)),
      ]),
    );
    this.kubernetesSecrets = {
      patroni: secret("patroni", {
        [ENV.superuserPassword]: pw("superuser"),
        [ENV.replicationPassword]: pw("replication"),
        [ENV.rewindPassword]: pw("rewind"),
        [ENV.restApiPassword]: pw("restApi"),
      }),
      pgbouncerAuth: secret("pgbouncerAuth", {
        "userlist.txt": pulumi.all([pw("pgbouncerAuth"), pw("monitoring")]).apply(([auth, monitoring]) =>
          fillPlaceholders(args.pgbouncerUserlist, {
            [ENV.pgbouncerAuthPassword]: auth,
            [ENV.monitoringPassword]: monitoring,
          }),
        ),
      }),
      bootstrap: secret("bootstrap", { PGPASSWORD: pw("superuser"), ...bootstrapPasswords }),
      monitoring: secret("monitoring", { username: CREDENTIALS.monitoring, password: pw("monitoring") }),
    };
    this.registerOutputs({ secretArns: this.secretArns });
  }
}

function credentialOfRole(role: string): Credential {
  const entry = Object.entries(CREDENTIALS).find(([, user]) => user === role);
  if (!entry) {
    throw new Error(`No generated credential for database role ${role}.`);
  }
  return entry[0] as Credential;
}
