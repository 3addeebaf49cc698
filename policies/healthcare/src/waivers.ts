/**
 * Resource types no rule of the pack examines, each with the reason that is acceptable. The
 * `policy-coverage` rule reports any type of a stack that is neither examined nor listed here.
 * Keep reasons specific: what the type holds and which control covers it instead.
 */

/** A waived resource type. */
export interface CoverageWaiver {
  readonly type: string;
  readonly reason: string;
}

export const COVERAGE_WAIVERS: readonly CoverageWaiver[] = [
  {
    type: "aws:kms/alias:Alias",
    reason: "A name for a key; the key itself is examined (rotation, deletion window, lockout check).",
  },
  {
    type: "aws:iam/role:Role",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/rolePolicy:RolePolicy",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/policy:Policy",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    reason: "Trust anchor for CI / IRSA; the roles trusting it are reviewed; holds no data.",
  },
  {
    type: "aws:route53/zone:Zone",
    reason: "Public DNS names only (no PHI); protected in production by stateful-resources-protected.",
  },
  {
    type: "aws:route53/record:Record",
    reason: "Public DNS names only (no PHI).",
  },
  {
    type: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    reason: "Expires untagged container images; images hold no patient data.",
  },
  {
    type: "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    reason:
      "Replicates container images (no patient data) to DR regions; destinations are encrypted (ecr-customer-key).",
  },
  {
    type: "aws:cloudtrail/trail:Trail",
    reason:
      "The audit trail; its bucket is examined (encryption, TLS, Object Lock, lifecycle) and its KMS key is required by the environment layer tests.",
  },
  {
    type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    reason: "Disables ACLs (BucketOwnerEnforced); access is governed by the examined bucket policy.",
  },
  {
    type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    reason: "Blocks public access; SecureBucket always sets all four flags and its tests assert them.",
  },
];
