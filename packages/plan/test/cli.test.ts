import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { readStackConfigFile } from "@hcp/platform";
import { repoEnvironments, repoRoot } from "@hcp/testing";
import type { PlanDocument } from "../src/model";

const PLAN_DIR = path.join(__dirname, "..");

function plan(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "plan", ...args], {
    cwd: PLAN_DIR,
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** The repository's staging definition with changes, as a stack config file. */
function stagingWith(change: (values: Record<string, unknown>) => void): string {
  const raw = readStackConfigFile(path.join(repoRoot(), "Pulumi.staging.yaml"));
  const values = structuredClone(raw.values) as Record<string, unknown>;
  change(values);
  return stringify({ config: values });
}

describe("pnpm plan (CLI)", function () {
  this.timeout(300_000);

  it("prints the usage of a command and of a subcommand for --help, exit 0", () => {
    const top = plan("--help");
    assert.equal(top.code, 0, top.out);
    assert.match(top.out, /^usage: pnpm plan \[flags\]$/m);
    assert.match(top.out, /--layers <a,b> +only these layers, plus the producers they read/);
    assert.match(top.out, /^ {2}affected +the stacks a change affects/m);
    const sub = plan("deploy-order", "-h");
    assert.equal(sub.code, 0, sub.out);
    assert.match(sub.out, /^usage: pnpm plan deploy-order \[flags\]$/m);
    assert.match(sub.out, /--format <json\|tsv>/);
    assert.doesNotMatch(sub.out, /--no-policies/, "a subcommand's usage lists its own flags");
  });

  it("refuses an unknown flag, naming it and the closest valid one, exit 64", () => {
    const { code, out } = plan("--env", "staging", "--polcy-config", "x.json");
    assert.equal(code, 64, out);
    assert.match(out, /^unknown flag --polcy-config for plan; did you mean --policy-config\?$/m);
    const sub = plan("affected", "--env", "all", "--changd", "-");
    assert.equal(sub.code, 64, sub.out);
    assert.match(sub.out, /^unknown flag --changd for affected; did you mean --changed\?$/m);
    assert.match(sub.out, /^usage: pnpm plan affected \[flags\]$/m);
  });

  it("refuses an unknown subcommand, a flag without its value and a stray argument, exit 64", () => {
    const sub = plan("afected", "--env", "all");
    assert.equal(sub.code, 64, sub.out);
    assert.match(sub.out, /^unknown subcommand 'afected'; did you mean affected\?$/m);
    const value = plan("--env");
    assert.equal(value.code, 64, value.out);
    assert.match(value.out, /^--env needs a value: --env <environment\|all>$/m);
    const layer = plan("--env", "staging", "--layers", "netwrk");
    assert.equal(layer.code, 64, layer.out);
    assert.match(layer.out, /unknown layer\(s\) 'netwrk' \(did you mean network\?\)/);
    const wild = plan("--env", "staging", "--zzzzzzzzzz");
    assert.equal(wild.code, 64, wild.out);
    assert.match(wild.out, /^unknown flag --zzzzzzzzzz for plan$/m, "no suggestion when nothing is close");
  });

  it("lists the environments when asked for an unknown one, exit 2", () => {
    const { code, out } = plan("--env", "prod");
    assert.equal(code, 2);
    // The environments are whatever Pulumi.<env>.yaml files the repository has (sorted), then "all".
    const allowed = [...repoEnvironments(), "all"].map((e) => `"${e}"`).join(", ");
    assert.ok(out.includes(`--env: got "prod"; allowed: one of ${allowed}`), out);
  });

  it("lists every config problem with its key path and exits 2 before synthesizing", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-plan-bad-"));
    try {
      fs.copyFileSync(path.join(repoRoot(), "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
      fs.writeFileSync(
        path.join(root, "Pulumi.bad.yaml"),
        stagingWith((v) => {
          const regions = v["healthcare-platform:regions"] as Array<Record<string, unknown>>;
          regions[1]["vpcCidr"] = regions[0]["vpcCidr"];
          (
            (v["healthcare-platform:retention"] as Record<string, unknown>)["logs"] as Record<string, unknown>
          )["audit"] = 2555;
          (v["healthcare-platform:residency"] as Record<string, unknown>)["internationalTransfers"] = [];
        }),
      );
      // With the policy run on: after a config error nothing reads as a clean policy result.
      const pack = path.join(repoRoot(), "policies", "healthcare");
      const { code, out } = plan("--env", "bad", "--root", root, "--policy-pack", pack);
      assert.equal(code, 2, out);
      assert.match(
        out,
        /^Policy findings: incomplete \(1 plan error\(s\); stacks that failed were not analyzed\)/m,
      );
      assert.doesNotMatch(out, /0 mandatory, 0 advisory/);
      assert.match(out, /Invalid configuration in .*Pulumi\.bad\.yaml \(3 problems\)/);
      assert.match(out, /healthcare-platform:regions\[1\]\.vpcCidr: got "10\.120\.0\.0\/16"/);
      assert.match(
        out,
        /healthcare-platform:retention\.logs\.audit: got 2555; .* fix: use 2557 \(7 years is 2557 days, not 2555\)/,
      );
      assert.match(
        out,
        /healthcare-platform:residency\.internationalTransfers: got no transfer basis for US/,
      );
      assert.doesNotMatch(out, /✓/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses a second environment creating the GuardDuty detector of a shared account and region, exit 2", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-plan-guardduty-"));
    try {
      fs.copyFileSync(path.join(repoRoot(), "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
      // Two copies of staging: the same account and regions, both with `detector: managed`.
      fs.writeFileSync(
        path.join(root, "Pulumi.alpha.yaml"),
        stagingWith(() => undefined),
      );
      fs.writeFileSync(
        path.join(root, "Pulumi.beta.yaml"),
        stagingWith(() => undefined),
      );
      const second = plan("--env", "beta", "--root", root, "--no-policies");
      assert.equal(second.code, 2, second.out);
      assert.match(
        second.out,
        /healthcare-platform:cluster\.guardDuty\.detector: got "managed" \(account \d{12}, region sa-east-1\); .*environment alpha already creates the GuardDuty detector/,
      );
      assert.match(second.out, /region us-east-1\)/);
      const first = plan("--env", "alpha", "--root", root, "--no-policies");
      assert.doesNotMatch(first.out, /guardDuty/, "the first owner keeps its detector");

      fs.writeFileSync(
        path.join(root, "Pulumi.beta.yaml"),
        stagingWith((v) => {
          (v["healthcare-platform:cluster"] as Record<string, unknown>)["guardDuty"] = {
            detector: "existing",
          };
        }),
      );
      assert.doesNotMatch(plan("--env", "all", "--root", root, "--no-policies").out, /guardDuty/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("fails a consumer that reads an output its producer does not export, naming both stacks, exit 2", () => {
    const root = path.join(__dirname, "fixtures", "contract-root");
    const config = path.join(root, "Pulumi.test.yaml");
    fs.writeFileSync(
      config,
      stagingWith(() => undefined),
    );
    try {
      const { code, out } = plan("--env", "test", "--root", root, "--no-policies");
      assert.equal(code, 2, out);
      assert.match(
        out,
        /contract error in hcp-network\/test-sa-east-1:\s+hcp-network\/test-sa-east-1 reads output 'environment' of healthcare-platform\/test, which does not match the contract: the stack does not export 'environment'/,
      );
      // The producer is reported on its own too, whether or not a consumer is built.
      assert.match(
        out,
        /contract error in healthcare-platform\/test:\s+healthcare-platform\/test exports 'environment', which does not match the contract its consumers read: the stack does not export 'environment'/,
      );
    } finally {
      fs.rmSync(config, { force: true });
    }
  });

  it("fails a Kubernetes object that does not match its upstream schema, naming stack, object and path, exit 2", () => {
    const root = path.join(__dirname, "fixtures", "schema-root");
    const config = path.join(root, "Pulumi.test.yaml");
    fs.writeFileSync(
      config,
      stagingWith(() => undefined),
    );
    try {
      const { code, out } = plan("--env", "test", "--root", root, "--no-policies");
      assert.equal(code, 2, out);
      assert.match(out, /schema error in healthcare-platform\/test:/);
      assert.match(
        out,
        /cert-manager\.io\/v1 Certificate hcp-api\/api-tls \(urn:pulumi:test::healthcare-platform::kubernetes:cert-manager\.io\/v1:Certificate::api-tls\) does not match its schema/,
      );
      assert.match(out, /- spec\.dnsName: unknown field \(did you mean dnsNames\?\)/);
      assert.match(
        out,
        /apps\/v1 Deployment hcp-api\/api \(urn:pulumi:test::healthcare-platform::kubernetes:apps\/v1:Deployment::api\)/,
      );
      assert.match(
        out,
        /- spec\.template\.spec\.containers\[0\]\.imagePullPolicy: must be one of "Always", "IfNotPresent", "Never"/,
      );
      assert.match(out, /- spec\.template\.strategy: unknown field/);
    } finally {
      fs.rmSync(config, { force: true });
    }
  });

  it("plans the producers a selected layer reads and says which layers were pulled in", () => {
    const { code, out } = plan("--env", "staging", "--layers", "network", "--no-policies");
    assert.equal(code, 0, out);
    assert.match(out, /^ {2}layers selected: network$/m);
    assert.match(out, /^ {2}producers pulled in \(read by the selected layers\): environment$/m);
    assert.match(out, /^ {2}healthcare-platform\/staging \[producer\]: \d+ resources/m);
    assert.match(out, /^ {2}hcp-network\/staging-sa-east-1: \d+ resources/m);
    assert.doesNotMatch(out, /hcp-cluster\//, "layers that are not read are not planned");
    assert.doesNotMatch(out, /no exports/);
  });

  it("writes the full plan of the environment stack as JSON, secrets redacted", () => {
    const file = path.join(os.tmpdir(), `hcp-plan-${process.pid}.json`);
    try {
      const { code, out } = plan(
        "--env",
        "staging",
        "--layers",
        "environment",
        "--no-policies",
        "--json",
        file,
      );
      assert.equal(code, 0, out);
      const doc = JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument;
      const [env] = doc.environments;
      assert.equal(env?.environment, "staging");
      const stack = env.stacks[0];
      assert.equal(`${stack.project}/${stack.stack}`, "healthcare-platform/staging");
      const trail = stack.resources.find((r) => r.type === "aws:cloudtrail/trail:Trail");
      assert.equal(trail?.inputs["isMultiRegionTrail"], true);
      assert.equal(trail?.inputs["s3BucketName"], "[unknown]", "a new bucket's name is unknown in a preview");
      assert.ok(
        trail?.parent && trail.provider && trail.urn.startsWith("urn:pulumi:staging::healthcare-platform::"),
      );
      const exported = stack.exports["environment"] as {
        topology: { name: string };
        dns: { zoneName: string };
      };
      assert.equal(exported.topology.name, "staging");
      assert.equal(exported.dns.zoneName, "staging.saude.example.com.br");
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
