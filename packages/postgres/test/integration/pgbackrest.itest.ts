import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import { renderArtifacts, type RenderedArtifacts } from "../../src/render";
import {
  type AllowedChange,
  assertOnlyAllowed,
  diffValues,
  formatChanges,
  formatIni,
} from "../../src/harness/diff";
import { connect } from "../../src/harness/postgres";
import { freePorts } from "../../src/harness/ports";
import { sleep, waitFor } from "../../src/harness/procs";
import { Sandbox } from "../../src/harness/sandbox";
import { startRenderedServer, type RenderedServer } from "../../src/harness/standalone";
import { requireEngines } from "../../src/harness/tools";
import { findMotoServer, type MotoS3, startMotoS3 } from "../../src/harness/moto";
import { makeTls, type TlsFiles } from "../../src/harness/tls";

/**
 * Where the repositories live in the test: `posix` turns every S3 repository into a local directory;
 * `s3` keeps them S3 repositories, on `moto_server` (loopback, behind a TLS terminator).
 */
type RepoMode = "posix" | "s3";

/**
 * Local changes to the rendered pgbackrest.conf. Both modes: member paths/port become the local
 * server's, TLS file locations become the throwaway ones, a lock path inside the sandbox is added.
 * `posix`: every S3 repository becomes a local directory (same index, retention and bundling).
 * `s3`: the endpoint becomes moto on loopback (path-style, the test CA), the deploy-time bucket and
 * KMS key placeholders become moto's, and Pod Identity credentials become static test keys
 * (pgBackRest 2.45 predates `repo-s3-key-type=pod-id`, added in 2.58).
 */
function allowed(stanzas: readonly string[], mode: RepoMode): AllowedChange[] {
  const s = stanzas.map((stanza) => stanza.replace(/[.-]/g, (c) => `\\${c}`)).join("|");
  const common: AllowedChange[] = [
    { reason: "path", paths: /^global\.(spool-path|lock-path)$/ },
    { reason: "TLS file location", paths: /^global\.tls-server-(cert|key|ca)-file$/ },
    {
      reason: "path/port: the local server (its own stanza and the ones it reads)",
      paths: new RegExp(`^(${s})\\.pg1-(path|port|socket-path)$`),
    },
  ];
  if (mode === "posix") {
    return [
      { reason: "repository: local directory instead of S3", paths: /^global\.repo\d+-(type|path)$/ },
      {
        reason: "repository: S3-only options dropped with S3",
        paths: /^global\.repo\d+-(s3-[a-z-]+|storage-verify-tls)$/,
        check: (c) => c.kind === "removed",
      },
      ...common,
    ];
  }
  return [
    {
      reason: "endpoint: moto on loopback",
      paths: /^global\.repo\d+-(s3-endpoint|storage-port)$/,
      check: (c) => c.kind !== "removed",
    },
    {
      reason: "endpoint: path-style (loopback has no per-bucket host names)",
      paths: /^global\.repo\d+-s3-uri-style$/,
      check: (c) => c.kind === "changed" && c.to === "path",
    },
    {
      reason: "TLS: the test CA verifies the endpoint",
      paths: /^global\.repo\d+-storage-ca-file$/,
      check: (c) => c.kind === "added",
    },
    {
      reason: "bucket/KMS key: moto's instead of the deploy-time placeholders",
      paths: /^global\.repo\d+-s3-(bucket|kms-key-id)$/,
      check: (c) => c.kind === "changed" && typeof c.from === "string" && c.from.startsWith("<deploy:"),
    },
    {
      reason: "credentials: static test keys (pgBackRest 2.45 has no pod-id key type)",
      paths: /^global\.repo\d+-s3-(key-type|key|key-secret)$/,
      check: (c) => (c.kind === "changed" && c.from === "pod-id" && c.to === "shared") || c.kind === "added",
    },
    ...common,
  ];
}

/**
 * The rendered pgBackRest configuration with real pgBackRest 2.45 and PostgreSQL 15 (rendered
 * parameters: archive_mode, the rendered archive_command, archive_timeout): the rendered full-backup
 * command (stanza-create + a full backup into each repository), more writes, then a point-in-time
 * restore into a new data directory whose rows must match that time exactly.
 */
