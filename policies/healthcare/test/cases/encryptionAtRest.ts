import type { ArgsOf } from "../../src/lib";
import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

type Sse = ArgsOf<"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration">;
const sse = (rule: NonNullable<Sse["rules"]>[number], extra: Partial<Sse> = {}) =>
  res(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "data-encryption",
    {
      bucket: "hcp-data",
      rules: [rule],
      ...extra,
    },
  );

const bucket = (props: ArgsOf<"aws:s3/bucket:Bucket"> = {}) =>
  res("aws:s3/bucket:Bucket", "data", { bucketPrefix: "hcp-production-sa-east-1-data-", ...props });

const bucketStack = (withConfig: boolean) => {
  const b = bucket();
  const config = res(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "data-encryption",
    {
      bucket: unknown.string(),
      rules: [
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: unknown.string() } },
      ],
    },
    { dependsOn: { bucket: [b] } },
  );
  return withConfig ? [b, config] : [b];
};

const volume = (props: Partial<ArgsOf<"aws:ebs/volume:Volume">> = {}) =>
  res("aws:ebs/volume:Volume", "pgdata", {
    availabilityZone: "sa-east-1a",
    size: 100,
    encrypted: true,
    kmsKeyId: KEY,
    ...props,
  });

type LtEbs = NonNullable<
  NonNullable<ArgsOf<"aws:ec2/launchTemplate:LaunchTemplate">["blockDeviceMappings"]>[number]["ebs"]
>;
const launchTemplate = (ebs: LtEbs | undefined, mappings = true) =>
  res("aws:ec2/launchTemplate:LaunchTemplate", "nodes", {
    blockDeviceMappings: mappings ? [{ deviceName: "/dev/xvda", ebs }] : [],
  });

const eks = (encryptionConfig: ArgsOf<"aws:eks/cluster:Cluster">["encryptionConfig"]) =>
  res("aws:eks/cluster:Cluster", "eks", {
    roleArn: "arn:aws:iam::111122223333:role/eks",
    vpcConfig: { subnetIds: ["subnet-1"] },
    encryptionConfig,
  });

const storageClass = (parameters: Record<string, string>, provisioner = "ebs.csi.aws.com") =>
  res("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", {
    provisioner,
    reclaimPolicy: "Retain",
    parameters,
  });

const kmsKey = (props: Partial<ArgsOf<"aws:kms/key:Key">> = {}) =>
  res("aws:kms/key:Key", "data-key", {
    description: "data",
    enableKeyRotation: true,
    rotationPeriodInDays: 365,
    deletionWindowInDays: 30,
    bypassPolicyLockoutSafetyCheck: false,
    ...props,
  });

