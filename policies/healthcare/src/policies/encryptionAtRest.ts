import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { BUCKET_TYPES, settingsByBucket } from "../buckets";
import { type Rule, resourceRule, stackRule } from "../policy";
import { nonEmpty } from "../read";
import type { ArgsOf } from "../types";
import { known, UNKNOWN } from "../unknowns";

/**
 * Encryption at rest with customer-managed KMS keys (HIPAA §164.312(a)(2)(iv), LGPD Art. 46):
 * patient data is only ever written under keys whose policy, rotation and deletion this platform
 * controls, never under AWS-managed keys (`alias/aws/...`), whose use cannot be restricted.
 */

const AWS_MANAGED_KEY = /(^|[:/])alias\/aws\//;

/**
 * Checks that a key reference names a customer-managed key. An unknown reference is accepted: during
 * a preview it can only be the ARN/id of a key (or alias) created in the same deployment, which is
 * customer-managed by construction; an AWS-managed key is always a known literal or lookup result.
 */
export function requireCustomerKey(read: () => unknown, what: string, report: (m: string) => void): void {
  const key = known(read);
  if (key === UNKNOWN) {
    return;
  }
  if (!nonEmpty(key)) {
    report(`${what} is not set, so AWS falls back to an AWS-managed key.`);
  } else if (AWS_MANAGED_KEY.test(key as string)) {
    report(`${what} names an AWS-managed key alias (alias/aws/...); use a customer-managed key.`);
  }
}

interface SseConfig {
  readonly allowedAlgorithms: string[];
}

/** Buckets a service can only write to with SSE-S3, recognised by name, each with the reason. */
interface SseS3Exemption {
  /** Regular expression the bucket name must match. */
  readonly bucketPattern: string;
  readonly reason: string;
}

interface SseResourceConfig extends SseConfig {
  readonly sseS3Buckets: SseS3Exemption[];
}

/**
 * ALB access logs: "The only server-side encryption option that's supported is Amazon S3-managed keys
 * (SSE-S3)" (Elastic Load Balancing, "Enable access logs for your Application Load Balancer"). The
 * workloads layer names its log bucket `<prefix>-alb-logs-<suffix>`; the bucket holds request
 * metadata, not PHI, and is TLS-only with public access blocked.
 */
const ALB_ACCESS_LOGS: SseS3Exemption = {
  bucketPattern: "^hcp-[a-z0-9-]+-alb-logs-[a-z0-9]+$",
  reason:
    "ALB access-log delivery supports only SSE-S3 (Elastic Load Balancing user guide); request metadata, no PHI.",
};

const sseS3Buckets: PolicyConfigJSONSchema = {
  type: "array",
  items: {
    type: "object",
    properties: { bucketPattern: { type: "string" }, reason: { type: "string", minLength: 10 } },
    required: ["bucketPattern", "reason"],
  },
  description:
    "Buckets whose writer supports only SSE-S3 (AES256), by name pattern, each with the reason (default: the ALB access-log buckets).",
};

/** True for an SSE-S3 rule of a bucket an exemption names (read rule by rule: a later rule may be unknown). */
function sseS3Exempt(
  bucket: () => string | undefined,
  rule: SseRule | undefined,
  cfg: SseResourceConfig,
): boolean {
  if (rule?.applyServerSideEncryptionByDefault?.sseAlgorithm !== "AES256") {
    return false;
  }
  const name = bucket();
  return name !== undefined && cfg.sseS3Buckets.some((e) => new RegExp(e.bucketPattern).test(name));
}

const sseAlgorithms: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string", enum: ["aws:kms", "aws:kms:dsse"] },
  minItems: 1,
  description: "SSE algorithms that use a KMS key (SSE-S3 `AES256` never does).",
};

type SseRule = NonNullable<
  ArgsOf<"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration">["rules"]
>[number];

function checkSseRule(rule: SseRule | undefined, where: string, cfg: SseConfig, report: (m: string) => void) {
  const byDefault = rule?.applyServerSideEncryptionByDefault;
  if (!byDefault) {
    report(`${where}.applyServerSideEncryptionByDefault is missing.`);
    return;
  }
  const algorithm = byDefault.sseAlgorithm;
  if (!cfg.allowedAlgorithms.includes(algorithm)) {
    report(
      `${where}.applyServerSideEncryptionByDefault.sseAlgorithm is '${algorithm}'; use ${cfg.allowedAlgorithms.join(" or ")}.`,
    );
    return;
  }
  requireCustomerKey(
    () => byDefault.kmsMasterKeyId,
    `${where}.applyServerSideEncryptionByDefault.kmsMasterKeyId`,
    report,
  );
}