function pgbackrestSuite(mode: RepoMode): void {
  const where = mode === "posix" ? "repositories in local directories" : "S3 repositories on moto_server";
  describe(`pgBackRest 2.45, ${where}: rendered pgbackrest.conf, full backup and point-in-time restore`, function () {
    let sandbox: Sandbox | undefined;
    let artifacts: RenderedArtifacts;
    let tls: TlsFiles;
    let server: RenderedServer;
    let env: Record<string, string>;
    let stanza: string;
    let restorePort: number;
    let target: string;
    let s3: MotoS3 | undefined;
    /** s3 mode: per repository key, its bucket, object prefix and the KMS key its objects must use. */
    const s3Repos = new Map<number, { bucket: string; prefix: string; kmsKeyId: string }>();

    before(async function () {
      requireEngines(this, ["postgres", "pgaudit", "pgbackrest", "openssl"]);
      const motoServer = mode === "s3" ? findMotoServer() : undefined;
      if (mode === "s3" && motoServer === undefined) {
        // moto_server is an extra of some machine images (not installable from npm or Debian).
        console.log(
          "      SKIPPED: moto_server (AWS API emulator) is not on PATH; the local-directory suite runs the same backup and restore",
        );
        this.skip();
      }
      artifacts = renderArtifacts(repoTopology("production"), "sa-east-1");
      stanza = artifacts.inputs.pgbackrest.stanza;
      sandbox = Sandbox.create("pgbackrest");
      tls = makeTls(sandbox);
      const [pgPort, port] = await freePorts(2);
      restorePort = port!;

      const rendered = artifacts.pgbackrest.config;
      const local: Record<string, Record<string, string | number>> = structuredClone(
        rendered as Record<string, Record<string, string | number>>,
      );
      const global = local.global;
      if (motoServer !== undefined) {
        s3 = await startMotoS3(sandbox, tls, motoServer);
      }
      for (const repo of artifacts.inputs.pgbackrest.repos) {
        const p = `repo${repo.index}`;
        if (s3 === undefined) {
          for (const key of Object.keys(global)) {
            if (key.startsWith(`${p}-s3-`) || key === `${p}-storage-verify-tls`) delete global[key];
          }
          global[`${p}-type`] = "posix";
          global[`${p}-path`] = sandbox.mkdir(`repo${repo.index}`, 0o750);
          continue;
        }
        const region = String(global[`${p}-s3-region`]);
        const bucket = `hcp-test-${p}`;
        await s3.createBucket(bucket, region);
        const key = await s3.createKmsKey(region);
        s3Repos.set(repo.index, {
          bucket,
          prefix: `${String(global[`${p}-path`]).replace(/^\//, "")}/`,
          kmsKeyId: key,
        });
        global[`${p}-s3-bucket`] = bucket;
        global[`${p}-s3-kms-key-id`] = key;
        global[`${p}-s3-endpoint`] = s3.host;
        global[`${p}-storage-port`] = s3.port;
        global[`${p}-s3-uri-style`] = "path";
        global[`${p}-storage-ca-file`] = tls.caFile;
        global[`${p}-s3-key-type`] = "shared";
        global[`${p}-s3-key`] = "test-access-key";
        global[`${p}-s3-key-secret`] = "test-secret-key";
      }
      global["spool-path"] = sandbox.mkdir("spool");
      global["lock-path"] = sandbox.mkdir("lock");
      global["tls-server-cert-file"] = tls.certFile;
      global["tls-server-key-file"] = tls.keyFile;
      global["tls-server-ca-file"] = tls.caFile;
      // Every stanza section names the same local server: the cluster's own and the ones it reads.
      const stanzas = [stanza, ...(artifacts.inputs.pgbackrest.readStanzas ?? [])];
      for (const name of stanzas) {
        const member = local[name];
        member["pg1-path"] = sandbox.path("pg");
        member["pg1-port"] = pgPort!;
        member["pg1-socket-path"] = sandbox.path("pg-socket");
      }
      const changes = assertOnlyAllowed(
        "pgbackrest.conf",
        diffValues(rendered, local),
        allowed(stanzas, mode),
      );
      console.log(formatChanges("pgbackrest.conf", changes));
      const conf = sandbox.writeFile(
        "pgbackrest.conf",
        formatIni(local as Record<string, Record<string, string>>),
      );
      // The rendered archive_command / backup commands name no config file: pgBackRest reads this one.
      env = { PGBACKREST_CONFIG: conf };
      server = await startRenderedServer(sandbox, artifacts, { name: "pg", port: pgPort, tls, env });
    });

    after(async function () {
      await s3?.close();
      await sandbox?.cleanup();
    });

    const superuser = (port: number) =>
      connect({ port, user: "postgres", password: server.superuserPassword, caFile: tls.caFile });

    it("runs the rendered full-backup command into every repository", async function () {
      const command = artifacts.pgbackrest.backupCommands.full;
      const result = await sandbox!.runAsync("/bin/sh", ["-c", command], { env });
      assert.equal(result.code, 0, `${command}\n${result.stdout}\n${result.stderr}`);
      const info = sandbox!.run("/usr/bin/pgbackrest", [`--stanza=${stanza}`, "--output=json", "info"], {
        env,
      });
      const stanzas = JSON.parse(info) as Array<{
        backup: Array<{ type: string; database: { "repo-key": number } }>;
      }>;
      const fullIn = new Set(
        stanzas[0].backup.filter((b) => b.type === "full").map((b) => b.database["repo-key"]),
      );
      assert.deepEqual(
        [...fullIn].sort(),
        artifacts.inputs.pgbackrest.repos.map((r) => r.index).sort(),
        "a full backup in each repository",
      );
      if (s3 !== undefined) {
        // The rendered repo-s3-kms-key-id reaches S3: every object pgBackRest wrote is SSE-KMS with
        // its repository's key.
        for (const [index, { bucket, prefix, kmsKeyId }] of s3Repos) {
          const objects = await s3.listObjects(bucket, prefix);
          assert.ok(objects.length > 0, `objects in repo${index}`);
          for (const object of objects) {
            assert.deepEqual(
              await s3.objectEncryption(bucket, object),
              { sse: "aws:kms", kmsKeyId },
              `repo${index}: ${object}`,
            );
          }
          console.log(`      repo${index}: ${objects.length} objects, all SSE-KMS with the repository's key`);
        }
      }
    });

    it("restores to a point in time: exactly the rows committed before it", async function () {
      const client = await superuser(server.port);
      await client.query(
        "CREATE TABLE pitr_probe (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())",
      );
      await client.query("INSERT INTO pitr_probe (id) SELECT generate_series(1, 100)");
      await sleep(1_100);
      target = (await client.query<{ t: string }>("SELECT clock_timestamp()::text AS t")).rows[0].t;
      await sleep(1_100);
      await client.query("INSERT INTO pitr_probe (id) SELECT generate_series(101, 200)");
      await client.query("SELECT pg_switch_wal()");
      await client.end();
      // `check` waits until the current WAL segment is in every repository (archive-async included).
      const check = await sandbox!.runAsync("/usr/bin/pgbackrest", [`--stanza=${stanza}`, "check"], { env });
      assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
      await sandbox!.stop(server.proc, 30_000);

      const restoreDir = sandbox!.mkdir("restored");
      const repos = artifacts.inputs.pgbackrest.repos.map((r) => r.index);
      const restoreRepo = mode === "s3" ? Math.max(...repos) : 1;
      const restore = await sandbox!.runAsync(
        "/usr/bin/pgbackrest",
        [
          `--stanza=${stanza}`,
          // s3: restore from the last (DR-region) repository, the copy a regional disaster leaves.
          `--repo=${restoreRepo}`,
          `--pg1-path=${restoreDir}`,
          "--type=time",
          `--target=${target}`,
          "--target-action=promote",
          "restore",
        ],
        { env },
      );
      assert.equal(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
      const restored = await startRenderedServer(sandbox!, artifacts, {
        name: "restored",
        port: restorePort,
        tls,
        env,
        restored: true,
      });
      const rows = await waitFor(
        "the restored server to reach the target and promote",
        async () => {
          const c = await superuser(restored.port);
          try {
            const recovering = (await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0].r;
            if (recovering) return undefined;
            return (await c.query<{ id: number }>("SELECT id FROM pitr_probe ORDER BY id")).rows.map(
              (r) => r.id,
            );
          } finally {
            await c.end();
          }
        },
        { timeoutMs: 120_000, intervalMs: 500, detail: () => sandbox!.tail(restored.proc, 30) },
      );
      console.log(
        `      restored to ${target}: ${rows.length} rows (ids ${rows[0]}..${rows[rows.length - 1]})`,
      );
      assert.deepEqual(
        rows,
        Array.from({ length: 100 }, (_, i) => i + 1),
        "exactly the rows committed before the target time",
      );
    });
  });
}

pgbackrestSuite("posix");
pgbackrestSuite("s3");
