import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "@hcp/testing";
import type { EvidenceDocument } from "../src/evidence";
import type { PlanDocument } from "../src/model";

/**
 * Acceptance of the evidence work on a crafted change: the fixture root runs the repository's
 * environment program plus one PHI bucket built like the data layer's; with HCP_FIXTURE_PLAIN_HTTP=1
 * the bucket's policy loses its TLS-only statement. The head plan must show exactly one mandatory
 * finding, naming the bucket and HIPAA §164.312(e)(1), in the console, the evidence report and the
 * PR comment; the base plan none, with the TLS-only control evaluated as deployed.
 */

const PLAN_DIR = path.join(__dirname, "..");
const ROOT = path.join(__dirname, "fixtures", "plain-http-root");
const PACK = path.join(repoRoot(), "policies", "healthcare");
const TLS = "HIPAA §164.312(e)(1)";

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: PLAN_DIR,
    encoding: "utf8",
    timeout: 400_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe("evidence acceptance: one PHI bucket that accepts plain HTTP", function () {
  this.timeout(900_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-evidence-"));
  const config = path.join(ROOT, "Pulumi.test.yaml");
  let base: { code: number | null; out: string };
  let head: { code: number | null; out: string };

  before(() => {
    fs.copyFileSync(path.join(repoRoot(), "Pulumi.staging.yaml"), config);
    const plan = (name: string, env: NodeJS.ProcessEnv) =>
      cli(
        [
          "plan",
          "--env",
          "test",
          "--root",
          ROOT,
          "--policy-pack",
          PACK,
          "--json",
          path.join(dir, `${name}.json`),
          "--evidence",
          path.join(dir, `${name}-evidence.md`),
        ],
        env,
      );
    base = plan("base", { HCP_FIXTURE_PLAIN_HTTP: "0" });
    head = plan("head", { HCP_FIXTURE_PLAIN_HTTP: "1" });
  });

  after(() => {
    fs.rmSync(config, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const evidence = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, `${name}-evidence.json`), "utf8")) as EvidenceDocument;

  it("base: no mandatory finding, the TLS-only control evaluated as deployed, nothing left unevaluated", () => {
    assert.equal(base.code, 0, base.out);
    assert.match(base.out, /^Policy findings: 0 mandatory/m);
    const [env] = evidence("base").environments;
    assert.deepEqual(env?.unevaluated, []);
    const rule = env?.rules.find((r) => r.name === "s3-tls-only-bucket-policy");
    assert.equal(rule?.result.deployed, "passed");
    assert.ok(rule?.resources.some((r) => r.urn.endsWith("::records") && r.result.deployed === "passed"));
    assert.equal(env?.controls.find((c) => c.id === TLS)?.evaluated, true);
  });

  it("head console: exactly one mandatory finding, naming the bucket, the control, the cause and the fix", () => {
    assert.equal(head.code, 1, head.out);
    const mandatory = head.out.split("\n").filter((l) => /^\s+MANDATORY /.test(l));
    assert.equal(mandatory.length, 1, head.out);
    assert.match(
      mandatory[0],
      /MANDATORY \[s3-tls-only-bucket-policy\] \[HIPAA §164\.312\(e\)\(1\)[^\]]*\] healthcare-platform\/test aws:s3\/bucket:Bucket records \(deployed\): .*does not deny requests without TLS.* Fix: /,
    );
    assert.match(head.out, /^Policy findings: 1 mandatory/m);
  });

  it("head evidence: the bucket failed under HIPAA §164.312(e)(1) as deployed, with the policy it has", () => {
    const doc = evidence("head");
    assert.match(doc.commit, /^([0-9a-f]{40}|unknown)$/);
    assert.match(doc.environments[0].environmentFile.sha256, /^[0-9a-f]{64}$/);
    const env = doc.environments[0];
    const failed = env.rules.flatMap((r) =>
      r.resources
        .filter((x) => x.result.deployed === "failed" || x.result.preview === "failed")
        .map((x) => [r.name, x.urn]),
    );
    assert.deepEqual(failed, [
      [
        "s3-tls-only-bucket-policy",
        "urn:pulumi:test::healthcare-platform::hcp:platform:SecureBucket$aws:s3/bucket:Bucket::records",
      ],
    ]);
    assert.equal(env.controls.find((c) => c.id === TLS)?.result.deployed, "failed");
    const markdown = fs.readFileSync(path.join(dir, "head-evidence.md"), "utf8");
    assert.match(
      markdown,
      /^\| HIPAA §164\.312\(e\)\(1\) \| yes \| \d+ \| not evaluable \| \*\*FAILED\*\* \| yes \|$/m,
    );
    assert.match(markdown, /aws:s3\/bucket:Bucket records` \|.*\| not evaluable \/ \*\*FAILED\*\* \|$/m);
  });

  it("PR comment: one new mandatory finding under HIPAA §164.312(e)(1), naming the bucket", () => {
    const md = path.join(dir, "pr.md");
    const diff = cli(["diff", path.join(dir, "base.json"), path.join(dir, "head.json"), "--markdown", md]);
    assert.equal(diff.code, 1, diff.out);
    const text = fs.readFileSync(md, "utf8");
    assert.match(
      text,
      /^\| HIPAA §164\.312\(e\)\(1\) \| 1 \| 0 \| 0 \| `s3-tls-only-bucket-policy` on `aws:s3\/bucket:Bucket::records` \|$/m,
    );
    const rows = text.split("\n").filter((l) => /^\| (HIPAA|LGPD) /.test(l));
    assert.ok(
      rows.every((r) => /^\| [^|]+ \| [01] \| 0 \| 0 \|/.test(r)),
      rows.join("\n"),
    );
    const doc = JSON.parse(fs.readFileSync(path.join(dir, "head.json"), "utf8")) as PlanDocument;
    const findings = doc.environments.flatMap((e) => e.stacks.flatMap((s) => s.policyFindings ?? []));
    assert.equal(findings.filter((f) => f.level === "mandatory").length, 1);
  });
});
