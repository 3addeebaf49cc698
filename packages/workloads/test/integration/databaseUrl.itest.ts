import * as assert from "node:assert/strict";
import { CREDENTIALS, renderArtifacts, ROLES, type RenderedArtifacts } from "@hcp/postgres";
import {
  applyPostgresSql,
  type CaFiles,
  type CertificateUsage,
  freePorts,
  issueCertificate,
  makeCa,
  PG_BIN,
  requireEngines,
  rolePasswords,
  type RolePasswords,
  Sandbox,
  startPgbouncer,
  startRenderedServer,
} from "@hcp/postgres/harness";
import type { EnvironmentTopology } from "@hcp/platform";
import { ofType, type RegisteredResource, repoTopology, runLayer } from "@hcp/testing";
import { DATABASE_CA, secretNames } from "../../src/services";
import { renderEsoTemplate } from "./esoTemplate";

/**
 * The DATABASE_URL the workloads layer composes, used exactly as the pods get it, against the data
 * tier on real engines (issue 11, Verification): PostgreSQL 15 with the rendered parameters and
 * bootstrap SQL, and PgBouncer 1.18 with the rendered pgbouncer.ini, both with certificates issued
 * exactly as the data layer requests them from cert-manager (`DataTierTls`), by a CA shaped like the
 * generated one.
 *
 * Where each piece comes from (nothing is retyped here):
 * - the URL template and the Secrets Manager references: the `ExternalSecret` the real workloads
 *   program (production, primary region, under the strict mocks) creates for the first service with
 *   read-write database access;
 * - the secret's JSON: the `SecretVersion` the real data program writes for the referenced secret,
 *   with the mock password replaced by the one the harness set on the role;
 * - the server certificates: the data program's `pgbouncer-tls` and `postgres-tls` Certificates
 *   (common name, DNS names, usages; ECDSA P-256), the CA's common name from its `SelfSignedCert`.
 *
 * What differs from a pod, printed by the suite: the URL keeps its host name (verify-full checks it)
 * and gets `hostaddr=127.0.0.1` (libpq connects there instead of resolving the name), the port of the
 * local PgBouncer, and `sslrootcert` pointing at the local CA file instead of the mounted ConfigMap;
 * the PostgreSQL certificate also names 127.0.0.1, where the localized pgbouncer.ini connects.
 * The client is libpq (`psql`), the reference implementation of the URL's parameters.
 */

const ENVIRONMENT = "production";

interface SecretRef {
  readonly secretKey: string;
  readonly remoteRef: { readonly key: string; readonly property?: string };
}

interface CertificateRequest {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly usages: readonly string[];
  readonly privateKey: { readonly algorithm: string; readonly size: number };
}

/** The parts of a `postgresql://user:password@host:port/db?query` URL. */
interface UrlParts {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
}

const URL_SHAPE = /^postgresql:\/\/([^:@/]+):([^@/]+)@([^:/?@]+):(\d+)\/([^?/]+)\?(.+)$/;

function parseUrl(url: string): UrlParts {
  const m = URL_SHAPE.exec(url);
  if (!m) {
    throw new Error(`DATABASE_URL is not postgresql://user:password@host:port/db?query: ${mask(url)}`);
  }
  return {
    user: decodeURIComponent(m[1]),
    password: decodeURIComponent(m[2]),
    host: m[3],
    port: Number(m[4]),
    database: m[5],
    query: m[6].split("&").map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)] as const;
    }),
  };
}

/** The URL with the password replaced, for printing. */
function mask(url: string): string {
  return url.replace(/^(postgresql:\/\/[^:@/]+:)[^@/]+@/, "$1***@");
}

/** The URL with its host, port and query replaced where given (user, password, database kept). */
function withParts(url: string, change: { host?: string; port?: number; query?: UrlParts["query"] }): string {
  const m = URL_SHAPE.exec(url)!;
  const query = (change.query ?? parseUrl(url).query).map(([k, v]) => `${k}=${v}`).join("&");
  return `postgresql://${m[1]}:${m[2]}@${change.host ?? m[3]}:${change.port ?? m[4]}/${m[5]}?${query}`;
}

function setQuery(query: UrlParts["query"], key: string, value: string): UrlParts["query"] {
  return query.some(([k]) => k === key)
    ? query.map(([k, v]) => [k, k === key ? value : v] as const)
    : [...query, [key, value] as const];
}

/** The one element of `list`, or an error naming what was looked for. */
function only<T>(list: readonly T[], what: string): T {
  if (list.length !== 1) {
    throw new Error(`expected exactly one ${what}, found ${list.length}`);
  }
  return list[0];
}

function certificateRequest(
  resources: readonly RegisteredResource[],
  secretName: string,
): CertificateRequest {
  const certificate = only(
    ofType(resources, "kubernetes:cert-manager.io/v1:Certificate").filter(
      (r) => (r.inputs["metadata"] as { name: string }).name === secretName,
    ),
    `Certificate ${secretName}`,
  );
  return certificate.inputs["spec"] as CertificateRequest;
}

