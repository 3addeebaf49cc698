import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import { renderArtifacts, ROLES, type RenderedArtifacts } from "../../src/render";
import { type LocalPgbouncer, POOLED_TRANSACTION_SCRIPT, startPgbouncer } from "../../src/harness/pgbouncer";
import { parsePgbench } from "../../src/harness/pgbench";
import { connect, PG_BIN } from "../../src/harness/postgres";
import { establishedConnections, freePorts } from "../../src/harness/ports";
import { sleep } from "../../src/harness/procs";
import { Sandbox } from "../../src/harness/sandbox";
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
  let bouncer: LocalPgbouncer;
  let bouncerPort: number;

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

    bouncer = await startPgbouncer(sandbox, artifacts, {
      listenPort: bouncerPort,
      serverPort: server.port,
      tls,
      authPassword: passwords.pgbouncer_auth,
    });
    console.log(bouncer.report);
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
      assert.ok(!bouncer.changes.some((c) => c.path === `pgbouncer.${key}`), `${key} runs as rendered`);
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
    const script = sandbox!.writeFile("pgbench.sql", POOLED_TRANSACTION_SCRIPT, 0o644);
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
        maxClientConnections = Math.max(maxClientConnections, establishedConnections(bouncerPort));
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
    assert.equal(bouncer.proc.exitStatus, undefined, "PgBouncer is still running");
  });
});
