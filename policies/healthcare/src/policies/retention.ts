import { CLOUDWATCH_RETENTION_DAYS, SEVEN_YEARS_DAYS, yearsToDays } from "@hcp/platform";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { BUCKET_TYPES, type BucketResource, settingsByBucket } from "../buckets";
import { type Rule, resourceRule, stackRule } from "../policy";
import type { ArgsOf } from "../types";
import { requireCustomerKey } from "./encryptionAtRest";

/**
 * Retention: audit trails are kept at least seven years (HIPAA §164.316(b)(2) asks six; our
 * posture is seven), clinical-record archives twenty (CFM Resolution 1.821/2007), and nothing that
 * must be kept can expire or be deleted earlier.
 */

/** The log classes of DESIGN §5 / the environment's `retention.logs`. */
export const LOG_CLASSES = ["audit", "security", "application", "diagnostic"] as const;
export type LogClassName = (typeof LOG_CLASSES)[number];

/** Tag that states a log group's class explicitly. */
export const LOG_CLASS_TAG = "LogClass";

/** A name pattern that puts log groups into a class when they carry no `LogClass` tag. */
export interface LogClassPattern {
  /** Regular expression matched against the log group name. */
  readonly pattern: string;
  readonly class: LogClassName;
}

export interface LogRetentionConfig {
  readonly auditMinimumDays: number;
  readonly securityMinimumDays: number;
  readonly applicationMinimumDays: number;
  readonly diagnosticMinimumDays: number;
  /** Allow retention "never expire" (0 / unset). */
  readonly allowNeverExpire: boolean;
  readonly classPatterns: LogClassPattern[];
  /** Class of a log group with neither tag nor matching name. */
  readonly defaultClass: LogClassName;
}

const retentionDays = (description: string): PolicyConfigJSONSchema => ({
  type: "integer",
  enum: [...CLOUDWATCH_RETENTION_DAYS],
  description,
});

/** How a log group's class is decided: `LogClass` tag, else the first matching name pattern, else the default. */
export function logClassOf(
  tags: Readonly<Record<string, string>> | undefined,
  name: () => string | undefined,
  cfg: Pick<LogRetentionConfig, "classPatterns" | "defaultClass">,
): { readonly cls: LogClassName; readonly source: string } {
  const tagged = tags?.[LOG_CLASS_TAG];
  if (tagged !== undefined) {
    if ((LOG_CLASSES as readonly string[]).includes(tagged)) {
      return { cls: tagged as LogClassName, source: `tag ${LOG_CLASS_TAG}` };
    }
  }
  const logName = name();
  if (logName !== undefined) {
    const match = cfg.classPatterns.find((p) => new RegExp(p.pattern).test(logName));
    if (match) {
      return { cls: match.class, source: `name pattern /${match.pattern}/` };
    }
  }
  return { cls: cfg.defaultClass, source: "default class" };
}

