import { createHash } from "node:crypto";

/**
 * Physical names for AWS resources that need a fixed name (the EKS cluster, IAM roles, log groups
 * whose name must exist before the resource that writes to them, ...). Names are deterministic,
 * within the service's length limit and character set, and stay distinct when they are shortened:
 * a cut name ends in a hash of the full name.
 */

/** Kinds of named resources, with their limits and character rules. */
export const NAME_RULES = {
  /** S3 bucket: 3-63 lower-case letters, digits and hyphens (no dots, so TLS virtual-host works). */
  s3Bucket: { max: 63, lower: true, allowed: /[^a-z0-9-]/g },
  /** IAM role name. */
  iamRole: { max: 64, lower: false, allowed: /[^A-Za-z0-9+=,.@_-]/g },
  /** IAM policy name. */
  iamPolicy: { max: 128, lower: false, allowed: /[^A-Za-z0-9+=,.@_-]/g },
  /** EKS cluster name. */
  eksCluster: { max: 100, lower: false, allowed: /[^A-Za-z0-9_-]/g },
  /** EKS node group name. */
  eksNodeGroup: { max: 63, lower: false, allowed: /[^A-Za-z0-9_-]/g },
  /** KMS alias, without the `alias/` prefix. */
  kmsAlias: { max: 250, lower: false, allowed: /[^A-Za-z0-9/_-]/g },
  /** CloudWatch log group name. */
  logGroup: { max: 512, lower: false, allowed: /[^A-Za-z0-9_./#-]/g },
  /** Elastic Load Balancer / target group name. */
  loadBalancer: { max: 32, lower: false, allowed: /[^A-Za-z0-9-]/g },
  /** Kubernetes object name (DNS-1123 label). */
  kubernetes: { max: 63, lower: true, allowed: /[^a-z0-9-]/g },
  /** Secrets Manager secret name. */
  secret: { max: 512, lower: false, allowed: /[^A-Za-z0-9/_+=.@-]/g },
  /** Security group name. */
  securityGroup: { max: 255, lower: false, allowed: /[^A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g },
  /** CloudTrail trail name. */
  trail: { max: 128, lower: false, allowed: /[^A-Za-z0-9._-]/g },
  /** ECR repository name. */
  ecrRepository: { max: 256, lower: true, allowed: /[^a-z0-9._/-]/g },
  /** CodeBuild project name (2-150 characters: letters, digits, `-`, `_`). */
  codebuildProject: { max: 150, lower: false, allowed: /[^A-Za-z0-9_-]/g },
  /** CodeConnections (CodeStar Connections) connection name. */
  codeConnection: { max: 32, lower: false, allowed: /[^A-Za-z0-9._-]/g },
} as const;

/** A kind of named resource. */
export type NameKind = keyof typeof NAME_RULES;

const HASH_LENGTH = 8;

/** Eight hex characters of SHA-256 of `text`. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/**
 * Joins parts with `-` into a name valid for `kind`. Characters the service does not accept become
 * `-`; when the result is too long it is cut and suffixed with a hash of the untruncated name, so two
 * different inputs never collide because of truncation.
 */
export function physicalName(kind: NameKind, ...parts: string[]): string {
  const rule = NAME_RULES[kind];
  let joined = parts.filter((p) => p.length > 0).join("-");
  if (rule.lower) {
    joined = joined.toLowerCase();
  }
  const cleaned = joined
    .replace(rule.allowed, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  if (cleaned.length === 0) {
    throw new Error(`physicalName(${kind}): nothing usable in ${JSON.stringify(parts)}`);
  }
  if (cleaned === joined && cleaned.length <= rule.max) {
    return cleaned;
  }
  // Sanitising or cutting loses information: a hash of the original keeps the names distinct.
  const suffix = `-${shortHash(joined)}`;
  return `${cleaned.slice(0, rule.max - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/**
 * The common prefix of names of one stack: `hcp-<env>-<region>` for regional layers,
 * `hcp-<env>` for the environment layer.
 */
export function namePrefix(environment: string, region?: string): string {
  return region ? `hcp-${environment}-${region}` : `hcp-${environment}`;
}
