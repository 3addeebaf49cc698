import * as assert from "node:assert/strict";
import * as path from "node:path";
import { diffPlans } from "../src/diff";
import {
  environmentEvidence,
  evidenceMarkdown,
  EVIDENCE_FORMAT,
  type EvidenceStack,
  shapeOf,
  valuesAt,
} from "../src/evidence";
import { blockedBy, groupByRootCause, groupNotices, groupViolations, rootCauseOf } from "../src/findings";
import { diffMarkdown } from "../src/markdown";
import { type PolicyFinding, SECRET, UNKNOWN } from "../src/model";
import { packCatalog } from "../src/policy/catalog";
import { mergeViews } from "../src/policy/run";
import { summary } from "../src/report";
import { planDocument, resource, stackPlan, urn } from "./planDocs";

/** Findings of both views, evidence per control, the console lines and the PR comment's controls. */

const PACK = path.join(__dirname, "..", "..", "..", "policies", "healthcare");
const catalog = packCatalog(PACK);
const PREFIX =
  "can't run policy 's3-tls-only-bucket-policy' from policy pack 'healthcare-compliance@v0.1.0' during preview: ";
const BUCKET = urn("staging", "hcp-data", "aws:s3/bucket:Bucket", "records");
const POLICY = urn("staging", "hcp-data", "aws:s3/bucketPolicy:BucketPolicy", "records-policy");
const CAUSE =
  "The policy of bucket 'records' does not deny requests without TLS (aws:SecureTransport false).";

function finding(over: Partial<PolicyFinding> & Pick<PolicyFinding, "policy" | "message">): PolicyFinding {
  return { level: "mandatory", ...over };
}

