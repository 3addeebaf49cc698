import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { primaryRegion } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import { artifactFiles, renderArtifacts } from "@hcp/postgres";

/**
 * Golden files: the exact rendered artifacts of each repository environment's primary region, as the
 * `render` CLI writes them. Any difference fails; `UPDATE_GOLDEN=1 pnpm --filter @hcp/data test`
 * rewrites them (review the diff like any other code change).
 */

const GOLDEN_ROOT = path.join(__dirname, "golden");
const update = process.env["UPDATE_GOLDEN"] === "1";

function listFiles(dir: string, prefix = ""): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    );
}

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const region = primaryRegion(topology).name;
  const dir = path.join(GOLDEN_ROOT, `${env}-${region}`);

  describe(`golden artifacts of ${env}-${region}`, () => {
    const files = artifactFiles(renderArtifacts(topology, region));

    before(() => {
      if (update) {
        fs.rmSync(dir, { recursive: true, force: true });
        for (const [name, text] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
          fs.writeFileSync(path.join(dir, name), text);
        }
      }
    });

    it("has exactly the rendered files", () => {
      assert.deepEqual(listFiles(dir).sort(), Object.keys(files).sort());
    });

    for (const name of Object.keys(files)) {
      it(`${name} matches`, () => {
        const golden = path.join(dir, name);
        assert.ok(
          fs.existsSync(golden),
          `${golden} is missing: run UPDATE_GOLDEN=1 pnpm --filter @hcp/data test`,
        );
        assert.equal(files[name], fs.readFileSync(golden, "utf8"), `${name} differs from ${golden}`);
      });
    }
  });
}
