import * as fs from "node:fs";
import pg from "pg";
import { waitFor } from "./procs";
import type { Proc, Sandbox } from "./sandbox";

/** Debian's PostgreSQL 15 server binaries. */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

export type PgParameters = Readonly<Record<string, string | number | boolean>>;

/** Renders a postgresql.conf value: numbers/booleans bare, strings single-quoted. */
export function pgConfValue(value: string | number | boolean): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "on" : "off";
  return `'${value.replace(/'/g, "''")}'`;
}

export interface StandaloneOptions {
  readonly name: string;
  readonly port: number;
  /** postgresql.conf parameters (the whole file: initdb defaults are replaced). */
  readonly parameters: PgParameters;
  /** pg_hba.conf lines. */
  readonly hba: readonly string[];
  /** Superuser password set at initdb (scram-sha-256). */
  readonly superuserPassword: string;
  /** initdb options, e.g. ["--data-checksums"]. */
  readonly initdbOptions?: readonly string[];
  /** The data directory `sandbox.path(name)` already exists (e.g. a restored backup): skip initdb. */
  readonly existingData?: boolean;
  /** Extra environment of the postmaster (inherited by archive_command / restore_command). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A PostgreSQL 15 postmaster started directly (its PID is the postmaster). */
export interface Standalone {
  readonly proc: Proc;
  readonly dataDir: string;
  readonly port: number;
  readonly socketDir: string;
}

/**
 * initdb (unless restoring) + start `postgres -D` as the engine user, configured only through the
 * given parameters and hba lines (the caller derives both from rendered artifacts).
 */
export async function startStandalone(sandbox: Sandbox, options: StandaloneOptions): Promise<Standalone> {
  const dataDir = sandbox.path(options.name);
  const socketDir = sandbox.mkdir(`${options.name}-socket`, 0o755);
  sandbox.trackDataDir(dataDir);
  if (!options.existingData) {
    sandbox.mkdir(options.name);
    const pwfile = sandbox.writeFile(`${options.name}.pw`, `${options.superuserPassword}\n`);
    sandbox.run(`${PG_BIN}/initdb`, [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=scram-sha-256",
      `--pwfile=${pwfile}`,
      "--encoding=UTF8",
      "--locale=C.UTF-8",
      ...(options.initdbOptions ?? []),
    ]);
    fs.rmSync(pwfile);
  }
  const conf = Object.entries({
    ...options.parameters,
    port: options.port,
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
  })
    .map(([k, v]) => `${k} = ${pgConfValue(v)}`)
    .join("\n");
  sandbox.writeFile(`${options.name}/postgresql.conf`, `${conf}\n`, 0o600);
  sandbox.writeFile(`${options.name}/pg_hba.conf`, `${options.hba.join("\n")}\n`, 0o600);
  const proc = sandbox.spawn(options.name, `${PG_BIN}/postgres`, ["-D", dataDir], { env: options.env });
  await waitFor(
    `PostgreSQL ${options.name} to accept connections on ${options.port}`,
    () => {
      if (proc.exitStatus !== undefined) throw new Error(`postgres exited (${proc.exitStatus})`);
      const out = sandbox.runNoThrow(`${PG_BIN}/pg_isready`, ["-h", socketDir, "-p", String(options.port)]);
      return out.code === 0 ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, detail: () => sandbox.tail(proc) },
  );
  return { proc, dataDir, port: options.port, socketDir };
}

/** Connection settings for `pg` over TLS verified against the test CA. */
export interface ClientTarget {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
  readonly caFile: string;
}

/** A `pg` client over TLS (verify-full against the throwaway CA) with password auth. */
export async function connect(
  target: ClientTarget,
  options: { connectTimeoutMs?: number } = {},
): Promise<pg.Client> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database ?? "postgres",
    ssl: { ca: fs.readFileSync(target.caFile, "utf8"), servername: "localhost", rejectUnauthorized: true },
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: "hcp-itest",
  });
  // A connection dropped by a killed server must not surface as an uncaught 'error' event.
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Runs one query on a fresh connection and closes it. */
export async function queryOnce<R extends pg.QueryResultRow>(
  target: ClientTarget,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = await connect(target);
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
