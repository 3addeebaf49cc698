import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadEnvironmentConfigFile, stackId } from "@hcp/platform";
import { repoRoot, repoTopology } from "@hcp/testing";
import { deployPlan } from "../src/ci";
import { stackConfig } from "../src/discover";

/**
 * `.github/scripts/pulumi-stack.sh`, the one step that runs Pulumi in the deploy and preview jobs,
 * against a stand-in CLI (test/fixtures/fake-pulumi) that reproduces the engine's secrets-manager
 * choice: the stack is created with the environment's secrets provider on the first run, and every
 * later run from a fresh checkout (no Pulumi.<stack>.yaml carrying it) still uses it.
 */

const SCRIPT = path.join(repoRoot(), ".github", "scripts", "pulumi-stack.sh");
const FAKE_BIN = path.join(__dirname, "fixtures", "fake-pulumi");

const hasJq = spawnSync("jq", ["--version"]).status === 0;

describe("pulumi-stack.sh (CI's Pulumi step)", function () {
  this.timeout(30_000);
  const network = deployPlan(repoTopology("production")).layers.find((l) => l.layer === "network")!.stacks[0];
  let backend: string;

  before(function () {
    if (!hasJq) {
      // jq is on every GitHub-hosted and CodeBuild runner image; Debian: apt-get install jq.
      console.log("      SKIPPED: jq is not on PATH (Debian package jq)");
      this.skip();
    }
  });

  beforeEach(() => {
    backend = fs.mkdtempSync(path.join(os.tmpdir(), "fake-backend-"));
  });
  afterEach(() => fs.rmSync(backend, { recursive: true, force: true }));

  /** A fresh checkout (what a runner has): the layer's project directory and nothing else. */
  function checkout(): string {
    const dir = fs.mkdtempSync(path.join(backend, "checkout-"));
    fs.mkdirSync(path.join(dir, network.workDir), { recursive: true });
    return dir;
  }

  function run(operation: "up" | "check", cwd: string, env: Record<string, string> = {}) {
    const r = spawnSync("bash", [SCRIPT, operation], {
      cwd,
      encoding: "utf8",
      env: {
        PATH: `${FAKE_BIN}${path.delimiter}${process.env["PATH"] ?? ""}`,
        HOME: backend,
        FAKE_BACKEND: backend,
        STACK: network.stackName,
        WORK_DIR: network.workDir,
        BACKEND_URL: network.backendUrl,
        SECRETS_PROVIDER: network.secretsProvider,
        POLICY_PACK: "policies/healthcare",
        POLICY_CONFIG: "policy-config.json",
        ...env,
      },
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  const calls = () => fs.readFileSync(path.join(backend, "calls.log"), "utf8").trim().split("\n");

  it("creates a new stack with the environment's KMS secrets provider, and deploys it again from a fresh checkout", () => {
    assert.match(network.secretsProvider, /^awskms:\/\//);
    const first = run("up", checkout());
    assert.equal(first.code, 0, first.out);
    assert.ok(
      calls().includes(
        `stack select ${network.stackName} --create --secrets-provider ${network.secretsProvider} --cwd ${network.workDir}`,
      ),
    );
    // Second run: a new runner, no stack file, no passphrase.
    const second = run("up", checkout());
    assert.equal(second.code, 0, second.out);
    assert.match(
      second.out,
      new RegExp(`state secrets provider ${network.secretsProvider.replace(/[?]/g, "\\?")}`),
    );
    assert.equal(calls().filter((c) => c.startsWith("up ")).length, 2);
    assert.ok(
      calls().some((c) =>
        c.includes("--policy-pack policies/healthcare --policy-pack-config policy-config.json"),
      ),
    );
  });

  it("would fail the second run without the engine's state fallback (what the stand-in proves)", () => {
    assert.equal(run("up", checkout()).code, 0);
    // The same second run done the old way: `pulumi up` with no stack file and no fallback.
    const r = spawnSync("pulumi", ["up", "--yes", "--stack", network.stackName, "--cwd", network.workDir], {
      cwd: checkout(),
      encoding: "utf8",
      env: { PATH: `${FAKE_BIN}${path.delimiter}${process.env["PATH"] ?? ""}`, FAKE_BACKEND: backend },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /passphrase must be set/);
  });

  it("stops before `pulumi up` when the state records another secrets provider, naming the fix", () => {
    // A stack created by hand without --secrets-provider: the backend default (passphrase).
    const cwd = checkout();
    spawnSync("pulumi", ["stack", "init", network.stackName, "--cwd", network.workDir], {
      cwd,
      env: { PATH: `${FAKE_BIN}${path.delimiter}${process.env["PATH"] ?? ""}`, FAKE_BACKEND: backend },
    });
    const r = run("up", cwd);
    assert.equal(r.code, 1);
    assert.match(r.out, /records the secrets provider 'passphrase'/);
    assert.match(r.out, /pulumi stack change-secrets-provider --stack \S+ --cwd packages\/network 'awskms:/);
    assert.ok(!calls().some((c) => c.startsWith("up ")), "nothing deployed");
  });

  it("leaves the offline plan's view of a stack unchanged by the keys Pulumi writes into a stack file on a runner", () => {
    // `stack init --secrets-provider` on a runner writes secretsprovider + encryptedkey into the
    // checkout's Pulumi.<stack>.yaml (the root project's is the environment definition).
    const root = fs.mkdtempSync(path.join(backend, "repo-"));
    fs.copyFileSync(path.join(repoRoot(), "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    const original = fs.readFileSync(path.join(repoRoot(), "Pulumi.production.yaml"), "utf8");
    const id = stackId("environment", "production");
    fs.writeFileSync(path.join(root, "Pulumi.production.yaml"), original);
    const before = stackConfig(root, id);
    fs.writeFileSync(
      path.join(root, "Pulumi.production.yaml"),
      `secretsprovider: ${network.secretsProvider}\nencryptedkey: AQICAHhfakefakefake==\n${original}`,
    );
    assert.deepEqual(stackConfig(root, id), before);
    assert.deepEqual(
      loadEnvironmentConfigFile(path.join(root, "Pulumi.production.yaml"), "production"),
      repoTopology("production"),
    );
  });

  it("check fails, rather than skipping, when the backend cannot be read", () => {
    const r = run("check", checkout(), { FAKE_BACKEND_ERROR: "AccessDenied: s3:ListBucket" });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /AccessDenied/);
  });

  it("check (preview) skips a stack that does not exist yet and never creates one", () => {
    const r = run("check", checkout());
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /does not exist yet/);
    assert.ok(!calls().some((c) => c.includes("--create")));
    assert.equal(run("up", checkout()).code, 0);
    const again = run("check", checkout());
    assert.equal(again.code, 0, again.out);
  });
});