/** S3 server-side encryption settings use SSE-KMS with a customer-managed key. */
export const s3SseKmsCustomerKey = resourceRule<SseResourceConfig>({
  name: "s3-sse-kms-customer-key",
  concern: "encryption-at-rest",
  description:
    "S3 default encryption must be SSE-KMS with a customer-managed key: set every rule's applyServerSideEncryptionByDefault to { sseAlgorithm: 'aws:kms', kmsMasterKeyId: <your KMS key ARN> } (SecureBucket from @hcp/platform does).",
  remediationSteps:
    "Create the bucket with SecureBucket, or give its BucketServerSideEncryptionConfiguration a rule with sseAlgorithm 'aws:kms' and the ARN of an aws.kms.Key of the stack.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"],
  },
  evidence: {
    properties: {
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ["rules"],
      "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": ["rules"],
      "aws:s3/bucket:Bucket": ["serverSideEncryptionConfiguration"],
      "aws:s3/bucketV2:BucketV2": ["serverSideEncryptionConfigurations"],
    },
  },
  config: {
    defaults: { allowedAlgorithms: ["aws:kms", "aws:kms:dsse"], sseS3Buckets: [ALB_ACCESS_LOGS] },
    schema: { allowedAlgorithms: sseAlgorithms, sseS3Buckets },
  },
  checks: {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
      props,
      { config, report },
    ) => {
      if ((props.rules ?? []).length === 0) {
        report("rules is empty.");
      }
      (props.rules ?? []).forEach((rule, i) => {
        if (!sseS3Exempt(() => props.bucket, rule, config)) {
          checkSseRule(rule, `rules[${i}]`, config, report);
        }
      });
    },
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
      props,
      { config, report },
    ) => {
      if ((props.rules ?? []).length === 0) {
        report("rules is empty.");
      }
      (props.rules ?? []).forEach((rule, i) => checkSseRule(rule, `rules[${i}]`, config, report));
    },
    // The legacy inline argument, where a program still uses it.
    "aws:s3/bucket:Bucket": (props, { config, report }) => {
      const inline = props.serverSideEncryptionConfiguration;
      if (inline) {
        checkSseRule(inline.rule, "serverSideEncryptionConfiguration.rule", config, report);
      }
    },
    "aws:s3/bucketV2:BucketV2": (props, { config, report }) => {
      (props.serverSideEncryptionConfigurations ?? []).forEach((c, i) =>
        (c.rules ?? []).forEach((rule, j) =>
          checkSseRule(rule, `serverSideEncryptionConfigurations[${i}].rules[${j}]`, config, report),
        ),
      );
    },
  },
});

/**
 * Every bucket has default encryption with a customer-managed key (stack: settings live in separate
 * resources). A bucket without a separate configuration is judged by its own setting: the legacy
 * inline argument, or what a deployed bucket stores, where S3's implicit default (SSE-S3, `AES256`)
 * shows up and must not pass for "configured".
 */
