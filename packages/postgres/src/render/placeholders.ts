/**
 * Rendered files never contain a secret. Three kinds of stand-ins appear in them instead:
 *
 * - `${NAME}` — an **environment reference**: the value comes from the environment variable `NAME` of
 *   the container that reads the file. In `patroni.yml` these are Patroni's own variables
 *   (`PATRONI_SUPERUSER_PASSWORD`, `PATRONI_NAME`, ...), which Patroni reads itself and which take
 *   precedence over the file, so the literal text never takes effect. In the PgBouncer userlist the
 *   Kubernetes Secret holds the filled-in file. Use {@link fillPlaceholders} to fill them locally.
 * - `:'name'` — a **psql variable** in the bootstrap SQL (role passwords only), passed with
 *   `psql -v name=...` by the bootstrap Job from its Secret-backed environment.
 * - `<deploy:key>` — a **deploy-time value** that only exists after `pulumi up` (bucket names, KMS key
 *   ARNs). The Pulumi program renders with the real values; the offline `render` CLI shows markers.
 */

/** Environment variables the rendered files reference. */
export const ENV = {
  superuserPassword: "PATRONI_SUPERUSER_PASSWORD",
  replicationPassword: "PATRONI_REPLICATION_PASSWORD",
  rewindPassword: "PATRONI_REWIND_PASSWORD",
  restApiPassword: "PATRONI_RESTAPI_PASSWORD",
  memberName: "PATRONI_NAME",
  postgresConnectAddress: "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
  restApiConnectAddress: "PATRONI_RESTAPI_CONNECT_ADDRESS",
  pgbouncerAuthPassword: "PGBOUNCER_AUTH_PASSWORD",
  /** The metrics role's password (PgBouncer's auth_file: the exporter logs in to the admin console). */
  monitoringPassword: "MONITORING_PASSWORD",
} as const;

/** `${NAME}`: a reference to an environment variable of the reading container. */
export function envRef(name: string): string {
  return `\${${name}}`;
}

/** `<deploy:key>`: a value the offline render does not know. */
export function deployMarker(key: string): string {
  return `<deploy:${key}>`;
}

/** Psql variables of the bootstrap SQL (the role passwords). */
export const PSQL_PASSWORD_VARIABLES = {
  healthcare_admin: "healthcare_admin_password",
  healthcare_app: "healthcare_app_password",
  healthcare_reader: "healthcare_reader_password",
  pgbouncer_auth: "pgbouncer_auth_password",
  hcp_monitoring: "hcp_monitoring_password",
} as const;

/** Roles whose password the bootstrap SQL sets. */
export type PasswordRole = keyof typeof PSQL_PASSWORD_VARIABLES;

const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const DEPLOY_MARKER = /<deploy:([a-z0-9][a-z0-9.-]*)>/g;

/** The environment references in a text, in order of first appearance. */
export function envReferences(text: string): string[] {
  return [...new Set([...text.matchAll(ENV_REF)].map((m) => m[1]))];
}

/** The deploy-time markers in a text, in order of first appearance. */
export function deployMarkers(text: string): string[] {
  return [...new Set([...text.matchAll(DEPLOY_MARKER)].map((m) => m[1]))];
}

/**
 * Replaces `${NAME}` references by `values[NAME]`; throws, naming every missing variable, if a
 * referenced one has no value (a half-filled file would start with a literal placeholder password).
 */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  const missing = envReferences(text).filter((name) => values[name] === undefined);
  if (missing.length > 0) {
    throw new Error(`fillPlaceholders: no value for ${missing.join(", ")}. Fix: pass a value for each.`);
  }
  return text.replace(ENV_REF, (_, name: string) => values[name]);
}
