import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import {
  errorSummary,
  localizePatroni,
  localizePgbouncer,
  parseIni,
  parsePgbench,
  parsePgbenchLog,
  steadyState,
  type LocalPgbouncerSite,
  type WriterEvent,
} from "../src/harness";
import { renderArtifacts } from "../src/render";

const artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
const db = artifacts.inputs.pgbouncer.databaseName;
const site: LocalPgbouncerSite = {
  listenPort: 40001,
  serverPort: 40002,
  userlistFile: "/tmp/sb/userlist.txt",
  tls: { caFile: "/tmp/sb/ca.crt", certFile: "/tmp/sb/server.crt", keyFile: "/tmp/sb/server.key" },
};

describe("localizePgbouncer (the rendered pgbouncer.ini on loopback)", () => {
  it("changes only addresses, ports, file locations and the [databases] host/port, and lists each", () => {
    const local = localizePgbouncer(artifacts.pgbouncer.ini, db, site);
    assert.deepEqual(local.changes.map((c) => c.path).sort(), [
      `databases.${db}`,
      "pgbouncer.auth_file",
      "pgbouncer.client_tls_cert_file",
      "pgbouncer.client_tls_key_file",
      "pgbouncer.listen_addr",
      "pgbouncer.listen_port",
      "pgbouncer.server_tls_ca_file",
    ]);
    const rendered = parseIni(artifacts.pgbouncer.ini);
    const ran = parseIni(local.ini);
    assert.equal(
      ran.databases[db],
      rendered.databases[db].replace(/host=\S+ port=\d+/, "host=127.0.0.1 port=40002"),
    );
    for (const key of [
      "pool_mode",
      "max_client_conn",
      "default_pool_size",
      "auth_query",
      "server_tls_sslmode",
    ]) {
      assert.equal(ran.pgbouncer[key], rendered.pgbouncer[key], `${key} runs as rendered`);
    }
    for (const c of local.changes) assert.ok(local.report.includes(c.path), `${c.path} is printed`);
  });

  it("labels a benchmark variant's keys, set or removed (PgBouncer's default)", () => {
    const local = localizePgbouncer(artifacts.pgbouncer.ini, db, site, {
      so_reuseport: 1,
      server_check_query: null,
    });
    const variant = local.changes.filter((c) => c.reason === "benchmark variant");
    assert.deepEqual(
      variant.map((c) => [c.path, c.kind]),
      [
        ["pgbouncer.server_check_query", "removed"],
        ["pgbouncer.so_reuseport", "added"],
      ],
    );
    assert.equal(parseIni(local.ini).pgbouncer.server_check_query, undefined);
  });

  it("refuses an ini whose [databases] entry has no host/port to point at the loopback endpoint", () => {
    const broken = artifacts.pgbouncer.ini.replace(/host=\S+ port=\d+ /, "");
    assert.throws(() => localizePgbouncer(broken, db, site), /no "healthcare" entry with host= and port=/);
  });
});

