import * as assert from "node:assert/strict";
import {
  CI_JOB_TIMEOUT_MINUTES,
  CI_SESSION_SECONDS,
  ciConnectionName,
  environmentContract,
  SEVEN_YEARS_DAYS,
  yearsToDays,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  byUrn,
  ofType,
  one,
  parsePolicy,
  type PolicyJson,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
} from "@hcp/testing";

function outputs(r: RegisteredResource): Record<string, unknown> {
  return r.wireOutputs;
}

function policy(r: RegisteredResource, input = "policy"): PolicyJson {
  return parsePolicy(r.inputs[input]);
}

function providerRegion(run: ProgramRun, r: RegisteredResource): string {
  assert.ok(r.provider, `${r.type} ${r.name} has no explicit provider`);
  return String(byUrn(run.resources, r.provider)!.inputs["region"]);
}

describe("environment layer", () => {
  const production = repoTopology("production");
  const staging = repoTopology("staging");
  let prod: ProgramRun;
  let stg: ProgramRun;

  before(async () => {
    prod = await runLayer({ layer: "environment", topology: production });
    stg = await runLayer({ layer: "environment", topology: staging });
  });

  it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
    assertConventions(prod, { tier: production.tier });
    assertConventions(stg, { tier: staging.tier });
  });

  it("gives every AWS resource an explicit provider with the standard tags", () => {
    for (const r of prod.resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
      const provider = byUrn(prod.resources, r.provider ?? "");
      assert.ok(provider, `${r.type} ${r.name} uses a default provider`);
      const tags = (JSON.parse(String(provider.inputs["defaultTags"])) as { tags: Record<string, string> })
        .tags;
      assert.equal(tags["Environment"], "production");
      assert.equal(tags["Layer"], "environment");
      assert.equal(tags["ManagedBy"], "pulumi");
      assert.deepEqual(JSON.parse(String(provider.inputs["allowedAccountIds"])), [
        production.access.accountId,
      ]);
    }
  });

  it("creates the public zone of the configured domain, protected in production only", () => {
    const zone = one(prod.resources, "aws:route53/zone:Zone");
    assert.equal(zone.inputs["name"], production.dns.domain);
    assert.equal(zone.options.protect, true);
    assert.equal(one(stg.resources, "aws:route53/zone:Zone").options.protect, false);
  });

  it("creates immutable, scanned, KMS-encrypted ECR repositories with untagged expiry", () => {
    const key = one(prod.resources, "aws:kms/key:Key", "ecr-key");
    const repos = ofType(prod.resources, "aws:ecr/repository:Repository");
    assert.deepEqual(repos.map((r) => r.inputs["name"]).sort(), [...production.ecr.repositories].sort());
    for (const repo of repos) {
      assert.equal(repo.inputs["imageTagMutability"], "IMMUTABLE");
      assert.deepEqual(repo.inputs["imageScanningConfiguration"], { scanOnPush: true });
      assert.deepEqual(repo.inputs["encryptionConfigurations"], [
        { encryptionType: "KMS", kmsKey: outputs(key)["arn"] },
      ]);
      assert.equal(repo.options.protect, true);
    }
    for (const lifecycle of ofType(prod.resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy")) {
      const rule = (
        JSON.parse(String(lifecycle.inputs["policy"])) as { rules: Array<Record<string, unknown>> }
      ).rules[0];
      assert.deepEqual(rule["selection"], {
        tagStatus: "untagged",
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: production.ecr.untaggedImageExpiryDays,
      });
    }
  });

  it("replicates images to every DR region, where templates keep them KMS-encrypted and immutable", () => {
    const replication = one(prod.resources, "aws:ecr/replicationConfiguration:ReplicationConfiguration");
    const rule = at(replication.inputs, "replicationConfiguration.rules[0]") as Record<string, unknown>;
    const drRegions = production.regions.filter((r) => r.role === "dr").map((r) => r.name);
    assert.deepEqual(
      (rule["destinations"] as Array<Record<string, unknown>>).map((d) => d["region"]),
      drRegions,
    );
    const replica = one(prod.resources, "aws:kms/replicaKey:ReplicaKey");
    assert.equal(providerRegion(prod, replica), "us-east-1");
    for (const template of ofType(
      prod.resources,
      "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
    )) {
      assert.equal(providerRegion(prod, template), "us-east-1");
      assert.equal(template.inputs["imageTagMutability"], "IMMUTABLE");
      assert.deepEqual(template.inputs["encryptionConfigurations"], [
        { encryptionType: "KMS", kmsKey: outputs(replica)["arn"] },
      ]);
    }
  });

  it("has KMS keys with rotation, a 30-day window and an account-root administration statement", () => {
    for (const key of ofType(prod.resources, "aws:kms/key:Key")) {
      assert.equal(key.inputs["enableKeyRotation"], true);
      assert.equal(key.inputs["deletionWindowInDays"], 30);
      assert.notEqual(key.inputs["bypassPolicyLockoutSafetyCheck"], true);
      const doc = policy(key);
      assert.deepEqual(doc.Statement[0], {
        Sid: "AccountAdministration",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${production.access.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      });
    }
  });

  it("runs a multi-region CloudTrail with log-file validation and its own KMS key", () => {
    const trail = one(prod.resources, "aws:cloudtrail/trail:Trail");
    const key = one(prod.resources, "aws:kms/key:Key", "audit-key");
    assert.equal(trail.inputs["isMultiRegionTrail"], true);
    assert.equal(trail.inputs["includeGlobalServiceEvents"], true);
    assert.equal(trail.inputs["enableLogFileValidation"], true);
    assert.equal(trail.inputs["kmsKeyId"], outputs(key)["arn"]);
    assert.equal(trail.options.protect, true);
    const bucketPolicy = one(prod.resources, "aws:s3/bucketPolicy:BucketPolicy", "audit-logs-policy");
    assert.ok(trail.dependencies.includes(bucketPolicy.urn), "the trail must wait for its bucket policy");
    const cloudtrailStatement = policy(key).Statement.find((s) => s.Sid === "CloudTrailEncrypt");
    assert.deepEqual(cloudtrailStatement?.Condition?.["StringEquals"], {
      "aws:SourceArn": `arn:aws:cloudtrail:sa-east-1:${production.access.accountId}:trail/hcp-production-audit`,
    });
  });

  it("locks the audit bucket in COMPLIANCE mode for the audit retention, versioned, private, TLS only", () => {
    const lock = one(prod.resources, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
    const days = at(lock.inputs, "rule.defaultRetention.days") as number;
    assert.equal(at(lock.inputs, "rule.defaultRetention.mode"), "COMPLIANCE");
    assert.equal(days, yearsToDays(production.retention.auditYears));
    assert.ok(days >= SEVEN_YEARS_DAYS);
    assert.equal(one(prod.resources, "aws:s3/bucket:Bucket").inputs["objectLockEnabled"], true);
    assert.deepEqual(
      one(prod.resources, "aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"],
      { status: "Enabled" },
    );
    const pab = one(prod.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    for (const flag of [
      "blockPublicAcls",
      "blockPublicPolicy",
      "ignorePublicAcls",
      "restrictPublicBuckets",
    ]) {
      assert.equal(pab[flag], true, flag);
    }
    const sse = one(
      prod.resources,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    assert.deepEqual(at(sse.inputs, "rules[0].applyServerSideEncryptionByDefault"), {
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: outputs(one(prod.resources, "aws:kms/key:Key", "audit-key"))["arn"],
    });
    const deny = policy(one(prod.resources, "aws:s3/bucketPolicy:BucketPolicy")).Statement.find(
      (s) => s.Sid === "DenyInsecureTransport",
    );
    assert.deepEqual(deny?.Condition, { Bool: { "aws:SecureTransport": "false" } });
    assert.equal(deny?.Effect, "Deny");
    const lifecycle = one(prod.resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    for (const rule of lifecycle.inputs["rules"] as Array<Record<string, unknown>>) {
      const expiry = at(rule, "expiration.days");
      assert.ok(
        expiry === undefined || (expiry as number) >= days,
        `rule ${String(rule["id"])} expires before the lock ends`,
      );
    }
  });

  it("gives CI two OIDC roles: preview for pull requests, deploy only for the protected environment", () => {
    const oidc = one(prod.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    assert.equal(oidc.inputs["url"], "https://token.actions.githubusercontent.com");
    assert.deepEqual(oidc.inputs["clientIdLists"], ["sts.amazonaws.com"]);
    const { owner, repository, deployEnvironment } = production.access.github;
    const trust = (name: string) =>
      policy(one(prod.resources, "aws:iam/role:Role", name), "assumeRolePolicy").Statement[0];
    assert.deepEqual(trust("ci-deploy").Condition?.["StringEquals"], {
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": [
        `repo:${owner}/${repository}:environment:${deployEnvironment}`,
      ],
    });
    assert.deepEqual(trust("ci-preview").Condition?.["StringLike"], {
      "token.actions.githubusercontent.com:sub": [
        `repo:${owner}/${repository}:pull_request`,
        `repo:${owner}/${repository}:ref:refs/heads/main`,
      ],
    });
    const preview = policy(one(prod.resources, "aws:iam/rolePolicy:RolePolicy", "ci-preview-state"));
    const deny = preview.Statement.find((s) => s.Sid === "NoDataPlaneReads");
    assert.equal(deny?.Effect, "Deny");
    assert.ok((deny?.Action as string[]).includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(deny?.NotResource, ["arn:aws:s3:::example-health-pulumi-state-production/*"]);
    const guardrails = policy(one(prod.resources, "aws:iam/rolePolicy:RolePolicy", "ci-deploy-guardrails"));
    assert.deepEqual(
      guardrails.Statement.map((s) => [s.Sid, s.Effect]),
      [
        ["NeverStopTheAuditTrail", "Deny"],
        ["NeverDeleteAuditLogs", "Deny"],
        ["NeverDisableTheAuditKey", "Deny"],
      ],
    );
  });

  it("sizes the CI role sessions to the longest job of each kind", () => {
    const role = (name: string) => one(prod.resources, "aws:iam/role:Role", name);
    assert.equal(role("ci-deploy").inputs["maxSessionDuration"], CI_SESSION_SECONDS.deploy);
    assert.equal(role("ci-preview").inputs["maxSessionDuration"], CI_SESSION_SECONDS.preview);
    assert.ok(CI_SESSION_SECONDS.deploy >= CI_JOB_TIMEOUT_MINUTES.deploy * 60);
    assert.ok(CI_SESSION_SECONDS.preview >= CI_JOB_TIMEOUT_MINUTES.preview * 60);
    // IAM accepts 1 to 12 hours.
    for (const seconds of Object.values(CI_SESSION_SECONDS)) {
      assert.ok(seconds >= 3600 && seconds <= 43200, `${seconds} s`);
    }
  });

  it("creates one GitHub connection per region for the in-VPC runners, and exports them", () => {
    for (const [topology, run] of [
      [production, prod],
      [staging, stg],
    ] as const) {
      const connections = ofType(run.resources, "aws:codestarconnections/connection:Connection");
      assert.deepEqual(
        connections.map((c) => providerRegion(run, c)).sort(),
        topology.regions.map((r) => r.name).sort(),
      );
      for (const c of connections) {
        const region = providerRegion(run, c);
        assert.equal(c.inputs["providerType"], "GitHub");
        assert.equal(c.inputs["name"], ciConnectionName(topology.name, region));
        assert.ok(String(c.inputs["name"]).length <= 32);
        const exported = (
          run.outputs["environment"] as { ci: { githubConnectionArns: Record<string, string> } }
        ).ci.githubConnectionArns;
        assert.equal(exported[region], outputs(c)["arn"]);
      }
    }
  });

  it("exports the topology and the environment contract", () => {
    const exported = prod.outputs["environment"];
    assert.ok(environmentContract.schema.safeParse(exported).success);
    assert.deepEqual((exported as { topology: unknown }).topology, production);
    assert.deepEqual([...prod.secretOutputNames], []);
  });

  it("does not protect staging's stateful resources", () => {
    for (const r of stg.resources) {
      assert.equal(r.options.protect, false, `${r.type} ${r.name} is protected in staging`);
    }
  });
});
