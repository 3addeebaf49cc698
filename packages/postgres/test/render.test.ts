import * as assert from "node:assert/strict";
import type { SynchronousMode } from "@hcp/platform";
import { repoTopology, withRegions } from "@hcp/testing";
import { parse } from "yaml";
import {
  artifactFiles,
  backupCommand,
  checkPatroniTiming,
  deployMarkers,
  envReferences,
  fillPlaceholders,
  PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS,
  RenderError,
  renderArtifacts,
  renderInputs,
  renderPatroniConfig,
  renderPgbackrestConf,
  replicationDynamicConfig,
  standbySourceOf,
  synchronousSettings,
  withWriter,
} from "../src/render";

const production = repoTopology("production");
const staging = repoTopology("staging");

function withPatroni(
  topology: typeof production,
  patroni: Partial<(typeof production)["data"]["patroni"]>,
): typeof production {
  return { ...topology, data: { ...topology.data, patroni: { ...topology.data.patroni, ...patroni } } };
}

describe("Patroni rendering", () => {
  const prod = renderArtifacts(production, "sa-east-1");

  it("renders YAML that parses back to the typed config", () => {
    assert.deepEqual(parse(prod.patroni.yaml), JSON.parse(JSON.stringify(prod.patroni.config)));
  });

  it("uses the Kubernetes DCS in ConfigMaps mode with explicit role label values", () => {
    const doc = parse(prod.patroni.yaml) as Record<string, Record<string, unknown>>;
    assert.deepEqual(doc["kubernetes"], {
      namespace: "hcp-data",
      labels: { "app.kubernetes.io/name": "patroni", "cluster-name": "pg-sa-east-1" },
      scope_label: "cluster-name",
      role_label: "role",
      leader_label_value: "primary",
      follower_label_value: "replica",
      standby_leader_label_value: "primary",
      use_endpoints: false,
    });
    assert.equal(doc["etcd3"], undefined);
  });

  it("takes ttl, loop_wait, retry_timeout and maximum_lag_on_failover from the config", () => {
    const dcs = prod.patroni.config.bootstrap.dcs;
    assert.deepEqual(
      [dcs.ttl, dcs.loop_wait, dcs.retry_timeout, dcs.maximum_lag_on_failover],
      [20, 5, 5, 1048576],
    );
    const other = renderArtifacts(
      withPatroni(production, { ttlSeconds: 45, loopWaitSeconds: 7, retryTimeoutSeconds: 9 }),
      "sa-east-1",
    );
    assert.deepEqual(
      [other.patroni.config.bootstrap.dcs.ttl, other.patroni.config.bootstrap.dcs.loop_wait],
      [45, 7],
    );
  });

  it("refuses timing that breaks loop_wait + 2 * retry_timeout <= ttl, naming the fix", () => {
    assert.deepEqual(checkPatroniTiming({ ttlSeconds: 20, loopWaitSeconds: 10, retryTimeoutSeconds: 5 }), []);
    const problems = checkPatroniTiming({ ttlSeconds: 20, loopWaitSeconds: 10, retryTimeoutSeconds: 6 });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /= 22 exceeds ttl \(20\).*raise ttl to 22/);
    const input = renderInputs(production, "sa-east-1").inputs.patroni;
    assert.throws(() => renderPatroniConfig({ ...input, retryTimeoutSeconds: 8 }), /exceeds ttl/);
  });

  const modes: ReadonlyArray<readonly [SynchronousMode, boolean, boolean]> = [
    ["off", false, false],
    ["on", true, false],
    ["strict", true, true],
  ];
  for (const [mode, sync, strict] of modes) {
    it(`renders synchronousMode ${mode} as synchronous_mode ${sync}, strict ${strict}`, () => {
      assert.deepEqual(synchronousSettings(mode), {
        synchronous_mode: sync,
        synchronous_mode_strict: strict,
      });
      const dcs = renderArtifacts(withPatroni(staging, { synchronousMode: mode }), "sa-east-1").patroni.config
        .bootstrap.dcs;
      assert.equal(dcs.synchronous_mode, sync);
      assert.equal(dcs.synchronous_mode_strict, strict);
    });
  }

  it("keeps the repository's postures: strict in production, on in staging", () => {
    assert.equal(prod.patroni.config.bootstrap.dcs.synchronous_mode_strict, true);
    const stg = renderArtifacts(staging, "sa-east-1").patroni.config.bootstrap.dcs;
    assert.deepEqual([stg.synchronous_mode, stg.synchronous_mode_strict], [true, false]);
  });

  it("turns on failsafe, pg_rewind, slots and data checksums", () => {
    const dcs = prod.patroni.config.bootstrap.dcs;
    assert.equal(dcs.failsafe_mode, true);
    assert.equal(dcs.postgresql.use_pg_rewind, true);
    assert.equal(dcs.postgresql.use_slots, true);
    assert.ok(prod.patroni.config.bootstrap.initdb.includes("data-checksums"));
  });

  it("has a TLS-only pg_hba: every network line is hostssl with scram-sha-256", () => {
    const hba = prod.patroni.config.postgresql.pg_hba;
    for (const line of hba) {
      const [type, , , ...rest] = line.split(/\s+/);
      assert.ok(type === "local" || type === "hostssl", `non-TLS line: ${line}`);
      assert.doesNotMatch(line, /\bmd5\b|\btrust\b|\bpassword\b/, line);
      assert.doesNotMatch(line, /0\.0\.0\.0\/0|::\/0/, line);
      if (type === "hostssl") {
        assert.equal(rest[rest.length - 1], "scram-sha-256", line);
      }
    }
    assert.deepEqual(hba, [
      "local all postgres peer",
      "local all all scram-sha-256",
      "hostssl replication replicator 10.20.0.0/16 scram-sha-256",
      "hostssl replication replicator 10.30.0.0/16 scram-sha-256",
      // The other region's standby leader may pg_rewind from here (a fenced old primary does).
      "hostssl postgres rewind_user 10.30.0.0/16 scram-sha-256",
      "hostssl all all 10.20.0.0/16 scram-sha-256",
    ]);
  });

  it("sets the security, archive, preload, pgaudit and logging parameters", () => {
    const p = prod.patroni.config.bootstrap.dcs.postgresql.parameters;
    assert.equal(p["password_encryption"], "scram-sha-256");
    assert.equal(p["ssl"], "on");
    assert.equal(p["ssl_min_protocol_version"], "TLSv1.2");
    assert.equal(p["archive_mode"], "on");
    assert.equal(p["archive_timeout"], 60);
    assert.equal(p["archive_command"], 'pgbackrest --stanza=hcp-production archive-push "%p"');
    assert.equal(p["shared_preload_libraries"], "timescaledb,pgaudit,pg_stat_statements");
    assert.equal(p["pgaudit.log"], "ddl, write, role");
    assert.equal(p["pgaudit.log_parameter"], "off");
    assert.equal(p["log_parameter_max_length"], 0);
    assert.equal(p["log_connections"], "on");
    assert.equal(p["max_connections"], 305);
    assert.equal(p["shared_buffers"], "14681MB");
    const local = prod.patroni.config.postgresql.parameters;
    assert.equal(local["ssl_cert_file"], "/etc/hcp/tls/postgres/tls.crt");
  });

  it("follows archiveTimeoutSeconds from the config", () => {
    const t = {
      ...production,
      data: { ...production.data, backup: { ...production.data.backup, archiveTimeoutSeconds: 30 } },
    };
    assert.equal(
      renderArtifacts(t, "sa-east-1").patroni.config.bootstrap.dcs.postgresql.parameters["archive_timeout"],
      30,
    );
  });

  it("quotes on/off so YAML 1.1 readers (Patroni's PyYAML) keep them as strings", () => {
    assert.match(prod.patroni.yaml, /\n {8}archive_mode: "on"\n/);
    assert.match(prod.patroni.yaml, /\n {8}pgaudit\.log_catalog: "off"\n/);
    assert.doesNotMatch(prod.patroni.yaml, /: (on|off)\n/);
  });

  it("holds no secret: passwords and member identities are environment references", () => {
    assert.deepEqual(envReferences(prod.patroni.yaml), [
      "PATRONI_NAME",
      "PATRONI_RESTAPI_CONNECT_ADDRESS",
      "PATRONI_RESTAPI_PASSWORD",
      "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
      "PATRONI_SUPERUSER_PASSWORD",
      "PATRONI_REPLICATION_PASSWORD",
      "PATRONI_REWIND_PASSWORD",
    ]);
    const auth = prod.patroni.config.postgresql.authentication;
    assert.equal(auth.replication.sslmode, "verify-full");
    assert.equal(prod.patroni.config.restapi.authentication.password, "${PATRONI_RESTAPI_PASSWORD}");
  });

  it("renders a DR region as a standby cluster of the primary and refuses the wrong role/region pairs", () => {
    const dr = renderArtifacts(production, "us-east-1");
    assert.deepEqual(dr.patroni.config.bootstrap.dcs.standby_cluster, {
      host: "replication.sa-east-1.data.production.hcp.internal",
      port: 5432,
      primary_slot_name: "hcp_standby_us_east_1",
      create_replica_methods: ["pgbackrest", "basebackup"],
      restore_command:
        'pgbackrest --stanza=hcp-production archive-get %f "%p" || pgbackrest --stanza=hcp-production-us-east-1 archive-get %f "%p"',
    });
    assert.equal(
      dr.patroni.config.bootstrap.dcs.slots,
      undefined,
      "a standby cluster keeps no permanent slot",
    );
    assert.equal(dr.names.scope, "pg-us-east-1");
    assert.equal(dr.names.stanza, "hcp-production-us-east-1");
    // The primary keeps one slot per other region and streams to no one.
    assert.equal(prod.patroni.config.bootstrap.dcs.standby_cluster, undefined);
    assert.deepEqual(prod.patroni.config.bootstrap.dcs.slots, {
      hcp_standby_us_east_1: { type: "physical" },
    });
    const source = standbySourceOf(production, "us-east-1");
    assert.throws(
      () => renderArtifacts(production, "us-east-1", { role: { kind: "primary" } }),
      (e: Error) => {
        assert.ok(e instanceof RenderError);
        assert.match(
          e.message,
          /us-east-1 is not the writer of production \(sa-east-1 is\)\. Fix: render sa-east-1/,
        );
        return true;
      },
    );
    assert.throws(
      () => renderArtifacts(production, "sa-east-1", { role: { kind: "standby", source } }),
      /sa-east-1 is the writer of production/,
    );
    assert.throws(() => renderArtifacts(production, "eu-west-1"), /not part of environment production/);
  });

  it("follows dr.promotedRegion: the promoted region renders the primary, the old primary a standby of it", () => {
    const promoted = withWriter(production, "us-east-1");
    assert.equal(promoted.dr.promotedRegion, "us-east-1");
    const dr = renderArtifacts(promoted, "us-east-1");
    const old = renderArtifacts(promoted, "sa-east-1");
    assert.equal(dr.patroni.config.bootstrap.dcs.standby_cluster, undefined);
    assert.deepEqual(dr.patroni.config.bootstrap.dcs.slots, { hcp_standby_sa_east_1: { type: "physical" } });
    assert.deepEqual(old.patroni.config.bootstrap.dcs.standby_cluster, {
      host: "replication.us-east-1.data.production.hcp.internal",
      port: 5432,
      primary_slot_name: "hcp_standby_sa_east_1",
      create_replica_methods: ["pgbackrest", "basebackup"],
      // The promoted region's stanza first: the new timeline's WAL is archived there.
      restore_command:
        'pgbackrest --stanza=hcp-production-us-east-1 archive-get %f "%p" || pgbackrest --stanza=hcp-production archive-get %f "%p"',
    });
    // Each keeps writing its own stanza: the promoted cluster never archives into the primary's.
    const params = (a: typeof dr) => a.patroni.config.bootstrap.dcs.postgresql.parameters;
    assert.equal(
      params(dr).archive_command,
      'pgbackrest --stanza=hcp-production-us-east-1 archive-push "%p"',
    );
    assert.equal(params(old).archive_command, 'pgbackrest --stanza=hcp-production archive-push "%p"');
    // The promoted cluster's repositories do not include the region it replaces.
    assert.deepEqual(
      dr.inputs.pgbackrest.repos.map((r) => (r.type === "s3" ? r.region : r.path)),
      ["us-east-1"],
    );
    assert.deepEqual(replicationDynamicConfig(promoted, "us-east-1"), {
      standby_cluster: null,
      slots: { hcp_standby_sa_east_1: { type: "physical" } },
      postgresql: { parameters: { max_slot_wal_keep_size: "64GB" } },
    });
    assert.deepEqual(withWriter(promoted, "sa-east-1").dr, production.dr);
  });

  it("bounds the WAL kept for a disconnected standby and restores from every stanza, the writer's first", () => {
    const params = prod.patroni.config.bootstrap.dcs.postgresql.parameters;
    assert.equal(params.max_slot_wal_keep_size, "64GB");
    assert.equal(
      prod.patroni.config.postgresql.recovery_conf.restore_command,
      'pgbackrest --stanza=hcp-production archive-get %f "%p" || pgbackrest --stanza=hcp-production-us-east-1 archive-get %f "%p"',
    );
  });

  it("renders an etcd3 variant from the same inputs (local clusters)", () => {
    const input = renderInputs(staging, "sa-east-1").inputs.patroni;
    const local = renderPatroniConfig({ ...input, dcs: { type: "etcd3", hosts: ["127.0.0.1:2379"] } });
    assert.deepEqual(local.config.etcd3, { hosts: ["127.0.0.1:2379"] });
    assert.equal(local.config.kubernetes, undefined);
    assert.deepEqual(local.config.bootstrap.dcs, renderPatroniConfig(input).config.bootstrap.dcs);
  });
});

