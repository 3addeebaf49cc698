import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ciConnectionName,
  ciRunnerProjectName,
  deployOrder,
  LAYER_SPECS,
  LAYERS,
  type LayerName,
  stackId,
  stackLabel,
  stacksOf,
  upstreamStacks,
} from "@hcp/platform";
import { repoRoot, repoTopology } from "@hcp/testing";
import {
  affectedStacks,
  approvalEnvironmentOf,
  ciSetupChecklist,
  deployPlan,
  deployTargets,
  impactOf,
  previewRoleVariable,
  runnerProjectOf,
} from "../src/ci";
import { discover } from "../src/discover";
import { type PackageGraph, readPackageGraph, undeclaredImports } from "../src/workspace";

const production = repoTopology("production");
const staging = repoTopology("staging");
const graph = readPackageGraph(repoRoot());

/** `layer@region` of the affected stacks, in the order returned. */
function affected(
  files: string[],
  topology = production,
  built: readonly LayerName[] = LAYERS,
  packages: PackageGraph = graph,
) {
  return affectedStacks(files, topology, { graph: packages, builtLayers: built }).map(
    (a) => `${a.id.layer}@${a.id.region ?? "-"}`,
  );
}

/** Layers a path affects (sorted), or the impact kind when it is not a set of layers. */
function layersOf(file: string, packages: PackageGraph = graph): string[] | string {
  const impact = impactOf(file, packages);
  return impact.kind === "layers" ? [...impact.layers.keys()].sort() : impact.kind;
}

const SA = "sa-east-1";
const US = "us-east-1";

describe("affected stacks (preview matrix)", () => {
  it("classifies changed paths", () => {
    assert.deepEqual(layersOf("packages/network/src/index.ts"), ["network"]);
    assert.deepEqual(impactOf("./packages/dr/Pulumi.production-us-east-1.yaml", graph), {
      kind: "stack",
      layer: "dr",
      stack: "production-us-east-1",
    });
    assert.deepEqual(impactOf("Pulumi.staging.yaml", graph), { kind: "environment", environment: "staging" });
    for (const everything of [
      "packages/platform/src/tags.ts",
      "policies/healthcare/src/lib.ts",
      "pnpm-lock.yaml",
      "Pulumi.yaml",
      "tsconfig.base.json",
    ]) {
      assert.equal(impactOf(everything, graph).kind, "all", everything);
    }
    for (const nothing of [
      "docs/ci.md",
      "README.md",
      ".github/workflows/pr.yml",
      "packages/plan/src/cli.ts",
      "packages/network/test/vpc.test.ts",
      "packages/testing/src/run.ts",
      "policies/healthcare/test/rules.test.ts",
      "bench/failover.ts",
    ]) {
      assert.deepEqual(impactOf(nothing, graph), { kind: "none" }, nothing);
    }
    assert.equal(impactOf("scripts/unknown.sh", graph).kind, "all", "unknown paths preview everything");
  });

  it("adds every stack that reads an affected stack, transitively, in deploy order", () => {
    const data = affected(["packages/data/src/components/patroni.ts"]);
    const readers = stacksOf(production).filter((id) =>
      upstreamStacks(production, id).some((u) => u.layer === "data"),
    );
    assert.equal(data[0], `data@${SA}`);
    for (const id of readers) {
      assert.ok(data.includes(`${id.layer}@${id.region ?? "-"}`), `${stackLabel(id)} reads data`);
    }
    assert.ok(
      !data.includes(`network@${SA}`) && !data.includes(`cluster@${SA}`),
      "producers are not affected",
    );
    assert.deepEqual(affected(["packages/observability/src/index.ts"]), [
      `observability@${SA}`,
      `observability@${US}`,
    ]);
    // The network of the primary region is read by the DR stack of the other region.
    const network = affected(["packages/network/Pulumi.production-sa-east-1.yaml"]);
    assert.deepEqual(network.slice(0, 2), [`network@${SA}`, `cluster@${SA}`]);
    assert.ok(
      network.includes(`dr@${US}`) &&
        !network.includes(`network@${US}`) &&
        !network.includes(`cluster@${US}`),
    );
  });

  it("says why each stack is affected", () => {
    const reasons = new Map(
      affectedStacks(["packages/cluster/src/index.ts"], production, { graph }).map((a) => [
        stackLabel(a.id),
        a.reason,
      ]),
    );
    assert.equal(reasons.get(`hcp-cluster/production-${SA}`), "packages/cluster/src/index.ts");
    assert.equal(reasons.get(`hcp-data/production-${SA}`), `reads hcp-cluster/production-${SA}`);
  });

  it("previews everything for shared code and the policy pack, and an environment's stacks for its definition", () => {
    const all = affected(["packages/platform/src/naming.ts"]);
    assert.deepEqual(
      all,
      stacksOf(production).map((id) => `${id.layer}@${id.region ?? "-"}`),
    );
    assert.deepEqual(affected(["policies/healthcare/src/policies/encryption.ts"]), all);
    assert.deepEqual(affected(["Pulumi.staging.yaml"]), []);
    assert.deepEqual(
      affected(["Pulumi.staging.yaml"], staging),
      affected(["packages/platform/src/naming.ts"], staging),
    );
    assert.deepEqual(
      affected(["packages/environment/src/index.ts"]),
      all,
      "the environment layer feeds every stack",
    );
  });

  it("ignores docs, tests and CI files, and layers without a project", () => {
    assert.deepEqual(
      affected(["docs/ci.md", "packages/network/test/x.test.ts", ".github/workflows/deploy.yml", ""]),
      [],
    );
    assert.deepEqual(
      affected(["packages/data/src/index.ts"], production, ["environment", "network", "cluster"]),
      [],
    );
  });
});