/** CloudWatch log retention is a value AWS accepts and at least the log class's minimum. */
export const cloudwatchLogRetention = resourceRule<LogRetentionConfig>({
  name: "cloudwatch-log-retention",
  concern: "retention",
  description:
    "CloudWatch log groups must set retentionInDays to a value CloudWatch accepts (2555 is not one; seven years is 2557) and at least the minimum of the group's class (audit and security: 2557). The class comes from the LogClass tag (audit|security|application|diagnostic), else from the name (/aws/eks/...: audit, flow logs: security), else the default class.",
  remediationSteps:
    "Tag the log group with LogClass and set retentionInDays from the environment's retention.logs.<class> (e.g. 2557 for audit).",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(b)", "164.316(b)(2)(i)"],
    lgpd: ["Art. 37"],
    docs: [
      "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
    ],
  },
  evidence: {
    properties: { "aws:cloudwatch/logGroup:LogGroup": ["name", "retentionInDays", "tags.LogClass"] },
  },
  config: {
    defaults: {
      auditMinimumDays: SEVEN_YEARS_DAYS,
      securityMinimumDays: SEVEN_YEARS_DAYS,
      applicationMinimumDays: 400,
      diagnosticMinimumDays: 30,
      allowNeverExpire: false,
      classPatterns: [
        { pattern: "^/aws/eks/", class: "audit" },
        { pattern: "cloudtrail", class: "audit" },
        { pattern: "pgaudit", class: "audit" },
        { pattern: "flow-?logs?", class: "security" },
        { pattern: "^/aws/vpc/", class: "security" },
      ],
      defaultClass: "application",
    },
    schema: {
      auditMinimumDays: retentionDays("Minimum retention of audit logs (EKS audit, pgaudit, CloudTrail)."),
      securityMinimumDays: retentionDays(
        "Minimum retention of security telemetry (flow logs, authenticator).",
      ),
      applicationMinimumDays: retentionDays("Minimum retention of application logs."),
      diagnosticMinimumDays: retentionDays("Minimum retention of diagnostic logs."),
      allowNeverExpire: {
        type: "boolean",
        description: "Accept log groups that never expire (retentionInDays 0 or unset).",
      },
      classPatterns: {
        type: "array",
        items: {
          type: "object",
          properties: {
            pattern: { type: "string", minLength: 1 },
            class: { type: "string", enum: [...LOG_CLASSES] },
          },
          required: ["pattern", "class"],
          additionalProperties: false,
        },
        description:
          "Name patterns (regular expressions) that classify log groups without a LogClass tag; first match wins.",
      },
      defaultClass: { type: "string", enum: [...LOG_CLASSES] },
    },
  },
  checks: {
    "aws:cloudwatch/logGroup:LogGroup": (props, { config, report }) => {
      const days = props.retentionInDays;
      const tags = props.tags;
      if (
        tags?.[LOG_CLASS_TAG] !== undefined &&
        !(LOG_CLASSES as readonly string[]).includes(tags[LOG_CLASS_TAG])
      ) {
        report(`tag ${LOG_CLASS_TAG} must be one of ${LOG_CLASSES.join(", ")}.`);
      }
      if (days === undefined || days === 0) {
        if (!config.allowNeverExpire) {
          report("retentionInDays is not set: the log group never expires. Set the class's retention.");
        }
        return;
      }
      if (!CLOUDWATCH_RETENTION_DAYS.includes(days)) {
        report(
          `retentionInDays ${days} is not a value CloudWatch accepts (${CLOUDWATCH_RETENTION_DAYS.join(", ")}).`,
        );
        return;
      }
      const { cls, source } = logClassOf(tags, () => props.name, config);
      const minimum = config[`${cls}MinimumDays`];
      if (days < minimum) {
        report(
          `retentionInDays ${days} is below the ${minimum}-day minimum of ${cls} logs (class from ${source}).`,
        );
      }
    },
  },
});

/** Retention classes of buckets. */
export const BUCKET_RETENTION_CLASSES = ["audit", "clinical-record"] as const;
export type BucketRetentionClass = (typeof BUCKET_RETENTION_CLASSES)[number];

/** Tag that states a bucket's retention class explicitly. */
export const RETENTION_CLASS_TAG = "RetentionClass";

export interface BucketRetentionConfig {
  readonly auditMinimumDays: number;
  readonly clinicalRecordMinimumDays: number;
  /** Substrings of a bucket name (or prefix) that make it an audit bucket. */
  readonly auditBucketPatterns: string[];
  /** Substrings of a bucket name (or prefix) that make it a clinical-record archive. */
  readonly clinicalRecordBucketPatterns: string[];
}

const bucketRetentionSchema = {
  auditMinimumDays: {
    type: "integer",
    minimum: SEVEN_YEARS_DAYS,
    description: "Days audit objects must be kept.",
  },
  clinicalRecordMinimumDays: {
    type: "integer",
    minimum: 1,
    description: "Days clinical-record archives must be kept.",
  },
  auditBucketPatterns: { type: "array", items: { type: "string", minLength: 1 } },
  clinicalRecordBucketPatterns: { type: "array", items: { type: "string", minLength: 1 } },
} satisfies Record<keyof BucketRetentionConfig, PolicyConfigJSONSchema>;

const bucketRetentionDefaults: BucketRetentionConfig = {
  auditMinimumDays: SEVEN_YEARS_DAYS,
  clinicalRecordMinimumDays: yearsToDays(20),
  auditBucketPatterns: ["audit", "cloudtrail"],
  clinicalRecordBucketPatterns: ["clinical", "long-term", "longterm"],
};

/**
 * The retention class of a bucket: the `RetentionClass` tag, else a name pattern. Buckets without
 * a class (backups that pgBackRest prunes itself, caches) have no minimum here.
 */