export const s3BucketEncryptionConfigured = stackRule<SseConfig>({
  name: "s3-bucket-encryption-configured",
  concern: "encryption-at-rest",
  description:
    "Every S3 bucket must have a server-side encryption configuration with SSE-KMS and a customer-managed key (an aws.s3.BucketServerSideEncryptionConfiguration whose bucket is this bucket). Without one, S3 encrypts with SSE-S3, not with your KMS key.",
  remediationSteps:
    "Use SecureBucket from @hcp/platform, or add an aws.s3.BucketServerSideEncryptionConfiguration with { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId } }] }.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html"],
  },
  evidence: {
    properties: {
      "aws:s3/bucket:Bucket": ["serverSideEncryptionConfiguration"],
      "aws:s3/bucketV2:BucketV2": ["serverSideEncryptionConfigurations"],
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        "bucket",
        "rules",
      ],
      "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": [
        "bucket",
        "rules",
      ],
    },
  },
  config: {
    defaults: { allowedAlgorithms: ["aws:kms", "aws:kms:dsse"] },
    schema: { allowedAlgorithms: sseAlgorithms },
  },
  examines: [
    ...BUCKET_TYPES,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  validate: (ctx) => {
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const configs = settingsByBucket(
      ctx,
      buckets,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    );
    for (const bucket of buckets) {
      ctx.each(() => {
        if (configs.of(bucket).length > 0) {
          return;
        }
        // With a configuration whose bucket is unknown, this bucket may be the one it configures.
        if (configs.unresolved) {
          return;
        }
        const props = bucket.props as ArgsOf<"aws:s3/bucket:Bucket"> & ArgsOf<"aws:s3/bucketV2:BucketV2">;
        const name = bucket.resource.name;
        const report = (m: string) => ctx.report(`Bucket '${name}': ${m}`, bucket.resource.urn);
        const inline = props.serverSideEncryptionConfiguration;
        const inlineList = props.serverSideEncryptionConfigurations ?? [];
        if (inline !== undefined) {
          checkSseRule(inline.rule, "serverSideEncryptionConfiguration.rule", ctx.config, report);
        } else if (inlineList.length > 0) {
          inlineList.forEach((c, i) =>
            (c.rules ?? []).forEach((rule, j) =>
              checkSseRule(rule, `serverSideEncryptionConfigurations[${i}].rules[${j}]`, ctx.config, report),
            ),
          );
        } else {
          ctx.report(`Bucket '${name}' has no server-side encryption configuration.`, bucket.resource.urn);
        }
      });
    }
  },
});

/** EBS volumes, launch templates and instances encrypt their volumes with a customer-managed key. */
export const ebsEncryptionCustomerKey = resourceRule({
  name: "ebs-encryption-customer-key",
  concern: "encryption-at-rest",
  description:
    'EBS volumes (stand-alone, in launch templates and on instances) must be encrypted with a customer-managed KMS key: set encrypted true ("true" in launch templates) and kmsKeyId, and declare the root volume in the launch template so it is not left to the AMI.',
  remediationSteps:
    "Give every blockDeviceMappings[].ebs of the launch template { encrypted: 'true', kmsKeyId: key.arn, volumeType: 'gp3' }; for aws.ebs.Volume set encrypted: true and kmsKeyId.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: [
      "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
      "https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html",
    ],
  },
  evidence: {
    properties: {
      "aws:ebs/volume:Volume": ["encrypted", "kmsKeyId"],
      "aws:ec2/launchTemplate:LaunchTemplate": ["blockDeviceMappings"],
      "aws:ec2/instance:Instance": ["rootBlockDevice", "ebsBlockDevices"],
      "aws:eks/nodeGroup:NodeGroup": ["launchTemplate"],
    },
  },
  checks: {
    "aws:ebs/volume:Volume": (props, { report }) => {
      if (props.encrypted !== true) {
        report("encrypted is not true.");
      }
      requireCustomerKey(() => props.kmsKeyId, "kmsKeyId", report);
    },
    "aws:ec2/launchTemplate:LaunchTemplate": (props, { report }) => {
      const mappings = props.blockDeviceMappings ?? [];
      if (mappings.length === 0) {
        report("blockDeviceMappings is empty: the root volume's encryption is left to the AMI.");
      }
      mappings.forEach((m, i) => {
        if (m.noDevice !== undefined && m.noDevice !== "") {
          return;
        }
        if (m.virtualName) {
          return;
        }
        if (!m.ebs) {
          report(`blockDeviceMappings[${i}].ebs is missing.`);
          return;
        }
        const ebs = m.ebs;
        if (String(ebs.encrypted) !== "true") {
          report(`blockDeviceMappings[${i}].ebs.encrypted is not "true".`);
        }
        requireCustomerKey(() => ebs.kmsKeyId, `blockDeviceMappings[${i}].ebs.kmsKeyId`, report);
      });
    },
    "aws:ec2/instance:Instance": (props, { report }) => {
      const root = props.rootBlockDevice;
      if (!root || root.encrypted !== true) {
        report("rootBlockDevice.encrypted is not true.");
      } else {
        requireCustomerKey(() => root.kmsKeyId, "rootBlockDevice.kmsKeyId", report);
      }
      (props.ebsBlockDevices ?? []).forEach((d, i) => {
        if (d.encrypted !== true) {
          report(`ebsBlockDevices[${i}].encrypted is not true.`);
        } else {
          requireCustomerKey(() => d.kmsKeyId, `ebsBlockDevices[${i}].kmsKeyId`, report);
        }
      });
    },
    // Without a launch template, EKS uses its own default one whose volumes are not CMK-encrypted.
    "aws:eks/nodeGroup:NodeGroup": (props, { report }) => {
      if (!props.launchTemplate) {
        report(
          "launchTemplate is not set: node volumes would use EKS's default launch template without your KMS key.",
        );
      }
    },
  },
});

