import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MESH_SYSTEM_EXEMPTION, NODE_AGENTS_EXEMPTION } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import * as k8s from "@pulumi/kubernetes";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import Ajv from "ajv";
import { withRuleReference } from "../scripts/readme";
import { awsSdkVersion, renderTaggableModule, taggableAwsTypes } from "../scripts/taggable";
import {
  analyzerConfig,
  CONCERNS,
  COVERAGE_WAIVERS,
  defaultPolicyConfig,
  examinedTypes,
  PACK_NAME,
  policyConfigFor,
  RULES,
  CUSTOM_RESOURCE_TOKENS,
  TYPE_TOKENS,
} from "../src/lib";
import { Analyzer } from "./harness";

const packDir = path.join(__dirname, "..");

describe("pack", () => {
  it("is served under its name with every rule, level and config schema", async () => {
    const info = await (await Analyzer.start()).info();
    assert.equal(info.getName(), PACK_NAME);
    const policies = info.getPoliciesList();
    assert.deepEqual(
      policies.map((p) => p.getName()),
      RULES.map((r) => r.policy.name),
    );
    for (const p of policies) {
      const rule = RULES.find((r) => r.policy.name === p.getName());
      assert.ok(rule);
      assert.equal(
        p.getEnforcementlevel(),
        rule.policy.enforcementLevel === "mandatory"
          ? analyzerPb.EnforcementLevel.MANDATORY
          : analyzerPb.EnforcementLevel.ADVISORY,
      );
      assert.equal(p.getPolicyType() === analyzerPb.PolicyType.POLICY_TYPE_STACK, rule.kind === "stack");
      const schema = p.getConfigschema()?.getProperties()?.toJavaScript() ?? {};
      assert.deepEqual(Object.keys(schema).sort(), Object.keys(rule.defaults).sort());
    }
  });

  it("names every rule in kebab-case, once, with a concern, a how-to-fix description and remediation steps", () => {
    const names = RULES.map((r) => r.policy.name);
    assert.equal(new Set(names).size, names.length);
    for (const r of RULES) {
      assert.match(r.policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(CONCERNS.includes(r.concern));
      assert.ok(r.policy.description.length > 60, r.policy.name);
      assert.ok((r.policy.remediationSteps ?? "").length > 20, r.policy.name);
      assert.ok(r.policy.severity);
    }
    assert.deepEqual([...new Set(RULES.map((r) => r.concern))].sort(), [...CONCERNS].sort());
  });

  it("makes PHI rules mandatory and hygiene rules advisory", () => {
    const level = (name: string) => RULES.find((r) => r.policy.name === name)?.policy.enforcementLevel;
    for (const name of [
      "s3-sse-kms-customer-key",
      "phi-allowed-regions",
      "phi-international-transfer",
      "k8s-no-host-access",
      "cloudwatch-log-retention",
    ]) {
      assert.equal(level(name), "mandatory", name);
    }
    for (const name of ["aws-required-tags", "k8s-resource-limits"]) {
      assert.equal(level(name), "advisory", name);
    }
  });

  it("keeps the type tokens in line with the SDK classes", () => {
    const classes: object[] = [
      tls.PrivateKey,
      tls.SelfSignedCert,
      aws.s3.Bucket,
      aws.s3.BucketV2,
      aws.s3.BucketServerSideEncryptionConfiguration,
      aws.s3.BucketServerSideEncryptionConfigurationV2,
      aws.s3.BucketPolicy,
      aws.s3.BucketVersioning,
      aws.s3.BucketVersioningV2,
      aws.s3.BucketObjectLockConfiguration,
      aws.s3.BucketObjectLockConfigurationV2,
      aws.s3.BucketLifecycleConfiguration,
      aws.s3.BucketLifecycleConfigurationV2,
      aws.s3.BucketReplicationConfig,
      aws.s3.BucketPublicAccessBlock,
      aws.ebs.Volume,
      aws.ec2.Vpc,
      aws.ec2.FlowLog,
      aws.ec2.SecurityGroup,
      aws.ec2.DefaultSecurityGroup,
      aws.vpc.SecurityGroupIngressRule,
      aws.secretsmanager.Secret,
      aws.amp.Workspace,
      aws.cloudtrail.Trail,
      aws.ec2.LaunchTemplate,
      aws.ec2.Instance,
      aws.eks.Cluster,
      aws.guardduty.Detector,
      aws.guardduty.DetectorFeature,
      aws.eks.NodeGroup,
      aws.cloudwatch.LogGroup,
      aws.sns.Topic,
      aws.sns.TopicPolicy,
      aws.sqs.Queue,
      aws.ecr.Repository,
      aws.ecr.RepositoryCreationTemplate,
      aws.kms.Key,
      aws.kms.ReplicaKey,
      aws.vpc.SecurityGroupEgressRule,
      aws.ec2.Route,
      aws.ec2.VpcPeeringConnection,
      aws.ec2.VpcPeeringConnectionAccepter,
      aws.codebuild.Project,
      aws.codebuild.Webhook,
      aws.lb.Listener,
      aws.alb.Listener,
      aws.lb.LoadBalancer,
      aws.alb.LoadBalancer,
      aws.wafv2.WebAclAssociation,
      aws.elasticache.ReplicationGroup,
      k8s.core.v1.Namespace,
      k8s.core.v1.ConfigMap,
      k8s.core.v1.Secret,
      k8s.core.v1.Service,
      k8s.core.v1.Pod,
      k8s.core.v1.PersistentVolumeClaim,
      k8s.apps.v1.Deployment,
      k8s.apps.v1.StatefulSet,
      k8s.apps.v1.DaemonSet,
      k8s.apps.v1.ReplicaSet,
      k8s.batch.v1.Job,
      k8s.batch.v1.CronJob,
      k8s.policy.v1.PodDisruptionBudget,
      k8s.autoscaling.v2.HorizontalPodAutoscaler,
      k8s.networking.v1.NetworkPolicy,
      k8s.networking.v1.Ingress,
      k8s.storage.v1.StorageClass,
      k8s.helm.v3.Release,
      k8s.helm.v3.Chart,
      k8s.helm.v4.Chart,
    ];
    const token = (c: object) => (c as { __pulumiType?: string }).__pulumiType;
    // Custom resources have no class per kind; their fixtures are checked against the CRD schemas
    // instead (customResources.test.ts).
    assert.deepEqual([...classes.map(token), ...CUSTOM_RESOURCE_TOKENS].sort(), [...TYPE_TOKENS].sort());
  });

  it("has a reason for every waiver and no waiver for an examined type", () => {
    const examined = new Set(examinedTypes(RULES));
    for (const w of COVERAGE_WAIVERS) {
      assert.ok(w.reason.length >= 20, w.type);
      assert.ok(!examined.has(w.type), `${w.type} is examined and waived`);
    }
    assert.equal(new Set(COVERAGE_WAIVERS.map((w) => w.type)).size, COVERAGE_WAIVERS.length);
  });

  it("lists taggable AWS types as the installed SDK defines them", () => {
    const generated = fs.readFileSync(path.join(packDir, "src", "generated", "awsTaggable.ts"), "utf8");
    const types = taggableAwsTypes();
    assert.ok(types.includes("aws:s3/bucket:Bucket") && !types.includes("aws:s3/bucketPolicy:BucketPolicy"));
    assert.equal(generated, renderTaggableModule(types, awsSdkVersion()), "regenerate with `pnpm generate`");
  });

  it("starts through the Pulumi CLI's run-policy-pack launcher and answers GetAnalyzerInfo", async function () {
    this.timeout(120_000);
    const launcher = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
    const child = spawn(process.execPath, [launcher, "127.0.0.1:1", packDir], {
      cwd: packDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /^(\d+)\s*$/m.exec(out);
          if (m) {
            resolve(Number(m[1]));
          }
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", (code) => reject(new Error(`pack exited with ${code}: ${err}`)));
      });
      assert.ok(port > 0);
      const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const info = await new Promise<analyzerPb.AnalyzerInfo>((resolve, reject) =>
        client.getAnalyzerInfo(new Empty(), (e, r) => (e ? reject(e) : resolve(r))),
      );
      client.close();
      assert.equal(info.getName(), PACK_NAME);
      assert.equal(info.getPoliciesList().length, RULES.length);
    } finally {
      child.kill();
    }
  });
});

