import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { conventionViolations, type ConventionViolation, runProgram } from "../src";

const base = { project: "p", stack: "s", searchPaths: [__dirname] } as const;

function provider(): aws.Provider {
  return new aws.Provider("aws-sa-east-1", { region: "sa-east-1", allowedAccountIds: ["111122223333"] });
}

/** A component that keeps every convention. */
class Tidy extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) {
    super("hcp:test:Tidy", name, {}, opts);
    new aws.s3.Bucket(`${name}-logs`, {}, { parent: this, protect: true, dependsOn: opts.dependsOn });
    this.registerOutputs({});
  }
}

/** A component whose type token names another class. */
class Misnamed extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) {
    super("hcp:test:Tls", name, {}, opts);
    this.registerOutputs({});
  }
}

/** Children numbered by position, one of them not named after the component. */
class Positional extends pulumi.ComponentResource {
  constructor(name: string, roles: readonly string[], opts: pulumi.ComponentResourceOptions) {
    super("hcp:test:Positional", name, {}, opts);
    roles.forEach((r, i) => new aws.iam.Role(`${name}-role-${i}`, { assumeRolePolicy: r }, { parent: this }));
    new aws.iam.Role("stray", { assumeRolePolicy: "{}" }, { parent: this });
    this.registerOutputs({});
  }
}

/** Forgets to pass its dependsOn to its child. */
class Forgetful extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) {
    super("hcp:test:Forgetful", name, {}, opts);
    new aws.iam.Role(`${name}-role`, { assumeRolePolicy: "{}" }, { parent: this });
    this.registerOutputs({});
  }
}

async function violations(
  program: () => void,
  tier: "production" | "nonproduction" = "production",
): Promise<ConventionViolation[]> {
  return conventionViolations(await runProgram({ ...base, program }), { tier });
}

const rules = (vs: readonly ConventionViolation[]) => [...new Set(vs.map((v) => v.rule))].sort();

describe("assertConventions", () => {
  it("finds nothing in a program that keeps the conventions", async () => {
    assert.deepEqual(
      await violations(() => {
        const aws = provider();
        const first = new Tidy("first", { providers: [aws] });
        new Tidy("second", { providers: [aws], dependsOn: [first] });
      }),
      [],
    );
  });

  it("names a type token that does not match the registering class", async () => {
    const found = await violations(() => void new Misnamed("tls", { providers: [provider()] }));
    assert.deepEqual(rules(found), ["type-token"]);
    assert.match(
      found[0].message,
      /hcp:test:Tls is registered by class Misnamed: name the token hcp:test:Misnamed/,
    );
  });

  it("finds children named by position and children not named after their component", async () => {
    const found = await violations(
      () => void new Positional("access", ["{}", "{}", "{}"], { providers: [provider()] }),
    );
    assert.deepEqual(rules(found), ["child-name", "positional-name"]);
    assert.equal(found.filter((v) => v.rule === "positional-name").length, 3);
    assert.match(found.find((v) => v.rule === "child-name")!.message, /stray is a child of access/);
  });

  it("accepts a numbered name declared an identity", async () => {
    const run = await runProgram({
      ...base,
      program: () => void new Positional("repo", ["{}", "{}"], { providers: [provider()] }),
    });
    const found = conventionViolations(run, {
      tier: "nonproduction",
      positionalExceptions: [{ name: /^repo-role-\d$/, because: "test" }],
    });
    assert.deepEqual(rules(found), ["child-name"]);
  });

  it("finds a resource on a default provider and an unprotected stateful resource in production only", async () => {
    const program = () => {
      new aws.kms.Key("key", {}, { provider: provider() });
    };
    assert.deepEqual(rules(await violations(program)), ["protect-stateful"]);
    assert.deepEqual(await violations(program, "nonproduction"), []);
    // A component registered without providers: its child falls back to the default provider.
    const unprovided = await runProgram({
      ...base,
      program: () => {
        const aws = provider();
        new Tidy("ok", { providers: [aws] });
      },
    });
    const withoutProvider = {
      ...unprovided,
      resources: unprovided.resources.map((r) =>
        r.type === "aws:s3/bucket:Bucket" ? { ...r, provider: undefined } : r,
      ),
    };
    assert.deepEqual(rules(conventionViolations(withoutProvider, { tier: "production" })), [
      "explicit-provider",
    ]);
  });

  it("finds a component whose dependsOn does not reach its children", async () => {
    const found = await violations(() => {
      const aws = provider();
      const first = new Tidy("first", { providers: [aws] });
      new Forgetful("late", { providers: [aws], dependsOn: [first] });
    }, "nonproduction");
    assert.deepEqual(rules(found), ["inherited-depends-on"]);
    assert.match(
      found[0].message,
      /late-role is below late, whose dependsOn it does not have \(1: first-logs\)/,
    );
  });
});
