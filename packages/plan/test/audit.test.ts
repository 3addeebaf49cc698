import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { auditReport, auditStack, readStackExport } from "../src/audit";
import { ExportError, parseProviderReference, parseStackExport, parseUrn } from "../src/exportFormat";
import type { PolicyFinding } from "../src/model";
import { PolicyPackServer } from "../src/policy/analyzer";
import { packConfigFor, readPolicyConfigFile, mergeConfig, resolveConfig } from "../src/policy/config";
import { loadEnvironmentConfigFile } from "@hcp/platform";

const FIXTURES = path.join(__dirname, "fixtures", "audit");
const VIOLATING = path.join(FIXTURES, "violating.export.json");
const COMPLIANT = path.join(FIXTURES, "compliant.export.json");
const NO_TRANSFER_BASIS = path.join(FIXTURES, "no-us-transfer-basis.policy.json");
const REPO = path.resolve(__dirname, "..", "..", "..");
const HEALTHCARE_PACK = path.join(REPO, "policies", "healthcare");
/** The plaintext of the secret in the compliant export (exported with --show-secrets). */
const PLAINTEXT_SECRET = "Z3p!q9-Lm2#rT8vW";

const SIG = pulumi.runtime.specialSigKey;
const STACK = "production-sa-east-1";
const urnOf = (qualifiedType: string, name: string) =>
  `urn:pulumi:${STACK}::hcp-data::${qualifiedType}::${name}`;

function raw(file: string): { version: number; deployment: { resources: Array<Record<string, unknown>> } } {
  return JSON.parse(fs.readFileSync(file, "utf8")) as ReturnType<typeof raw>;
}

function parse(doc: unknown, source = "test.json") {
  return parseStackExport(JSON.stringify(doc), source);
}