describe("policy config", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = (config: Record<string, Record<string, unknown>>) => {
    const problems: string[] = [];
    for (const rule of RULES) {
      const schema = rule.policy.configSchema;
      if (!schema) {
        continue;
      }
      const check = ajv.compile({
        type: "object",
        properties: schema.properties,
        required: schema.required ?? [],
        additionalProperties: false,
      });
      if (!check(config[rule.policy.name] ?? {})) {
        problems.push(`${rule.policy.name}: ${ajv.errorsText(check.errors)}`);
      }
    }
    return problems;
  };

  it("has defaults that satisfy the schemas", () => {
    assert.deepEqual(validate(defaultPolicyConfig()), []);
  });

  it("rejects a config the schema forbids (2555 is not a CloudWatch retention)", () => {
    assert.equal(validate({ "cloudwatch-log-retention": { auditMinimumDays: 2555 } }).length, 1);
  });

  for (const env of ["production", "staging"] as const) {
    it(`derives a schema-valid config for ${env} from its environment definition`, () => {
      const topology = repoTopology(env);
      const config = policyConfigFor(topology);
      assert.deepEqual(validate(config), []);
      assert.deepEqual(config["phi-allowed-regions"], {
        homeCountry: "BR",
        allowedRegions: ["sa-east-1", "us-east-1"],
        transferBasisCountries: ["US"],
      });
      assert.deepEqual(config["stateful-resources-protected"], { requireProtect: env === "production" });
      assert.equal(config["cloudwatch-log-retention"]?.["auditMinimumDays"], 2557);
      assert.equal(
        config["cloudwatch-log-retention"]?.["applicationMinimumDays"],
        topology.retention.logs.application,
      );
      assert.equal(
        config["backup-retention-minimum"]?.["minimumFullRetentionCount"],
        topology.retention.backups.fullRetentionCount,
      );
      assert.equal(config["s3-retention-lifecycle"]?.["clinicalRecordMinimumDays"], 7305);
      // Exactly the node agents' namespace and (both environments run the mesh) Istio's, and only
      // from the rules their agents cannot meet.
      assert.equal(topology.workloads.mesh, "ambient");
      const exempting = Object.entries(config)
        .filter(([, properties]) => "exemptNamespaces" in properties)
        .map(([name, properties]) => [name, properties["exemptNamespaces"]]);
      const expected = [NODE_AGENTS_EXEMPTION, MESH_SYSTEM_EXEMPTION];
      assert.deepEqual(exempting, [
        ["k8s-no-host-access", expected],
        ["k8s-restricted-security-context", expected],
        ["k8s-namespace-restricted", expected],
      ]);
      assert.equal(NODE_AGENTS_EXEMPTION.name, "monitoring-agents");
    });
  }

  it("exempts istio-system from the host-access, security-context and namespace rules only with the mesh", () => {
    const topology = repoTopology("staging");
    const rules = ["k8s-no-host-access", "k8s-restricted-security-context", "k8s-namespace-restricted"];
    const ambient = policyConfigFor({ ...topology, workloads: { ...topology.workloads, mesh: "ambient" } });
    for (const rule of rules) {
      const list = ambient[rule]?.["exemptNamespaces"] as Array<{ name: string; reason: string }>;
      assert.deepEqual(
        list.map((e) => e.name),
        ["monitoring-agents", "istio-system"],
        rule,
      );
      assert.ok(list.every((e) => e.reason.length >= 10));
    }
    assert.deepEqual(ambient["k8s-default-deny-network-policy"], undefined, "default deny still applies");
    const none = policyConfigFor({ ...topology, workloads: { ...topology.workloads, mesh: "none" } });
    for (const rule of rules) {
      assert.deepEqual(none[rule], { exemptNamespaces: [NODE_AGENTS_EXEMPTION] }, rule);
    }
    assert.deepEqual(validate(ambient), []);
  });

  it("follows the environment: a DR region without a transfer has no transfer basis", () => {
    const topology = repoTopology("staging");
    const brOnly = { ...topology, residency: { ...topology.residency, internationalTransfers: [] } };
    assert.deepEqual(policyConfigFor(brOnly)["phi-international-transfer"]?.["transferBasisCountries"], []);
  });

  it("sends every policy with its own enforcement level to Configure, as the CLI does", () => {
    const sent = analyzerConfig({
      "kms-key-rotation": { maximumRotationPeriodDays: 180 },
      "aws-required-tags": { enforcementLevel: "disabled" },
    });
    assert.deepEqual(
      Object.keys(sent),
      RULES.map((r) => r.policy.name),
    );
    assert.equal(sent["s3-sse-kms-customer-key"]?.enforcementLevel, "mandatory");
    assert.equal(sent["aws-required-tags"]?.enforcementLevel, "disabled");
    assert.deepEqual(sent["kms-key-rotation"]?.properties, { maximumRotationPeriodDays: 180 });
  });

  it("disables a policy through the config", async () => {
    const analyzer = await Analyzer.start();
    await analyzer.configure({ "kms-key-rotation": { enforcementLevel: "disabled" } });
    const result = await analyzer.analyze({
      type: "aws:kms/key:Key",
      name: "k",
      urn: "urn:pulumi:test::hcp::aws:kms/key:Key::k",
      props: { enableKeyRotation: false },
    });
    await analyzer.configure({});
    assert.ok(!result.diagnostics.some((d) => d.policyName === "kms-key-rotation"));
    assert.ok(result.diagnostics.some((d) => d.policyName === "stateful-resources-protected"));
  });
});

describe("README", () => {
  it("documents every rule and waiver as the code defines them", () => {
    const readme = fs.readFileSync(path.join(packDir, "README.md"), "utf8");
    assert.equal(
      readme,
      withRuleReference(readme),
      "regenerate with `pnpm --filter @hcp/policy-healthcare docs`",
    );
    for (const rule of RULES) {
      assert.ok(readme.includes(`#### \`${rule.policy.name}\``), rule.policy.name);
    }
  });
});
