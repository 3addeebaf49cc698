/**
 * IAM policy documents as they read after serialization: what a resource's `policy` /
 * `assumeRolePolicy` input holds once `pulumi.jsonStringify` ran (the provider receives this JSON).
 * Building documents uses `@pulumi/aws`'s `aws.iam.PolicyDocument`; this is only the parsed form
 * tests read.
 */

/** A value of a policy element: one string or a list. */
export type PolicyJsonValue = string | readonly string[];

/** One statement of a parsed policy document. */
export interface PolicyJsonStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Readonly<Record<string, PolicyJsonValue>>;
  readonly Action?: PolicyJsonValue;
  readonly NotAction?: PolicyJsonValue;
  readonly Resource?: PolicyJsonValue;
  readonly NotResource?: PolicyJsonValue;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, PolicyJsonValue>>>>;
}

/** A parsed policy document. */
export interface PolicyJson {
  readonly Version: string;
  readonly Statement: readonly PolicyJsonStatement[];
}

/**
 * Parses a serialized policy document; throws, showing the value, if it is not JSON with a
 * `Statement` list.
 */
export function parsePolicy(value: unknown): PolicyJson {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  const statements = (parsed as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(statements)) {
    throw new Error(`parsePolicy: not a policy document with a Statement list: ${JSON.stringify(value)}`);
  }
  return parsed as PolicyJson;
}

/** Elements of a policy value as a list (`"s3:GetObject"` -> `["s3:GetObject"]`). */
export function policyList(value: PolicyJsonValue | undefined): string[] {
  return value === undefined ? [] : typeof value === "string" ? [value] : [...value];
}
