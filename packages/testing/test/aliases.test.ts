import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { aliasesOf, matchState, type ProgramRun, runProgram, type RunProgramOptions } from "../src";

const base: Omit<RunProgramOptions, "program"> = { project: "p", stack: "s", searchPaths: [__dirname] };
const prefix = "urn:pulumi:s::p::";

class Component extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }
}

function provider(): aws.Provider {
  return new aws.Provider("aws-sa-east-1", { region: "sa-east-1", allowedAccountIds: ["111122223333"] });
}

/** outer (component) > inner (component) > bucket, and a role under outer. */
function program(
  types: { readonly outer: string; readonly inner: string },
  opts: {
    readonly outer?: pulumi.ComponentResourceOptions;
    readonly inner?: pulumi.ComponentResourceOptions;
    readonly roleParent?: "outer" | "inner";
    readonly role?: pulumi.CustomResourceOptions;
  } = {},
) {
  return () => {
    const p = provider();
    const outer = new Component(types.outer, "store", { providers: [p], ...opts.outer });
    const inner = new Component(types.inner, "store-inner", { parent: outer, ...opts.inner });
    new aws.s3.Bucket("store-inner-bucket", {}, { parent: inner });
    new aws.iam.Role(
      "store-role",
      { assumeRolePolicy: "{}" },
      { parent: opts.roleParent === "inner" ? inner : outer, ...opts.role },
    );
  };
}

function urns(run: ProgramRun): string[] {
  return run.resources.filter((r) => !r.read).map((r) => r.urn);
}

describe("registration log URNs", () => {
  it("carries the parent's whole type chain, as the engine does (the mock monitor keeps one type)", async () => {
    const run = await runProgram({ ...base, program: program({ outer: "t:a:Outer", inner: "t:a:Inner" }) });
    const bucket = run.resources.find((r) => r.name === "store-inner-bucket")!;
    assert.equal(bucket.urn, `${prefix}t:a:Outer$t:a:Inner$aws:s3/bucket:Bucket::store-inner-bucket`);
    assert.equal(bucket.parent, `${prefix}t:a:Outer$t:a:Inner::store-inner`);
    const outer = run.resources.find((r) => r.name === "store")!;
    assert.equal(outer.urn, `${prefix}t:a:Outer::store`);
    assert.equal(bucket.provider, `${prefix}pulumi:providers:aws::aws-sa-east-1`);
  });

  it("records alias specs with engine URNs and the parent the SDK fills in", async () => {
    const run = await runProgram({
      ...base,
      program: program(
        { outer: "t:b:Outer", inner: "t:b:Inner" },
        {
          inner: { aliases: [{ type: "t:a:Inner" }] },
          outer: { aliases: [{ name: "old", parent: undefined }] },
        },
      ),
    });
    const inner = run.resources.find((r) => r.name === "store-inner")!;
    assert.deepEqual(inner.options.aliases, [{ type: "t:a:Inner", parent: `${prefix}t:b:Outer::store` }]);
    const outer = run.resources.find((r) => r.name === "store")!;
    assert.deepEqual(outer.options.aliases, [{ name: "old", noParent: true }]);
  });
});

