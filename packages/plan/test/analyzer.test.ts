import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "@hcp/platform";
import { PolicyPackServer } from "../src/policy/analyzer";
import { mergeConfig, resolveConfig } from "../src/policy/config";

const PACK = path.join(__dirname, "fixtures", "pack");
const options = { protect: false, ignoreChanges: [], additionalSecretOutputs: [], aliases: [] };

describe("policy pack through the gRPC analyzer", function () {
  let server: PolicyPackServer;

  before(async () => {
    server = await PolicyPackServer.start(PACK);
  });
  after(() => server.stop());

  it("describes the pack and its defaults", async () => {
    const info = await server.info();
    assert.equal(info.name, "fixture-pack");
    assert.equal(info.version, "1.2.3");
    assert.deepEqual(
      info.policies.map((p) => [p.name, p.enforcementLevel]),
      [
        ["key-rotation", "mandatory"],
        ["policy-reader", "mandatory"],
        ["stack-size", "advisory"],
      ],
    );
  });

  it("reports a mandatory violation with the configured threshold", async () => {
    const info = await server.info();
    await server.configure(resolveConfig(info, { "key-rotation": { minDays: 30 } }, "test"));
    await server.configureStack({
      organization: "o",
      project: "p",
      stack: "s",
      tags: { "pulumi:project": "p" },
    });
    const diags = await server.analyze({
      urn: "urn:pulumi:s::p::aws:kms/key:Key::k",
      type: "aws:kms/key:Key",
      name: "k",
      properties: { enableKeyRotation: true, deletionWindowInDays: 7 },
      options,
    });
    assert.deepEqual(
      diags.map((d) => [d.policyName, d.enforcementLevel, d.message]),
      [["key-rotation", "mandatory", "KMS keys rotate.\ndeletion window below 30 days"]],
    );
  });

  it("turns a policy that reads an unknown value into an advisory, as preview does", async () => {
    const diags = await server.analyze({
      urn: "urn:pulumi:s::p::aws:s3/bucketPolicy:BucketPolicy::b",
      type: "aws:s3/bucketPolicy:BucketPolicy",
      name: "b",
      properties: { bucket: pulumi.runtime.unknownValue, policy: pulumi.runtime.unknownValue },
      options,
    });
    assert.equal(diags.length, 1);
    assert.equal(diags[0].enforcementLevel, "advisory");
    assert.match(diags[0].message, /can't run policy 'policy-reader' .* during preview/);
  });

  it("honours an enforcement level from the config", async () => {
    const info = await server.info();
    await server.configure(resolveConfig(info, { "key-rotation": "disabled" }, "test"));
    const diags = await server.analyze({
      urn: "urn:pulumi:s::p::aws:kms/key:Key::k",
      type: "aws:kms/key:Key",
      name: "k",
      properties: { enableKeyRotation: false },
      options,
    });
    assert.deepEqual(diags, []);
  });

  it("runs stack policies over the whole stack with the stack tags", async () => {
    await server.configureStack({
      organization: "o",
      project: "p",
      stack: "s",
      tags: { "pulumi:project": "p" },
    });
    const diags = await server.analyzeStack([
      {
        urn: "urn:a",
        type: "aws:kms/key:Key",
        name: "a",
        properties: {},
        options,
        dependencies: [],
        propertyDependencies: {},
      },
      {
        urn: "urn:b",
        type: "aws:kms/key:Key",
        name: "b",
        properties: {},
        options,
        dependencies: ["urn:a"],
        propertyDependencies: {},
      },
    ]);
    assert.deepEqual(
      diags.map((d) => d.message),
      ['Counts resources.\n2 resources, tags {"pulumi:project":"p"}'],
    );
  });

  it("validates config against each policy's schema and names unknown policies", async () => {
    const info = await server.info();
    try {
      resolveConfig(info, { "key-rotation": { minDays: 0 }, "no-such-policy": "mandatory" }, "policy.json");
      assert.fail("expected a ConfigError");
    } catch (e) {
      assert.ok(ConfigError.isInstance(e));
      assert.deepEqual(
        e.problems.map((p) => p.path),
        ["no-such-policy", "key-rotation.minDays"],
      );
    }
  });

  it("merges an override file over generated config policy by policy", () => {
    assert.deepEqual(
      mergeConfig(
        { a: { x: 1, enforcementLevel: "mandatory" }, b: "advisory" },
        { a: "advisory", b: { y: 2 } },
      ),
      { a: { x: 1, enforcementLevel: "advisory" }, b: { y: 2 } },
    );
  });
});
