import * as assert from "node:assert/strict";
import * as path from "node:path";
import { regionCacheNodes } from "../src/config/cache";
import { readStackConfigFile } from "../src/config/load";
import { NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { ConfigError, type ConfigProblem } from "../src/config/problems";
import type { EnvironmentConfig } from "../src/config/types";

const repoRoot = path.resolve(__dirname, "../../..");
/** Inside EKS standard support of the repository's cluster version. */
const NOW = new Date("2026-06-01T00:00:00Z");

type Raw = Record<string, unknown>;

/** The repository's environment with its `workloads.cache` values changed. */
function parse(
  env: "production" | "staging",
  change: (cache: Raw) => void,
): { config?: EnvironmentConfig; problems: readonly ConfigProblem[] } {
  const file = path.join(repoRoot, `Pulumi.${env}.yaml`);
  const raw = readStackConfigFile(file);
  const values = structuredClone(raw.values) as Raw;
  change((values[`${NAMESPACE}:workloads`] as Raw)["cache"] as Raw);
  try {
    return { config: parseEnvironmentConfig(env, { ...raw, values }, file, { now: NOW }), problems: [] };
  } catch (e) {
    if (ConfigError.isInstance(e)) {
      return { problems: e.problems };
    }
    throw e;
  }
}

const P = `${NAMESPACE}:workloads.cache`;
const sort = (ps: readonly ConfigProblem[]) => [...ps].sort((a, b) => a.path.localeCompare(b.path));

describe("config: workloads.cache", () => {
  it("parses both repository environments: production runs a replica, staging one node", () => {
    for (const env of ["production", "staging"] as const) {
      const { config, problems } = parse(env, () => undefined);
      assert.deepEqual(problems, []);
      const cache = config!.workloads.cache;
      assert.equal(cache.engine, "valkey");
      assert.ok(env === "production" ? cache.nodes >= 2 : cache.nodes >= 1);
    }
  });

  it("applies the default windows when the file sets none, and they do not overlap", () => {
    const { config, problems } = parse("production", (c) => {
      delete c["snapshotWindow"];
      delete c["maintenanceWindow"];
    });
    assert.deepEqual(problems, []);
    assert.equal(config!.workloads.cache.snapshotWindow, "03:00-04:00");
    assert.equal(config!.workloads.cache.maintenanceWindow, "sun:05:00-sun:06:00");
  });

  const cases: Array<{
    name: string;
    env: "production" | "staging";
    change: (c: Raw) => void;
    expected: ConfigProblem[];
  }> = [
    {
      name: "one node in production, a Valkey version ElastiCache does not run",
      env: "production",
      change: (c) => {
        c["nodes"] = 1;
        c["engineVersion"] = "7.1";
      },
      expected: [
        {
          path: `${P}.nodes`,
          received: "1",
          allowed: "2 or more in production (a replica in another zone for automatic failover)",
          fix: "set nodes: 2",
        },
        {
          path: `${P}.engineVersion`,
          received: '"7.1"',
          allowed: "valkey 7.2 or later (the first Valkey ElastiCache runs)",
          fix: 'set engineVersion: "8.0"',
        },
      ],
    },
    {
      name: "a Redis OSS version that replaces the group to change its TLS mode",
      env: "staging",
      change: (c) => {
        c["engine"] = "redis";
        c["engineVersion"] = "6.2";
      },
      expected: [
        {
          path: `${P}.engineVersion`,
          received: '"6.2"',
          allowed:
            "redis 7.0 or later (earlier Redis OSS versions replace the group to change the TLS mode and cannot rotate the AUTH token in place)",
          fix: 'set engineVersion: "7.1"',
        },
      ],
    },
    {
      name: "a 30-minute snapshot window and a maintenance window over a day long",
      env: "staging",
      change: (c) => {
        c["snapshotWindow"] = "03:00-03:30";
        c["maintenanceWindow"] = "sun:05:00-mon:06:00";
      },
      expected: [
        {
          path: `${P}.snapshotWindow`,
          received: '"03:00-03:30"',
          allowed: "a window of at least 60 minutes (ElastiCache's minimum)",
          fix: "widen it, e.g. 03:00-04:00",
        },
        {
          path: `${P}.maintenanceWindow`,
          received: '"sun:05:00-mon:06:00"',
          allowed: "a window of 60 minutes to 24 hours",
          fix: "set e.g. sun:05:00-sun:06:00",
        },
        {
          // The 25-hour window runs into Monday 03:00.
          path: `${P}.snapshotWindow`,
          received: '"03:00-03:30"',
          allowed:
            "a window outside maintenanceWindow (sun:05:00-mon:06:00): a snapshot competes with node patching and failover",
          fix: "move one of the two windows",
        },
      ],
    },
    {
      name: "a snapshot window inside the maintenance window",
      env: "production",
      change: (c) => {
        c["snapshotWindow"] = "05:30-06:30";
        c["maintenanceWindow"] = "sun:05:00-sun:06:00";
      },
      expected: [
        {
          path: `${P}.snapshotWindow`,
          received: '"05:30-06:30"',
          allowed:
            "a window outside maintenanceWindow (sun:05:00-sun:06:00): a snapshot competes with node patching and failover",
          fix: "move one of the two windows",
        },
      ],
    },
    {
      name: "overlapping windows across midnight and the end of the week",
      env: "production",
      change: (c) => {
        c["snapshotWindow"] = "23:00-00:15";
        c["maintenanceWindow"] = "sun:00:00-sun:01:00";
      },
      expected: [
        {
          path: `${P}.snapshotWindow`,
          received: '"23:00-00:15"',
          allowed:
            "a window outside maintenanceWindow (sun:00:00-sun:01:00): a snapshot competes with node patching and failover",
          fix: "move one of the two windows",
        },
      ],
    },
  ];

  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const { problems } = parse(c.env, c.change);
      assert.deepEqual(sort(problems.filter((p) => p.path.startsWith(P))), sort(c.expected));
    });
  }

  it("accepts windows that touch without overlapping, including one that wraps midnight", () => {
    for (const [snapshot, maintenance] of [
      ["04:00-05:00", "sun:05:00-sun:06:00"],
      ["06:00-07:00", "sun:05:00-sun:06:00"],
      ["23:00-00:00", "sun:00:00-sun:01:00"],
      ["22:30-23:30", "sat:23:30-sun:00:30"],
    ]) {
      const { problems } = parse("production", (c) => {
        c["snapshotWindow"] = snapshot;
        c["maintenanceWindow"] = maintenance;
      });
      assert.deepEqual(problems, [], `${snapshot} / ${maintenance}`);
    }
  });

  it("refuses windows in another format, naming the key", () => {
    const { problems } = parse("staging", (c) => {
      c["snapshotWindow"] = "3:00-4:00";
      c["maintenanceWindow"] = "sunday:05:00-sunday:06:00";
    });
    assert.deepEqual(problems.map((p) => p.path).sort(), [`${P}.maintenanceWindow`, `${P}.snapshotWindow`]);
    for (const p of problems) {
      assert.match(p.allowed, p.path.endsWith("snapshotWindow") ? /hh:mm-hh:mm/ : /ddd:hh:mm-ddd:hh:mm/);
    }
  });

  it("sizes a region: the configured nodes in the primary, scaled in DR, 2+ in production, at most 6", () => {
    assert.equal(regionCacheNodes({ nodes: 3 }, "production", 1), 3);
    assert.equal(regionCacheNodes({ nodes: 3 }, "production", 0.25), 2);
    assert.equal(regionCacheNodes({ nodes: 6 }, "production", 0.5), 3);
    assert.equal(regionCacheNodes({ nodes: 6 }, "production", 1.5), 6);
    assert.equal(regionCacheNodes({ nodes: 1 }, "nonproduction", 0.25), 1);
    assert.equal(regionCacheNodes({ nodes: 4 }, "nonproduction", 0.5), 2);
  });
});