export function bucketRetentionClass(
  bucket: BucketResource,
  cfg: BucketRetentionConfig,
): BucketRetentionClass | undefined {
  const props = bucket.props;
  const tagged = props.tags?.[RETENTION_CLASS_TAG];
  if (tagged !== undefined && (BUCKET_RETENTION_CLASSES as readonly string[]).includes(tagged)) {
    return tagged as BucketRetentionClass;
  }
  const name = [props.bucket, props.bucketPrefix].filter((n): n is string => typeof n === "string").join(" ");
  if (cfg.clinicalRecordBucketPatterns.some((p) => name.includes(p))) {
    return "clinical-record";
  }
  if (cfg.auditBucketPatterns.some((p) => name.includes(p))) {
    return "audit";
  }
  return undefined;
}

function minimumDays(cls: BucketRetentionClass, cfg: BucketRetentionConfig): number {
  return cls === "audit" ? cfg.auditMinimumDays : cfg.clinicalRecordMinimumDays;
}

interface LifecycleRuleLike {
  readonly status?: string;
  readonly enabled?: boolean;
  readonly expiration?:
    | { readonly days?: number; readonly date?: string }
    | Array<{ readonly days?: number; readonly date?: string }>;
  readonly noncurrentVersionExpiration?:
    | { readonly noncurrentDays?: number; readonly days?: number }
    | Array<{ readonly noncurrentDays?: number; readonly days?: number }>;
}

function lifecycleProblems(rules: readonly LifecycleRuleLike[], where: string, minimum: number): string[] {
  const problems: string[] = [];
  rules.forEach((rule, i) => {
    if (rule.status === "Disabled" || rule.enabled === false) {
      return;
    }
    for (const exp of [rule.expiration ?? []].flat()) {
      if (exp.date !== undefined) {
        problems.push(`${where}[${i}].expiration uses a date; use days (at least ${minimum}).`);
      } else if (exp.days !== undefined && exp.days < minimum) {
        problems.push(`${where}[${i}].expiration.days ${exp.days} is below the ${minimum}-day minimum.`);
      }
    }
    for (const exp of [rule.noncurrentVersionExpiration ?? []].flat()) {
      const days = exp.noncurrentDays ?? exp.days;
      if (days !== undefined && days < minimum) {
        problems.push(
          `${where}[${i}].noncurrentVersionExpiration ${days} days is below the ${minimum}-day minimum.`,
        );
      }
    }
  });
  return problems;
}

/** Lifecycle rules never expire retention-bound objects early. */
export const s3RetentionLifecycle = stackRule<BucketRetentionConfig>({
  name: "s3-retention-lifecycle",
  concern: "retention",
  description:
    "Lifecycle rules of audit and clinical-record buckets must not expire objects (current or noncurrent versions) before the class minimum (audit: 2557 days, clinical records: 20 years). A bucket's class comes from its RetentionClass tag or its name.",
  remediationSteps:
    "Raise expiration.days / noncurrentVersionExpiration.noncurrentDays to at least the minimum, or remove the expiration.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)", "164.316(b)(2)(i)"],
    lgpd: ["Art. 37", "Art. 46"],
    docs: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html"],
  },
  evidence: {
    properties: {
      "aws:s3/bucket:Bucket": ["bucket", "tags.RetentionClass"],
      "aws:s3/bucketV2:BucketV2": ["bucket", "tags.RetentionClass"],
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ["bucket", "rules"],
      "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": ["bucket", "rules"],
    },
  },
  config: { defaults: bucketRetentionDefaults, schema: bucketRetentionSchema },
  examines: [
    ...BUCKET_TYPES,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  validate: (ctx) => {
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const lifecycles = settingsByBucket(
      ctx,
      buckets,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    );
    for (const bucket of buckets) {
      ctx.each(() => {
        const cls = bucketRetentionClass(bucket, ctx.config);
        if (!cls) {
          return;
        }
        const minimum = minimumDays(cls, ctx.config);
        const problems = [
          ...lifecycleProblems(
            (bucket.props as ArgsOf<"aws:s3/bucket:Bucket">).lifecycleRules ?? [],
            "lifecycleRules",
            minimum,
          ),
          ...lifecycles
            .of(bucket)
            .flatMap((lc) =>
              lifecycleProblems(
                (lc.props.rules ?? []) as LifecycleRuleLike[],
                `${lc.resource.name}.rules`,
                minimum,
              ),
            ),
        ];
        for (const p of problems) {
          ctx.report(`${cls} bucket '${bucket.resource.name}': ${p}`, bucket.resource.urn);
        }
      });
    }
  },
});

