import type { ArgsOf } from "../../src/lib";
import { type Case, cases, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";

const logGroup = (props: ArgsOf<"aws:cloudwatch/logGroup:LogGroup">) =>
  res("aws:cloudwatch/logGroup:LogGroup", "logs", { kmsKeyId: "arn:aws:kms:sa-east-1:1:key/k", ...props });

type Lifecycle = ArgsOf<"aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration">;
type LifecycleRule = NonNullable<Lifecycle["rules"]>[number];

const auditBucket = (props: ArgsOf<"aws:s3/bucket:Bucket"> = {}) =>
  res("aws:s3/bucket:Bucket", "audit-logs", {
    bucketPrefix: "hcp-production-global-audit-",
    objectLockEnabled: true,
    ...props,
  });

const lifecycleStack = (rule: LifecycleRule, bucketProps: ArgsOf<"aws:s3/bucket:Bucket"> = {}) => {
  const bucket = auditBucket(bucketProps);
  return [
    bucket,
    res(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "audit-logs-lifecycle",
      { bucket: unknown.string(), rules: [rule] },
      { dependsOn: { bucket: [bucket] } },
    ),
  ];
};

const EXPIRE_AFTER_RETENTION: LifecycleRule = {
  id: "expire",
  status: "Enabled",
  filter: {},
  expiration: { days: 2587 },
  noncurrentVersionExpiration: { noncurrentDays: 2557 },
};

type LockRetention = NonNullable<
  NonNullable<
    ArgsOf<"aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration">["rule"]
  >["defaultRetention"]
>;

const lockedStack = (
  retention: LockRetention,
  versioning: "Enabled" | "Suspended" = "Enabled",
  bucketProps: ArgsOf<"aws:s3/bucket:Bucket"> = {},
) => {
  const bucket = auditBucket(bucketProps);
  const link = { dependsOn: { bucket: [bucket] } };
  return [
    bucket,
    res(
      "aws:s3/bucketVersioning:BucketVersioning",
      "audit-logs-versioning",
      { bucket: unknown.string(), versioningConfiguration: { status: versioning } },
      link,
    ),
    res(
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "audit-logs-lock",
      { bucket: unknown.string(), objectLockEnabled: "Enabled", rule: { defaultRetention: retention } },
      link,
    ),
  ];
};

const pgbackrest = (full: number, diff: number) =>
  res("kubernetes:core/v1:ConfigMap", "pgbackrest", {
    metadata: { name: "pgbackrest", namespace: "data" },
    data: {
      "pgbackrest.conf": `[global]\nrepo1-type=s3\nrepo1-retention-full=${full}\nrepo1-retention-diff=${diff}\nrepo2-type=s3\nrepo2-retention-full=${full}\n`,
    },
  });

const trail = (props: Partial<ArgsOf<"aws:cloudtrail/trail:Trail">>) =>
  res("aws:cloudtrail/trail:Trail", "audit", {
    s3BucketName: "hcp-audit",
    isMultiRegionTrail: true,
    enableLogFileValidation: true,
    enableLogging: true,
    kmsKeyId: "arn:aws:kms:sa-east-1:1:key/k",
    ...props,
  });

export const retentionCases: Case[] = [
  ...cases("cloudtrail-audit-trail", [
    { kind: "pass", title: "multi-region, validated, encrypted", resource: trail({}), expect: pass },
    {
      kind: "fail",
      title: "single-region trail",
      resource: trail({ isMultiRegionTrail: false }),
      expect: violation(/isMultiRegionTrail is not true/),
    },
    {
      kind: "fail",
      title: "no log-file validation",
      resource: trail({ enableLogFileValidation: undefined }),
      expect: violation(/enableLogFileValidation/),
    },
    {
      kind: "fail",
      title: "not encrypted with a customer key",
      resource: trail({ kmsKeyId: undefined }),
      expect: violation(/kmsKeyId is not set/),
    },
    {
      kind: "unknown",
      title: "key from the same preview",
      resource: trail({ kmsKeyId: unknown.string() }),
      expect: pass,
    },
  ]),
  ...cases("cloudwatch-log-retention", [
    {
      kind: "pass",
      title: "EKS control-plane logs kept 2557 days",
      resource: logGroup({ name: "/aws/eks/hcp-production-sa-east-1/cluster", retentionInDays: 2557 }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "2555 is not a value CloudWatch accepts",
      resource: logGroup({ name: "/aws/eks/hcp-production-sa-east-1/cluster", retentionInDays: 2555 }),
      expect: violation(/retentionInDays 2555 is not a value CloudWatch accepts/),
    },
    {
      kind: "fail",
      title: "audit logs (by name) kept one year",
      resource: logGroup({ name: "/aws/eks/hcp-production-sa-east-1/cluster", retentionInDays: 365 }),
      expect: violation(/below the 2557-day minimum of audit logs \(class from name pattern/),
    },
    {
      kind: "fail",
      title: "security logs (by tag) kept one year",
      resource: logGroup({ name: "/hcp/x", retentionInDays: 365, tags: { LogClass: "security" } }),
      expect: violation(/security logs \(class from tag LogClass\)/),
    },
    {
      kind: "pass",
      title: "application logs at the configured minimum",
      resource: logGroup({ name: "/hcp/app", retentionInDays: 400 }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "application logs below the staging minimum from config",
      resource: logGroup({ name: "/hcp/app", retentionInDays: 60 }),
      config: { "cloudwatch-log-retention": { applicationMinimumDays: 90 } },
      expect: violation(/60 is below the 90-day minimum/),
    },
    {
      kind: "fail",
      title: "never expires, not allowed by default",
      resource: logGroup({ name: "/hcp/app" }),
      expect: violation(/never expires/),
    },
    {
      kind: "pass",
      title: "never expires, allowed by config",
      resource: logGroup({ name: "/hcp/app", retentionInDays: 0 }),
      config: { "cloudwatch-log-retention": { allowNeverExpire: true } },
      expect: pass,
    },
    {
      kind: "fail",
      title: "invalid LogClass tag",
      resource: logGroup({ name: "/hcp/app", retentionInDays: 400, tags: { LogClass: "forever" } }),
      expect: violation(/tag LogClass must be one of/),
    },
    {
      kind: "unknown",
      title: "unknown name and no tag: class cannot be decided",
      resource: logGroup({ name: unknown.string(), retentionInDays: 400 }),
      expect: preview,
    },
    {
      kind: "unknown",
      title: "unknown name, class from the tag",
      resource: logGroup({ name: unknown.string(), retentionInDays: 2557, tags: { LogClass: "audit" } }),
      expect: pass,
    },
  ]),
  ...cases("s3-retention-lifecycle", [
    {
      kind: "pass",
      title: "audit bucket expiring after the retention",
      stack: lifecycleStack(EXPIRE_AFTER_RETENTION),
      expect: pass,
    },
    {
      kind: "fail",
      title: "audit bucket expiring after 365 days",
      stack: lifecycleStack({ ...EXPIRE_AFTER_RETENTION, expiration: { days: 365 } }),
      expect: violation(/expiration.days 365 is below the 2557-day minimum/),
    },
    {
      kind: "fail",
      title: "noncurrent versions expiring after 30 days",
      stack: lifecycleStack({
        ...EXPIRE_AFTER_RETENTION,
        noncurrentVersionExpiration: { noncurrentDays: 30 },
      }),
      expect: violation(/noncurrentVersionExpiration 30 days/),
    },
    {
      kind: "pass",
      title: "an unclassified bucket may expire early",
      stack: lifecycleStack(
        { ...EXPIRE_AFTER_RETENTION, expiration: { days: 30 } },
        { bucketPrefix: "hcp-production-sa-east-1-backup-" },
      ),
      expect: pass,
    },
    {
      kind: "fail",
      title: "clinical-record class by tag: 20 years",
      stack: lifecycleStack(EXPIRE_AFTER_RETENTION, {
        bucketPrefix: "hcp-x-",
        tags: { RetentionClass: "clinical-record" },
      }),
      expect: violation(/clinical-record bucket .* below the 7305-day minimum/),
    },
    {
      kind: "unknown",
      title: "unknown expiration days",
      stack: lifecycleStack({ ...EXPIRE_AFTER_RETENTION, expiration: { days: unknown.number() } }),
      expect: preview,
    },
  ]),
  ...cases("s3-retention-object-lock", [
    {
      kind: "pass",
      title: "versioned, locked in COMPLIANCE for 2557 days",
      stack: lockedStack({ mode: "COMPLIANCE", days: 2557 }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "GOVERNANCE mode",
      stack: lockedStack({ mode: "GOVERNANCE", days: 2557 }),
      expect: violation(/mode is GOVERNANCE/),
    },
    {
      kind: "fail",
      title: "locked for 365 days",
      stack: lockedStack({ mode: "COMPLIANCE", days: 365 }),
      expect: violation(/365 days is below the 2557-day minimum/),
    },
    {
      kind: "pass",
      title: "locked for 7 years",
      stack: lockedStack({ mode: "COMPLIANCE", years: 7 }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "versioning suspended",
      stack: lockedStack({ mode: "COMPLIANCE", days: 2557 }, "Suspended"),
      expect: violation(/is not versioned/),
    },
    {
      kind: "fail",
      title: "bucket not created with Object Lock",
      stack: lockedStack({ mode: "COMPLIANCE", days: 2557 }, "Enabled", { objectLockEnabled: false }),
      expect: violation(/objectLockEnabled: true/),
    },
    {
      kind: "fail",
      title: "audit bucket without any lock configuration",
      stack: [auditBucket()],
      expect: violation(/no Object Lock default retention/),
    },
    {
      kind: "unknown",
      title: "unknown retention mode",
      stack: lockedStack({ mode: unknown.string(), days: 2557 }),
      expect: preview,
    },
  ]),
  ...cases("backup-retention-minimum", [
    { kind: "pass", title: "4 full, 14 differential", resource: pgbackrest(4, 14), expect: pass },
    {
      kind: "fail",
      title: "2 full backups",
      resource: pgbackrest(2, 14),
      expect: violation(/repo1-retention-full is 2; at least 4/, { count: 2 }),
    },
    {
      kind: "pass",
      title: "2 full backups where the environment asks for 2",
      resource: pgbackrest(2, 7),
      config: { "backup-retention-minimum": { minimumFullRetentionCount: 2, minimumDiffRetentionCount: 7 } },
      expect: pass,
    },
    {
      kind: "unknown",
      title: "config rendered from unknown values",
      resource: res("kubernetes:core/v1:ConfigMap", "pgbackrest", {
        data: { "pgbackrest.conf": unknown.string() },
      }),
      expect: preview,
    },
  ]),
];
