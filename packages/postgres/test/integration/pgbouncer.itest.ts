import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { repoTopology } from "@hcp/testing";
import { fillPlaceholders, renderArtifacts, ROLES, type RenderedArtifacts } from "../../src/render";
import { ENV } from "../../src/render/placeholders";
import {
  type AllowedChange,
  assertOnlyAllowed,
  diffValues,
  formatChanges,
  formatIni,
  parseIni,
} from "../../src/harness/diff";
import { connect, PG_BIN } from "../../src/harness/postgres";
import { freePorts, waitListening } from "../../src/harness/ports";
import { sleep } from "../../src/harness/procs";
import { type Proc, Sandbox } from "../../src/harness/sandbox";
import {
  applyPostgresSql,
  rolePasswords,
  startRenderedServer,
  type RenderedServer,
  type RolePasswords,
} from "../../src/harness/standalone";
import { requireEngines } from "../../src/harness/tools";
import { makeTls, type TlsFiles } from "../../src/harness/tls";

/** 1000 clients, each holding its own connection to PgBouncer for the whole run. */
const CLIENTS = 1000;
/**
 * Transactions per client. A count, not a duration: under load the 1000 TLS + SCRAM logins alone
 * can take longer than a fixed -T, and each client keeps its connection until its last transaction.
 */
const TRANSACTIONS_PER_CLIENT = 20;

/**
 * The rendered pgbouncer.ini with only addresses/ports and file locations changed; the [databases]
 * entry may only change its host/port.
 */
const ALLOWED: readonly AllowedChange[] = [
  { reason: "address/port: loopback", paths: /^pgbouncer\.(listen_addr|listen_port)$/ },
  {
    reason: "address/port: the local PostgreSQL instead of the primary Service",
    paths: /^databases\.[a-z_][a-z0-9_]*$/,
    check: (c) =>
      typeof c.from === "string" &&
      typeof c.to === "string" &&
      c.from.replace(/host=\S+ port=\d+/, "") === c.to.replace(/host=\S+ port=\d+/, ""),
  },
  { reason: "path", paths: /^pgbouncer\.auth_file$/ },
  {
    reason: "TLS file location",
    paths: /^pgbouncer\.(client_tls_cert_file|client_tls_key_file|server_tls_ca_file)$/,
  },
];

/** Established TCP connections whose local (server) port is `port`, from /proc/net/tcp. */
function establishedTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "01";
    }).length;
}

/** What pgbench reported. */
interface PgbenchSummary {
  readonly clients: number;
  readonly processed: number;
  readonly failed: number;
  readonly tps: number;
  readonly aborted: boolean;
}

function parsePgbench(stdout: string): PgbenchSummary {
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
  return {
    clients: num(/number of clients: (\d+)/),
    processed: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/),
    tps: num(/tps = ([\d.]+)/),
    aborted: /Run was aborted/.test(stdout),
  };
}

/**
 * Real PgBouncer 1.18 with the rendered ini in front of PostgreSQL 15 (rendered parameters, rendered
 * bootstrap SQL: the auth_query function and pooled roles), serving 1000 concurrent TLS clients.
 *
 * Why `pgbench -c 1000` without `-C`: the claim is 1000 *concurrent* clients (max_client_conn), so
 * every client keeps its own TLS session to PgBouncer open for the whole run while transaction
 * pooling multiplexes them onto at most max_db_connections server connections, which the test
 * observes on the server. `-C` would instead measure connection churn (a TLS + SCRAM handshake per
 * transaction), i.e. the CPU of this 2-core machine, with far fewer clients connected at once.
 */
