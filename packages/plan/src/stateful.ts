/**
 * Resources that hold state a replacement or a delete would lose (data, keys, secrets, audit logs,
 * the cluster), and the inputs whose change makes the provider replace them. The offline plan has no
 * provider to ask for a diff, so this is the well-known list (Terraform's `ForceNew` arguments that
 * pulumi-aws inherits, immutable Kubernetes fields that pulumi-kubernetes replaces on); the
 * `pulumi preview` of each stack remains the authority. A change of a listed input, a path listed in
 * the resource's own `replaceOnChanges`, or the removal of the resource is reported.
 */

/** Replacement-triggering inputs of each stateful type (paths as `plan:diff` prints them). */
export const STATEFUL_TYPES: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:apps/v1:StatefulSet": [
    "metadata.name",
    "metadata.namespace",
    "spec.selector",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
    "spec.podManagementPolicy",
  ],
  "kubernetes:core/v1:PersistentVolumeClaim": [
    "metadata.name",
    "metadata.namespace",
    "spec.accessModes",
    "spec.storageClassName",
    "spec.selector",
    "spec.volumeName",
    "spec.volumeMode",
    "spec.dataSource",
  ],
  "kubernetes:core/v1:PersistentVolume": ["metadata.name", "spec.csi", "spec.awsElasticBlockStore"],
  "kubernetes:core/v1:Secret": ["metadata.name", "metadata.namespace", "type"],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"],
  "aws:kms/replicaKey:ReplicaKey": ["primaryKeyArn"],
  "aws:secretsmanager/secret:Secret": ["name", "namePrefix"],
  "aws:ebs/volume:Volume": ["availabilityZone", "snapshotId", "encrypted", "kmsKeyId", "outpostArn"],
  "aws:eks/cluster:Cluster": [
    "name",
    "roleArn",
    "kubernetesNetworkConfig.serviceIpv4Cidr",
    "kubernetesNetworkConfig.ipFamily",
  ],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix"],
  "aws:cloudtrail/trail:Trail": ["name"],
  "aws:ecr/repository:Repository": ["name"],
  "aws:route53/zone:Zone": ["name"],
};

/** True for a type whose replacement or deletion loses state. */
export function isStateful(type: string): boolean {
  return type in STATEFUL_TYPES;
}

function covers(trigger: string, path: string): boolean {
  return (
    trigger === "*" ||
    path === trigger ||
    path.startsWith(`${trigger}.`) ||
    path.startsWith(`${trigger}[`) ||
    path.startsWith(`${trigger}(`)
  );
}

/**
 * The changed input path that would make the provider replace a stateful resource, if any.
 * `replaceOnChanges` paths of the resource count as well (Pulumi honours them for any type).
 */
export function replacementTrigger(
  type: string,
  changedInputPaths: readonly string[],
  replaceOnChanges: readonly string[],
): string | undefined {
  const triggers = [
    ...(STATEFUL_TYPES[type] ?? []),
    ...replaceOnChanges.map((p) => p.replace(/^\$?\.?/, "")),
  ];
  return changedInputPaths.find((p) => triggers.some((t) => covers(t, p)));
}