/** Audit and clinical-record buckets are versioned and locked in COMPLIANCE mode for the minimum. */
export const s3RetentionObjectLock = stackRule<BucketRetentionConfig>({
  name: "s3-retention-object-lock",
  concern: "retention",
  description:
    "Audit and clinical-record buckets must be versioned, created with objectLockEnabled: true and have an Object Lock configuration with defaultRetention { mode: 'COMPLIANCE', days >= class minimum }, so no one (root included) can delete or shorten the retention.",
  remediationSteps:
    "Create the bucket with SecureBucket({ objectLock: { mode: 'COMPLIANCE', days: yearsToDays(retention.auditYears) } }).",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)", "164.316(b)(2)(i)"],
    lgpd: ["Art. 37", "Art. 46"],
    docs: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html"],
  },
  evidence: {
    properties: {
      "aws:s3/bucket:Bucket": [
        "bucket",
        "tags.RetentionClass",
        "objectLockEnabled",
        "objectLockConfiguration",
        "versioning",
      ],
      "aws:s3/bucketV2:BucketV2": [
        "bucket",
        "tags.RetentionClass",
        "objectLockEnabled",
        "objectLockConfiguration",
        "versionings",
      ],
      "aws:s3/bucketVersioning:BucketVersioning": ["bucket", "versioningConfiguration"],
      "aws:s3/bucketVersioningV2:BucketVersioningV2": ["bucket", "versioningConfiguration"],
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ["bucket", "rule"],
      "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": ["bucket", "rule"],
    },
  },
  config: { defaults: bucketRetentionDefaults, schema: bucketRetentionSchema },
  examines: [
    ...BUCKET_TYPES,
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  ],
  validate: (ctx) => {
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const versioning = settingsByBucket(
      ctx,
      buckets,
      "aws:s3/bucketVersioning:BucketVersioning",
      "aws:s3/bucketVersioningV2:BucketVersioningV2",
    );
    const locks = settingsByBucket(
      ctx,
      buckets,
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
    );
    for (const bucket of buckets) {
      ctx.each(() => {
        const cls = bucketRetentionClass(bucket, ctx.config);
        if (!cls) {
          return;
        }
        const minimum = minimumDays(cls, ctx.config);
        const props = bucket.props as ArgsOf<"aws:s3/bucket:Bucket">;
        const label = `${cls} bucket '${bucket.resource.name}'`;
        const urn = bucket.resource.urn;
        const versioned =
          props.versioning?.enabled === true ||
          versioning.of(bucket).some((v) => v.props.versioningConfiguration?.status === "Enabled");
        if (!versioned && !versioning.unresolved) {
          ctx.report(`${label} is not versioned (BucketVersioning status 'Enabled').`, urn);
        }
        const lockEnabled =
          props.objectLockEnabled === true || props.objectLockConfiguration?.objectLockEnabled === "Enabled";
        if (!lockEnabled) {
          ctx.report(`${label} is not created with objectLockEnabled: true.`, urn);
        }
        const retentions = [
          props.objectLockConfiguration?.rule?.defaultRetention,
          ...locks.of(bucket).map((l) => l.props.rule?.defaultRetention),
        ].filter((r) => r !== undefined);
        if (retentions.length === 0 && !locks.unresolved) {
          ctx.report(`${label} has no Object Lock default retention.`, urn);
        }
        for (const r of retentions) {
          if (r.mode !== "COMPLIANCE") {
            ctx.report(`${label}: Object Lock mode is ${r.mode ?? "unset"}; use COMPLIANCE.`, urn);
          }
          const days = r.days ?? (r.years !== undefined ? yearsToDays(r.years) : 0);
          if (days < minimum) {
            ctx.report(
              `${label}: Object Lock retention ${days} days is below the ${minimum}-day minimum.`,
              urn,
            );
          }
        }
      });
    }
  },
});

export interface BackupRetentionConfig {
  readonly minimumFullRetentionCount: number;
  readonly minimumDiffRetentionCount: number;
}

