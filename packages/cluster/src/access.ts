/**
 * Who gets into the cluster: EKS access entries (authentication mode `API`, no aws-auth ConfigMap)
 * with one AWS-managed access policy each, cluster-wide.
 */

/** The access levels the platform grants. */
export type AccessLevel = "admin" | "readonly";

/** The AWS-managed EKS access policy of each level (suffix of `arn:<partition>:eks::aws:cluster-access-policy/`). */
export const ACCESS_POLICIES: Readonly<Record<AccessLevel, string>> = {
  admin: "AmazonEKSClusterAdminPolicy",
  // View does not include Secrets: read-only principals never read credentials stored in the cluster.
  readonly: "AmazonEKSViewPolicy",
};

/** One access entry to create. */
export interface AccessGrant {
  /** Stable resource-name key derived from the principal (reordering the config replaces nothing). */
  readonly key: string;
  readonly principalArn: string;
  readonly level: AccessLevel;
}

/** `arn:aws:iam::123456789012:role/ops/Admin` -> `role-ops-admin`. */
export function principalKey(principalArn: string): string {
  const resource = principalArn.slice(principalArn.lastIndexOf(":") + 1);
  return resource
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The access grants of the configured principals. Throws, listing every problem, when a principal
 * is both admin and read-only (one access entry per principal) or two principals share a key.
 */
export function accessGrants(admins: readonly string[], readonly: readonly string[]): AccessGrant[] {
  const problems: string[] = [];
  const grants: AccessGrant[] = [];
  const byKey = new Map<string, string>();
  const add = (principalArn: string, level: AccessLevel) => {
    const key = principalKey(principalArn);
    const other = byKey.get(key);
    if (other === principalArn) {
      if (grants.some((g) => g.principalArn === principalArn && g.level !== level)) {
        problems.push(
          `${principalArn} is in both access.adminPrincipals and access.readonlyPrincipals; keep it in one`,
        );
      }
      return;
    }
    if (other !== undefined) {
      problems.push(
        `${principalArn} and ${other} map to the same access entry name '${key}'; rename one role`,
      );
      return;
    }
    byKey.set(key, principalArn);
    grants.push({ key, principalArn, level });
  };
  admins.forEach((p) => add(p, "admin"));
  readonly.forEach((p) => add(p, "readonly"));
  if (problems.length > 0) {
    throw new Error(`Cluster access configuration is invalid:\n  - ${problems.join("\n  - ")}`);
  }
  return grants;
}