/** EKS encrypts Kubernetes Secrets with a customer-managed key (envelope encryption). */
export const eksSecretsEncryption = resourceRule({
  name: "eks-secrets-encryption",
  concern: "encryption-at-rest",
  description:
    "EKS clusters must envelope-encrypt Kubernetes Secrets with a customer-managed KMS key: set encryptionConfig { resources: ['secrets'], provider: { keyArn } }.",
  remediationSteps:
    "Add encryptionConfig: { resources: ['secrets'], provider: { keyArn: key.arn } } to the aws.eks.Cluster.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: ["https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html"],
  },
  evidence: { properties: { "aws:eks/cluster:Cluster": ["encryptionConfig"] } },
  checks: {
    "aws:eks/cluster:Cluster": (props, { report }) => {
      const enc = props.encryptionConfig;
      if (!enc) {
        report("encryptionConfig is not set.");
        return;
      }
      if (!(enc.resources ?? []).includes("secrets")) {
        report("encryptionConfig.resources does not include 'secrets'.");
      }
      requireCustomerKey(() => enc.provider?.keyArn, "encryptionConfig.provider.keyArn", report);
    },
  },
});

/** CloudWatch log groups are encrypted with a customer-managed key. */
export const cloudwatchLogsCustomerKey = resourceRule({
  name: "cloudwatch-logs-customer-key",
  concern: "encryption-at-rest",
  description:
    "CloudWatch log groups must be encrypted with a customer-managed KMS key (logs can carry PHI): set kmsKeyId to a key whose policy lets logs.<region>.amazonaws.com use it.",
  remediationSteps:
    "Create a KmsKey with a CloudWatch Logs service statement and set the log group's kmsKeyId to its ARN.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: ["https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"],
  },
  evidence: { properties: { "aws:cloudwatch/logGroup:LogGroup": ["name", "kmsKeyId"] } },
  checks: {
    "aws:cloudwatch/logGroup:LogGroup": (props, { report }) => {
      requireCustomerKey(() => props.kmsKeyId, "kmsKeyId", report);
    },
  },
});

/** SNS topics and SQS queues use a customer-managed key. */
export const messagingCustomerKey = resourceRule({
  name: "messaging-customer-key",
  concern: "encryption-at-rest",
  description:
    "SNS topics and SQS queues must be encrypted with a customer-managed KMS key: set kmsMasterKeyId (SQS-managed SSE and alias/aws/sns|sqs are AWS-managed).",
  remediationSteps: "Set kmsMasterKeyId to the ARN of a KMS key of the stack.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: [
      "https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html",
      "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html",
    ],
  },
  evidence: {
    properties: {
      "aws:sns/topic:Topic": ["kmsMasterKeyId"],
      "aws:sqs/queue:Queue": ["kmsMasterKeyId", "sqsManagedSseEnabled"],
    },
  },
  checks: {
    "aws:sns/topic:Topic": (props, { report }) => {
      requireCustomerKey(() => props.kmsMasterKeyId, "kmsMasterKeyId", report);
    },
    "aws:sqs/queue:Queue": (props, { report }) => {
      requireCustomerKey(() => props.kmsMasterKeyId, "kmsMasterKeyId", report);
    },
  },
});

/** Secrets Manager secrets (database credentials) use a customer-managed key. */
export const secretsManagerCustomerKey = resourceRule({
  name: "secrets-manager-customer-key",
  concern: "encryption-at-rest",
  description:
    "Secrets Manager secrets must be encrypted with a customer-managed KMS key (kmsKeyId), not the default aws/secretsmanager key, so access to credentials is governed by the key policy.",
  remediationSteps: "Set kmsKeyId to the ARN of a KMS key of the stack (e.g. the data tier's key).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(d)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"],
  },
  evidence: { properties: { "aws:secretsmanager/secret:Secret": ["kmsKeyId"] } },
  checks: {
    "aws:secretsmanager/secret:Secret": (props, { report }) => {
      requireCustomerKey(() => props.kmsKeyId, "kmsKeyId", report);
    },
  },
});