describe("affected stacks follow workspace package dependencies", () => {
  let root: string;
  let fixture: PackageGraph;

  /** A workspace: a library package per entry (name → workspace dependencies), layers as projects. */
  function write(file: string, content: string) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  function pkg(dir: string, name: string, deps: string[], devDeps: string[] = []) {
    const ws = (names: string[]) => Object.fromEntries(names.map((n) => [n, "workspace:*"]));
    write(
      `${dir}/package.json`,
      JSON.stringify({ name, dependencies: { zod: "4.0.0", ...ws(deps) }, devDependencies: ws(devDeps) }),
    );
  }
  function layer(name: LayerName, deps: string[]) {
    pkg(`packages/${name}`, `@hcp/${name}`, deps, ["@hcp/testing"]);
    write(`packages/${name}/Pulumi.yaml`, `name: ${LAYER_SPECS[name].project}\nmain: src/index.ts\n`);
  }

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-workspace-"));
    write("pnpm-workspace.yaml", "packages:\n  - packages/*\n  - policies/*\n  - bench\n");
    write("Pulumi.yaml", "name: healthcare-platform\nmain: packages/environment/src/index.ts\n");
    pkg("packages/platform", "@hcp/platform", []);
    pkg("packages/testing", "@hcp/testing", ["@hcp/platform"]);
    pkg("packages/kube", "@hcp/kube", ["@hcp/platform"]);
    pkg("packages/postgres", "@hcp/postgres", ["@hcp/kube", "@hcp/platform"], ["@hcp/testing"]);
    pkg("packages/plan", "@hcp/plan", ["@hcp/platform", "@hcp/testing", "@hcp/policy-healthcare"]);
    pkg("policies/healthcare", "@hcp/policy-healthcare", ["@hcp/platform"], ["@hcp/testing"]);
    write("policies/healthcare/PulumiPolicy.yaml", "runtime: nodejs\n");
    pkg("bench", "@hcp/bench", ["@hcp/postgres", "@hcp/testing"]);
    pkg("packages/environment", "@hcp/environment", ["@hcp/platform"], ["@hcp/testing"]);
    layer("network", ["@hcp/platform"]);
    layer("cluster", ["@hcp/platform", "@hcp/kube"]);
    layer("data", ["@hcp/platform", "@hcp/postgres"]);
    layer("dr", ["@hcp/platform", "@hcp/postgres"]);
    layer("workloads", ["@hcp/platform", "@hcp/kube"]);
    layer("observability", ["@hcp/platform"]);
    fixture = readPackageGraph(root);
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("reads each layer's package from its Pulumi project (the root project's main for the environment)", () => {
    assert.equal(fixture.layerPackages.get("environment"), "@hcp/environment");
    assert.equal(fixture.layerPackages.get("data"), "@hcp/data");
    assert.deepEqual(fixture.packages.find((p) => p.name === "@hcp/postgres")?.dependencies, [
      "@hcp/kube",
      "@hcp/platform",
    ]);
    assert.ok(fixture.packages.find((p) => p.name === "@hcp/policy-healthcare")?.policyPack);
  });

  it("previews data and dr (and what reads them) for a change in a library only they depend on", () => {
    assert.deepEqual(layersOf("packages/postgres/src/patroni.ts", fixture), ["data", "dr"]);
    const stacks = affectedStacks(["packages/postgres/src/patroni.ts"], production, { graph: fixture });
    const seeded = stacks.filter((a) => !a.reason.startsWith("reads "));
    assert.deepEqual(
      seeded.map((a) => [stackLabel(a.id), a.reason]),
      [
        [
          `hcp-data/production-${SA}`,
          "packages/postgres/src/patroni.ts (@hcp/postgres, which @hcp/data depends on)",
        ],
        [
          `hcp-dr/production-${US}`,
          "packages/postgres/src/patroni.ts (@hcp/postgres, which @hcp/dr depends on)",
        ],
      ].sort(
        (a, b) =>
          stacks.findIndex((s) => stackLabel(s.id) === a[0]) -
          stacks.findIndex((s) => stackLabel(s.id) === b[0]),
      ),
    );
    for (const a of stacks) {
      assert.ok(
        a.id.layer === "data" || a.id.layer === "dr" || upstreamStacks(production, a.id).length > 0,
        stackLabel(a.id),
      );
    }
    assert.ok(!stacks.some((a) => ["network", "cluster", "environment"].includes(a.id.layer)));
  });

  it("follows dependencies transitively: a change in @hcp/kube reaches data and dr through @hcp/postgres", () => {
    assert.deepEqual(layersOf("packages/kube/src/namespace.ts", fixture), [
      "cluster",
      "data",
      "dr",
      "workloads",
    ]);
    const impact = impactOf("packages/kube/src/namespace.ts", fixture);
    assert.equal(impact.kind === "layers" && impact.layers.get("dr"), "@hcp/kube, which @hcp/dr depends on");
  });

  it("previews every stack for the platform library and for the policy pack", () => {
    assert.deepEqual(impactOf("packages/platform/src/tags.ts", fixture), {
      kind: "all",
      why: "@hcp/platform, used by the policy pack @hcp/policy-healthcare",
    });
    const pack = impactOf("policies/healthcare/src/policies/encryption.ts", fixture);
    assert.deepEqual(pack, {
      kind: "all",
      why: "@hcp/policy-healthcare, the policy pack every preview runs",
    });
    assert.deepEqual(
      affected(["policies/healthcare/src/x.ts"], production, LAYERS, fixture),
      stacksOf(production).map((id) => `${id.layer}@${id.region ?? "-"}`),
    );
  });

  it("does not follow devDependencies: tests and tooling are not deployed", () => {
    assert.equal(layersOf("packages/testing/src/run.ts", fixture), "none");
    assert.equal(layersOf("packages/plan/src/cli.ts", fixture), "none");
    assert.equal(layersOf("bench/failover.ts", fixture), "none");
  });

  it("finds a package whose src imports a workspace package it does not list in dependencies", () => {
    write("packages/network/src/index.ts", 'import { one } from "@hcp/testing";\nimport "@hcp/platform";\n');
    assert.deepEqual(undeclaredImports(root, fixture), [
      { package: "@hcp/network", imports: "@hcp/testing" },
    ]);
  });

  it("the repository's own source imports are all declared, so the graph is what programs load", () => {
    assert.deepEqual(undeclaredImports(repoRoot(), graph), []);
  });
});

