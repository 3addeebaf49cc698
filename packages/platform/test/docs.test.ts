import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { generatedReadme } from "../scripts/generate-docs";
import { configurationReference, configurationRows, ENVIRONMENT_KEYS } from "../src";

describe("README", () => {
  it("has the layer graph, deploy order, stack order and configuration reference generated from their sources", async () => {
    const root = path.resolve(__dirname, "..", "..", "..");
    const current = fs.readFileSync(path.join(root, "README.md"), "utf8");
    assert.equal(current, await generatedReadme(root), "README.md is stale: run `pnpm docs:generate`");
  });
});

describe("configuration reference", () => {
  it("documents every key of the schema with a description, its type and its default", () => {
    const rows = configurationRows().flatMap((s) => s.rows);
    const keys = rows.map((r) => r.key);
    for (const key of [
      "tier",
      "regions[].vpcCidr",
      "regions[].sizes.nodeGroups.{system,database,workloads}.diskSizeGiB",
      "retention.logs.audit",
      "access.stateBackend.kmsKeyAlias",
      "data.patroni.ttlSeconds",
      "data.backup.archiveCopyImage.tag",
    ]) {
      assert.ok(keys.includes(key), `${key} is documented`);
    }
    const undocumented = rows.filter((r) => r.description === "").map((r) => r.key);
    assert.deepEqual(undocumented, [], "every key has a .describe() text in schema.ts");
    const row = (key: string) => rows.find((r) => r.key === key)!;
    assert.equal(row("regions[].azCount").type, "integer 2–6");
    assert.equal(row("regions[].serviceCidr").default, "`172.20.0.0/16`");
    assert.equal(row("regions[].natGateways").type, "`perAz` | `single`");
    assert.equal(row("data.pgbouncer.defaultPoolSize").default, "`50`");
    assert.equal(row("data.storageGiB").default, "required");
    assert.match(row("access.stateBackend.organization").description, /\(with type: pulumi-cloud\)$/);
  });

  it("follows the schema: a key added to it appears in the reference", () => {
    const reference = configurationReference();
    for (const section of ENVIRONMENT_KEYS) {
      assert.match(reference, new RegExp(`^### \`${section}\`$`, "m"));
    }
    assert.match(
      reference,
      /\| `data\.backup\.fullSchedule` \| string, matching `\^\\S\+ \\S\+ \\S\+ \\S\+ \\S\+\$` \| `0 3 \* \* 0` \|/,
    );
  });
});
