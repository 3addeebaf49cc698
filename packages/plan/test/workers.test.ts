import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "@hcp/testing";
import { withoutTimings } from "../src/compare";
import { planEnvironments } from "../src/plan";
import { SynthesisError, WorkerPool, type WorkerReuse } from "../src/synthesize";
import type { WorkerJob } from "../src/worker";

/** A one-file program in its own package (runProgram evicts a program's package from the cache). */
function program(dir: string, name: string, source: string): string {
  const pkg = path.join(dir, name);
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name, private: true }));
  fs.writeFileSync(path.join(pkg, "index.ts"), source);
  return path.join(pkg, "index.ts");
}

function job(file: string, stack: string): WorkerJob {
  return {
    program: file,
    project: "worker-test",
    stack,
    organization: "organization",
    accountId: "123456789012",
    config: { values: {}, secretKeys: [] },
    stackOutputs: {},
    deployedExports: true,
  };
}

describe("plan workers", function () {
  this.timeout(300_000);

  it("writes the same plan document with warm shared workers as with a fresh process per stack", async () => {
    const run = async (workers: WorkerReuse, concurrency: number) =>
      (await planEnvironments({ root: repoRoot(), env: "staging", workers, concurrency })).document;
    // One shared worker serves every stack in turn, so any state a program left behind in the
    // process would reach the stacks after it; a fresh process per stack has none to leave.
    const shared = await run("shared", 1);
    const isolated = await run("per-stack", 2);
    const stacks = shared.environments[0]?.stacks ?? [];
    assert.ok(stacks.length >= 8, `staging plans every built layer (${stacks.length} stacks)`);
    assert.deepEqual(shared.environments[0]?.errors, []);
    assert.ok(
      stacks.every((s) => typeof s.cpuMs === "number" && s.cpuMs > 0),
      "every stack reports the CPU time its worker spent on it",
    );
    assert.deepEqual(withoutTimings(shared), withoutTimings(isolated));
  });

  describe("WorkerPool", () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-workers-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("gives each job only what its own program printed, on a worker that serves both", async () => {
      const pool = new WorkerPool(1, "shared");
      try {
        const a = program(dir, "prints-a", `console.log("from a"); export const a = 1;\n`);
        const b = program(dir, "prints-b", `console.warn("from b"); export const b = 2;\n`);
        const first = await pool.synthesize(job(a, "a"), "a");
        const second = await pool.synthesize(job(b, "b"), "b");
        // Each program runs twice (preview, then deployment).
        assert.deepEqual(first.log, ["from a", "from a"]);
        assert.deepEqual(second.log, ["from b", "from b"]);
        assert.deepEqual(second.result.deployedOutputs, { b: 2 });
      } finally {
        pool.close();
      }
    });

    it("reports a program's error and keeps the worker serving the next stack", async () => {
      const pool = new WorkerPool(1, "shared");
      try {
        const bad = program(dir, "throws", `throw new Error("no region configured");\n`);
        const good = program(dir, "fine", `export const ok = true;\n`);
        await assert.rejects(pool.synthesize(job(bad, "bad"), "worker-test/bad"), (e: unknown) => {
          assert.ok(e instanceof SynthesisError);
          assert.equal(e.stackLabel, "worker-test/bad");
          assert.match(e.message, /no region configured/);
          return true;
        });
        assert.deepEqual((await pool.synthesize(job(good, "good"), "good")).result.deployedOutputs, {
          ok: true,
        });
      } finally {
        pool.close();
      }
    });

    it("reports a worker that dies mid-stack as a crash and replaces it for the next stack", async () => {
      for (const reuse of ["shared", "per-stack"] as const) {
        const pool = new WorkerPool(1, reuse);
        try {
          const dies = program(dir, `exits-${reuse}`, `console.error("about to exit"); process.exit(3);\n`);
          const good = program(dir, `after-${reuse}`, `export const after = "${reuse}";\n`);
          await assert.rejects(pool.synthesize(job(dies, "dies"), "worker-test/dies"), (e: unknown) => {
            assert.ok(e instanceof SynthesisError, String(e));
            assert.equal(e.errors[0]?.name, "WorkerCrash");
            assert.match(e.errors[0]?.message ?? "", /worker exited with 3/);
            return true;
          });
          const next = await pool.synthesize(job(good, "after"), "after");
          assert.deepEqual(next.result.deployedOutputs, { after: reuse });
        } finally {
          pool.close();
        }
      }
    });

    it("refuses work after it is closed", async () => {
      const pool = new WorkerPool(1, "per-stack");
      pool.close();
      await assert.rejects(pool.synthesize(job("/nonexistent.ts", "x"), "x"), /worker pool closed before x/);
    });
  });
});
