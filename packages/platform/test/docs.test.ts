import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { generatedReadme } from "../scripts/generate-docs";

describe("README", () => {
  it("has the layer graph, deploy order and stack order generated from the topology", async () => {
    const root = path.resolve(__dirname, "..", "..", "..");
    const current = fs.readFileSync(path.join(root, "README.md"), "utf8");
    assert.equal(current, await generatedReadme(root), "README.md is stale: run `pnpm docs:generate`");
  });
});