function tlsUsages(request: CertificateRequest): CertificateUsage[] {
  return request.usages.filter((u): u is CertificateUsage => u === "server auth" || u === "client auth");
}

describe("DATABASE_URL of the workloads layer on the real data tier (PgBouncer 1.18 + PostgreSQL 15, verify-full)", function () {
  let sandbox: Sandbox | undefined;
  let topology: EnvironmentTopology;
  let artifacts: RenderedArtifacts;
  let passwords: RolePasswords;
  let service: string;
  let template: string;
  let composed: string;
  let local: string;
  let bouncerPort: number;
  let ca: CaFiles;
  let pgbouncerCert: CertificateRequest;
  let postgresCert: CertificateRequest;
  let secretJson: Record<string, unknown>;

  before(async function () {
    requireEngines(this, ["postgres", "pgaudit", "pgbouncer", "openssl"]);
    topology = repoTopology(ENVIRONMENT);
    const region = topology.regions.find((r) => r.role === "primary")!.name;

    // What the programs create.
    const workloads = await runLayer({ layer: "workloads", topology, region });
    const data = await runLayer({ layer: "data", topology, region });
    const readWrite = topology.workloads.services.find((s) => s.database.access === "readWrite");
    assert.ok(readWrite, `${ENVIRONMENT} has no service with read-write database access`);
    service = readWrite.name;
    const externalSecret = only(
      ofType(workloads.resources, "kubernetes:external-secrets.io/v1:ExternalSecret").filter(
        (r) => (r.inputs["metadata"] as { name: string }).name === secretNames(service).database,
      ),
      `ExternalSecret ${secretNames(service).database}`,
    );
    const spec = externalSecret.inputs["spec"] as {
      data: SecretRef[];
      target: { template: { data: Record<string, string> } };
    };
    template = spec.target.template.data["DATABASE_URL"]!;
    const keys = [...new Set(spec.data.map((d) => d.remoteRef.key))];
    assert.equal(keys.length, 1, "username and password come from one secret");
    const secret = only(
      ofType(data.resources, "aws:secretsmanager/secret:Secret").filter(
        (r) => (r.wireOutputs as Record<string, unknown>)["arn"] === keys[0],
      ),
      `the data layer's secret ${keys[0]}`,
    );
    const version = only(
      ofType(data.resources, "aws:secretsmanager/secretVersion:SecretVersion").filter(
        (r) => r.inputs["secretId"] === secret.id,
      ),
      `the version of ${keys[0]}`,
    );
    secretJson = JSON.parse(version.inputs["secretString"] as string) as Record<string, unknown>;
    pgbouncerCert = certificateRequest(data.resources, "pgbouncer-tls");
    postgresCert = certificateRequest(data.resources, "postgres-tls");
    const caCert = only(ofType(data.resources, "tls:index/selfSignedCert:SelfSignedCert"), "data tier CA");
    const caCommonName = (caCert.inputs["subject"] as { commonName: string }).commonName;

    // The engines, from the rendered files.
    artifacts = renderArtifacts(topology, region);
    sandbox = Sandbox.create("workloads-database-url");
    ca = makeCa(sandbox, "data-ca", caCommonName);
    const ecdsa = (r: CertificateRequest) =>
      assert.deepEqual([r.privateKey.algorithm, r.privateKey.size], ["ECDSA", 256]);
    ecdsa(pgbouncerCert);
    ecdsa(postgresCert);
    const postgresTls = issueCertificate(sandbox, ca, {
      name: "postgres",
      commonName: postgresCert.commonName,
      dnsNames: postgresCert.dnsNames,
      ipAddresses: ["127.0.0.1"],
      usages: tlsUsages(postgresCert),
    });
    const pgbouncerTls = issueCertificate(sandbox, ca, {
      name: "pgbouncer",
      commonName: pgbouncerCert.commonName,
      dnsNames: pgbouncerCert.dnsNames,
      usages: tlsUsages(pgbouncerCert),
    });
    const [pgPort, port] = await freePorts(2);
    bouncerPort = port!;
    const server = await startRenderedServer(sandbox, artifacts, {
      name: "pg",
      port: pgPort,
      tls: postgresTls,
    });
    passwords = rolePasswords();
    applyPostgresSql(sandbox, server, artifacts, passwords);
    const bouncer = await startPgbouncer(sandbox, artifacts, {
      listenPort: bouncerPort,
      serverPort: server.port,
      tls: pgbouncerTls,
      authPassword: passwords.pgbouncer_auth,
    });
    console.log(bouncer.report);

    // The Secret ESO would write: the template over the secret's properties, the password being
    // the one the harness set on the role.
    const username = secretJson["username"];
    assert.ok(
      typeof username === "string" && username in passwords,
      `a role the harness sets: ${String(username)}`,
    );
    const stored = { ...secretJson, password: passwords[username as keyof RolePasswords] };
    const values = Object.fromEntries(
      spec.data.map((d) => {
        const value =
          d.remoteRef.property === undefined
            ? JSON.stringify(stored)
            : stored[d.remoteRef.property as keyof typeof stored];
        assert.equal(typeof value, "string", `secret property ${d.remoteRef.property ?? "(whole value)"}`);
        return [d.secretKey, value];
      }),
    );
    composed = renderEsoTemplate(template, values);
    const parts = parseUrl(composed);
    local = withParts(composed, {
      port: bouncerPort,
      query: setQuery(setQuery(parts.query, "sslrootcert", ca.certFile), "hostaddr", "127.0.0.1"),
    });
    console.log(
      [
        `      DATABASE_URL (${service}, as composed):  ${mask(composed)}`,
        `      DATABASE_URL (localized to loopback): ${mask(local)}`,
        `        port ${parts.port} -> ${bouncerPort} (the local PgBouncer); sslrootcert -> the local data-tier CA; hostaddr=127.0.0.1 added (the host name stays: verify-full checks it)`,
      ].join("\n"),
    );
  });

  after(async function () {
    await sandbox?.cleanup();
  });

  /** psql over a URL: no password file, no environment defaults, the password from the URL. */
  function psql(url: string, sql: string) {
    return sandbox!.runNoThrow(`${PG_BIN}/psql`, ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, url], {
      PGCONNECT_TIMEOUT: "5",
      PGPASSFILE: "/dev/null",
    });
  }

  it("names PgBouncer by a name on its certificate, the app role and verify-full with the mounted CA", function () {
    const parts = parseUrl(composed);
    assert.ok(
      pgbouncerCert.dnsNames.includes(parts.host),
      `host ${parts.host} is not on the PgBouncer certificate (${pgbouncerCert.dnsNames.join(", ")})`,
    );
    assert.equal(
      parts.port,
      Number(artifacts.pgbouncer.config.pgbouncer.listen_port),
      "PgBouncer's rendered port",
    );
    assert.equal(parts.port, secretJson["port"]);
    assert.equal(parts.host, secretJson["host"]);
    assert.equal(parts.database, artifacts.inputs.pgbouncer.databaseName);
    assert.equal(parts.user, CREDENTIALS.app);
    const query = Object.fromEntries(parts.query);
    assert.equal(query["sslmode"], "verify-full");
    assert.equal(query["sslrootcert"], `${DATABASE_CA.mountPath}/${DATABASE_CA.key}`);
    assert.ok(!template.includes(parts.password), "the template holds no password");
  });

  it("connects through PgBouncer to PostgreSQL as the least-privilege app role, TLS on both legs", function () {
    const who = psql(
      local,
      "SELECT current_user, session_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert.equal(who.code, 0, who.stderr);
    assert.equal(
      who.stdout.trim(),
      `${ROLES.app}|${ROLES.app}|t`,
      "the app role, PgBouncer -> PostgreSQL over TLS",
    );
    const attributes = psql(
      local,
      "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    );
    assert.equal(attributes.code, 0, attributes.stderr);
    assert.equal(
      attributes.stdout.trim(),
      "f|f|f|f|f",
      "no superuser, role, database, replication or RLS-bypass rights",
    );
    const ddl = psql(
      local,
      "SELECT has_database_privilege(current_database(), 'CREATE'), has_schema_privilege('healthcare_data', 'CREATE'), has_schema_privilege('audit_trail', 'CREATE')",
    );
    assert.equal(ddl.code, 0, ddl.stderr);
    assert.equal(ddl.stdout.trim(), "f|f|f", "no DDL: migrations use the admin role");
    const append = psql(
      local,
      "INSERT INTO audit_trail.user_activity (user_id, action) VALUES ('00000000-0000-4000-8000-000000000001', 'itest')",
    );
    assert.equal(append.code, 0, `the app appends to the audit trail: ${append.stderr}`);
    const erase = psql(local, "DELETE FROM audit_trail.user_activity");
    assert.notEqual(erase.code, 0, "the audit trail is append-only for the app");
    assert.match(erase.stderr, /permission denied/);
  });

  it("fails with a certificate error against another CA (same common name, other key)", function () {
    const other = makeCa(sandbox!, "other-ca", ca.commonName);
    const url = withParts(local, { query: setQuery(parseUrl(local).query, "sslrootcert", other.certFile) });
    const r = psql(url, "SELECT 1");
    assert.notEqual(r.code, 0, "verify-full must refuse a server certificate of another CA");
    assert.match(r.stderr, /certificate verify failed/);
    console.log(`      libpq: ${r.stderr.trim().split("\n").pop()}`);
  });

  it("fails verify-full with a host name that is not on the PgBouncer certificate", function () {
    // The data tier's PostgreSQL primary name: a plausible mix-up, served here by PgBouncer.
    const wrong = postgresCert.commonName;
    assert.ok(!pgbouncerCert.dnsNames.includes(wrong) && pgbouncerCert.commonName !== wrong);
    const r = psql(withParts(local, { host: wrong }), "SELECT 1");
    assert.notEqual(r.code, 0, "verify-full must refuse a certificate that does not name the host");
    assert.match(r.stderr, new RegExp(`does not match host name "${wrong.replace(/\./g, "\\.")}"`));
    console.log(`      libpq: ${r.stderr.trim().split("\n").pop()}`);
  });
});
