import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { rpcSecret } from "@hcp/testing";
import * as pulumi from "@pulumi/pulumi";
import { checkPlanDocument, diffPlans, lineDiff, PlanInputError, totals } from "../src/diff";
import { diffText } from "../src/diffReport";
import { COMMENT_LIMIT, COMMENT_MARKER, diffMarkdown } from "../src/markdown";
import type { PlanDocument, PolicyFinding } from "../src/model";
import { forDocument } from "../src/values";
import { planDocument, resource, stackPlan, urn } from "./planDocs";

const P = "hcp-network";
const S = "production-sa-east-1";
const BUCKET = "aws:s3/bucket:Bucket";
const VPC = "aws:ec2/vpc:Vpc";

function finding(policy: string, name: string, message: string, level: PolicyFinding["level"] = "mandatory") {
  return { policy, level, urn: urn(S, P, BUCKET, name), message };
}

describe("plan diff", () => {
  const base = planDocument("production", [
    stackPlan(
      "network",
      P,
      S,
      [
        resource(S, P, VPC, "main", { cidrBlock: "10.20.0.0/16", tags: { Name: "main", Owner: "a" } }),
        resource(S, P, BUCKET, "logs", { bucket: "[unknown]", forceDestroy: false }),
        resource(S, P, BUCKET, "old", { forceDestroy: false }),
        resource(S, P, "aws:iam/policy:Policy", "p", {
          policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject"] }] }),
        }),
      ],
      [
        finding(
          "s3-bucket-encryption-configured",
          "old",
          "Bucket 'old' has no server-side encryption configuration.",
        ),
      ],
      { network: { vpcId: "[unknown]" } },
    ),
  ]);
  const head = planDocument("production", [
    stackPlan(
      "network",
      P,
      S,
      [
        resource(S, P, VPC, "main", {
          cidrBlock: "10.20.0.0/16",
          tags: { Name: "main", Owner: "b", Team: "x" },
        }),
        resource(S, P, BUCKET, "logs", { bucket: "[unknown]", forceDestroy: false }, { protect: true }),
        resource(S, P, BUCKET, "new", { forceDestroy: true }),
        resource(S, P, "aws:iam/policy:Policy", "p", {
          policy: JSON.stringify({ Statement: [{ Effect: "Deny", Action: ["s3:GetObject"] }] }),
        }),
      ],
      [
        finding(
          "s3-bucket-encryption-configured",
          "new",
          "Bucket 'new' has no server-side encryption configuration.",
        ),
      ],
      { network: { vpcId: "[unknown]", privateSubnetIds: "[unknown]" } },
    ),
  ]);

  it("lists added, removed and changed resources by URN with the paths that differ", () => {
    const [s] = diffPlans(base, head).stacks;
    assert.equal(s.label, `${P}/${S}`);
    assert.equal(s.status, "changed");
    assert.deepEqual(
      s.added.map((r) => r.name),
      ["new"],
    );
    assert.deepEqual(
      s.removed.map((r) => r.name),
      ["old"],
    );
    const byName = new Map(s.changed.map((c) => [c.name, c.changes]));
    assert.deepEqual([...byName.keys()].sort(), ["logs", "main", "p"]);
    assert.deepEqual(byName.get("main"), [
      { kind: "input", path: "tags.Owner", old: "a", new: "b" },
      { kind: "input", path: "tags.Team", new: "x" },
    ]);
    assert.deepEqual(byName.get("logs"), [{ kind: "option", path: "protect", old: false, new: true }]);
    // A JSON document in a string is compared structurally.
    assert.deepEqual(byName.get("p"), [
      { kind: "input", path: "policy(json).Statement[0].Effect", old: "Allow", new: "Deny" },
    ]);
    assert.deepEqual(s.outputs, [{ kind: "output", path: "network.privateSubnetIds", new: "[unknown]" }]);
  });

  it("reports new and resolved findings keyed by policy, URN and message", () => {
    const [s] = diffPlans(base, head).stacks;
    assert.deepEqual(
      s.newFindings.map((f) => f.urn),
      [urn(S, P, BUCKET, "new")],
    );
    assert.deepEqual(
      s.resolvedFindings.map((f) => f.urn),
      [urn(S, P, BUCKET, "old")],
    );
    // Same policy and resource, other message: a different finding.
    const reworded = planDocument("production", [
      stackPlan("network", P, S, [], [finding("s3-bucket-encryption-configured", "new", "reworded")]),
    ]);
    const d = diffPlans(head, reworded).stacks[0];
    assert.equal(d.newFindings.length, 1);
    assert.equal(d.resolvedFindings.length, 1);
    const t = totals(diffPlans(base, head));
    assert.equal(t.newMandatory, 1);
    assert.equal(t.resolved, 1);
    assert.equal(t.headMandatory, 1);
  });

  it("matches stacks by project/stack and reports stacks added and removed with their findings", () => {
    const cluster = stackPlan(
      "cluster",
      "hcp-cluster",
      S,
      [resource(S, "hcp-cluster", "aws:eks/cluster:Cluster", "eks", { version: "1.34" })],
      [{ policy: "eks-secrets-encryption", level: "advisory", message: "x" }],
    );
    const withCluster = planDocument("production", [...head.environments[0].stacks, cluster]);
    const added = diffPlans(head, withCluster).stacks.find((s) => s.label === `hcp-cluster/${S}`)!;
    assert.equal(added.status, "added");
    assert.deepEqual(
      added.added.map((r) => r.type),
      ["aws:eks/cluster:Cluster"],
      "the stack resource itself is not listed",
    );
    assert.equal(added.newFindings.length, 1);
    const removed = diffPlans(withCluster, head).stacks.find((s) => s.label === `hcp-cluster/${S}`)!;
    assert.equal(removed.status, "removed");
    assert.equal(removed.removed.length, 1);
    assert.equal(removed.resolvedFindings.length, 1);
    assert.equal(diffPlans(head, head).stacks[0].status, "unchanged");
  });

  it("never reveals a secret: secrets are redacted in the document and compare equal", () => {
    const secretInputs = (password: string) =>
      forDocument({ username: "app", password: rpcSecret(password) }) as Record<string, unknown>;
    const type = "aws:secretsmanager/secretVersion:SecretVersion";
    const a = planDocument("production", [
      stackPlan("network", P, S, [
        resource(S, P, type, "db", secretInputs("hunter2-old")),
        resource(S, P, type, "was-plain", { secretString: "visible-before" }),
      ]),
    ]);
    const b = planDocument("production", [
      stackPlan("network", P, S, [
        resource(S, P, type, "db", secretInputs("hunter2-new")),
        resource(
          S,
          P,
          type,
          "was-plain",
          forDocument({ secretString: rpcSecret("now-hidden") }) as Record<string, unknown>,
        ),
      ]),
    ]);
    const diff = diffPlans(a, b);
    const [s] = diff.stacks;
    assert.deepEqual(
      s.changed.map((c) => c.name),
      ["was-plain"],
      "two secrets cannot be told apart, so db is unchanged",
    );
    assert.deepEqual(s.changed[0].changes, [
      { kind: "input", path: "secretString", old: "visible-before", new: "[secret]" },
    ]);
    const rendered = `${diffText(diff)}\n${diffMarkdown(diff)}`;
    for (const secret of ["hunter2-old", "hunter2-new", "now-hidden"]) {
      assert.ok(!rendered.includes(secret), `${secret} must not appear`);
    }
    assert.match(rendered, /secretString: "visible-before" → \[secret\]/);
  });

  it("treats unknown values sensibly: unknown on both sides is equal, known to unknown is a change", () => {
    const a = planDocument("production", [
      stackPlan("network", P, S, [resource(S, P, BUCKET, "b", { bucket: "[unknown]", arn: "arn:1" })]),
    ]);
    const b = planDocument("production", [
      stackPlan("network", P, S, [
        resource(S, P, BUCKET, "b", {
          bucket: forDocument(pulumi.runtime.unknownValue),
          arn: forDocument(pulumi.runtime.unknownValue),
        }),
      ]),
    ]);
    const diff = diffPlans(a, b);
    assert.deepEqual(diff.stacks[0].changed[0].changes, [
      { kind: "input", path: "arn", old: "arn:1", new: "[unknown]" },
    ]);
    assert.match(diffText(diff), /arn: "arn:1" → \[unknown\] \(known after deploy\)/);
  });

  it("shows multi-line strings (rendered config files) as a line diff", () => {
    assert.deepEqual(lineDiff("a\nb\nc\n", "a\nB\nc\nd\n"), ["+ B", "- b", "+ d"]);
    assert.equal(lineDiff("one line", "other"), undefined);
    const many = lineDiff(
      Array.from({ length: 100 }, (_, i) => `l${i}`).join("\n"),
      Array.from({ length: 100 }, (_, i) => `m${i}`).join("\n"),
      10,
    )!;
    assert.equal(many.length, 11);
    assert.match(many[10], /… 190 more changed lines/);
  });

  it("rejects documents it cannot read, naming the problem", () => {
    assert.throws(
      () => checkPlanDocument([], "a.json"),
      /a\.json: expected a plan document \(a JSON object\), got a list/,
    );
    assert.throws(
      () => checkPlanDocument({ format: 2, environments: [] }, "b.json"),
      (e: unknown) =>
        e instanceof PlanInputError &&
        /format is 2; this version of plan:diff reads format 1/.test(e.message),
    );
    assert.throws(
      () =>
        checkPlanDocument(
          { format: 1, environments: [{ environment: "x", stacks: [{ project: "p" }] }] },
          "c.json",
        ),
      /environments\[0\]\.stacks\[0\] has no project\/stack name/,
    );
  });
});