type EcrEncryption = NonNullable<ArgsOf<"aws:ecr/repository:Repository">["encryptionConfigurations"]>;

function checkEcr(configs: EcrEncryption | undefined, report: (m: string) => void) {
  const list = configs ?? [];
  if (list.length === 0) {
    report("encryptionConfigurations is not set (ECR defaults to AES256).");
  }
  list.forEach((c, i) => {
    if (c.encryptionType !== "KMS" && c.encryptionType !== "KMS_DSSE") {
      report(`encryptionConfigurations[${i}].encryptionType is not KMS.`);
      return;
    }
    requireCustomerKey(() => c.kmsKey, `encryptionConfigurations[${i}].kmsKey`, report);
  });
}

/** ECR repositories (and replication templates) use a customer-managed key. */
export const ecrCustomerKey = resourceRule({
  name: "ecr-customer-key",
  concern: "encryption-at-rest",
  description:
    "ECR repositories and repository creation templates must encrypt images with a customer-managed KMS key: encryptionConfigurations [{ encryptionType: 'KMS', kmsKey }].",
  remediationSteps:
    "Set encryptionConfigurations: [{ encryptionType: 'KMS', kmsKey: key.arn }] (a replica key in replica regions).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(B)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html"],
  },
  evidence: {
    properties: {
      "aws:ecr/repository:Repository": ["encryptionConfigurations"],
      "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": ["encryptionConfigurations"],
    },
  },
  checks: {
    "aws:ecr/repository:Repository": (props, { report }) => checkEcr(props.encryptionConfigurations, report),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": (props, { report }) =>
      checkEcr(props.encryptionConfigurations, report),
  },
});

interface StorageClassConfig {
  readonly ebsProvisioners: string[];
}

/** Provisioners that create EBS volumes (the CSI driver and the in-tree plugin it replaced). */
export const EBS_PROVISIONERS: readonly string[] = ["ebs.csi.aws.com", "kubernetes.io/aws-ebs"];

/** EBS CSI storage classes create encrypted volumes under a customer-managed key. */
export const k8sStorageClassEncrypted = resourceRule<StorageClassConfig>({
  name: "k8s-storage-class-encrypted",
  concern: "encryption-at-rest",
  description:
    'Kubernetes StorageClasses of the EBS CSI driver must set parameters encrypted: "true" and kmsKeyId (a customer-managed key), so every PersistentVolume (database data) is encrypted with it.',
  remediationSteps:
    "Set parameters: { type: 'gp3', encrypted: 'true', kmsKeyId: key.arn } on the StorageClass.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: ["https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/parameters.md"],
  },
  evidence: {
    properties: {
      "kubernetes:storage.k8s.io/v1:StorageClass": [
        "provisioner",
        "parameters.encrypted",
        "parameters.kmsKeyId",
      ],
    },
  },
  config: {
    defaults: { ebsProvisioners: [...EBS_PROVISIONERS] },
    schema: {
      ebsProvisioners: {
        type: "array",
        items: { type: "string" },
        description: "Provisioners that create EBS volumes.",
      },
    },
  },
  checks: {
    "kubernetes:storage.k8s.io/v1:StorageClass": (props, { config, report, args }) => {
      if (!config.ebsProvisioners.includes(props.provisioner)) {
        args.notApplicable("not an EBS storage class");
      }
      const params = props.parameters ?? {};
      if (params["encrypted"] !== "true") {
        report('parameters.encrypted is not "true".');
      }
      requireCustomerKey(() => params["kmsKeyId"], "parameters.kmsKeyId", report);
    },
  },
});

interface RotationConfig {
  readonly maximumRotationPeriodDays: number;
}