describe("PgBouncer rendering", () => {
  const prod = renderArtifacts(production, "sa-east-1").pgbouncer;

  it("pools transactions for the application database in front of the primary, with TLS both ways", () => {
    assert.deepEqual(prod.config.databases, {
      healthcare: "host=pg-sa-east-1.hcp-data.svc.cluster.local port=5432 dbname=healthcare",
    });
    const b = prod.config.pgbouncer;
    assert.equal(b["pool_mode"], "transaction");
    assert.equal(b["client_tls_sslmode"], "require");
    assert.equal(b["server_tls_sslmode"], "verify-full");
    assert.equal(b["auth_type"], "scram-sha-256");
    assert.equal(b["auth_user"], "pgbouncer_auth");
    assert.equal(b["auth_query"], "SELECT usename, passwd FROM pgbouncer.get_auth($1)");
  });

  it("takes client connections and pool sizes from the config, capping server connections", () => {
    assert.equal(prod.config.pgbouncer["max_client_conn"], 4000);
    assert.equal(prod.config.pgbouncer["default_pool_size"], 80);
    assert.equal(prod.config.pgbouncer["max_db_connections"], 85);
    const stg = renderArtifacts(staging, "sa-east-1").pgbouncer.config.pgbouncer;
    assert.equal(stg["max_client_conn"], 2000);
    assert.ok((stg["max_client_conn"] as number) >= 1000);
  });

  it("retries a failed server login after 1 s, not PgBouncer's 15 s, so clients follow a new leader", () => {
    // 15 s (the default when the key is absent) added 10-11 s to every node loss and switchover seen
    // through PgBouncer in the failover benchmark; 1 s added at most 1.2 s.
    assert.equal(prod.config.pgbouncer["server_login_retry"], PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS);
    assert.ok(PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS > 0 && PGBOUNCER_SERVER_LOGIN_RETRY_SECONDS <= 1);
    assert.match(prod.ini, /^server_login_retry = 1$/m);
  });

  it("renders every option as one `key = value` line and the userlist with placeholders", () => {
    const lines = prod.ini.split("\n").filter((l) => /^[a-z_]+ = /.test(l));
    assert.equal(lines.length, Object.keys(prod.config.pgbouncer).length + 1);
    assert.equal(
      prod.userlist,
      '"pgbouncer_auth" "${PGBOUNCER_AUTH_PASSWORD}"\n"hcp_monitoring" "${MONITORING_PASSWORD}"\n',
    );
    assert.equal(
      fillPlaceholders(prod.userlist, { PGBOUNCER_AUTH_PASSWORD: "s3cret", MONITORING_PASSWORD: "m0n" }),
      '"pgbouncer_auth" "s3cret"\n"hcp_monitoring" "m0n"\n',
    );
    assert.throws(
      () => fillPlaceholders(prod.userlist, {}),
      /no value for PGBOUNCER_AUTH_PASSWORD, MONITORING_PASSWORD/,
    );
  });

  it("lets only the metrics role read the admin console (stats_users), from the auth_file", () => {
    assert.equal(prod.config.pgbouncer["stats_users"], "hcp_monitoring");
    assert.equal(prod.config.pgbouncer["admin_users"], undefined);
  });
});

