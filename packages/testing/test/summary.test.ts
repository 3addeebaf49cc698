import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { summarize } from "../scripts/test-all";

/** The `pnpm test` summary: the mocha reporter's counts and skip reasons, and the closing line. */
describe("pnpm test summary", function () {
  this.timeout(60_000);

  it("the reporter counts passes, failures and skips, each skip with the reason the test printed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "summary-"));
    try {
      const file = path.join(dir, "summary.json");
      const r = spawnSync(
        process.execPath,
        [
          require.resolve("mocha/bin/mocha.js"),
          "--no-config",
          "--reporter",
          path.join(__dirname, "..", "reporters", "summary.cjs"),
          path.join(__dirname, "fixtures", "skipping.fixture.cjs"),
        ],
        {
          cwd: path.join(__dirname, ".."),
          encoding: "utf8",
          env: { ...process.env, HCP_TEST_SUMMARY: file },
        },
      );
      assert.equal(r.status, 1, "one test fails");
      assert.match(r.stdout, /1 passing/, "the spec reporter's output is kept");
      assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), {
        passed: 1,
        failed: [{ title: "suite B fails", error: "boom" }],
        skipped: [
          { title: "suite A one", reason: "engine missing" },
          { title: "suite A two", reason: "engine missing" },
          { title: "suite B skips itself", reason: "not today" },
          { title: "suite B plain skip", reason: "no reason given" },
        ],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ends with one line adding every suite up, after the skipped tests and why", () => {
    const { text, failed } = summarize([
      { name: "typecheck", passed: 1, failed: [], skipped: [] },
      {
        name: "@hcp/data integration",
        passed: 7,
        failed: [{ title: "restores", error: "timeout" }],
        skipped: [{ title: "pgBackRest on S3", reason: "moto_server is not on PATH" }],
      },
      { name: "@hcp/plan", passed: 40, failed: [], skipped: [] },
    ]);
    const lines = text.split("\n");
    assert.equal(lines.at(-1), "tests: 48 passed, 1 failed, 1 skipped");
    assert.ok(lines.includes("  @hcp/data integration: pgBackRest on S3 (moto_server is not on PATH)"));
    assert.ok(lines.includes("  @hcp/data integration: restores: timeout"));
    assert.equal(failed, 1);
  });
});