/** KMS keys rotate. */
export const kmsKeyRotation = resourceRule<RotationConfig>({
  name: "kms-key-rotation",
  concern: "encryption-at-rest",
  description:
    "Symmetric KMS keys must have automatic rotation enabled (enableKeyRotation: true) with a rotation period no longer than the configured maximum.",
  remediationSteps:
    "Set enableKeyRotation: true and rotationPeriodInDays (90-365) on the aws.kms.Key, or use KmsKey from @hcp/platform.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"],
  },
  evidence: {
    properties: {
      "aws:kms/key:Key": ["customerMasterKeySpec", "enableKeyRotation", "rotationPeriodInDays"],
    },
  },
  config: {
    defaults: { maximumRotationPeriodDays: 365 },
    schema: { maximumRotationPeriodDays: { type: "integer", minimum: 90, maximum: 2560 } },
  },
  checks: {
    "aws:kms/key:Key": (props, { config, report, args }) => {
      const spec = props.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
      if (spec !== "SYMMETRIC_DEFAULT") {
        args.notApplicable("asymmetric and HMAC keys cannot rotate automatically");
      }
      if (props.enableKeyRotation !== true) {
        report("enableKeyRotation is not true.");
        return;
      }
      const period = props.rotationPeriodInDays ?? 365;
      if (period > config.maximumRotationPeriodDays) {
        report(`rotationPeriodInDays is ${period}; at most ${config.maximumRotationPeriodDays} is allowed.`);
      }
    },
  },
});

interface DeletionWindowConfig {
  readonly minimumDeletionWindowDays: number;
}

/** KMS keys wait long enough before deletion to notice a mistake. */
export const kmsKeyDeletionWindow = resourceRule<DeletionWindowConfig>({
  name: "kms-key-deletion-window",
  concern: "encryption-at-rest",
  description:
    "KMS keys (and replica keys) must keep a deletion window of at least the configured days (default 30, the maximum): deleting a key destroys every object encrypted under it.",
  remediationSteps: "Set deletionWindowInDays: 30 (or leave it unset: AWS defaults to 30).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"],
  },
  evidence: {
    properties: {
      "aws:kms/key:Key": ["deletionWindowInDays"],
      "aws:kms/replicaKey:ReplicaKey": ["deletionWindowInDays"],
    },
  },
  config: {
    defaults: { minimumDeletionWindowDays: 30 },
    schema: { minimumDeletionWindowDays: { type: "integer", minimum: 7, maximum: 30 } },
  },
  checks: {
    "aws:kms/key:Key": (props, { config, report }) => {
      const days = props.deletionWindowInDays ?? 30;
      if (days < config.minimumDeletionWindowDays) {
        report(`deletionWindowInDays is ${days}; at least ${config.minimumDeletionWindowDays} is required.`);
      }
    },
    "aws:kms/replicaKey:ReplicaKey": (props, { config, report }) => {
      const days = props.deletionWindowInDays ?? 30;
      if (days < config.minimumDeletionWindowDays) {
        report(`deletionWindowInDays is ${days}; at least ${config.minimumDeletionWindowDays} is required.`);
      }
    },
  },
});

/** KMS key policies are never applied with the lockout safety check bypassed. */
export const kmsKeyLockoutSafetyCheck = resourceRule({
  name: "kms-key-lockout-safety-check",
  concern: "encryption-at-rest",
  description:
    "KMS keys must not set bypassPolicyLockoutSafetyCheck: true; the check stops a key policy that would leave the key unmanageable (and the data under it unrecoverable).",
  remediationSteps:
    "Remove bypassPolicyLockoutSafetyCheck or set it to false; keep the account-root administration statement in the key policy.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)", "164.312(c)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html"],
  },
  evidence: {
    properties: {
      "aws:kms/key:Key": ["bypassPolicyLockoutSafetyCheck"],
      "aws:kms/replicaKey:ReplicaKey": ["bypassPolicyLockoutSafetyCheck"],
    },
  },
  checks: {
    "aws:kms/key:Key": (props, { report }) => {
      if (props.bypassPolicyLockoutSafetyCheck === true) {
        report("bypassPolicyLockoutSafetyCheck is true.");
      }
    },
    "aws:kms/replicaKey:ReplicaKey": (props, { report }) => {
      if (props.bypassPolicyLockoutSafetyCheck === true) {
        report("bypassPolicyLockoutSafetyCheck is true.");
      }
    },
  },
});

/** The rules of this concern. */
export const encryptionAtRestRules: readonly Rule[] = [
  s3SseKmsCustomerKey,
  s3BucketEncryptionConfigured,
  ebsEncryptionCustomerKey,
  eksSecretsEncryption,
  cloudwatchLogsCustomerKey,
  messagingCustomerKey,
  secretsManagerCustomerKey,
  ecrCustomerKey,
  k8sStorageClassEncrypted,
  kmsKeyRotation,
  kmsKeyDeletionWindow,
  kmsKeyLockoutSafetyCheck,
];