const PGBENCH_STDOUT = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/x/pgbench.sql
scaling factor: 1
query mode: simple
number of clients: 1000
number of threads: 2
maximum number of tries: 1
duration: 45 s
number of transactions actually processed: 61234
number of failed transactions: 3 (0.005%)
latency average = 512.345 ms
initial connection time = 7890.123 ms
tps = 1951.774812 (without initial connection time)
`;

describe("pgbench output parsing", () => {
  it("reads the summary of pgbench 15", () => {
    assert.deepEqual(parsePgbench(PGBENCH_STDOUT), {
      clients: 1000,
      threads: 2,
      processed: 61234,
      failed: 3,
      tps: 1951.774812,
      latencyAverageMs: 512.345,
      initialConnectionMs: 7890.123,
      aborted: false,
    });
    assert.equal(
      parsePgbench(`${PGBENCH_STDOUT}Run was aborted; the above results are incomplete.\n`).aborted,
      true,
    );
  });

  it("reads per-transaction log lines (microseconds, failed, skipped) and refuses other shapes", () => {
    const tx = parsePgbenchLog(
      "0 1 5448 0 1796169759 745726\n3 7 failed 0 1796169760 000500\n\n1 2 skipped 0 1796169761 5\n",
    );
    assert.deepEqual(tx, [
      { client: 0, endMs: 1796169759745.726, latencyMs: 5.448 },
      { client: 3, endMs: 1796169760000.5 },
      { client: 1, endMs: 1796169761000.005 },
    ]);
    assert.throws(() => parsePgbenchLog("0 1 5448 0\n"), /line 1 is not/);
    assert.throws(() => parsePgbenchLog("0 1 serialization 0 1796169759 1\n"), /unknown time field/);
  });

  it("measures only the interval in which every client was running", () => {
    // Client 0 runs from t=0 to t=10 s, client 1 from t=2 s to t=12 s: the overlap is (2, 10].
    const tx = [
      ...Array.from({ length: 11 }, (_, i) => ({ client: 0, endMs: i * 1000, latencyMs: 1 })),
      ...Array.from({ length: 11 }, (_, i) => ({ client: 1, endMs: 2000 + i * 1000, latencyMs: 2 })),
      { client: 1, endMs: 5500 },
    ];
    const steady = steadyState(tx);
    assert.equal(steady.fromMs, 2000);
    assert.equal(steady.toMs, 10_000);
    // Ends in (2 s, 10 s]: client 0 at 3..10 (8), client 1 at 3..10 (8), one failure.
    assert.equal(steady.transactions, 16);
    assert.equal(steady.failed, 1);
    assert.equal(steady.tps, 2);
    assert.deepEqual(steady.latenciesMs, [...Array<number>(8).fill(1), ...Array<number>(8).fill(2)]);
  });

  it("refuses a run in which the clients never ran together, or ran nothing", () => {
    assert.throws(
      () =>
        steadyState([
          { client: 0, endMs: 1000, latencyMs: 1 },
          { client: 1, endMs: 2000, latencyMs: 1 },
        ]),
      /no interval in which all 2 clients were running/,
    );
    assert.throws(() => steadyState([]), /logged no transaction/);
  });
});

describe("errorSummary (what a writer saw during a failure)", () => {
  it("groups errors after the failure by message without addresses, ports or PIDs", () => {
    const events: WriterEvent[] = [
      {
        ev: "err",
        id: null,
        t: 5,
        phase: "connect",
        msg: "connection to server at 127.0.0.1, port 40001 failed",
      },
      {
        ev: "err",
        id: null,
        t: 10,
        phase: "connect",
        msg: "connection to server at 127.0.0.1, port 40001 failed",
      },
      {
        ev: "err",
        id: null,
        t: 11,
        phase: "connect",
        msg: "connection to server at 127.0.0.1, port 40002 failed\nDETAIL x",
      },
      {
        ev: "err",
        id: 4,
        t: 12,
        phase: "write",
        msg: "server login has been failing, try again later (server_login_retry)",
      },
      { ev: "ack", id: 5, t0: 12, t: 13, port: 1 },
    ];
    assert.deepEqual(errorSummary(events, 10), [
      { message: "connect: connection to server at #, # failed", count: 2 },
      { message: "write: server login has been failing, try again later (server_login_retry)", count: 1 },
    ]);
  });
});

describe("localizePatroni with a standby source (the DR drill)", () => {
  const member = {
    name: "pg-us-east-1-0",
    pgPort: 40011,
    restPort: 40012,
    dataDir: "/tmp/sb/dr-0/data",
    socketDir: "/tmp/sb/dr-0/run",
    pgpassFile: "/tmp/sb/dr-0/pgpass",
  };
  const secrets = { superuser: "a", replication: "b", rewind: "c", restApi: "d" };
  const local = { etcdHosts: ["127.0.0.1:40013"], tls: site.tls };

  it("points the standby cluster at the stand-in endpoint, lists it, and leaves the rest of standby_cluster as rendered", () => {
    const dr = renderArtifacts(repoTopology("production"), "us-east-1").patroni.config;
    const result = localizePatroni(
      dr,
      member,
      { ...local, standbySource: { host: "127.0.0.1", port: 40014 } },
      secrets,
    );
    const standby = (result.config.bootstrap as { dcs: { standby_cluster: Record<string, unknown> } }).dcs
      .standby_cluster;
    assert.deepEqual(standby, { ...dr.bootstrap.dcs.standby_cluster, host: "127.0.0.1", port: 40014 });
    const changed = result.changes.filter((c) => c.path.startsWith("bootstrap.dcs.standby_cluster"));
    assert.deepEqual(
      changed.map((c) => [c.path, c.reason]),
      [
        [
          "bootstrap.dcs.standby_cluster.host",
          "address/port: a LeaderProxy standing in for the writer region's replication NLB",
        ],
        [
          "bootstrap.dcs.standby_cluster.port",
          "address/port: a LeaderProxy standing in for the writer region's replication NLB",
        ],
      ],
    );
  });

  it("leaves standby_cluster as rendered without the option, and refuses the option on a primary configuration", () => {
    const primary = renderArtifacts(repoTopology("production"), "sa-east-1").patroni.config;
    assert.throws(
      () =>
        localizePatroni(
          primary,
          member,
          { ...local, standbySource: { host: "127.0.0.1", port: 1 } },
          secrets,
        ),
      /standbySource given for a configuration without standby_cluster/,
    );
    const dr = renderArtifacts(repoTopology("production"), "us-east-1").patroni.config;
    const plain = localizePatroni(dr, member, local, secrets);
    assert.ok(!plain.changes.some((c) => c.path.startsWith("bootstrap.dcs.standby_cluster")));
  });
});
