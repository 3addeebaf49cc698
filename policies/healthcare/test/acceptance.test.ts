import * as assert from "node:assert/strict";
import type { PolicyPackConfigJson } from "../src/lib";
import { awsProvider, res } from "./fixtures";
import { Analyzer, type Diagnostic, type Fixture } from "./harness";
import { deployment } from "./cases/kubernetes";

/**
 * The acceptance scenario at the pack's level: a deployed stack (every value known, as in a
 * `pulumi stack export`) with an unencrypted bucket, a 2555-day log group, a cross-border
 * replication without transfer basis and a privileged pod gets a mandatory violation for each; the
 * same stack made compliant gets none.
 */

const BR = awsProvider("sa-east-1", "phi");
const US = awsProvider("us-east-1", "phi");
const KEY = "arn:aws:kms:sa-east-1:111122223333:key/k";
const TLS_POLICY = (bucket: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });

/** A deployed PHI bucket with its settings; `encrypted: false` leaves out the SSE configuration. */
function bucket(name: string, provider = BR, encrypted = true): Fixture[] {
  const b = res(
    "aws:s3/bucket:Bucket",
    name,
    {},
    { provider, protect: true, outputs: { bucket: name, arn: `arn:aws:s3:::${name}` } },
  );
  const settings = [
    res(
      "aws:s3/bucketPolicy:BucketPolicy",
      `${name}-policy`,
      { bucket: name, policy: TLS_POLICY(name) },
      { provider },
    ),
    res(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      `${name}-pab`,
      {
        bucket: name,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { provider },
    ),
  ];
  if (encrypted) {
    settings.push(
      res(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        `${name}-sse`,
        {
          bucket: name,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } }],
        },
        { provider },
      ),
    );
  }
  return [b, ...settings];
}

function stack(compliant: boolean): Fixture[] {
  return [
    ...bucket("hcp-records", BR, compliant),
    ...bucket("hcp-records-dr", US),
    res("aws:cloudwatch/logGroup:LogGroup", "audit-logs", {
      name: "/hcp/production/pgaudit",
      retentionInDays: compliant ? 2557 : 2555,
      kmsKeyId: KEY,
    }),
    res(
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "records-replication",
      {
        bucket: "hcp-records",
        role: "arn:aws:iam::111122223333:role/replication",
        rules: [{ status: "Enabled", destination: { bucket: "arn:aws:s3:::hcp-records-dr" } }],
      },
      { provider: BR },
    ),
    deployment(compliant ? {} : { hostPID: true }, { name: "app", replicas: 1 }),
    res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "app-default-deny", {
      metadata: { name: "default-deny", namespace: "app" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    }),
  ];
}

async function mandatory(
  analyzer: Analyzer,
  fixtures: Fixture[],
  config: PolicyPackConfigJson,
): Promise<Diagnostic[]> {
  await analyzer.configure(config);
  try {
    const perResource = await Promise.all(fixtures.map((f) => analyzer.analyze(f)));
    const whole = await analyzer.analyzeStack(fixtures);
    return [...perResource.flatMap((r) => r.diagnostics), ...whole.diagnostics].filter(
      (d) => d.enforcementLevel === "mandatory",
    );
  } finally {
    await analyzer.configure({});
  }
}

const residency = { homeCountry: "BR", allowedRegions: ["sa-east-1", "us-east-1"] };
/** The environment allows the DR region but documents no transfer basis for the US. */
const withoutBasis: PolicyPackConfigJson = {
  "phi-allowed-regions": { ...residency, transferBasisCountries: [] },
  "phi-international-transfer": { ...residency, transferBasisCountries: [] },
  "phi-cross-border-copy": { ...residency, transferBasisCountries: [] },
};
const withBasis: PolicyPackConfigJson = {
  "phi-allowed-regions": { ...residency, transferBasisCountries: ["US"] },
  "phi-international-transfer": { ...residency, transferBasisCountries: ["US"] },
  "phi-cross-border-copy": { ...residency, transferBasisCountries: ["US"] },
};

describe("acceptance (deployed stack, every value known)", () => {
  it("reports a mandatory violation for each of the four defects", async () => {
    const analyzer = await Analyzer.start();
    const found = await mandatory(analyzer, stack(false), withoutBasis);
    const policies = new Set(found.map((d) => d.policyName));
    for (const policy of [
      "s3-bucket-encryption-configured",
      "cloudwatch-log-retention",
      "phi-cross-border-copy",
      "k8s-no-host-access",
    ]) {
      assert.ok(policies.has(policy), `${policy} not reported; got ${[...policies].join(", ")}`);
    }
    assert.ok(found.some((d) => /2555 is not a value CloudWatch accepts/.test(d.message)));
    assert.ok(
      found.some((d) => /Replication 'records-replication' to bucket 'hcp-records-dr'.*US/.test(d.message)),
    );
  });

  it("reports no mandatory violation for the compliant stack", async () => {
    const analyzer = await Analyzer.start();
    const found = await mandatory(analyzer, stack(true), withBasis);
    assert.deepEqual(
      found.map((d) => `${d.policyName}: ${d.message.split("\n").slice(1).join(" ")}`),
      [],
    );
  });
});
