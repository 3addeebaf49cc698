import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "@hcp/testing";
import { inheritedDependsOn } from "../src";

class Thing extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:kube:Thing", name, {}, {});
  }
}

/** Runs `body` inside a program (resources need a running Pulumi runtime). */
async function inProgram(body: () => void): Promise<void> {
  await runProgram({ project: "p", stack: "s", searchPaths: [__dirname], program: body });
}

describe("inheritedDependsOn", () => {
  it("hands a component's dependsOn to a child, before the child's own", () =>
    inProgram(() => {
      const [a, b, c] = ["a", "b", "c"].map((n) => new Thing(n));
      assert.deepEqual(inheritedDependsOn({ dependsOn: [a, b] }, c), [a, b, c]);
      assert.deepEqual(inheritedDependsOn({ dependsOn: a }), [a]);
    }));

  it("returns the local dependencies when the component has none", () =>
    inProgram(() => {
      const c = new Thing("c");
      assert.deepEqual(inheritedDependsOn(undefined, c), [c]);
      assert.deepEqual(inheritedDependsOn({}), []);
    }));

  it("refuses outputs of resources, which cannot be handed on", () =>
    inProgram(() => {
      const a = new Thing("a");
      assert.throws(
        () => inheritedDependsOn({ dependsOn: pulumi.output([a]) as pulumi.Input<pulumi.Resource[]> }),
        /must be resources.*Fix: pass the resources themselves/,
      );
    }));
});