describe("PgBouncer 1.18: rendered pgbouncer.ini serves 1000 concurrent TLS clients", function () {
  let sandbox: Sandbox | undefined;
  let artifacts: RenderedArtifacts;
  let server: RenderedServer;
  let tls: TlsFiles;
  let passwords: RolePasswords;
  let bouncer: Proc;
  let bouncerPort: number;
  let changes: ReturnType<typeof assertOnlyAllowed>;

  before(async function () {
    requireEngines(this, ["postgres", "pgaudit", "pgbouncer", "pgbench", "openssl", "prlimit"]);
    artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
    sandbox = Sandbox.create("pgbouncer");
    tls = makeTls(sandbox);
    const [pgPort, port] = await freePorts(2);
    bouncerPort = port!;
    server = await startRenderedServer(sandbox, artifacts, { name: "pg", port: pgPort, tls });
    passwords = rolePasswords();
    applyPostgresSql(sandbox, server, artifacts, passwords);

    const rendered = parseIni(artifacts.pgbouncer.ini);
    const local = structuredClone(rendered);
    const db = artifacts.inputs.pgbouncer.databaseName;
    local.databases[db] = rendered.databases[db].replace(
      /host=\S+ port=\d+/,
      `host=127.0.0.1 port=${server.port}`,
    );
    const settings = local.pgbouncer;
    settings.listen_addr = "127.0.0.1";
    settings.listen_port = String(bouncerPort);
    settings.auth_file = sandbox.writeFile(
      "pgbouncer/userlist.txt",
      fillPlaceholders(artifacts.pgbouncer.userlist, {
        [ENV.pgbouncerAuthPassword]: passwords.pgbouncer_auth,
      }),
    );
    settings.client_tls_cert_file = tls.certFile;
    settings.client_tls_key_file = tls.keyFile;
    settings.server_tls_ca_file = tls.caFile;
    changes = assertOnlyAllowed("pgbouncer.ini", diffValues(rendered, local), ALLOWED);
    console.log(formatChanges("pgbouncer.ini", changes));
    const ini = sandbox.writeFile("pgbouncer/pgbouncer.ini", formatIni(local));
    const maxClients = Number(settings.max_client_conn);
    // PgBouncer needs a descriptor per client and per server connection; 1024 is the usual default.
    bouncer = sandbox.spawn("pgbouncer", "/usr/sbin/pgbouncer", [ini], { maxOpenFiles: maxClients + 1024 });
    await waitListening(sandbox, bouncer, bouncerPort);
  });

  after(async function () {
    await sandbox?.cleanup();
  });

  it("runs the rendered settings: transaction pooling, TLS both sides, auth_query, >= 1000 clients", function () {
    const rendered = artifacts.pgbouncer.config.pgbouncer;
    assert.equal(rendered.pool_mode, "transaction");
    assert.equal(rendered.client_tls_sslmode, "require");
    assert.equal(rendered.server_tls_sslmode, "verify-full");
    assert.ok(Number(rendered.max_client_conn) >= CLIENTS);
    for (const key of [
      "pool_mode",
      "max_client_conn",
      "default_pool_size",
      "max_db_connections",
      "auth_query",
    ]) {
      assert.ok(!changes.some((c) => c.path === `pgbouncer.${key}`), `${key} runs as rendered`);
    }
  });

  it("refuses clients without TLS and logins that auth_query does not return (superuser)", function () {
    const env = { PGPASSWORD: server.superuserPassword, PGCONNECT_TIMEOUT: "5" };
    const db = artifacts.inputs.pgbouncer.databaseName;
    const plain = sandbox!.runNoThrow(
      `${PG_BIN}/psql`,
      [
        "-X",
        "-c",
        "SELECT 1",
        `host=127.0.0.1 port=${bouncerPort} dbname=${db} user=${ROLES.app} sslmode=disable`,
      ],
      { ...env, PGPASSWORD: passwords.healthcare_app },
    );
    assert.notEqual(plain.code, 0, "a non-TLS client must be refused");
    const su = sandbox!.runNoThrow(
      `${PG_BIN}/psql`,
      [
        "-X",
        "-c",
        "SELECT 1",
        `host=127.0.0.1 port=${bouncerPort} dbname=${db} user=postgres sslmode=require`,
      ],
      env,
    );
    assert.notEqual(su.code, 0, "the superuser must not log in through PgBouncer");
    const app = sandbox!.runNoThrow(
      `${PG_BIN}/psql`,
      [
        "-X",
        "-At",
        "-c",
        "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        `host=127.0.0.1 port=${bouncerPort} dbname=${db} user=${ROLES.app} sslmode=verify-full sslrootcert=${tls.caFile}`,
      ],
      { PGPASSWORD: passwords.healthcare_app, PGCONNECT_TIMEOUT: "5" },
    );
    assert.equal(app.code, 0, app.stderr);
    assert.equal(app.stdout.trim(), `${ROLES.app}|t`, "PgBouncer -> PostgreSQL is TLS too");
  });

  it(`serves ${CLIENTS} concurrent clients (pgbench) with zero connection errors`, async function () {
    const db = artifacts.inputs.pgbouncer.databaseName;
    const script = sandbox!.writeFile(
      "pgbench.sql",
      [
        "\\set uid random(1, 999999)",
        "BEGIN;",
        "SELECT set_config('app.current_user_id', '00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'), true);",
        "SELECT count(*) FROM healthcare_data.consent_management;",
        "INSERT INTO audit_trail.user_activity (user_id, action) VALUES (('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'pgbench');",
        "COMMIT;",
        "",
      ].join("\n"),
      0o644,
    );
    // Server connections PgBouncer opens, sampled on PostgreSQL while the clients run.
    const observer = await connect({
      port: server.port,
      user: "postgres",
      password: server.superuserPassword,
      database: db,
      caFile: tls.caFile,
    });
    let running = true;
    let maxServerConnections = 0;
    let maxClientConnections = 0;
    const sampling = (async () => {
      while (running) {
        maxClientConnections = Math.max(maxClientConnections, establishedTo(bouncerPort));
        const res = await observer.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'",
          [ROLES.app],
        );
        maxServerConnections = Math.max(maxServerConnections, Number(res.rows[0].n));
        await sleep(200);
      }
    })();
    const started = Date.now();
    const result = await sandbox!.runAsync(
      `${PG_BIN}/pgbench`,
      [
        "-n",
        "-c",
        String(CLIENTS),
        "-j",
        "2",
        "-t",
        String(TRANSACTIONS_PER_CLIENT),
        "-f",
        script,
        `host=127.0.0.1 port=${bouncerPort} dbname=${db} user=${ROLES.app} sslmode=verify-full sslrootcert=${tls.caFile}`,
      ],
      {
        env: { PGPASSWORD: passwords.healthcare_app, PGCONNECT_TIMEOUT: "60" },
        maxOpenFiles: CLIENTS + 1024,
      },
    );
    running = false;
    await sampling;
    await observer.end();
    const summary = parsePgbench(result.stdout);
    console.log(
      result.stdout
        .split("\n")
        .filter((l) => /latency average|connection time|tps|duration/.test(l))
        .map((l) => `        ${l}`)
        .join("\n"),
    );
    const connectionErrors = result.stderr
      .split("\n")
      .filter((l) => /connection|could not|aborted|error/i.test(l));
    console.log(
      `      pgbench: ${summary.clients} clients, ${summary.processed} transactions, ${summary.failed} failed, ` +
        `${summary.tps.toFixed(0)} tps in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `at most ${maxClientConnections} clients connected at once and ${maxServerConnections} server connections (max_db_connections ${artifacts.pgbouncer.config.pgbouncer.max_db_connections})`,
    );
    assert.deepEqual(connectionErrors, [], `pgbench reported errors:\n${result.stderr.slice(0, 2000)}`);
    assert.equal(
      result.code,
      0,
      `pgbench exited ${result.code}:\n${result.stdout}\n${result.stderr.slice(0, 2000)}`,
    );
    assert.equal(summary.aborted, false, "pgbench aborted clients");
    assert.equal(summary.clients, CLIENTS);
    assert.equal(summary.failed, 0);
    assert.equal(
      summary.processed,
      CLIENTS * TRANSACTIONS_PER_CLIENT,
      "every client ran all its transactions",
    );
    assert.ok(maxClientConnections >= CLIENTS, `only ${maxClientConnections} clients were connected at once`);
    assert.ok(maxServerConnections > 0, "PostgreSQL saw the pooled connections");
    assert.ok(
      maxServerConnections <= Number(artifacts.pgbouncer.config.pgbouncer.max_db_connections),
      `${maxServerConnections} server connections exceed max_db_connections`,
    );
    assert.equal(bouncer.exitStatus, undefined, "PgBouncer is still running");
  });
});
