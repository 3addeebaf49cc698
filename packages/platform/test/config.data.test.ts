import * as assert from "node:assert/strict";
import * as path from "node:path";
import { readStackConfigFile } from "../src/config/load";
import { keyPath, NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { ConfigError, type ConfigProblem } from "../src/config/problems";
import { imageReference } from "../src/config/images";
import { DEFAULT_ARCHIVE_COPY_IMAGE } from "../src/config/schema";
import type { EnvironmentConfig } from "../src/config/types";

const repoRoot = path.resolve(__dirname, "../../..");
/** Inside EKS standard support of the repository's cluster version. */
const NOW = new Date("2026-06-01T00:00:00Z");

type Raw = Record<string, unknown>;

/** The repository's environment with its `data` section changed. */
function parseWithData(
  env: "production" | "staging",
  change: (data: Raw) => Raw,
): { config?: EnvironmentConfig; problems: readonly ConfigProblem[] } {
  const file = path.join(repoRoot, `Pulumi.${env}.yaml`);
  const raw = readStackConfigFile(file);
  const values = structuredClone(raw.values) as Record<string, unknown>;
  values[`${NAMESPACE}:data`] = change(structuredClone(values[`${NAMESPACE}:data`]) as Raw);
  try {
    return { config: parseEnvironmentConfig(env, { ...raw, values }, file, { now: NOW }), problems: [] };
  } catch (e) {
    if (ConfigError.isInstance(e)) {
      return { problems: e.problems };
    }
    throw e;
  }
}

const patroni = (data: Raw, change: Raw): Raw => ({
  ...data,
  patroni: { ...(data["patroni"] as Raw), ...change },
});
const backup = (data: Raw, change: Raw): Raw => ({
  ...data,
  backup: { ...(data["backup"] as Raw), ...change },
});

describe("config: data section", () => {
  it("parses both repository environments with the archive copy image defaulted", () => {
    for (const env of ["production", "staging"] as const) {
      const { config, problems } = parseWithData(env, (d) => d);
      assert.deepEqual(problems, []);
      assert.deepEqual(config!.data.backup.archiveCopyImage, DEFAULT_ARCHIVE_COPY_IMAGE);
    }
    const { config } = parseWithData("staging", (d) => ({ ...d, backup: undefined }));
    assert.deepEqual(config!.data.backup, {
      fullSchedule: "0 3 * * 0",
      diffSchedule: "0 3 * * 1-6",
      archiveTimeoutSeconds: 60,
      archiveCopyImage: DEFAULT_ARCHIVE_COPY_IMAGE,
    });
  });

  const cases: Array<{
    name: string;
    env: "production" | "staging";
    change: (data: Raw) => Raw;
    expect: Array<{ path: string; received: RegExp; fix: RegExp }>;
  }> = [
    {
      name: "Patroni timing that breaks loop_wait + 2 * retry_timeout <= ttl",
      env: "production",
      change: (d) => patroni(d, { ttlSeconds: 20, loopWaitSeconds: 10, retryTimeoutSeconds: 10 }),
      expect: [
        { path: keyPath("data", "patroni"), received: /"ttlSeconds":20/, fix: /raise ttlSeconds to 30/ },
      ],
    },
    {
      name: "a lease shorter than 20 s on the Kubernetes DCS",
      env: "staging",
      change: (d) => patroni(d, { ttlSeconds: 10, loopWaitSeconds: 2, retryTimeoutSeconds: 4 }),
      expect: [{ path: keyPath("data", "patroni", "ttlSeconds"), received: /^10$/, fix: /20 or more/ }],
    },
    {
      name: "archive_timeout above 60 s",
      env: "production",
      change: (d) => backup(d, { archiveTimeoutSeconds: 300 }),
      expect: [{ path: keyPath("data", "backup", "archiveTimeoutSeconds"), received: /^300$/, fix: /./ }],
    },
    {
      name: "a floating AWS CLI tag for the archive copy",
      env: "staging",
      change: (d) => backup(d, { archiveCopyImage: { repository: "amazon/aws-cli", tag: "latest" } }),
      expect: [
        {
          path: keyPath("data", "backup", "archiveCopyImage", "tag"),
          received: /latest/,
          fix: /exact AWS CLI v2 version/,
        },
      ],
    },
    {
      name: "an -oss TimescaleDB image",
      env: "production",
      change: (d) => ({ ...d, image: { repository: "timescale/timescaledb-ha", tag: "pg16-oss" } }),
      expect: [{ path: keyPath("data", "image", "tag"), received: /pg16-oss/, fix: /without -oss/ }],
    },
    {
      name: "an image digest that is not sha256 and 64 hex digits",
      env: "production",
      change: (d) => ({ ...d, image: { ...(d["image"] as Raw), digest: "sha256:ABC" } }),
      expect: [{ path: keyPath("data", "image", "digest"), received: /sha256:ABC/, fix: /sha256:<64 hex>/ }],
    },
    {
      name: "fewer than 1000 PgBouncer client connections",
      env: "staging",
      change: (d) => ({ ...d, pgbouncer: { maxClientConnections: 500, defaultPoolSize: 50 } }),
      expect: [{ path: keyPath("data", "pgbouncer", "maxClientConnections"), received: /^500$/, fix: /./ }],
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      const { problems } = parseWithData(c.env, c.change);
      const relevant = problems.filter((p) => p.path.startsWith(keyPath("data")));
      assert.equal(relevant.length, c.expect.length, JSON.stringify(relevant));
      for (const [i, e] of c.expect.entries()) {
        assert.equal(relevant[i].path, e.path);
        assert.match(relevant[i].received, e.received);
        assert.match(relevant[i].fix, e.fix);
      }
    });
  }

  it("keeps an image digest, which the rendered pods then pull (repository:tag@digest)", () => {
    const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
    const { config, problems } = parseWithData("production", (d) =>
      backup(
        { ...d, image: { ...(d["image"] as Raw), digest } },
        {
          archiveCopyImage: { ...DEFAULT_ARCHIVE_COPY_IMAGE, digest },
        },
      ),
    );
    assert.deepEqual(problems, []);
    assert.equal(config!.data.image.digest, digest);
    assert.equal(
      imageReference(config!.data.image),
      `${config!.data.image.repository}:${config!.data.image.tag}@${digest}`,
    );
    assert.equal(
      imageReference(config!.data.backup.archiveCopyImage),
      `${DEFAULT_ARCHIVE_COPY_IMAGE.repository}:${DEFAULT_ARCHIVE_COPY_IMAGE.tag}@${digest}`,
    );
    assert.equal(
      imageReference(DEFAULT_ARCHIVE_COPY_IMAGE),
      `${DEFAULT_ARCHIVE_COPY_IMAGE.repository}:${DEFAULT_ARCHIVE_COPY_IMAGE.tag}`,
    );
  });

  it("reports every data problem at once", () => {
    const { problems } = parseWithData("production", (d) =>
      backup(patroni(d, { loopWaitSeconds: 30 }), {
        archiveTimeoutSeconds: 0,
        archiveCopyImage: { repository: "", tag: "2" },
      }),
    );
    const paths = problems.map((p) => p.path);
    for (const p of [
      keyPath("data", "patroni"),
      keyPath("data", "backup", "archiveTimeoutSeconds"),
      keyPath("data", "backup", "archiveCopyImage", "repository"),
      keyPath("data", "backup", "archiveCopyImage", "tag"),
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
    }
  });
});
