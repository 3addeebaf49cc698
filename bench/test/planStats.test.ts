import * as assert from "node:assert/strict";
import {
  checkTargets,
  differences,
  parseVmRss,
  type PlanDocumentLike,
  stackCpuSeconds,
  withoutTimings,
} from "../src/planStats";

// A whole document has more than the comparison reads (format, resources): built apart, then typed.
const doc = (durationMs: number, cpuMs: number | undefined, generatedAt: string): PlanDocumentLike => {
  const document = {
    format: 1,
    generatedAt,
    environments: [
      {
        environment: "staging",
        stacks: [
          {
            project: "hcp-network",
            stack: "staging-sa-east-1",
            resources: [{ urn: "urn:a", inputs: { cidr: "10.20.0.0/16" } }],
            durationMs,
            ...(cpuMs !== undefined ? { cpuMs } : {}),
          },
        ],
      },
    ],
  };
  return document;
};

describe("plan benchmark statistics", () => {
  it("treats two documents that differ only in timings as the same plan", () => {
    const a = withoutTimings(doc(4200, 3100, "2026-01-01T00:00:00.000Z"));
    const b = withoutTimings(doc(900, undefined, "2026-06-30T12:00:00.000Z"));
    assert.deepEqual(differences(a, b), []);
  });

  it("names the path of every other difference, up to a limit", () => {
    const a = doc(1, 1, "t") as unknown as {
      environments: Array<{ stacks: Array<Record<string, unknown>> }>;
    };
    const b = structuredClone(a);
    (b.environments[0].stacks[0].resources as Array<{ inputs: Record<string, unknown> }>)[0].inputs.cidr =
      "10.30.0.0/16";
    b.environments[0].stacks[0].warnings = ["deprecated"];
    assert.deepEqual(differences(withoutTimings(a as never), withoutTimings(b as never)), [
      "environments[0].stacks[0].resources[0].inputs.cidr",
      "environments[0].stacks[0].warnings",
    ]);
    assert.equal(differences(withoutTimings(a as never), withoutTimings(b as never), 1).length, 1);
    assert.deepEqual(differences([1, 2], [1, 2, 3]), ["[2]"]);
    assert.deepEqual(differences({ a: [1] }, { a: { 0: 1 } }), ["a"]);
  });

  it("reads per-stack CPU seconds, and none from a document written before cpuMs existed", () => {
    assert.deepEqual([...stackCpuSeconds(doc(1, 2500, "t"))], [["hcp-network/staging-sa-east-1", 2.5]]);
    assert.equal(stackCpuSeconds(doc(1, undefined, "t")).size, 0);
  });

  it("reads VmRSS from /proc/<pid>/status, 0 for a process without one", () => {
    const status = "Name:\tnode\nVmPeak:\t 1200000 kB\nVmRSS:\t  358596 kB\nThreads:\t11\n";
    assert.equal(parseVmRss(status), 358596 * 1024);
    assert.equal(parseVmRss("Name:\tkthreadd\nThreads:\t1\n"), 0);
  });

  it("holds an environment to 30 s, --env all to 60 s and both to 2 GiB", () => {
    const gib = 1024 ** 3;
    assert.deepEqual(
      checkTargets("production", 30, 2 * gib).map((t) => t.met),
      [true, true],
    );
    assert.deepEqual(
      checkTargets("production", 30.1, 2 * gib + 1).map((t) => t.met),
      [false, false],
    );
    assert.equal(checkTargets("all", 59.9, gib)[0].met, true);
    assert.equal(checkTargets("all", 60.5, gib)[0].met, false);
    assert.match(checkTargets("all", 31.44, gib)[0].measured, /^31\.4 s$/);
  });
});
