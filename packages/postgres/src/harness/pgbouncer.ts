import { randomBytes } from "node:crypto";
import { fillPlaceholders, type RenderedArtifacts } from "../render";
import { ENV } from "../render/placeholders";
import {
  type AllowedChange,
  type Change,
  assertOnlyAllowed,
  diffValues,
  formatChanges,
  formatIni,
  parseIni,
} from "./diff";
import { waitListening } from "./ports";
import type { Proc, Sandbox } from "./sandbox";
import type { TlsFiles } from "./tls";

/**
 * The rendered `pgbouncer.ini` run on loopback: only addresses/ports, file locations and the
 * `[databases]` entry's host/port change, computed by diff and checked against
 * {@link PGBOUNCER_LOCAL_CHANGES}. A benchmark may add a named variant (printed like every other
 * change); the integration test never does.
 */

/** The `host=... port=...` part of a `[databases]` connection string. */
const HOST_PORT = /host=\S+ port=\d+/;

/** What may differ between the rendered pgbouncer.ini and the one run on loopback. */
export const PGBOUNCER_LOCAL_CHANGES: readonly AllowedChange[] = [
  { reason: "address/port: loopback", paths: /^pgbouncer\.(listen_addr|listen_port)$/ },
  {
    reason: "address/port: a loopback endpoint instead of the primary Service",
    paths: /^databases\.[a-z_][a-z0-9_]*$/,
    check: (c) =>
      typeof c.from === "string" &&
      typeof c.to === "string" &&
      c.from.replace(HOST_PORT, "") === c.to.replace(HOST_PORT, ""),
  },
  { reason: "path", paths: /^pgbouncer\.auth_file$/ },
  {
    reason: "TLS file location",
    paths: /^pgbouncer\.(client_tls_cert_file|client_tls_key_file|server_tls_ca_file)$/,
  },
];

/** Where the local PgBouncer listens, connects and finds its files. */
export interface LocalPgbouncerSite {
  readonly listenPort: number;
  /** The loopback port standing in for the primary Service (a server, or a `LeaderProxy`). */
  readonly serverPort: number;
  readonly userlistFile: string;
  readonly tls: TlsFiles;
}

/**
 * A benchmark variant: `[pgbouncer]` keys set to a value, or removed (`null`, i.e. PgBouncer's
 * built-in default). Each key becomes a "benchmark variant" change in the printed list.
 */
export type PgbouncerVariant = Readonly<Record<string, string | number | null>>;

/** A localized pgbouncer.ini and what changed. */
export interface LocalizedPgbouncer {
  readonly doc: Record<string, Record<string, string>>;
  readonly ini: string;
  readonly changes: ReadonlyArray<Change & { reason: string }>;
  /** Printable list of the changed keys (as the integration tests print it). */
  readonly report: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Pure: the rendered pgbouncer.ini with the local site (and an optional benchmark variant)
 * applied; throws, listing them, when a change is not an allowed local difference.
 */
export function localizePgbouncer(
  renderedIni: string,
  databaseName: string,
  site: LocalPgbouncerSite,
  variant: PgbouncerVariant = {},
): LocalizedPgbouncer {
  const rendered = parseIni(renderedIni);
  const doc = structuredClone(rendered);
  const entry = rendered.databases?.[databaseName];
  if (entry === undefined || !HOST_PORT.test(entry)) {
    throw new Error(`pgbouncer.ini: [databases] has no "${databaseName}" entry with host= and port=`);
  }
  doc.databases[databaseName] = entry.replace(HOST_PORT, `host=127.0.0.1 port=${site.serverPort}`);
  const settings = doc.pgbouncer;
  settings.listen_addr = "127.0.0.1";
  settings.listen_port = String(site.listenPort);
  settings.auth_file = site.userlistFile;
  settings.client_tls_cert_file = site.tls.certFile;
  settings.client_tls_key_file = site.tls.keyFile;
  settings.server_tls_ca_file = site.tls.caFile;
  for (const [key, value] of Object.entries(variant)) {
    if (value === null) delete settings[key];
    else settings[key] = String(value);
  }
  const allowed: AllowedChange[] = [...PGBOUNCER_LOCAL_CHANGES];
  const keys = Object.keys(variant);
  if (keys.length > 0) {
    allowed.push({
      reason: "benchmark variant",
      paths: new RegExp(`^pgbouncer\\.(${keys.map(escapeRegExp).join("|")})$`),
    });
  }
  const changes = assertOnlyAllowed("pgbouncer.ini", diffValues(rendered, doc), allowed);
  return { doc, ini: formatIni(doc), changes, report: formatChanges("pgbouncer.ini", changes) };
}

/** Options of {@link startPgbouncer}. */
export interface StartPgbouncerOptions {
  /** Process and file name in the sandbox. @default - "pgbouncer" */
  readonly name?: string;
  readonly listenPort: number;
  readonly serverPort: number;
  readonly tls: TlsFiles;
  /** Password of the rendered `auth_user` (filled into the rendered userlist). */
  readonly authPassword: string;
  /**
   * Password of the metrics role in the rendered userlist (its admin-console login).
   * @default a random one: nothing here logs in as the metrics role
   */
  readonly monitoringPassword?: string;
  readonly variant?: PgbouncerVariant;
}

/** A running local PgBouncer. */
export interface LocalPgbouncer extends LocalizedPgbouncer {
  readonly proc: Proc;
  readonly port: number;
  readonly iniFile: string;
}

/**
 * Starts Debian's PgBouncer on the localized rendered ini, with a descriptor limit for
 * `max_client_conn` clients plus its server connections, and waits until it listens.
 */
export async function startPgbouncer(
  sandbox: Sandbox,
  artifacts: RenderedArtifacts,
  options: StartPgbouncerOptions,
): Promise<LocalPgbouncer> {
  const name = options.name ?? "pgbouncer";
  const userlistFile = sandbox.writeFile(
    `${name}/userlist.txt`,
    fillPlaceholders(artifacts.pgbouncer.userlist, {
      [ENV.pgbouncerAuthPassword]: options.authPassword,
      [ENV.monitoringPassword]: options.monitoringPassword ?? randomBytes(18).toString("base64url"),
    }),
  );
  const local = localizePgbouncer(
    artifacts.pgbouncer.ini,
    artifacts.inputs.pgbouncer.databaseName,
    { listenPort: options.listenPort, serverPort: options.serverPort, userlistFile, tls: options.tls },
    options.variant,
  );
  const iniFile = sandbox.writeFile(`${name}/pgbouncer.ini`, local.ini);
  const maxClients = Number(local.doc.pgbouncer.max_client_conn);
  // A descriptor per client and per server connection; 1024 is the usual default.
  const proc = sandbox.spawn(name, "/usr/sbin/pgbouncer", [iniFile], { maxOpenFiles: maxClients + 1024 });
  await waitListening(sandbox, proc, options.listenPort);
  return { ...local, proc, port: options.listenPort, iniFile };
}

/**
 * The transaction both the PgBouncer integration test and the pooler benchmark run (pgbench
 * script): what an application request does under the rendered roles — set the subject for
 * row-level security, read consents, append to the audit trail — in one transaction.
 */
export const POOLED_TRANSACTION_SCRIPT = [
  "\\set uid random(1, 999999)",
  "BEGIN;",
  "SELECT set_config('app.current_user_id', '00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'), true);",
  "SELECT count(*) FROM healthcare_data.consent_management;",
  "INSERT INTO audit_trail.user_activity (user_id, action) VALUES (('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'pgbench');",
  "COMMIT;",
  "",
].join("\n");
