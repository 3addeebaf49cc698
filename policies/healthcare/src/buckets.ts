import type { PolicyResource } from "@pulumi/policy";
import type { StackContext, TypedResource } from "./policy";
import { dependenciesOf } from "./read";
import type { TypeToken } from "./types";
import { known, UNKNOWN } from "./unknowns";

/** The S3 bucket resource types (v7 `Bucket` and the deprecated `BucketV2` alias). */
export const BUCKET_TYPES = [
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
] as const satisfies readonly TypeToken[];
export type BucketType = (typeof BUCKET_TYPES)[number];
export type BucketResource = TypedResource<BucketType>;

/** Settings resources of a bucket that name it in their `bucket` property. */
export type BucketSettingType =
  | "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
  | "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
  | "aws:s3/bucketPolicy:BucketPolicy"
  | "aws:s3/bucketVersioning:BucketVersioning"
  | "aws:s3/bucketVersioningV2:BucketVersioningV2"
  | "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
  | "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
  | "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
  | "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
  | "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
  | "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

/** Names a bucket is known by in its state (name and ARN), where already known. */
function knownNames(bucket: BucketResource): string[] {
  const names: string[] = [];
  for (const read of [() => bucket.props.bucket, () => bucket.props.arn]) {
    const v = known(read);
    if (v !== UNKNOWN && typeof v === "string" && v !== "") {
      names.push(v);
    }
  }
  return names;
}

/**
 * Finds the buckets a resource refers to through one of its properties: by the engine's property
 * dependencies (works in a preview, where the bucket's name is not known yet), else by the value
 * (a known bucket name or ARN).
 */
export function referencedBuckets(
  buckets: readonly BucketResource[],
  resource: PolicyResource,
  property: string,
): BucketResource[] {
  const deps = new Set(dependenciesOf(resource, property).map((d) => d.urn));
  const byDependency = buckets.filter((b) => deps.has(b.resource.urn));
  if (byDependency.length > 0) {
    return byDependency;
  }
  const value = (resource.props as Record<string, unknown>)[property];
  if (typeof value !== "string") {
    return [];
  }
  return buckets.filter((b) => knownNames(b).some((n) => n === value || value.startsWith(`${n}/`)));
}

/** Settings resources grouped by the bucket they configure. */
export interface BucketSettings<T extends BucketSettingType> {
  /** The settings resources of a bucket. */
  readonly of: (bucket: BucketResource) => TypedResource<T>[];
  /**
   * True if some settings resource could not be linked because its `bucket` is unknown (a preview
   * without property dependencies): a bucket without settings may then still have some.
   */
  readonly unresolved: boolean;
}

/** Groups the settings resources of some types by the bucket they configure. */
export function settingsByBucket<T extends BucketSettingType>(
  ctx: StackContext<unknown>,
  buckets: readonly BucketResource[],
  ...types: T[]
): BucketSettings<T> {
  const map = new Map<string, TypedResource<T>[]>();
  let unresolved = false;
  for (const setting of ctx.ofType(...types)) {
    const linked = known(() => referencedBuckets(buckets, setting.resource, "bucket"));
    if (linked === UNKNOWN) {
      unresolved = true;
      // Let the analyzer report that the rule could not fully run during preview.
      ctx.each(() => referencedBuckets(buckets, setting.resource, "bucket"));
      continue;
    }
    for (const bucket of linked) {
      map.set(bucket.resource.urn, [...(map.get(bucket.resource.urn) ?? []), setting]);
    }
  }
  return { of: (bucket) => map.get(bucket.resource.urn) ?? [], unresolved };
}
