import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import { awsProvider, res, unknown, untyped } from "../fixtures";
import { deployment } from "./kubernetes";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/k";

const key = (protect: boolean) =>
  res("aws:kms/key:Key", "data-key", { enableKeyRotation: true, deletionWindowInDays: 30 }, { protect });

const logGroup = (ignoreChanges: string[]) => ({
  ...res("aws:cloudwatch/logGroup:LogGroup", "logs", {
    name: "/hcp/app",
    retentionInDays: 400,
    kmsKeyId: KEY,
  }),
  ignoreChanges,
});

/** Secret-looking values used by failing fixtures; no violation message may contain them. */
export const CANARY_PASSWORD = "Tr0ub4dor&3-canary";
export const CANARY_TOKEN = "ghp_canaryTOKEN0123456789abcdefABCDEF";

const configMap = (data: Record<string, string>) =>
  res("kubernetes:core/v1:ConfigMap", "app-config", {
    metadata: { name: "app-config", namespace: "app" },
    data,
  });

export const otherCases: Case[] = [
  ...cases("stateful-resources-protected", [
    { kind: "pass", title: "protected key in production", resource: key(true), expect: pass },
    {
      kind: "fail",
      title: "unprotected key in production",
      resource: key(false),
      expect: violation(/not protected/),
    },
    {
      kind: "pass",
      title: "unprotected key outside production",
      resource: key(false),
      config: { "stateful-resources-protected": { requireProtect: false } },
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "unprotected bucket",
      resource: res("aws:s3/bucket:Bucket", "b", { bucketPrefix: "b-" }),
      expect: violation(/not protected/),
    },
    {
      kind: "pass",
      title: "stateless type",
      resource: untyped("aws:kms/alias:Alias", "a", { name: "alias/x" }),
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "protection does not depend on (unknown) props",
      resource: res("aws:kms/key:Key", "k", { description: unknown.string() }, { protect: true }),
      expect: pass,
    },
  ]),
  ...cases("no-ignore-changes-on-security-settings", [
    {
      kind: "pass",
      title: "ignoring a non-security property",
      resource: logGroup(["skipDestroy"]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "ignoring kmsKeyId",
      resource: logGroup(["kmsKeyId"]),
      expect: violation(/'kmsKeyId', a security setting/),
    },
    {
      kind: "fail",
      title: "ignoring retention",
      resource: logGroup(["retentionInDays"]),
      expect: violation(/retentionInDays/),
    },
    {
      kind: "fail",
      title: "ignoring the DataClassification tag",
      resource: logGroup(['tags["DataClassification"]']),
      expect: violation(/DataClassification/),
    },
    {
      kind: "pass",
      title: "ignoring a controller-managed tag",
      resource: logGroup(['tags["kubernetes.io/cluster/hcp"]']),
      expect: pass,
    },
    {
      kind: "fail",
      title: "ignoring a nested security context",
      resource: { ...deployment(), ignoreChanges: ["spec.template.spec.containers[0].securityContext"] },
      expect: violation(/securityContext/),
    },
    {
      kind: "unknown",
      title: "options are known even when props are not",
      resource: {
        ...res("aws:cloudwatch/logGroup:LogGroup", "l", { kmsKeyId: unknown.string() }),
        ignoreChanges: ["kmsKeyId"],
      },
      expect: violation(/kmsKeyId/),
    },
  ]),
  ...cases("aws-data-classification-tag", [
    {
      kind: "pass",
      title: "classified by the provider's default tags",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "l", { retentionInDays: 400 }),
      expect: pass,
    },
    {
      kind: "pass",
      title: "classified by its own tag",
      resource: res(
        "aws:cloudwatch/logGroup:LogGroup",
        "l",
        { tags: { DataClassification: "phi" } },
        { provider: awsProvider("sa-east-1", "internal", { tags: {} }) },
      ),
      expect: pass,
    },
    {
      kind: "fail",
      title: "not classified anywhere",
      resource: res(
        "aws:cloudwatch/logGroup:LogGroup",
        "l",
        {},
        { provider: awsProvider("sa-east-1", "internal", { tags: { Project: "x" } }) },
      ),
      expect: violation(/DataClassification is missing/),
    },
    {
      kind: "fail",
      title: "an unknown classification value",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "l", { tags: { DataClassification: "secret" } }),
      expect: violation(/must be one of/),
    },
    {
      kind: "pass",
      title: "a type without tags",
      resource: res("aws:s3/bucketPolicy:BucketPolicy", "p", { bucket: "b", policy: "{}" }),
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "unknown classification",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "l", {
        tags: { DataClassification: unknown.string() },
      }),
      expect: preview,
    },
  ]),
  ...cases("aws-required-tags", [
    {
      kind: "pass",
      title: "standard tags from the provider",
      resource: res("aws:ebs/volume:Volume", "v", { availabilityZone: "a" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "provider without default tags",
      resource: res(
        "aws:ebs/volume:Volume",
        "v",
        { availabilityZone: "a", tags: { DataClassification: "phi" } },
        { provider: awsProvider("sa-east-1", "internal", { tags: {} }) },
      ),
      expect: violation(/missing tags: Project, Environment, Region, Layer, Owner, ManagedBy, Compliance/),
    },
    {
      kind: "unknown",
      title: "tag values unknown, keys known",
      resource: res("aws:ebs/volume:Volume", "v", {
        availabilityZone: "a",
        tags: { Name: unknown.string() },
      }),
      expect: pass,
    },
  ]),
  ...cases("k8s-no-plaintext-secrets", [
    {
      kind: "pass",
      title: "non-secret settings and env var references",
      resource: configMap({
        "patroni.yml":
          "postgresql:\n  authentication:\n    superuser:\n      password: ${PATRONI_SUPERUSER_PASSWORD}\n",
        LOG_LEVEL: "info",
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a password key",
      resource: configMap({ DB_PASSWORD: CANARY_PASSWORD }),
      expect: violation(/data\['DB_PASSWORD'\] holds a secret in plain text: the key names a secret/),
    },
    {
      kind: "fail",
      title: "a password inside a rendered file",
      resource: configMap({
        "patroni.yml": `postgresql:\n  authentication:\n    superuser:\n      password: ${CANARY_PASSWORD}\n`,
      }),
      expect: violation(/line 4 \(password\)/),
    },
    {
      kind: "fail",
      title: "a connection URL with a password",
      resource: configMap({ DATABASE_URL: `postgresql://app:${CANARY_PASSWORD}@pgbouncer:5432/healthcare` }),
      expect: violation(/URL with an embedded password/),
    },
    {
      kind: "fail",
      title: "a literal token in a container env",
      resource: deployment({}, { container: { env: [{ name: "GITHUB_TOKEN", value: CANARY_TOKEN }] } }),
      expect: violation(/sets GITHUB_TOKEN as a literal value/),
    },
    {
      kind: "pass",
      title: "env from a Secret",
      resource: deployment(
        {},
        {
          container: {
            env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }],
          },
        },
      ),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a secret in binaryData",
      resource: res("kubernetes:core/v1:ConfigMap", "c", {
        binaryData: {
          id_rsa: Buffer.from("-----BEGIN RSA PRIVATE KEY-----\nMIIEcanary\n").toString("base64"),
        },
      }),
      expect: violation(/PEM private key/),
    },
    {
      kind: "unknown",
      title: "unknown ConfigMap values",
      resource: configMap({ DB_PASSWORD: unknown.string() }),
      expect: preview,
    },
  ]),
  ...cases("policy-coverage", [
    {
      kind: "pass",
      title: "examined and waived types only",
      stack: [
        res("aws:kms/key:Key", "k", {}),
        untyped("aws:kms/alias:Alias", "a"),
        untyped("pulumi:providers:aws", "p"),
        untyped("hcp:platform:KmsKey", "c"),
      ],
      expect: pass,
    },
    {
      kind: "fail",
      title: "a type neither examined nor waived",
      stack: [untyped("aws:rds/instance:Instance", "db")],
      expect: violation(/No rule examines aws:rds\/instance:Instance \(1 resource\)/),
    },
    {
      kind: "pass",
      title: "waived by config",
      stack: [untyped("aws:rds/instance:Instance", "db")],
      config: {
        "policy-coverage": {
          additionalWaivers: [
            { type: "aws:rds/instance:Instance", reason: "pilot database, reviewed in DPIA-1" },
          ],
        },
      },
      expect: pass,
    },
    {
      kind: "unknown",
      title: "coverage needs only types, never values",
      stack: [{ ...untyped("aws:rds/instance:Instance", "db"), props: { engine: unknown.string() } }],
      expect: violation(/aws:rds\/instance:Instance/),
    },
  ]),
];