/** `repoN-retention-full|diff=<count>` settings of a rendered pgbackrest.conf. */
export function pgbackrestRetentions(
  text: string,
): Array<{ repo: string; kind: "full" | "diff"; count: number; line: number }> {
  const out: Array<{ repo: string; kind: "full" | "diff"; count: number; line: number }> = [];
  const timeBased = new Set<string>();
  const lines = text.split("\n");
  lines.forEach((raw) => {
    const m = /^\s*(?:--)?(repo\d+)-retention-full-type\s*=\s*time\b/.exec(raw);
    if (m) {
      timeBased.add(m[1]);
    }
  });
  lines.forEach((raw, i) => {
    const m = /^\s*(?:--)?(repo\d+)-retention-(full|diff)\s*=\s*(\d+)\s*$/.exec(raw);
    if (m && !(m[2] === "full" && timeBased.has(m[1]))) {
      out.push({ repo: m[1], kind: m[2] as "full" | "diff", count: Number(m[3]), line: i + 1 });
    }
  });
  return out;
}

function checkBackupRetention(
  data: Readonly<Record<string, string>> | undefined,
  field: string,
  cfg: BackupRetentionConfig,
  report: (m: string) => void,
) {
  for (const key of Object.keys(data ?? {})) {
    const text = data?.[key];
    if (typeof text !== "string") {
      continue;
    }
    for (const r of pgbackrestRetentions(text)) {
      const minimum = r.kind === "full" ? cfg.minimumFullRetentionCount : cfg.minimumDiffRetentionCount;
      if (r.count < minimum) {
        report(
          `${field}['${key}'] line ${r.line}: ${r.repo}-retention-${r.kind} is ${r.count}; at least ${minimum} is required.`,
        );
      }
    }
  }
}

/** Backup retention settings keep at least the configured number of backups. */
export const backupRetentionMinimum = resourceRule<BackupRetentionConfig>({
  name: "backup-retention-minimum",
  concern: "retention",
  description:
    "pgBackRest retention rendered into ConfigMaps/Secrets (repoN-retention-full / repoN-retention-diff) must keep at least the environment's configured number of full and differential backups.",
  remediationSteps:
    "Render repoN-retention-full/diff from the environment's retention.backups (fullRetentionCount, diffRetentionCount).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"],
    lgpd: ["Art. 46"],
    docs: ["https://pgbackrest.org/configuration.html#section-repository/option-repo-retention-full"],
  },
  evidence: {
    properties: {
      "kubernetes:core/v1:ConfigMap": ["data"],
      "kubernetes:core/v1:Secret": ["stringData"],
    },
  },
  config: {
    defaults: { minimumFullRetentionCount: 4, minimumDiffRetentionCount: 14 },
    schema: {
      minimumFullRetentionCount: { type: "integer", minimum: 1 },
      minimumDiffRetentionCount: { type: "integer", minimum: 1 },
    },
  },
  checks: {
    "kubernetes:core/v1:ConfigMap": (props, { config, report }) =>
      checkBackupRetention(props.data, "data", config, report),
    "kubernetes:core/v1:Secret": (props, { config, report }) =>
      checkBackupRetention(props.stringData, "stringData", config, report),
  },
});

/** The audit trail covers every region, is encrypted and can be validated. */
export const cloudtrailAuditTrail = resourceRule({
  name: "cloudtrail-audit-trail",
  concern: "retention",
  description:
    "CloudTrail trails must be multi-region, logging, with log-file validation (tamper evidence) and encrypted with a customer-managed KMS key (kmsKeyId), so the audit record HIPAA §164.312(b) asks for is complete and intact.",
  remediationSteps:
    "Set isMultiRegionTrail: true, enableLogFileValidation: true, enableLogging: true and kmsKeyId on the trail (the environment layer's AuditTrail does).",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(b)", "164.308(a)(1)(ii)(D)"],
    lgpd: ["Art. 37", "Art. 6 X"],
    docs: [
      "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",
      "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html",
    ],
  },
  evidence: {
    properties: {
      "aws:cloudtrail/trail:Trail": [
        "isMultiRegionTrail",
        "enableLogFileValidation",
        "enableLogging",
        "kmsKeyId",
      ],
    },
  },
  checks: {
    "aws:cloudtrail/trail:Trail": (props, { report }) => {
      if (props.isMultiRegionTrail !== true) {
        report("isMultiRegionTrail is not true.");
      }
      if (props.enableLogFileValidation !== true) {
        report("enableLogFileValidation is not true.");
      }
      if (props.enableLogging === false) {
        report("enableLogging is false.");
      }
      requireCustomerKey(() => props.kmsKeyId, "kmsKeyId", report);
    },
  },
});

/** The rules of this concern. */
export const retentionRules: readonly Rule[] = [
  cloudtrailAuditTrail,
  cloudwatchLogRetention,
  s3RetentionLifecycle,
  s3RetentionObjectLock,
  backupRetentionMinimum,
];
