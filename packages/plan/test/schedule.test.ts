import * as assert from "node:assert/strict";
import { runGraph, type Task } from "../src/schedule";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("runGraph", () => {
  it("starts a task only after its dependencies and bounds parallelism", async () => {
    const events: string[] = [];
    let running = 0;
    let peak = 0;
    const task = (id: string, dependsOn: string[] = []): Task<string> => ({
      id,
      dependsOn,
      run: async () => {
        running++;
        peak = Math.max(peak, running);
        events.push(`start ${id}`);
        await tick();
        events.push(`end ${id}`);
        running--;
        return id;
      },
    });
    const out = await runGraph(
      [task("env"), task("net-a", ["env"]), task("net-b", ["env"]), task("cluster-a", ["net-a"])],
      2,
    );
    assert.ok(events.indexOf("end env") < events.indexOf("start net-a"));
    assert.ok(events.indexOf("end net-a") < events.indexOf("start cluster-a"));
    assert.equal(peak, 2, "independent stacks should run in parallel");
    assert.deepEqual(
      [...out.values()].map((o) => o.status),
      ["ok", "ok", "ok", "ok"],
    );
  });

  it("skips the dependents of a failed task and says which one failed", async () => {
    const out = await runGraph<number>(
      [
        { id: "a", dependsOn: [], run: () => Promise.reject(new Error("boom")) },
        { id: "b", dependsOn: ["a"], run: () => Promise.resolve(1) },
        { id: "c", dependsOn: ["b"], run: () => Promise.resolve(2) },
        { id: "d", dependsOn: [], run: () => Promise.resolve(3) },
      ],
      1,
    );
    assert.equal(out.get("a")?.status, "failed");
    assert.deepEqual(out.get("b"), { status: "skipped", because: "a" });
    assert.deepEqual(out.get("c"), { status: "skipped", because: "a" });
    assert.deepEqual(out.get("d"), { status: "ok", value: 3 });
  });

  it("rejects an unknown dependency and a cycle", async () => {
    await assert.rejects(
      runGraph([{ id: "a", dependsOn: ["z"], run: () => Promise.resolve(0) }], 1),
      /unknown task z/,
    );
    await assert.rejects(
      runGraph(
        [
          { id: "a", dependsOn: ["b"], run: () => Promise.resolve(0) },
          { id: "b", dependsOn: ["a"], run: () => Promise.resolve(0) },
        ],
        1,
      ),
      /dependency cycle among: a, b/,
    );
  });
});