describe("stack export (deployment format v3)", () => {
  it("splits URNs and provider references", () => {
    assert.deepEqual(parseUrn(urnOf("hcp:platform:SecureBucket$aws:s3/bucket:Bucket", "a::b")), {
      stack: STACK,
      project: "hcp-data",
      type: "aws:s3/bucket:Bucket",
      name: "a::b",
    });
    assert.equal(parseUrn("arn:aws:s3:::x"), undefined);
    assert.deepEqual(parseProviderReference(`${urnOf("pulumi:providers:aws", "p")}::5b1f3a0e`), {
      urn: urnOf("pulumi:providers:aws", "p"),
      id: "5b1f3a0e",
    });
    assert.equal(parseProviderReference("not-a-reference"), undefined);
  });

  it("reads resources with their type from the URN, provider references resolved, internal keys dropped", () => {
    const exp = readStackExport(VIOLATING);
    assert.equal(`${exp.project}/${exp.stack}`, `hcp-data/${STACK}`);
    const bucket = exp.resources.find((r) => r.name === "backups" && r.custom)!;
    assert.equal(bucket.type, "aws:s3/bucket:Bucket");
    assert.equal(bucket.parent, urnOf("hcp:platform:SecureBucket", "backups"));
    assert.deepEqual(bucket.provider, {
      urn: urnOf("pulumi:providers:aws", "aws-sa-east-1"),
      id: "5b1f3a0e-7c44-4c38-9d0b-2f6d8f0a1c11",
    });
    assert.equal(bucket.options.protect, true);
    assert.ok(!("__defaults" in bucket.inputs), "internal keys are not sent to policies");
    assert.equal(bucket.inputs["bucket"], "hcp-production-sa-east-1-backups");
    const replication = exp.resources.find(
      (r) => r.type === "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    )!;
    assert.deepEqual(replication.propertyDependencies["bucket"], [
      urnOf("hcp:platform:SecureBucket$aws:s3/bucket:Bucket", "backups"),
    ]);
    // A resource reference in a stored value becomes the referenced resource's id.
    const root = exp.resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
    assert.equal(
      (root.outputs["data"] as Record<string, unknown>)["backupBucket"],
      "hcp-production-sa-east-1-backups",
    );
  });

  it("keeps secrets secret: plaintext (--show-secrets) decoded inside the secret, ciphertext as an unknown", () => {
    const shown = readStackExport(COMPLIANT);
    const version = shown.resources.find((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")!;
    assert.deepEqual(version.inputs["secretString"], {
      [SIG]: pulumi.runtime.specialSecretSig,
      value: PLAINTEXT_SECRET,
    });
    assert.deepEqual(version.options.additionalSecretOutputs, ["secretString"]);
    assert.equal(shown.secrets.plaintext, 5);
    assert.equal(shown.secrets.ciphertext, 0);
    const hidden = readStackExport(VIOLATING);
    const kube = hidden.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
    assert.deepEqual(kube.inputs["kubeconfig"], {
      [SIG]: pulumi.runtime.specialSecretSig,
      value: pulumi.runtime.unknownValue,
    });
    assert.equal(hidden.secrets.ciphertext, 5);
    assert.ok(hidden.secrets.ciphertextPaths.includes("eks: inputs.kubeconfig"));
    // A secret holding an object is decoded to the object.
    const doc = raw(COMPLIANT);
    const stack = doc.deployment.resources[0];
    stack["outputs"] = {
      conn: { [SIG]: pulumi.runtime.specialSecretSig, plaintext: JSON.stringify({ user: "u", port: 5432 }) },
    };
    const parsed = parse(doc);
    assert.deepEqual(parsed.resources[0].outputs["conn"], {
      [SIG]: pulumi.runtime.specialSecretSig,
      value: { user: "u", port: 5432 },
    });
  });

  it("leaves out an old copy pending deletion and warns about pending operations", () => {
    const doc = raw(COMPLIANT) as ReturnType<typeof raw> & { deployment: { pending_operations?: unknown[] } };
    const old = { ...doc.deployment.resources.find((r) => r["type"] === "aws:iam/role:Role")!, delete: true };
    doc.deployment.resources.push(old);
    doc.deployment.pending_operations = [{ resource: old, type: "creating" }];
    const exp = parse(doc);
    assert.equal(exp.resources.filter((r) => r.type === "aws:iam/role:Role").length, 1);
    assert.match(
      exp.warnings.join("\n"),
      /backups-replication \(aws:iam\/role:Role\) is an old copy pending deletion/,
    );
    assert.match(exp.warnings.join("\n"), /1 pending operation\(s\): an update was interrupted/);
  });

  it("refuses older and newer deployment formats with what to do", () => {
    for (const [version, message] of [
      [2, /version 2 is an old format; export the stack again with a current Pulumi CLI/],
      [1, /version 1 is an old format/],
      [4, /version 4 is newer than this tool reads \(3\)/],
    ] as const) {
      assert.throws(
        () => parse({ ...raw(COMPLIANT), version }, "old.json"),
        (e: unknown) => e instanceof ExportError && message.test(e.message),
      );
    }
    assert.throws(
      () => parse({ deployment: {} }),
      /has no deployment format version .*is this a pulumi stack export file\?/,
    );
    assert.throws(() => parseStackExport("{", "x.json"), /x\.json: not JSON/);
  });

  it("lists every problem of a malformed export once", () => {
    const doc = raw(VIOLATING);
    const [, provider, , , key] = doc.deployment.resources;
    delete provider["id"];
    key["type"] = "aws:kms/alias:Alias";
    doc.deployment.resources[5]["provider"] = "aws-sa-east-1";
    doc.deployment.resources.push({
      urn: "urn:pulumi:other::hcp-data::aws:s3/bucket:Bucket::x",
      type: "aws:s3/bucket:Bucket",
      custom: true,
    });
    doc.deployment.resources.push({ type: "aws:s3/bucket:Bucket", custom: true });
    try {
      parse(doc, "bad.json");
      assert.fail("expected an ExportError");
    } catch (e) {
      assert.ok(e instanceof ExportError);
      const lines = e.message.split("\n");
      assert.match(lines[0], /^bad\.json is not a valid stack export \(\d+ problem\(s\)\):$/);
      assert.ok(
        lines.some((l) =>
          /resources\[4\] \(data-key\)\.type is "aws:kms\/alias:Alias" but its URN says aws:kms\/key:Key/.test(
            l,
          ),
        ),
      );
      assert.ok(
        lines.some((l) =>
          /resources\[5\] \(data-key-us-east-1\)\.provider is not a provider reference "<urn>::<id>": "aws-sa-east-1"/.test(
            l,
          ),
        ),
      );
      assert.ok(lines.some((l) => /belongs to hcp-data\/other, not hcp-data\/production-sa-east-1/.test(l)));
      assert.ok(lines.some((l) => /resources\[\d+\]\.urn is missing/.test(l)));
      assert.ok(
        lines.some((l) =>
          /its provider reference has id 5b1f3a0e-.*, but aws-sa-east-1 has id \(none\)/.test(l),
        ),
      );
    }
  });

  it("reads a state file (checkpoint) as well", () => {
    const doc = raw(COMPLIANT);
    const exp = parse({ version: 3, checkpoint: { stack: STACK, latest: doc.deployment } });
    assert.equal(exp.resources.length, readStackExport(COMPLIANT).resources.length);
  });
});

describe("audit through the analyzer", function () {
  this.timeout(180_000);
  let server: PolicyPackServer;

  before(async () => {
    server = await PolicyPackServer.start(path.join(__dirname, "fixtures", "audit-pack"));
    await server.configure(resolveConfig(await server.info(), {}, "test"));
  });
  after(() => server.stop());

  const messages = (findings: PolicyFinding[], policy: string) =>
    findings.filter((f) => f.policy === policy).map((f) => f.message.split("\n").pop());

  it("hands a plaintext secret to policies as its value and never prints it", async () => {
    const exp = readStackExport(COMPLIANT);
    const findings = await auditStack(server, exp, "organization");
    assert.deepEqual(messages(findings, "secret-strength"), ["secretString has 16 characters"]);
    const report = auditReport(exp, findings, "compliant.export.json");
    assert.ok(!report.includes(PLAINTEXT_SECRET));
    assert.ok(!JSON.stringify(findings).includes(PLAINTEXT_SECRET));
    assert.match(report, /secrets: 5 passed to policies as secrets \(plaintext export\), 0 encrypted/);
  });

  it("reports a policy that reads an encrypted secret as unable to run, and says why", async () => {
    const exp = readStackExport(VIOLATING);
    const findings = await auditStack(server, exp, "organization");
    const [f] = findings.filter((x) => x.policy === "secret-strength");
    assert.equal(f.level, "advisory");
    assert.match(f.message, /can't run policy 'secret-strength' .* string value at \.secretString/);
    const report = auditReport(exp, findings, "v.json");
    assert.match(report, /1 policy check\(s\) could not run because they read an encrypted secret/);
    assert.match(report, /encrypted values: .*pgbouncer-password: inputs\.secretString/);
  });

  it("sends each resource with the provider its reference names, inputs as stored", async () => {
    const findings = await auditStack(server, readStackExport(COMPLIANT), "organization");
    const byUrn = new Map(
      findings.filter((f) => f.policy === "provider-facts").map((f) => [f.urn, f.message.split("\n").pop()]),
    );
    assert.equal(
      byUrn.get(urnOf("aws:cloudwatch/logGroup:LogGroup", "pgaudit")),
      "provider pulumi:providers:aws aws-sa-east-1 region=sa-east-1; defaultTags=Compliance,DataClassification,Environment,Layer,ManagedBy,Owner,Project,Region",
    );
    assert.equal(
      byUrn.get(urnOf("kubernetes:core/v1:Pod", "debug-shell")),
      "provider pulumi:providers:kubernetes eks region=undefined; defaultTags=",
    );
    assert.deepEqual(messages(findings, "option-facts"), [
      `protect=true parent=urn:pulumi:${STACK}::hcp-data::pulumi:pulumi:Stack::hcp-data-${STACK}`,
    ]);
  });

  it("runs stack policies over the stored outputs with dependencies and providers", async () => {
    const exp = readStackExport(COMPLIANT);
    const findings = await auditStack(server, exp, "organization");
    assert.deepEqual(messages(findings, "stack-facts"), [
      `${exp.resources.length} resources; backupBucket=hcp-production-sa-east-1-backups; replication source=backups; replication provider region=sa-east-1`,
    ]);
  });
});

describe("acceptance: the healthcare-compliance pack over crafted stack exports", function () {
  this.timeout(180_000);
  let server: PolicyPackServer;
  const production = () => loadEnvironmentConfigFile(path.join(REPO, "Pulumi.production.yaml"), "production");

  before(async () => {
    server = await PolicyPackServer.start(HEALTHCARE_PACK);
  });
  after(() => server.stop());

  async function audit(file: string, config: Parameters<typeof mergeConfig>[0]) {
    await server.configure(resolveConfig(await server.info(), config, "test"));
    return auditStack(server, readStackExport(file), "organization");
  }

  const mandatoryOn = (findings: PolicyFinding[], urn: string) =>
    findings.filter((f) => f.level === "mandatory" && f.urn === urn).map((f) => f.policy);

  it("finds a mandatory violation for each of the four crafted problems (pack defaults: no transfer basis for US)", async () => {
    const findings = await audit(VIOLATING, {});
    assert.ok(
      mandatoryOn(findings, urnOf("aws:s3/bucket:Bucket", "patient-exports")).some((p) =>
        ["s3-bucket-encryption-configured", "s3-sse-kms-customer-key"].includes(p),
      ),
      `unencrypted bucket (S3 default SSE-S3 only, no KMS configuration): ${JSON.stringify(mandatoryOn(findings, urnOf("aws:s3/bucket:Bucket", "patient-exports")))}`,
    );
    assert.ok(
      mandatoryOn(findings, urnOf("aws:cloudwatch/logGroup:LogGroup", "pgaudit")).includes(
        "cloudwatch-log-retention",
      ),
    );
    assert.ok(
      mandatoryOn(
        findings,
        urnOf("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backups-replication"),
      ).includes("phi-cross-border-copy"),
    );
    assert.ok(
      mandatoryOn(findings, urnOf("kubernetes:core/v1:Pod", "debug-shell")).includes("k8s-no-host-access"),
    );
  });

  it("flags the cross-border replication for want of a transfer basis even where us-east-1 is an allowed region", async () => {
    const config = mergeConfig(
      packConfigFor(HEALTHCARE_PACK, production()),
      readPolicyConfigFile(NO_TRANSFER_BASIS),
    );
    const findings = await audit(VIOLATING, config);
    const replication = findings.filter(
      (f) =>
        f.urn === urnOf("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backups-replication") &&
        f.level === "mandatory",
    );
    assert.deepEqual(
      replication.map((f) =>
        f.message
          .split("\n")
          .pop()!
          .replace(/^.*Replication/, "Replication"),
      ),
      [
        "Replication 'backups-replication' to bucket 'backups-replica': region us-east-1 is in US, outside BR, and no transfer basis is configured for US (LGPD Art. 33).",
      ],
    );
  });

  it("finds nothing mandatory in the compliant export under the production configuration", async () => {
    const findings = await audit(COMPLIANT, packConfigFor(HEALTHCARE_PACK, production()));
    assert.deepEqual(
      findings.filter((f) => f.level === "mandatory"),
      [],
    );
  });
});

describe("pnpm plan:audit (CLI)", function () {
  this.timeout(240_000);

  function audit(...args: string[]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "audit", ...args], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      timeout: 200_000,
    });
    return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
  }

  it("exits 1 on the crafted violations, naming each, and 0 on the compliant export", () => {
    const bad = audit(VIOLATING);
    assert.equal(bad.code, 1, bad.out);
    // The four crafted problems of the acceptance: unencrypted bucket, 2555-day log group,
    // cross-border replication without a transfer basis (no --env: no basis configured), privileged pod.
    for (const policy of [
      "s3-bucket-encryption-configured",
      "cloudwatch-log-retention",
      "phi-cross-border-copy",
      "k8s-no-host-access",
    ]) {
      assert.match(bad.out, new RegExp(`mandatory: \\[${policy}\\] urn:pulumi:`));
    }
    assert.match(bad.out, /Policy findings: [1-9]\d* mandatory/);
    const good = audit(
      COMPLIANT,
      "--env",
      "production",
      "--json",
      path.join(os.tmpdir(), `audit-${process.pid}.json`),
    );
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /hcp-data\/production-sa-east-1: \d+ resources/);
    assert.match(good.out, /Policy findings: 0 mandatory/);
    assert.ok(!good.out.includes(PLAINTEXT_SECRET));
    const report = JSON.parse(
      fs.readFileSync(path.join(os.tmpdir(), `audit-${process.pid}.json`), "utf8"),
    ) as {
      stack: string;
      policyFindings: unknown[];
    };
    fs.rmSync(path.join(os.tmpdir(), `audit-${process.pid}.json`));
    assert.equal(report.stack, `hcp-data/${STACK}`);
    assert.ok(!JSON.stringify(report).includes(PLAINTEXT_SECRET));
  });

  it("exits 2 with a clear message for an old-format or malformed export, before starting the pack", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-audit-"));
    try {
      const v2 = path.join(dir, "v2.json");
      fs.writeFileSync(v2, JSON.stringify({ ...raw(COMPLIANT), version: 2 }));
      const old = audit(v2);
      assert.equal(old.code, 2, old.out);
      assert.match(old.out, /v2\.json: deployment format version 2 is an old format/);
      const broken = path.join(dir, "broken.json");
      fs.writeFileSync(broken, JSON.stringify({ version: 3, deployment: { resources: [{ urn: "nope" }] } }));
      const bad = audit(broken);
      assert.equal(bad.code, 2, bad.out);
      assert.match(
        bad.out,
        /broken\.json is not a valid stack export \(1 problem\(s\)\):\n {2}- deployment\.resources\[0\]\.urn is not a URN \("nope"\)/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