export const encryptionAtRestCases: Case[] = [
  ...cases("s3-sse-kms-customer-key", [
    {
      kind: "pass",
      title: "SSE-KMS with a customer key ARN",
      resource: sse({ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "SSE-S3 (AES256)",
      resource: sse({ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }),
      expect: violation(/sseAlgorithm is 'AES256'/),
    },
    {
      kind: "pass",
      title: "SSE-S3 on an ALB access-log bucket (ELB log delivery supports nothing else)",
      resource: sse(
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        { bucket: "hcp-production-sa-east-1-alb-logs-20260101000000000001" },
      ),
      expect: pass,
    },
    {
      kind: "fail",
      title: "SSE-S3 on a bucket whose name only contains alb-logs",
      resource: sse(
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        { bucket: "hcp-production-sa-east-1-documents-alb-logs-x/" },
      ),
      expect: violation(/sseAlgorithm is 'AES256'/),
    },
    {
      kind: "unknown",
      title: "SSE-S3 on a bucket whose name is not known yet cannot be judged",
      resource: sse(
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        { bucket: unknown.string() },
      ),
      expect: preview,
    },
    {
      kind: "fail",
      title: "AWS-managed key alias",
      resource: sse({
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/aws/s3" },
      }),
      expect: violation(/AWS-managed key/),
    },
    {
      kind: "fail",
      title: "no key (falls back to aws/s3)",
      resource: sse({ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }),
      expect: violation(/kmsMasterKeyId is not set/),
    },
    {
      kind: "fail",
      title: "V2 resource with AES256",
      resource: res(
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "v2",
        { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      ),
      expect: violation(/AES256/),
    },
    {
      kind: "fail",
      title: "legacy inline argument with AES256",
      resource: bucket({
        serverSideEncryptionConfiguration: {
          rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        },
      }),
      expect: violation(/serverSideEncryptionConfiguration\.rule/),
    },
    {
      kind: "pass",
      title: "legacy inline argument with a customer key",
      resource: bucket({
        serverSideEncryptionConfiguration: {
          rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } },
        },
      }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "key ARN of a key created in the same preview is accepted",
      resource: sse({
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: unknown.string() },
      }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown algorithm cannot be judged",
      resource: sse({
        applyServerSideEncryptionByDefault: { sseAlgorithm: unknown.string(), kmsMasterKeyId: KEY },
      }),
      expect: preview,
    },
    {
      kind: "unknown",
      title: "the known AES256 rule is reported even when another rule is unknown",
      resource: sse(
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }, unknown.object()] },
      ),
      expect: violation(/AES256/, { count: 1 }),
    },
  ]),
  ...cases("s3-bucket-encryption-configured", [
    {
      kind: "pass",
      title: "bucket with an SSE configuration linked by property dependency",
      stack: bucketStack(true),
      expect: pass,
    },
    {
      kind: "fail",
      title: "bucket without SSE configuration",
      stack: bucketStack(false),
      expect: violation(/Bucket 'data' has no server-side encryption configuration/),
    },
    {
      kind: "pass",
      title: "SSE configuration linked by known bucket name",
      stack: [
        bucket({ bucket: "hcp-known" }),
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "enc", {
          bucket: "hcp-known",
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } }],
        }),
      ],
      expect: pass,
    },
    {
      kind: "fail",
      title: "deployed bucket holding only S3's implicit SSE-S3 default (what its state stores)",
      stack: [
        bucket({
          bucket: "hcp-exports",
          serverSideEncryptionConfiguration: {
            rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256", kmsMasterKeyId: "" } },
          },
        }),
      ],
      expect: violation(
        /Bucket 'data': serverSideEncryptionConfiguration\.rule\.applyServerSideEncryptionByDefault\.sseAlgorithm is 'AES256'/,
      ),
    },
    {
      kind: "pass",
      title: "deployed bucket whose stored setting is SSE-KMS with a customer key",
      stack: [
        bucket({
          bucket: "hcp-exports",
          serverSideEncryptionConfiguration: {
            rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } },
          },
        }),
      ],
      expect: pass,
    },
    {
      kind: "unknown",
      title: "SSE configuration whose bucket is unknown and not linked: cannot decide",
      stack: [
        bucket(),
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "enc", {
          bucket: unknown.string(),
          rules: [],
        }),
      ],
      expect: preview,
    },
  ]),
  ...cases("ebs-encryption-customer-key", [
    { kind: "pass", title: "encrypted volume with a customer key", resource: volume(), expect: pass },
    {
      kind: "fail",
      title: "unencrypted volume",
      resource: volume({ encrypted: false }),
      expect: violation(/encrypted is not true/),
    },
    {
      kind: "pass",
      title: "launch template with encrypted root volume",
      resource: launchTemplate({ encrypted: "true", kmsKeyId: KEY, volumeType: "gp3" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "launch template root volume not encrypted",
      resource: launchTemplate({ encrypted: "false", kmsKeyId: KEY }),
      expect: violation(/ebs\.encrypted is not "true"/),
    },
    {
      kind: "fail",
      title: "launch template without block device mappings",
      resource: launchTemplate(undefined, false),
      expect: violation(/left to the AMI/),
    },
    {
      kind: "fail",
      title: "node group without launch template",
      resource: res("aws:eks/nodeGroup:NodeGroup", "ng", {
        clusterName: "c",
        nodeRoleArn: "r",
        subnetIds: ["s"],
        scalingConfig: { desiredSize: 1, maxSize: 1, minSize: 1 },
      }),
      expect: violation(/launchTemplate is not set/),
    },
    {
      kind: "unknown",
      title: "launch template key from the same preview",
      resource: launchTemplate({ encrypted: "true", kmsKeyId: unknown.string() }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown encrypted flag",
      resource: volume({ encrypted: unknown.boolean() }),
      expect: preview,
    },
  ]),
  ...cases("eks-secrets-encryption", [
    {
      kind: "pass",
      title: "secrets encrypted with a customer key",
      resource: eks({ resources: ["secrets"], provider: { keyArn: KEY } }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "no encryptionConfig",
      resource: eks(undefined),
      expect: violation(/encryptionConfig is not set/),
    },
    {
      kind: "fail",
      title: "encryptionConfig without secrets",
      resource: eks({ resources: [], provider: { keyArn: KEY } }),
      expect: violation(/does not include 'secrets'/),
    },
    {
      kind: "unknown",
      title: "key ARN from the same preview",
      resource: eks({ resources: ["secrets"], provider: { keyArn: unknown.string() } }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown resources list",
      resource: eks({ resources: unknown.array(), provider: { keyArn: KEY } }),
      expect: preview,
    },
  ]),
  ...cases("cloudwatch-logs-customer-key", [
    {
      kind: "pass",
      title: "log group with a customer key",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "app", { retentionInDays: 400, kmsKeyId: KEY }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "log group without a key",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "app", { retentionInDays: 400 }),
      expect: violation(/kmsKeyId is not set/),
    },
    {
      kind: "unknown",
      title: "key from the same preview",
      resource: res("aws:cloudwatch/logGroup:LogGroup", "app", {
        retentionInDays: 400,
        kmsKeyId: unknown.string(),
      }),
      expect: pass,
    },
  ]),
  ...cases("messaging-customer-key", [
    {
      kind: "pass",
      title: "SNS topic with a customer key",
      resource: res("aws:sns/topic:Topic", "alerts", { kmsMasterKeyId: KEY }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "SNS topic with alias/aws/sns",
      resource: res("aws:sns/topic:Topic", "alerts", { kmsMasterKeyId: "alias/aws/sns" }),
      expect: violation(/AWS-managed key/),
    },
    {
      kind: "fail",
      title: "SQS queue with SQS-managed SSE only",
      resource: res("aws:sqs/queue:Queue", "jobs", { sqsManagedSseEnabled: true }),
      expect: violation(/kmsMasterKeyId is not set/),
    },
    {
      kind: "pass",
      title: "SQS queue with a customer key",
      resource: res("aws:sqs/queue:Queue", "jobs", { kmsMasterKeyId: KEY }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "queue key from the same preview",
      resource: res("aws:sqs/queue:Queue", "jobs", { kmsMasterKeyId: unknown.string() }),
      expect: pass,
    },
  ]),
  ...cases("ecr-customer-key", [
    {
      kind: "pass",
      title: "repository with KMS",
      resource: res("aws:ecr/repository:Repository", "app", {
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: KEY }],
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "repository with AES256",
      resource: res("aws:ecr/repository:Repository", "app", {
        encryptionConfigurations: [{ encryptionType: "AES256" }],
      }),
      expect: violation(/encryptionType is not KMS/),
    },
    {
      kind: "fail",
      title: "creation template without encryption",
      resource: res("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "tpl", {
        prefix: "app",
        appliedFors: ["REPLICATION"],
      }),
      expect: violation(/encryptionConfigurations is not set/),
    },
    {
      kind: "unknown",
      title: "replica key from the same preview",
      resource: res("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "tpl", {
        prefix: "app",
        appliedFors: ["REPLICATION"],
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: unknown.string() }],
      }),
      expect: pass,
    },
  ]),
  ...cases("k8s-storage-class-encrypted", [
    {
      kind: "pass",
      title: "encrypted gp3 with a key",
      resource: storageClass({ type: "gp3", encrypted: "true", kmsKeyId: KEY }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "not encrypted",
      resource: storageClass({ type: "gp3", encrypted: "false", kmsKeyId: KEY }),
      expect: violation(/parameters\.encrypted is not "true"/),
    },
    {
      kind: "fail",
      title: "encrypted without a key (aws/ebs)",
      resource: storageClass({ type: "gp3", encrypted: "true" }),
      expect: violation(/kmsKeyId is not set/),
    },
    {
      kind: "pass",
      title: "non-EBS provisioner is not applicable",
      resource: storageClass({}, "efs.csi.aws.com"),
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "key ARN from the same preview",
      resource: storageClass({ type: "gp3", encrypted: "true", kmsKeyId: unknown.string() }),
      expect: pass,
    },
  ]),
  ...cases("kms-key-rotation", [
    { kind: "pass", title: "rotation on", resource: kmsKey(), expect: pass },
    {
      kind: "fail",
      title: "rotation off",
      resource: kmsKey({ enableKeyRotation: false }),
      expect: violation(/enableKeyRotation is not true/),
    },
    {
      kind: "fail",
      title: "rotation period above the configured maximum",
      resource: kmsKey({ rotationPeriodInDays: 730 }),
      expect: violation(/rotationPeriodInDays is 730/),
    },
    {
      kind: "pass",
      title: "a longer maximum from config",
      resource: kmsKey({ rotationPeriodInDays: 730 }),
      config: { "kms-key-rotation": { maximumRotationPeriodDays: 730 } },
      expect: pass,
    },
    {
      kind: "pass",
      title: "asymmetric keys cannot rotate",
      resource: kmsKey({ customerMasterKeySpec: "RSA_2048", enableKeyRotation: false }),
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "unknown rotation flag",
      resource: kmsKey({ enableKeyRotation: unknown.boolean() }),
      expect: preview,
    },
  ]),
  ...cases("kms-key-deletion-window", [
    { kind: "pass", title: "30 days", resource: kmsKey(), expect: pass },
    {
      kind: "fail",
      title: "7 days",
      resource: kmsKey({ deletionWindowInDays: 7 }),
      expect: violation(/deletionWindowInDays is 7/),
    },
    {
      kind: "fail",
      title: "replica key with 10 days",
      resource: res("aws:kms/replicaKey:ReplicaKey", "replica", {
        primaryKeyArn: KEY,
        deletionWindowInDays: 10,
      }),
      expect: violation(/deletionWindowInDays is 10/),
    },
    {
      kind: "pass",
      title: "unset means the AWS default of 30",
      resource: kmsKey({ deletionWindowInDays: undefined }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown window",
      resource: kmsKey({ deletionWindowInDays: unknown.number() }),
      expect: preview,
    },
  ]),
  ...cases("kms-key-lockout-safety-check", [
    { kind: "pass", title: "check kept", resource: kmsKey(), expect: pass },
    {
      kind: "fail",
      title: "check bypassed",
      resource: kmsKey({ bypassPolicyLockoutSafetyCheck: true }),
      expect: violation(/bypassPolicyLockoutSafetyCheck is true/),
    },
    {
      kind: "fail",
      title: "replica key bypassing the check",
      resource: res("aws:kms/replicaKey:ReplicaKey", "replica", {
        primaryKeyArn: KEY,
        bypassPolicyLockoutSafetyCheck: true,
      }),
      expect: violation(/bypass/),
    },
    {
      kind: "unknown",
      title: "unknown flag",
      resource: kmsKey({ bypassPolicyLockoutSafetyCheck: unknown.boolean() }),
      expect: preview,
    },
  ]),
];
