import { envRef } from "./placeholders";

/** Input of {@link renderPgbouncerIni}. */
export interface PgbouncerRenderInput {
  /** The database clients may connect to (the only entry of `[databases]`). */
  readonly databaseName: string;
  /** Host of the PostgreSQL primary (a name in the server certificate: verify-full). */
  readonly serverHost: string;
  readonly serverPort: number;
  readonly listenPort: number;
  readonly maxClientConnections: number;
  readonly defaultPoolSize: number;
  readonly reservePoolSize: number;
  /** Role PgBouncer logs in as to run `auth_query`. */
  readonly authUser: string;
  /** Environment variable holding the auth user's password (filled into the userlist Secret). */
  readonly authPasswordEnv: string;
  /**
   * Read-only admin-console users (`stats_users`: SHOW POOLS/STATS, what the metrics exporter runs),
   * with the environment variable of each one's password. The admin console has no database to run
   * `auth_query` in, so these users are in the auth_file.
   * @default - none
   */
  readonly statsUsers?: ReadonlyArray<{ readonly user: string; readonly passwordEnv: string }>;
  readonly files: {
    /** auth_file: the userlist with only the auth user. */
    readonly userlist: string;
    /** Certificate clients see. */
    readonly clientCert: string;
    readonly clientKey: string;
    /** CA that signs the PostgreSQL server certificate. */
    readonly serverCa: string;
  };
}

/** The typed content of `pgbouncer.ini`. */
export interface PgbouncerConfig {
  readonly databases: Readonly<Record<string, string>>;
  readonly pgbouncer: Readonly<Record<string, string | number>>;
}

/** Rendered PgBouncer configuration. */
export interface RenderedPgbouncer {
  readonly config: PgbouncerConfig;
  readonly ini: string;
  /** auth_file content: the auth user with an environment reference for its password. */
  readonly userlist: string;
}

/**
 * Seconds PgBouncer waits after a failed server login before it tries again; meanwhile every client
 * needing a new server connection (and every login, which needs `auth_query`) fails at once with
 * "server login has been failing". PgBouncer's default, 15 s, is paid after every failover and
 * switchover: the first attempts hit the dead or demoted leader before the Service follows the new
 * one. Measured through PgBouncer against a direct writer on the same failures (bench:failover,
 * docs/benchmarks/failover.md): +10.0 / +11.1 s node-loss RTO and +9.9 / +10.6 s switchover gap
 * with 15 s, +1.2 / +0.0 s and +1.0 / -0.1 s with 1 s.
 * PgBouncer keeps at most one login attempt in flight per pool, so 1 s means at most one attempt per
 * second per pool against a failing server.
 */
export const PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS = 1;

/** The lookup function `auth_query` calls (created by the bootstrap SQL). */
export const PGBOUNCER_AUTH_FUNCTION = "pgbouncer.get_auth";

/**
 * Renders `pgbouncer.ini`: transaction pooling in front of the primary, TLS required from clients
 * and verified (verify-full) towards PostgreSQL, and `auth_query` authentication. With auth_query
 * PgBouncer asks PostgreSQL for a client's SCRAM verifier through a SECURITY DEFINER function, so the
 * only credential it holds is its own lookup role's; password changes in PostgreSQL take effect at
 * once and no per-application secret is copied into the pooler. Each replica opens at most
 * `defaultPoolSize + reservePoolSize` server connections (`max_db_connections`), which is what
 * PostgreSQL's max_connections is sized for.
 */
export function renderPgbouncerIni(input: PgbouncerRenderInput): RenderedPgbouncer {
  const config: PgbouncerConfig = {
    databases: {
      [input.databaseName]: `host=${input.serverHost} port=${input.serverPort} dbname=${input.databaseName}`,
    },
    pgbouncer: {
      listen_addr: "0.0.0.0",
      listen_port: input.listenPort,
      unix_socket_dir: "",
      pool_mode: "transaction",
      max_client_conn: input.maxClientConnections,
      default_pool_size: input.defaultPoolSize,
      min_pool_size: 0,
      reserve_pool_size: input.reservePoolSize,
      reserve_pool_timeout: 3,
      max_db_connections: input.defaultPoolSize + input.reservePoolSize,
      auth_type: "scram-sha-256",
      auth_file: input.files.userlist,
      auth_user: input.authUser,
      auth_query: `SELECT usename, passwd FROM ${PGBOUNCER_AUTH_FUNCTION}($1)`,
      ...(input.statsUsers?.length ? { stats_users: input.statsUsers.map((u) => u.user).join(", ") } : {}),
      client_tls_sslmode: "require",
      client_tls_cert_file: input.files.clientCert,
      client_tls_key_file: input.files.clientKey,
      client_tls_protocols: "secure",
      server_tls_sslmode: "verify-full",
      server_tls_ca_file: input.files.serverCa,
      server_tls_protocols: "secure",
      server_check_query: "select 1",
      server_idle_timeout: 600,
      server_lifetime: 3600,
      server_login_retry: PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS,
      query_wait_timeout: 120,
      client_login_timeout: 30,
      ignore_startup_parameters: "extra_float_digits",
      application_name_add_host: 1,
      tcp_keepalive: 1,
      log_connections: 1,
      log_disconnections: 1,
      log_pooler_errors: 1,
      stats_period: 60,
    },
  };
  const ini = [
    "; PgBouncer configuration rendered by @hcp/data. Transaction pooling: session state (SET, advisory",
    "; locks, session-level prepared statements) does not survive between transactions.",
    "[databases]",
    ...Object.entries(config.databases).map(([k, v]) => `${k} = ${v}`),
    "",
    "[pgbouncer]",
    ...Object.entries(config.pgbouncer).map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
  const users = [{ user: input.authUser, passwordEnv: input.authPasswordEnv }, ...(input.statsUsers ?? [])];
  return { config, ini, userlist: users.map((u) => `"${u.user}" "${envRef(u.passwordEnv)}"\n`).join("") };
}