describe("matchState", () => {
  let original: ProgramRun;

  before(async () => {
    original = await runProgram({ ...base, program: program({ outer: "t:a:Outer", inner: "t:a:Inner" }) });
  });

  it("keeps every resource when nothing changed", async () => {
    const again = await runProgram({ ...base, program: program({ outer: "t:a:Outer", inner: "t:a:Inner" }) });
    const result = matchState(again.resources, urns(original));
    assert.ok(result.matches.every((m) => m.kind === "same"));
    assert.deepEqual(result.deleted, []);
  });

  it("sees a renamed component type without an alias as a replacement of it and all its children", async () => {
    const renamed = await runProgram({
      ...base,
      program: program({ outer: "t:b:Outer", inner: "t:a:Inner" }),
    });
    const result = matchState(renamed.resources, urns(original));
    const created = result.matches.filter((m) => m.kind === "create").map((m) => m.urn.split("::").pop());
    assert.deepEqual(created.sort(), ["store", "store-inner", "store-inner-bucket", "store-role"]);
    assert.equal(result.deleted.length, 4);
  });

  it("lets the children of an aliased component inherit the alias, grandchildren included", async () => {
    const renamed = await runProgram({
      ...base,
      program: program(
        { outer: "t:b:Outer", inner: "t:b:Inner" },
        {
          outer: { aliases: [{ type: "t:a:Outer" }] },
          inner: { aliases: [{ type: "t:a:Inner" }] },
        },
      ),
    });
    const result = matchState(renamed.resources, urns(original));
    assert.deepEqual(result.deleted, []);
    const bucket = result.matches.find((m) => m.urn.endsWith("::store-inner-bucket"))!;
    assert.deepEqual(bucket, {
      urn: `${prefix}t:b:Outer$t:b:Inner$aws:s3/bucket:Bucket::store-inner-bucket`,
      old: `${prefix}t:a:Outer$t:a:Inner$aws:s3/bucket:Bucket::store-inner-bucket`,
      kind: "alias",
    });
  });

  it("rewrites the name prefix of children of a renamed component", async () => {
    const renamed = await runProgram({
      ...base,
      program: () => {
        const outer = new Component("t:a:Outer", "shop", {
          providers: [provider()],
          aliases: [{ name: "store" }],
        });
        const inner = new Component("t:a:Inner", "shop-inner", { parent: outer });
        new aws.s3.Bucket("shop-inner-bucket", {}, { parent: inner });
        new aws.iam.Role("shop-role", { assumeRolePolicy: "{}" }, { parent: outer });
      },
    });
    const result = matchState(renamed.resources, urns(original));
    assert.deepEqual(result.deleted, []);
    assert.ok(result.matches.filter((m) => m.kind === "alias").length === 4);
  });

  it("needs the child's own alias when a child moves to another parent", async () => {
    const moved = program({ outer: "t:a:Outer", inner: "t:a:Inner" }, { roleParent: "inner" });
    const without = matchState((await runProgram({ ...base, program: moved })).resources, urns(original));
    assert.deepEqual(
      without.deleted.map((u) => u.split("::").pop()),
      ["store-role"],
    );
    const withAlias = await runProgram({
      ...base,
      program: () => {
        const p = provider();
        const outer = new Component("t:a:Outer", "store", { providers: [p] });
        const inner = new Component("t:a:Inner", "store-inner", { parent: outer });
        new aws.s3.Bucket("store-inner-bucket", {}, { parent: inner });
        new aws.iam.Role(
          "store-role",
          { assumeRolePolicy: "{}" },
          { parent: inner, aliases: [{ parent: outer }] },
        );
      },
    });
    const result = matchState(withAlias.resources, urns(original));
    assert.deepEqual(result.deleted, []);
    const role = result.matches.find((m) => m.urn.endsWith("::store-role"))!;
    assert.equal(role.old, `${prefix}t:a:Outer$aws:iam/role:Role::store-role`);
  });

  it("reports two resources claiming the same old state", () => {
    const old = `${prefix}t:a:Outer::store`;
    const result = matchState(
      [
        {
          urn: `${prefix}t:b:Outer::store`,
          type: "t:b:Outer",
          name: "store",
          parent: undefined,
          options: { aliases: [old] },
        },
        {
          urn: `${prefix}t:c:Outer::store`,
          type: "t:c:Outer",
          name: "store",
          parent: undefined,
          options: { aliases: [old] },
        },
      ],
      [old],
    );
    assert.equal(result.conflicts.length, 1);
  });

  it("tries a resource's own aliases before the inherited one", () => {
    const parent = `${prefix}t:b:Outer::store`;
    const aliases = aliasesOf(
      {
        urn: `${parent}`,
        type: "t:x:Child",
        name: "store-x",
        parent,
        options: { aliases: [{ name: "store-y", parent }] },
      },
      new Map([[parent, `${prefix}t:a:Outer::shop`]]),
    );
    assert.deepEqual(aliases, [
      `${prefix}t:a:Outer$t:x:Child::store-y`,
      `${prefix}t:a:Outer$t:x:Child::shop-x`,
      `${prefix}t:a:Outer$t:x:Child::shop-y`,
    ]);
  });
});