describe("deploy plan", () => {
  it("lists every layer after the layers it reads, with its stacks", () => {
    const plan = deployPlan(production);
    assert.deepEqual(
      plan.layers.map((l) => l.layer),
      deployOrder(),
    );
    assert.deepEqual([...plan.layers.map((l) => l.layer)].sort(), [...LAYERS].sort());
    const position = new Map(plan.layers.map((l, i) => [l.layer, i]));
    for (const l of plan.layers) {
      for (const read of LAYER_SPECS[l.layer].reads) {
        if (read.layer === l.layer) {
          // Stacks of one layer reading each other (DR-region workloads read the primary's): the
          // producer stack comes first in the layer's list, which its job deploys one at a time.
          // stackName is the fully qualified `<organization>/<project>/<stack>`.
          const at = (id: Parameters<typeof stackLabel>[0]) => {
            const i = l.stacks.findIndex((x) => x.stackName.endsWith(`/${stackLabel(id)}`));
            assert.ok(i >= 0, `${stackLabel(id)} in the ${l.layer} stacks`);
            return i;
          };
          for (const s of stacksOf(production).filter((x) => x.layer === l.layer)) {
            for (const up of upstreamStacks(production, s).filter((u) => u.layer === l.layer)) {
              assert.ok(at(up) < at(s), `${stackLabel(up)} before ${stackLabel(s)}`);
            }
          }
          continue;
        }
        assert.ok(position.get(read.layer)! < position.get(l.layer)!, `${l.layer} after ${read.layer}`);
      }
    }
    const byLayer = new Map(plan.layers.map((l) => [l.layer, l.stacks]));
    assert.deepEqual(
      byLayer.get("environment")!.map((s) => [s.workDir, s.stackName]),
      [[".", "organization/healthcare-platform/production"]],
    );
    assert.deepEqual(
      byLayer.get("dr")!.map((s) => [s.workDir, s.stackName, s.awsRegion]),
      [["packages/dr", `organization/hcp-dr/production-${US}`, US]],
    );
    assert.equal(plan.backendUrl, "s3://example-health-pulumi-state-production?region=sa-east-1");
    assert.equal(plan.secretsProvider, "awskms://alias/pulumi-state-production?region=sa-east-1");
  });

  it("names the runner of every stack: its region's in-VPC runners where the layer reaches Kubernetes", () => {
    for (const topology of [production, staging]) {
      const plan = deployPlan(topology);
      assert.equal(plan.tier, topology.tier);
      assert.equal(plan.githubEnvironment, topology.access.github.deployEnvironment);
      for (const layer of plan.layers) {
        for (const s of layer.stacks) {
          assert.equal(s.reaches, LAYER_SPECS[layer.layer].reaches);
          assert.equal(
            s.runnerProject,
            s.reaches === "kubernetes" ? ciRunnerProjectName(topology.name, s.region) : "",
            s.label,
          );
          assert.equal(s.refresh, s.reaches === "aws", s.label);
        }
      }
    }
    const cluster = deployPlan(production).layers.find((l) => l.layer === "cluster")!.stacks;
    assert.deepEqual(
      cluster.map((s) => s.runnerProject),
      ["hcp-production-sa-east-1-ci-runner", "hcp-production-us-east-1-ci-runner"],
    );
    assert.equal(runnerProjectOf(stackId("network", "production", SA)), "");
  });

  it("lists the environments to deploy, non-production first", () => {
    assert.deepEqual(deployTargets([production, staging]), {
      nonproduction: [{ environment: "staging", githubEnvironment: "staging" }],
      production: [{ environment: "production", githubEnvironment: "production" }],
    });
  });

  it("lists what GitHub and AWS need for an environment, with names derived from its definition", () => {
    const text = ciSetupChecklist(production).join("\n");
    assert.match(
      text,
      /repository variable AWS_PREVIEW_ROLE_ARN_PRODUCTION = output environment\.ci\.previewRoleArn/,
    );
    assert.match(
      text,
      /GitHub environment "production": deployment branches: main only; no required reviewers/,
    );
    assert.match(text, /GitHub environment "production-approval": required reviewers/);
    for (const r of production.regions) {
      assert.ok(text.includes(ciConnectionName("production", r.name)), r.name);
    }
    assert.match(
      ciSetupChecklist(staging).join("\n"),
      /"staging-approval": deployment branches: main only \(reviewers optional/,
    );
    assert.equal(approvalEnvironmentOf("production"), "production-approval");
  });

  it("keeps a layer without a project in the order, with nothing to deploy", () => {
    const plan = deployPlan(staging, ["environment", "network"]);
    const cluster = plan.layers.find((l) => l.layer === "cluster")!;
    assert.equal(cluster.built, false);
    assert.deepEqual(cluster.stacks, []);
    assert.equal(previewRoleVariable("staging"), "AWS_PREVIEW_ROLE_ARN_STAGING");
  });
});

describe("CI subcommands (CLI)", function () {
  this.timeout(120_000);

  function plan(...args: string[]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "plan", ...args], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("affected prints a job matrix with what each job needs", () => {
    const file = path.join(os.tmpdir(), `changed-${process.pid}.txt`);
    fs.writeFileSync(file, "packages/observability/src/index.ts\ndocs/ci.md\n");
    try {
      const r = plan("affected", "--env", "all", "--changed", file);
      assert.equal(r.code, 0, r.stderr);
      const matrix = JSON.parse(r.stdout) as { include: Array<Record<string, string>> };
      const built = fs.existsSync(path.join(__dirname, "..", "..", "observability", "Pulumi.yaml"));
      const expected = discover(repoRoot()).environments.reduce(
        (n, e) => n + stacksOf(repoTopology(e), ["observability"]).length,
        0,
      );
      assert.equal(matrix.include.length, built ? expected : 0);
      for (const job of matrix.include) {
        assert.equal(job["workDir"], "packages/observability");
        assert.equal(job["previewRoleVariable"], `AWS_PREVIEW_ROLE_ARN_${job["environment"].toUpperCase()}`);
        assert.equal(job["reason"], "packages/observability/src/index.ts");
        assert.equal(job["runnerProject"], ciRunnerProjectName(job["environment"], job["region"]));
      }
      assert.match(r.stderr, /stack\(s\) affected/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("deploy-order prints the stacks of a layer for a shell loop, and policy-config the environment's pack config", () => {
    const tsv = plan("deploy-order", "--env", "staging", "--layer", "environment", "--format", "tsv");
    assert.equal(tsv.code, 0, tsv.stderr);
    assert.equal(tsv.stdout, ".\torganization/healthcare-platform/staging\n");
    const json = plan("deploy-order", "--env", "production");
    assert.deepEqual(
      (JSON.parse(json.stdout) as { layers: Array<{ layer: string }> }).layers.map((l) => l.layer),
      deployOrder(),
    );
    assert.equal(plan("deploy-order", "--env", "production", "--layer", "nope").code, 64);
    const config = plan("policy-config", "--env", "production");
    assert.equal(config.code, 0, config.stderr);
    const parsed = JSON.parse(config.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(parsed["phi-cross-border-copy"]?.["transferBasisCountries"], ["US"]);
    assert.equal(plan("policy-config", "--env", "prod").code, 2);
  });
});
