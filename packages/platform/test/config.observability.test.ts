import * as assert from "node:assert/strict";
import * as path from "node:path";
import { readStackConfigFile } from "../src/config/load";
import { keyPath, NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { AMP_REGIONS, checkObservability } from "../src/config/observability";
import { ConfigError, type ConfigProblem } from "../src/config/problems";
import type { EnvironmentConfig } from "../src/config/types";

const repoRoot = path.resolve(__dirname, "../../..");
/** Inside EKS standard support of the repository's cluster version. */
const NOW = new Date("2026-06-01T00:00:00Z");

type Raw = Record<string, unknown>;

/** The repository's environment with its values changed. */
function parseWith(
  env: "production" | "staging",
  change: (values: Raw) => void,
): { config?: EnvironmentConfig; problems: readonly ConfigProblem[] } {
  const file = path.join(repoRoot, `Pulumi.${env}.yaml`);
  const raw = readStackConfigFile(file);
  const values = structuredClone(raw.values) as Raw;
  change(values);
  try {
    return { config: parseEnvironmentConfig(env, { ...raw, values }, file, { now: NOW }), problems: [] };
  } catch (e) {
    if (ConfigError.isInstance(e)) {
      return { problems: e.problems };
    }
    throw e;
  }
}

const key = (k: string) => `${NAMESPACE}:${k}`;
const obs = (values: Raw) => values[key("observability")] as Raw;

describe("config: observability section", () => {
  it("parses both repository environments", () => {
    for (const env of ["production", "staging"] as const) {
      const { config, problems } = parseWith(env, () => undefined);
      assert.deepEqual(problems, []);
      assert.equal(config!.observability.remoteWrite, "amp");
      assert.ok(config!.observability.notifications.emailAddresses.length > 0);
    }
  });

  const cases: Array<{
    name: string;
    env: "production" | "staging";
    change: (v: Raw) => void;
    path: string;
    allowed: RegExp;
  }> = [
    {
      name: "a size retention above 90 % of the volume",
      env: "staging",
      change: (v) => ((obs(v)["prometheus"] as Raw)["retentionSizeGiB"] = 50),
      path: "healthcare-platform:observability.prometheus.retentionSizeGiB",
      allowed: /at most 90 % of storageGiB \(45 for 50 GiB\)/,
    },
    {
      name: "rules evaluated faster than data is scraped",
      env: "staging",
      change: (v) => ((obs(v)["prometheus"] as Raw)["evaluationIntervalSeconds"] = 10),
      path: "healthcare-platform:observability.prometheus.evaluationIntervalSeconds",
      allowed: /at least scrapeIntervalSeconds \(15\)/,
    },
    {
      name: "one Prometheus in production",
      env: "production",
      change: (v) => ((obs(v)["prometheus"] as Raw)["replicas"] = 1),
      path: "healthcare-platform:observability.prometheus.replicas",
      allowed: /2 or more in production/,
    },
    {
      name: "two Alertmanagers in production",
      env: "production",
      change: (v) => ((obs(v)["alertmanager"] as Raw)["replicas"] = 2),
      path: "healthcare-platform:observability.alertmanager.replicas",
      allowed: /3 or more in production/,
    },
    {
      name: "a floating exporter tag",
      env: "staging",
      change: (v) =>
        ((obs(v)["exporters"] as Raw)["postgres"] = { repository: "x/postgres-exporter", tag: "latest" }),
      path: "healthcare-platform:observability.exporters.postgres.tag",
      allowed: /.+/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the key`, () => {
      const { problems } = parseWith(c.env, c.change);
      const problem = problems.find((p) => p.path === c.path && c.allowed.test(p.allowed));
      assert.ok(problem, `no problem at ${c.path}: ${JSON.stringify(problems)}`);
      assert.match(problem.allowed, c.allowed);
      assert.ok(problem.fix.length > 0);
    });
  }

  it("refuses remote write to AMP from a region without the service, unless remote write is off", () => {
    const raw = readStackConfigFile(path.join(repoRoot, "Pulumi.staging.yaml")).values as Raw;
    const section = (v: Raw): Raw =>
      Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(`${NAMESPACE}:`, ""), x]));
    const values = section(raw);
    const onlyPrimary = new Set(["sa-east-1"]);
    const problems = checkObservability(values, keyPath, onlyPrimary);
    assert.deepEqual(
      problems.map((p) => p.path),
      ["healthcare-platform:regions[1].name"],
    );
    assert.match(problems[0].allowed, /offers Amazon Managed Service for Prometheus \(sa-east-1\)/);
    assert.match(problems[0].fix, /remoteWrite to off/);
    const off = { ...values, observability: { ...(values["observability"] as Raw), remoteWrite: "off" } };
    assert.deepEqual(checkObservability(off, keyPath, onlyPrimary), []);
  });

  it("lists sa-east-1 and us-east-1 (the default topology) as AMP regions", () => {
    assert.ok(AMP_REGIONS.has("sa-east-1") && AMP_REGIONS.has("us-east-1"));
  });
});
