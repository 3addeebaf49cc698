import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { isRpcSecret, one, ProgramError, runProgram, type RunProgramOptions } from "../src";

const base: Omit<RunProgramOptions, "program"> = { project: "p", stack: "s", searchPaths: [__dirname] };

function provider(): aws.Provider {
  return new aws.Provider("aws-sa-east-1", { region: "sa-east-1", allowedAccountIds: ["111122223333"] });
}

async function failure(program: () => unknown): Promise<string> {
  try {
    await runProgram({ ...base, program });
  } catch (e) {
    assert.ok(e instanceof ProgramError, String(e));
    return e.message;
  }
  return assert.fail("expected the program to fail");
}

describe("StrictMocks", () => {
  it("refuses a resource type no installed SDK defines, naming it", async () => {
    class Typo extends pulumi.CustomResource {
      constructor(opts: pulumi.CustomResourceOptions) {
        super("aws:s3/buckett:Buckett", "typo", {}, opts);
      }
    }
    const message = await failure(() => new Typo({ provider: provider() }).urn);
    assert.match(message, /unknown resource type 'aws:s3\/buckett:Buckett' \(resource 'typo'\)/);
  });

  it("refuses a custom resource on a default provider", async () => {
    const message = await failure(() => {
      new aws.s3.Bucket("unprovided", {});
    });
    assert.match(
      message,
      /resource 'unprovided' \(aws:s3\/bucket:Bucket\) uses the default aws provider, which is disabled/,
    );
  });

  it("refuses random resources on a default provider too", async () => {
    const message = await failure(() => {
      new random.RandomPassword("pw", { length: 32 });
    });
    assert.match(message, /uses the default random provider/);
  });

  it("refuses a call it has no faithful mock for", async () => {
    const message = await failure(async () => {
      const p = provider();
      await aws.ec2.getVpc({ default: true }, { provider: p });
    });
    assert.match(message, /no mock for call 'aws:ec2\/getVpc:getVpc'/);
  });

  it("refuses a stack reference to a stack without exports", async () => {
    const message = await failure(
      () => new pulumi.StackReference("organization/hcp-network/production-sa-east-1").outputs,
    );
    assert.match(
      message,
      /stack reference to 'organization\/hcp-network\/production-sa-east-1' from organization\/p\/s/,
    );
  });

  it("computes deterministic ids and region-correct ARNs from the provider", async () => {
    const program = () => {
      const key = new aws.kms.Key("k", {}, { provider: provider() });
      return { arn: key.arn, id: key.id };
    };
    const a = await runProgram({ ...base, program });
    const b = await runProgram({ ...base, program });
    assert.deepEqual(a.outputs, b.outputs);
    assert.match(String(a.outputs["arn"]), /^arn:aws:kms:sa-east-1:111122223333:key\/[0-9a-f]{32}$/);
  });

  it("logs parent, provider, options, dependencies and secret inputs", async () => {
    const run = await runProgram({
      ...base,
      program: () => {
        const p = provider();
        const parent = new pulumi.ComponentResource("hcp:test:Parent", "parent");
        const key = new aws.kms.Key(
          "k",
          {},
          { provider: p, parent, protect: true, ignoreChanges: ["description"] },
        );
        new aws.secretsmanager.Secret(
          "s",
          { kmsKeyId: key.arn, description: pulumi.secret("not for logs") },
          { provider: p, parent, retainOnDelete: true },
        );
      },
    });
    const key = one(run.resources, "aws:kms/key:Key");
    const secret = one(run.resources, "aws:secretsmanager/secret:Secret");
    assert.equal(key.parent, one(run.resources, "hcp:test:Parent").urn);
    assert.equal(key.provider, one(run.resources, "pulumi:providers:aws").urn);
    assert.equal(key.options.protect, true);
    assert.deepEqual(key.options.ignoreChanges, ["description"]);
    assert.equal(secret.options.retainOnDelete, true);
    assert.ok(secret.dependencies.includes(key.urn));
    assert.deepEqual(secret.propertyDependencies["kmsKeyId"], [key.urn]);
    assert.deepEqual(secret.secretInputPaths, ["description"]);
    assert.ok(isRpcSecret(secret.wireInputs["description"]));
    assert.equal(secret.inputs["description"], "not for logs");
  });

  it("uses engine URNs: no root-stack prefix in type chains", async () => {
    const run = await runProgram({
      ...base,
      program: () => new aws.kms.Key("k", {}, { provider: provider() }).urn,
    });
    assert.equal(one(run.resources, "aws:kms/key:Key").urn, "urn:pulumi:s::p::aws:kms/key:Key::k");
  });

  it("in preview mode, ids and computed outputs are unknown and inputs known", async () => {
    const run = await runProgram({
      ...base,
      preview: true,
      program: () => {
        const p = provider();
        const bucket = new aws.s3.Bucket("b", { bucketPrefix: "hcp-" }, { provider: p });
        new aws.s3.BucketVersioning(
          "v",
          { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
          { provider: p },
        );
      },
    });
    const versioning = one(run.resources, "aws:s3/bucketVersioning:BucketVersioning");
    assert.equal(versioning.wireInputs["bucket"], pulumi.runtime.unknownValue);
    assert.deepEqual(versioning.inputs["versioningConfiguration"], { status: "Enabled" });
  });

  it("marks stack outputs that hold secrets", async () => {
    const run = await runProgram({
      ...base,
      program: () => ({ plain: "a", nested: { pw: pulumi.secret("b") } }),
    });
    assert.deepEqual([...run.secretOutputNames], ["nested"]);
    assert.deepEqual(run.outputs["nested"], { pw: "b" });
  });
});