describe("findings of both views", () => {
  const unknown = finding({
    policy: "s3-tls-only-bucket-policy",
    level: "advisory",
    message: `${PREFIX}output<string> value at .policy can't be known during preview`,
  });
  const violation = finding({ policy: "s3-tls-only-bucket-policy", urn: BUCKET, message: CAUSE });

  it("merges a finding of both views into one, with its kind, views and the policy's controls", () => {
    const merged = mergeViews({ preview: [unknown, violation], deployed: [violation] }, catalog);
    assert.equal(merged.length, 2);
    const v = merged.find((f) => f.urn === BUCKET)!;
    assert.deepEqual(v.views, ["preview", "deployed"]);
    assert.equal(v.kind, "violation");
    assert.ok(v.controls?.includes("HIPAA §164.312(e)(1)"), String(v.controls));
    const n = merged.find((f) => f.urn === undefined)!;
    assert.equal(n.kind, "unevaluable");
    assert.deepEqual(n.views, ["preview"]);
  });

  it("groups a policy's causes on one resource into one violation, mandatory first", () => {
    const groups = groupViolations([
      finding({ policy: "z-advisory", level: "advisory", urn: POLICY, message: "a" }),
      violation,
      { ...violation, message: "second cause" },
    ]);
    assert.deepEqual(
      groups.map((g) => [g.policy, g.level, g.causes.length]),
      [
        ["s3-tls-only-bucket-policy", "mandatory", 2],
        ["z-advisory", "advisory", 1],
      ],
    );
  });

  it("reports findings on the resources of one component under that component, one line per finding", () => {
    // A SecureBucket whose bucket and bucket policy both fail: one root cause, two findings under it.
    const component = urn("staging", "hcp-data", "hcp:platform:SecureBucket", "records");
    const child = (type: string, name: string) => ({
      ...resource("staging", "hcp-data", type, name, {}),
      urn: urn("staging", "hcp-data", `hcp:platform:SecureBucket$${type}`, name),
      parent: component,
    });
    const bucket = child("aws:s3/bucket:Bucket", "records");
    const policy = child("aws:s3/bucketPolicy:BucketPolicy", "records-policy");
    const alone = resource("staging", "hcp-data", "aws:s3/bucket:Bucket", "loose", {});
    const wrapper = {
      ...resource("staging", "hcp-data", "hcp:platform:SecureBucket", "records", {}),
      custom: false,
    };
    const stack = stackPlan(
      "data",
      "hcp-data",
      "staging",
      [wrapper, bucket, policy, alone],
      [
        finding({ policy: "s3-tls-only-bucket-policy", urn: policy.urn, message: CAUSE }),
        finding({ policy: "s3-sse-kms-customer-key", urn: bucket.urn, message: "SSE-S3 (AES256)." }),
        finding({ policy: "s3-sse-kms-customer-key", level: "advisory", urn: alone.urn, message: "no key." }),
      ],
    );
    const byUrn = new Map(stack.resources.map((r) => [r.urn, r]));
    assert.equal(rootCauseOf(policy.urn, byUrn), component);
    assert.equal(rootCauseOf(alone.urn, byUrn), alone.urn, "a resource no component owns is its own root");
    const groups = groupByRootCause(groupViolations(stack.policyFindings ?? []), byUrn);
    assert.deepEqual(
      groups.map((g) => [g.root, g.level, g.violations.map((v) => v.policy)]),
      [
        [component, "mandatory", ["s3-sse-kms-customer-key", "s3-tls-only-bucket-policy"]],
        [alone.urn, "advisory", ["s3-sse-kms-customer-key"]],
      ],
    );
    const lines = summary(planDocument("staging", [stack])).split("\n");
    const head = lines.findIndex((l) =>
      /^ {4}MANDATORY hcp-data\/staging hcp:platform:SecureBucket records: 2 findings/.test(l),
    );
    assert.ok(head >= 0, lines.join("\n"));
    assert.match(
      lines[head + 1] ?? "",
      /^ {6}MANDATORY \[s3-sse-kms-customer-key\] .*aws:s3\/bucket:Bucket records/,
    );
    assert.match(
      lines[head + 2] ?? "",
      /^ {6}MANDATORY \[s3-tls-only-bucket-policy\] .*BucketPolicy records-policy/,
    );
    assert.ok(lines.some((l) => /^ {4}ADVISORY \[s3-sse-kms-customer-key\] .*Bucket loose/.test(l)));
  });

  it("collapses notices per policy with a count and the value that blocked them", () => {
    const other = { ...unknown, urn: POLICY, views: ["preview", "deployed"] as const };
    const [g] = groupNotices([unknown, other]);
    assert.equal(g?.policy, "s3-tls-only-bucket-policy");
    assert.deepEqual(g?.count, { preview: 2, deployed: 1 });
    assert.deepEqual(g?.blockedBy, [".policy"]);
    assert.equal(blockedBy(unknown), ".policy");
  });

  it("prints violations first (policy, resource, cause, fix), notices as one line per policy; --verbose lists them", () => {
    const findings = mergeViews({ preview: [unknown, unknown], deployed: [violation] }, catalog);
    const doc = planDocument("staging", [stackPlan("data", "hcp-data", "staging", [], findings)]);
    const fixes = new Map([["s3-tls-only-bucket-policy", "Use SecureBucket."]]);
    const text = summary(doc, false, fixes);
    const lines = text.split("\n");
    const first = lines.findIndex((l) => l.includes("MANDATORY"));
    const notice = lines.findIndex((l) => l.includes("not evaluable:"));
    assert.ok(first > 0 && first < notice, text);
    assert.match(
      lines[first],
      /MANDATORY \[s3-tls-only-bucket-policy\] \[HIPAA §164\.312\(e\)\(1\).*\] hcp-data\/staging aws:s3\/bucket:Bucket records \(deployed\): The policy of bucket 'records' does not deny .* Fix: Use SecureBucket\.$/,
    );
    assert.equal(lines.filter((l) => l.includes("not evaluable:")).length, 1);
    assert.ok(
      lines.findIndex((l) => l.includes("hcp-data/staging: ")) > first,
      "findings before the resource listing",
    );
    assert.match(summary(doc, true, fixes), /preview: \(stack\): can't run policy/);
  });

  it("prints no policy summary that reads as clean after a plan error", () => {
    const doc = planDocument("staging", [stackPlan("environment", "healthcare-platform", "staging", [], [])]);
    const env = { ...doc.environments[0], errors: [{ kind: "config" as const, message: "bad value" }] };
    const text = summary({ ...doc, environments: [env] });
    assert.match(text, /policies: incomplete for staging: 1 plan error\(s\) below/);
    assert.doesNotMatch(text, /0 mandatory/);
  });
});

describe("evidence report", () => {
  it("reads property paths through lists and shows secret-hygiene values by shape only", () => {
    const value = { rules: [{ destination: { bucket: "a" } }, { destination: { bucket: "b" } }] };
    assert.deepEqual(valuesAt(value, "rules[].destination.bucket"), ["a", "b"]);
    assert.deepEqual(valuesAt(value, "missing.x"), []);
    assert.deepEqual(shapeOf({ DB_PASSWORD: "hunter2-canary", n: 3, s: SECRET }), {
      DB_PASSWORD: "[14 chars]",
      n: 3,
      s: SECRET,
    });
  });

  const tlsOnly = JSON.stringify({
    Statement: [
      {
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
  const CANARY = "Tr0ub4dor&3-evidence-canary";
  const CANARY_CIPHER = "cipher-canary-0123456789";
  const CANARY_URL = "url-canary-0123456789";
  // A ConfigMap other rules examine too (rendered PgBackRest / Patroni files).
  const settings = {
    DB_PASSWORD: CANARY,
    "pgbackrest.conf": `[global]\nrepo1-cipher-pass=${CANARY_CIPHER}\nrepo1-retention-full=14\n`,
    DATABASE_URL: `postgresql://app:${CANARY_URL}@pgbouncer:5432/healthcare`,
  };
  const bucket = resource("staging", "hcp-data", "aws:s3/bucket:Bucket", "records", {
    tags: { DataClassification: "phi" },
  });
  const preview = [
    bucket,
    resource("staging", "hcp-data", "aws:s3/bucketPolicy:BucketPolicy", "records-policy", {
      bucket: UNKNOWN,
      policy: UNKNOWN,
    }),
    resource("staging", "hcp-data", "kubernetes:core/v1:ConfigMap", "settings", {
      data: settings,
    }),
  ];
  const deployed = [
    bucket,
    resource("staging", "hcp-data", "aws:s3/bucketPolicy:BucketPolicy", "records-policy", {
      bucket: "hcp-records-1",
      policy: tlsOnly,
    }),
    resource("staging", "hcp-data", "kubernetes:core/v1:ConfigMap", "settings", {
      data: settings,
    }),
  ];
  const notice: PolicyFinding = {
    policy: "s3-tls-only-bucket-policy",
    level: "advisory",
    message: `${PREFIX}output<string> value at .policy can't be known during preview`,
  };
  const secretFinding: PolicyFinding = {
    policy: "k8s-no-plaintext-secrets",
    level: "mandatory",
    urn: preview[2].urn,
    message: "ConfigMap 'settings' holds a secret-looking key DB_PASSWORD.",
  };
  const stack = (findings: Record<"preview" | "deployed", PolicyFinding[]>): EvidenceStack => ({
    label: "hcp-data/staging",
    plan: stackPlan("data", "hcp-data", "staging", preview, mergeViews(findings, catalog)),
    views: { preview, deployed },
  });

  it("evaluates the TLS-only control as deployed when the preview cannot, and lists nothing unevaluated", () => {
    const env = environmentEvidence(
      "staging",
      { path: "Pulumi.staging.yaml", sha256: "ab" },
      [stack({ preview: [notice], deployed: [] })],
      [],
      catalog,
    );
    const rule = env.rules.find((r) => r.name === "s3-tls-only-bucket-policy")!;
    assert.deepEqual(rule.result, { preview: "unevaluable", deployed: "passed" });
    const tls = env.controls.find((c) => c.id === "HIPAA §164.312(e)(1)")!;
    assert.equal(tls.evaluated, true);
    assert.equal(tls.result.deployed, "passed");
    assert.deepEqual(env.unevaluated, []);
    const policy = rule.resources.find((r) => r.urn.endsWith("records-policy"))!;
    assert.equal(policy.values.preview["policy"], UNKNOWN);
    assert.equal(policy.values.deployed["policy"], tlsOnly);
  });

  it("lists a mandatory rule unevaluable in both views by name with the value that blocked it", () => {
    const both = { preview: [notice], deployed: [notice] };
    const env = environmentEvidence(
      "staging",
      { path: "Pulumi.staging.yaml", sha256: "ab" },
      [stack(both)],
      [],
      catalog,
    );
    assert.deepEqual(
      env.unevaluated.map((u) => [u.rule, u.urn.split("::").pop(), u.blockedBy]),
      [
        [
          "s3-tls-only-bucket-policy",
          "records",
          "output<string> value at .policy can't be known during preview",
        ],
        [
          "s3-tls-only-bucket-policy",
          "records-policy",
          "output<string> value at .policy can't be known during preview",
        ],
      ],
    );
    assert.equal(env.controls.find((c) => c.id === "HIPAA §164.312(e)(1)")?.evaluated, false);
    assert.match(
      evidenceMarkdown({
        format: EVIDENCE_FORMAT,
        generatedAt: "t",
        commit: "unknown",
        policyPack: { name: "p", version: "1" },
        environments: [env],
      }),
      /### Not evaluated in any view/,
    );
  });

  it("never shows a plaintext secret a rule examined, in Markdown or JSON", () => {
    const env = environmentEvidence(
      "staging",
      { path: "Pulumi.staging.yaml", sha256: "ab" },
      [stack({ preview: [secretFinding], deployed: [secretFinding] })],
      [],
      catalog,
    );
    const doc = {
      format: EVIDENCE_FORMAT,
      generatedAt: "t",
      commit: "unknown",
      policyPack: { name: "p", version: "1" },
      environments: [env],
    } as const;
    const rule = env.rules.find((r) => r.name === "k8s-no-plaintext-secrets")!;
    assert.equal(rule.result.deployed, "failed");
    const markdown = evidenceMarkdown(doc);
    assert.match(markdown, /DB_PASSWORD/);
    assert.ok(!markdown.includes(CANARY), "the Markdown report shows the secret's shape only");
    assert.ok(!JSON.stringify(doc).includes(CANARY), "the JSON report shows the secret's shape only");
    // Rules of other concerns that read the same ConfigMap show its settings, secrets redacted.
    const others = env.rules.filter(
      (r) => r.name !== "k8s-no-plaintext-secrets" && r.resources.some((x) => x.urn === secretFinding.urn),
    );
    assert.ok(others.length > 0, "another rule examines the ConfigMap");
    assert.match(
      markdown,
      /repo1-retention-full=14/,
      markdown
        .split("\n")
        .filter((l) => l.includes("ConfigMap settings"))
        .join("\n"),
    );
    for (const canary of [CANARY, CANARY_CIPHER, CANARY_URL]) {
      assert.ok(!markdown.includes(canary) && !JSON.stringify(doc).includes(canary), canary);
    }
  });
});

describe("PR comment by control", () => {
  it("lists new and resolved violations per control, naming the resource", () => {
    const base = planDocument("staging", [stackPlan("data", "hcp-data", "staging", [], [])]);
    const v = mergeViews(
      {
        preview: [],
        deployed: [finding({ policy: "s3-tls-only-bucket-policy", urn: BUCKET, message: CAUSE })],
      },
      catalog,
    );
    const head = planDocument("staging", [stackPlan("data", "hcp-data", "staging", [], v)]);
    const md = diffMarkdown(diffPlans(base, head));
    assert.match(md, /\*\*Policy findings by control\*\*/);
    assert.match(
      md,
      /^\| HIPAA §164\.312\(e\)\(1\) \| 1 \| 0 \| 0 \| `s3-tls-only-bucket-policy` on `aws:s3\/bucket:Bucket::records` \|$/m,
    );
    const back = diffMarkdown(diffPlans(head, base));
    assert.match(back, /^\| HIPAA §164\.312\(e\)\(1\) \| 0 \| 0 \| 1 \| {2}\|$/m);
  });
});