describe("plan diff as a PR comment (markdown)", () => {
  const base = planDocument("production", [
    stackPlan("network", P, S, [resource(S, P, BUCKET, "logs", { forceDestroy: false })]),
    stackPlan("network", P, "production-us-east-1", [resource("production-us-east-1", P, BUCKET, "x", {})]),
  ]);
  const head = planDocument("production", [
    stackPlan(
      "network",
      P,
      S,
      [resource(S, P, BUCKET, "logs", { forceDestroy: true }), resource(S, P, BUCKET, "new", {})],
      [finding("s3-bucket-encryption-configured", "new", "Bucket 'new' has <no> encryption | at all.")],
    ),
    stackPlan("network", P, "production-us-east-1", [resource("production-us-east-1", P, BUCKET, "x", {})]),
  ]);

  it("starts with the marker and the summary table, then one collapsed details block per changed stack", () => {
    const md = diffMarkdown(diffPlans(base, head));
    assert.ok(md.startsWith(`${COMMENT_MARKER}\n`));
    const table = md.indexOf("| Stack | Env | Status |");
    const details = md.indexOf("<details>");
    assert.ok(table > 0 && details > table, "summary table before any details");
    assert.match(md, /❌ \*\*1 mandatory policy violation\(s\)\*\* in this pull request's plan \(1 new\)/);
    assert.match(
      md,
      /\| `hcp-network\/production-sa-east-1` \| production \| changed \| 1 \| 0 \| 1 \| 0 \| 1 \| 0 \| 0 \|/,
    );
    assert.doesNotMatch(md, /production-us-east-1`/, "unchanged stacks are only counted");
    assert.match(md, /1 stack\(s\) unchanged/);
    assert.equal(md.match(/<details>/g)?.length, 1);
    assert.match(
      md,
      /<summary><code>hcp-network\/production-sa-east-1<\/code> \(production\): changed, \+1 −0 ~1/,
    );
    // Finding text is escaped: no raw HTML, no table-breaking pipes.
    assert.match(md, /has &lt;no&gt; encryption \\\| at all\./);
    assert.match(
      md,
      /```diff\n\+ aws:s3\/bucket:Bucket {2}new\n! aws:s3\/bucket:Bucket {2}logs\n {4}forceDestroy: false → true\n```/,
    );
  });

  it("says so when nothing mandatory is found", () => {
    assert.match(diffMarkdown(diffPlans(base, base)), /✅ No mandatory policy violations\./);
  });

  it("fits GitHub's 65,536-character limit by cutting details, never the summary", () => {
    const stacks = (suffix: string) =>
      Array.from({ length: 30 }, (_, i) =>
        stackPlan(
          "network",
          P,
          `production-r${i}`,
          Array.from({ length: 400 }, (_, j) =>
            resource(`production-r${i}`, P, BUCKET, `bucket-${j}`, {
              tags: { Owner: `team-${suffix}`, Note: `${suffix}`.repeat(40) },
            }),
          ),
          suffix === "head"
            ? [finding("s3-bucket-encryption-configured", `bucket-${i}`, "no encryption")]
            : [],
        ),
      );
    const huge = diffPlans(
      planDocument("production", stacks("base")),
      planDocument("production", stacks("head")),
    );
    const md = diffMarkdown(huge);
    assert.ok(md.length <= COMMENT_LIMIT, `${md.length} characters`);
    const full = diffText(huge);
    assert.ok(full.length > 5 * COMMENT_LIMIT, "the diff is much larger than a comment");
    const summaryEnd = md.indexOf("<details>");
    const summary = md.slice(0, summaryEnd);
    for (let i = 0; i < 30; i++) {
      assert.ok(
        summary.includes(
          `| \`${P}/production-r${i}\` | production | changed | 0 | 0 | 400 | 0 | 1 | 0 | 0 |`,
        ),
        `row ${i}`,
      );
    }
    assert.match(
      summary,
      /\| \*\*Total\*\* \| \| 30 of 30 stacks differ \| 0 \| 0 \| 12000 \| 0 \| 30 \| 0 \| 0 \|/,
    );
    assert.match(
      md,
      /⚠️ Details truncated to fit GitHub's 65,536-character comment limit: 1 section\(s\) cut short \(\d+ line\(s\) not shown\), \d+ section\(s\) left out \(`hcp-network\/production-r/,
    );
    assert.match(md, /The summary above is complete/);
    // Every opened block is closed.
    assert.equal(md.match(/<details>/g)?.length, md.match(/<\/details>/g)?.length);
    assert.equal((md.match(/^```/gm)?.length ?? 0) % 2, 0);
    // The same summary as an untruncated rendering.
    const roomy = diffMarkdown(huge, { limit: 10 * full.length });
    assert.equal(roomy.slice(0, summaryEnd), summary);
    assert.doesNotMatch(roomy, /Details truncated/);
  });

  it("cuts a single oversized stack short and says how many lines were not shown", () => {
    const full = diffMarkdown(diffPlans(base, head));
    const limit = full.length - 60;
    const md = diffMarkdown(diffPlans(base, head), { limit });
    assert.ok(md.length <= limit, `${md.length} > ${limit}`);
    assert.match(md, /\| `hcp-network\/production-sa-east-1` \|/);
    assert.match(
      md,
      /Details truncated .*: (1 section\(s\) cut short|0 section\(s\) cut short .* 1 section\(s\) left out)/,
    );
  });
});

describe("pnpm plan:diff (CLI)", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-diff-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(name: string, doc: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
    return file;
  }

  function diff(...args: string[]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "diff", ...args], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      env: { ...process.env, npm_lifecycle_event: "" },
    });
    return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
  }

  const clean: PlanDocument = planDocument("staging", [stackPlan("network", P, "staging-sa-east-1", [])]);
  const violating: PlanDocument = planDocument("staging", [
    stackPlan(
      "network",
      P,
      "staging-sa-east-1",
      [],
      [finding("phi-allowed-regions", "b", "region us-east-1")],
    ),
  ]);

  it("exits 1 when the head plan has a mandatory finding, 0 otherwise, and writes the comment", () => {
    const md = path.join(dir, "comment.md");
    const failing = diff(write("base.json", clean), write("head.json", violating), "--markdown", md);
    assert.equal(failing.code, 1, failing.out);
    assert.match(failing.out, /new mandatory: \[phi-allowed-regions\]/);
    assert.match(failing.out, /head has 1 mandatory/);
    assert.ok(fs.readFileSync(md, "utf8").startsWith(COMMENT_MARKER));
    const passing = diff(write("base.json", violating), write("head.json", clean));
    assert.equal(passing.code, 0, passing.out);
    assert.match(passing.out, /resolved mandatory: \[phi-allowed-regions\]/);
  });

  it("exits 2 with a clear message for unreadable or mismatched input", () => {
    const notJson = diff(write("a.json", "{nope"), write("b.json", clean));
    assert.equal(notJson.code, 2);
    assert.match(
      notJson.out,
      /a\.json: not JSON .*Write plan documents with pnpm plan --env <env> --json <file>\./,
    );
    const otherFormat = diff(write("a.json", clean), write("b.json", { ...clean, format: 7 }));
    assert.equal(otherFormat.code, 2);
    assert.match(otherFormat.out, /b\.json is not a plan document this tool can read:\n {2}- format is 7/);
    const missing = diff(path.join(dir, "missing.json"), write("b.json", clean));
    assert.equal(missing.code, 2);
    assert.match(missing.out, /missing\.json: cannot read the plan document/);
    assert.equal(diff(write("a.json", clean)).code, 64);
  });
});