describe("pgBackRest rendering", () => {
  it("has repo1 in the region and repo2 in the DR region, with deploy markers offline", () => {
    const prod = renderArtifacts(production, "sa-east-1").pgbackrest;
    const g = prod.config["global"];
    assert.equal(g["repo1-s3-region"], "sa-east-1");
    assert.equal(g["repo1-s3-endpoint"], "s3.sa-east-1.amazonaws.com");
    assert.equal(g["repo2-s3-region"], "us-east-1");
    assert.equal(g["repo1-s3-key-type"], "pod-id");
    assert.equal(g["archive-async"], "y");
    assert.equal(g["repo1-retention-full"], 4);
    assert.equal(g["repo2-retention-diff"], 14);
    assert.deepEqual(deployMarkers(prod.conf), [
      "repo1-bucket",
      "repo1-kms-key-arn",
      "repo2-bucket",
      "repo2-kms-key-arn",
    ]);
    assert.deepEqual(prod.config["hcp-production"], {
      "pg1-path": "/home/postgres/pgdata/data",
      "pg1-port": 5432,
      "pg1-socket-path": "/var/run/postgresql",
      "pg1-user": "postgres",
    });
  });

  it("takes retention from the config and fills deploy-time values when given", () => {
    const stg = renderArtifacts(staging, "sa-east-1", {
      deployValues: {
        backupBuckets: { "sa-east-1": "b1", "us-east-1": "b2" },
        backupKmsKeyArns: { "sa-east-1": "k1", "us-east-1": "k2" },
      },
    }).pgbackrest;
    assert.deepEqual(deployMarkers(stg.conf), []);
    assert.deepEqual(deployMarkers(stg.backupJobConf!), []);
    const g = stg.config["global"];
    assert.deepEqual(
      [g["repo1-s3-bucket"], g["repo2-s3-bucket"], g["repo2-s3-kms-key-id"]],
      ["b1", "b2", "k2"],
    );
    assert.deepEqual([g["repo1-retention-full"], g["repo1-retention-diff"]], [2, 7]);
  });

  it("gives the backup Jobs a file that reaches the leader's TLS server", () => {
    const job = renderArtifacts(production, "sa-east-1").pgbackrest.backupJobConfig!;
    assert.equal(job["hcp-production"]["pg1-host"], "pg-sa-east-1.hcp-data.svc.cluster.local");
    assert.equal(job["hcp-production"]["pg1-host-type"], "tls");
    const member = renderArtifacts(production, "sa-east-1").pgbackrest.config["global"];
    assert.equal(member["tls-server-auth"], "pgbackrest-backup=hcp-production");
  });

  it("adds a repository per DR region", () => {
    const two = withRegions(production, (r) => r);
    const extra = {
      ...two,
      regions: [...two.regions, { ...two.regions[1], name: "us-west-2", vpcCidr: "10.40.0.0/16" }],
    };
    const g = renderArtifacts(extra, "sa-east-1").pgbackrest.config["global"];
    assert.equal(g["repo3-s3-region"], "us-west-2");
    assert.match(
      renderArtifacts(extra, "sa-east-1").patroni.config.postgresql.pg_hba.join("\n"),
      /10\.40\.0\.0\/16/,
    );
  });

  it("refuses duplicate repository indexes", () => {
    const input = renderInputs(production, "sa-east-1").inputs.pgbackrest;
    assert.throws(
      () => renderPgbackrestConf({ ...input, repos: [input.repos[0], { ...input.repos[1], index: 1 }] }),
      /distinct indexes/,
    );
  });

  it("schedules one backup per repository in index order after stanza-create", () => {
    assert.equal(
      backupCommand("s", [2, 1], "diff"),
      "pgbackrest --stanza=s stanza-create && pgbackrest --stanza=s --repo=1 --type=diff backup && " +
        "pgbackrest --stanza=s --repo=2 --type=diff backup",
    );
  });
});

describe("artifact files", () => {
  it("lists the four artifacts and the SQL files, free of anything secret-looking", () => {
    const files = artifactFiles(renderArtifacts(production, "sa-east-1"));
    for (const name of ["patroni.yml", "pgbouncer.ini", "pgbackrest.conf", "sql/000-database.sql"]) {
      assert.ok(name in files, name);
    }
    for (const [name, text] of Object.entries(files)) {
      assert.doesNotMatch(text, /password\s*[:=]\s*(?!\$\{)[^\s'"]{8,}/i, name);
    }
  });
});
