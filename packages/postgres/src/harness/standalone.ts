import type { RenderedArtifacts } from "../render";
import { PSQL_PASSWORD_VARIABLES, type PasswordRole } from "../render/placeholders";
import { testPassword } from "./cluster";
import { type AllowedChange, assertOnlyAllowed, diffValues, formatChanges } from "./diff";
import { UNAVAILABLE_LIBRARIES } from "./localize";
import { PG_BIN, type Standalone, startStandalone } from "./postgres";
import type { Sandbox } from "./sandbox";
import type { TlsFiles } from "./tls";

/**
 * A single PostgreSQL 15 server configured like a rendered Patroni member (the parameters Patroni
 * writes to postgresql.conf and the rendered pg_hba), for the suites that need a real server but
 * not a cluster: bootstrap SQL, PgBouncer, pgBackRest.
 */

const LOOPBACK = "127.0.0.1/32";

function withoutUnavailable(libraries: string): string {
  return libraries
    .split(",")
    .map((s) => s.trim())
    .filter((lib) => !(UNAVAILABLE_LIBRARIES as readonly string[]).includes(lib))
    .join(",");
}

const ALLOWED: readonly AllowedChange[] = [
  {
    reason: "address/port: loopback (Patroni derives them from postgresql.listen)",
    paths: /^(port|listen_addresses)$/,
  },
  { reason: "path", paths: /^unix_socket_directories$/ },
  { reason: "TLS file location", paths: /^ssl_(cert|key|ca)_file$/ },
  {
    reason: "extension: no TimescaleDB for Debian PostgreSQL 15",
    paths: /^shared_preload_libraries$/,
    check: (c) => typeof c.from === "string" && c.to === withoutUnavailable(c.from),
  },
  {
    reason: "address: pg_hba network limited to loopback",
    paths: /^pg_hba\[\d+\]$/,
    check: (c) =>
      typeof c.from === "string" &&
      typeof c.to === "string" &&
      c.from
        .split(/\s+/)
        .map((f, i) => (i === 3 ? LOOPBACK : f))
        .join(" ") === c.to,
  },
];

/** postgresql.conf parameters of a rendered member, as Patroni would write them. */
export function renderedParameters(artifacts: RenderedArtifacts): Record<string, string | number | boolean> {
  return {
    ...artifacts.patroni.config.bootstrap.dcs.postgresql.parameters,
    ...artifacts.patroni.config.postgresql.parameters,
  };
}

export interface RenderedServer extends Standalone {
  readonly superuserPassword: string;
  /** Printable list of the keys changed from the rendered artifacts. */
  readonly report: string;
  readonly changedKeys: readonly string[];
}

/**
 * Starts PostgreSQL 15 with the rendered parameters and pg_hba, changed only as allowed (loopback
 * port/address, paths, TLS file locations, no TimescaleDB). `env` goes to the postmaster (e.g.
 * PGBACKREST_CONFIG for the rendered archive_command).
 */
export async function startRenderedServer(
  sandbox: Sandbox,
  artifacts: RenderedArtifacts,
  options: { name: string; port: number; tls: TlsFiles; env?: Record<string, string>; restored?: boolean },
): Promise<RenderedServer> {
  const rendered = renderedParameters(artifacts);
  const socketDir = sandbox.path(`${options.name}-socket`);
  const parameters: Record<string, string | number | boolean> = {
    ...rendered,
    port: options.port,
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    ssl_cert_file: options.tls.certFile,
    ssl_key_file: options.tls.keyFile,
    ssl_ca_file: options.tls.caFile,
  };
  if (typeof rendered.shared_preload_libraries === "string") {
    parameters.shared_preload_libraries = withoutUnavailable(rendered.shared_preload_libraries);
  }
  const renderedHba = artifacts.patroni.config.postgresql.pg_hba;
  const hba = renderedHba.map((line) => {
    const fields = line.split(/\s+/);
    return fields[0] === "hostssl" ? [...fields.slice(0, 3), LOOPBACK, ...fields.slice(4)].join(" ") : line;
  });
  const changes = assertOnlyAllowed(
    "postgresql.conf + pg_hba.conf",
    diffValues({ ...rendered, pg_hba: renderedHba }, { ...parameters, pg_hba: hba }),
    ALLOWED,
  );
  const superuserPassword = testPassword();
  const server = await startStandalone(sandbox, {
    name: options.name,
    port: options.port,
    parameters: parameters,
    hba,
    superuserPassword,
    initdbOptions: ["--data-checksums"],
    existingData: options.restored,
    env: options.env,
  });
  return {
    ...server,
    superuserPassword,
    report: formatChanges("postgresql.conf + pg_hba.conf", changes),
    changedKeys: changes.map((c) => c.path),
  };
}

/** Test passwords of the login roles the bootstrap SQL sets (psql variables). */
export type RolePasswords = Readonly<Record<PasswordRole, string>>;

export function rolePasswords(): RolePasswords {
  const entries = Object.keys(PSQL_PASSWORD_VARIABLES).map((role) => [role, testPassword()] as const);
  return Object.fromEntries(entries) as Record<PasswordRole, string>;
}

/**
 * Applies every plain-PostgreSQL file of the rendered bootstrap SQL with psql, in manifest order,
 * as the bootstrap Job does (superuser over the Unix socket, passwords as psql variables).
 */
export function applyPostgresSql(
  sandbox: Sandbox,
  server: Pick<Standalone, "socketDir" | "port">,
  artifacts: RenderedArtifacts,
  passwords: RolePasswords,
): string[] {
  const applied: string[] = [];
  const variables = Object.entries(PSQL_PASSWORD_VARIABLES).flatMap(([role, variable]) => [
    "-v",
    `${variable}=${passwords[role as PasswordRole]}`,
  ]);
  for (const file of artifacts.sql.manifest) {
    if (file.engine !== "postgresql") continue;
    const path = sandbox.writeFile(`sql/${file.name}`, artifacts.sql.files[file.name], 0o600);
    const database = file.database === "maintenance" ? "postgres" : artifacts.inputs.sql.databaseName;
    sandbox.run(`${PG_BIN}/psql`, [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      server.socketDir,
      "-p",
      String(server.port),
      "-U",
      "postgres",
      "-d",
      database,
      ...variables,
      "-f",
      path,
    ]);
    applied.push(file.name);
  }
  return applied;
}
