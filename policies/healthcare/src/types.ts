import type * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import type * as tls from "@pulumi/tls";
import type { CustomResourceOptions, Resource, Unwrap } from "@pulumi/pulumi";
import type { ResolvedResource } from "@pulumi/pulumi/queryable";

/**
 * prometheus-operator's `StorageSpec` (`spec.storage` of Prometheus, PrometheusAgent, Alertmanager
 * and ThanosRuler): how the operator gives each replica of the StatefulSet it creates its volume.
 * Only the fields rules read; a test validates every fixture of these types against the CRD
 * schemas of `@kubernetes-models/prometheus-operator` (packages/testing).
 */
export interface StorageSpecArgs {
  /** A PersistentVolumeClaim per replica, made from this template (the operator's volumeClaimTemplates). */
  readonly volumeClaimTemplate?: {
    readonly metadata?: k8s.types.input.meta.v1.ObjectMeta;
    readonly spec?: k8s.types.input.core.v1.PersistentVolumeClaimSpec;
  };
  /** A generic ephemeral volume: a claim per pod, from its own template. */
  readonly ephemeral?: k8s.types.input.core.v1.EphemeralVolumeSource;
  /** A node-local emptyDir (no claim). */
  readonly emptyDir?: k8s.types.input.core.v1.EmptyDirVolumeSource;
  readonly disableMountSubPath?: boolean;
}

/** The inputs of a prometheus-operator custom resource with storage, as far as rules read them. */
export interface OperatorStorageResourceArgs {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: k8s.types.input.meta.v1.ObjectMeta;
  /** Only `storage` is declared: the rest of the spec is the operator's and no rule reads it. */
  readonly spec?: { readonly storage?: StorageSpecArgs };
}

/**
 * A custom resource type (`k8s.apiextensions.CustomResource` with a given shape). The SDK has no
 * class per custom resource kind, so the shape is declared here.
 */
type CustomResourceClass<A> = new (
  name: string,
  args: A,
  opts?: CustomResourceOptions,
) => k8s.apiextensions.CustomResource;

/**
 * The resource types the pack's rules look into, keyed by Pulumi type token, mapped to their SDK
 * class. Only types are imported: the pack does not load the provider SDKs at run time (the server
 * matches on type tokens), but every rule and every test fixture is typed by the SDK's argument
 * type, so a misspelt property fails to compile. A test checks each token against the class's
 * `__pulumiType`.
 */
export interface ResourceClasses {
  "aws:amp/workspace:Workspace": typeof aws.amp.Workspace;
  "aws:s3/bucket:Bucket": typeof aws.s3.Bucket;
  "aws:s3/bucketV2:BucketV2": typeof aws.s3.BucketV2;
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": typeof aws.s3.BucketServerSideEncryptionConfiguration;
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": typeof aws.s3.BucketServerSideEncryptionConfigurationV2;
  "aws:s3/bucketPolicy:BucketPolicy": typeof aws.s3.BucketPolicy;
  "aws:s3/bucketVersioning:BucketVersioning": typeof aws.s3.BucketVersioning;
  "aws:s3/bucketVersioningV2:BucketVersioningV2": typeof aws.s3.BucketVersioningV2;
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": typeof aws.s3.BucketObjectLockConfiguration;
  "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": typeof aws.s3.BucketObjectLockConfigurationV2;
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": typeof aws.s3.BucketLifecycleConfiguration;
  "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": typeof aws.s3.BucketLifecycleConfigurationV2;
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": typeof aws.s3.BucketReplicationConfig;
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": typeof aws.s3.BucketPublicAccessBlock;
  "aws:ebs/volume:Volume": typeof aws.ebs.Volume;
  "aws:ec2/launchTemplate:LaunchTemplate": typeof aws.ec2.LaunchTemplate;
  "aws:ec2/instance:Instance": typeof aws.ec2.Instance;
  "aws:eks/cluster:Cluster": typeof aws.eks.Cluster;
  "aws:guardduty/detector:Detector": typeof aws.guardduty.Detector;
  "aws:guardduty/detectorFeature:DetectorFeature": typeof aws.guardduty.DetectorFeature;
  "aws:ec2/vpc:Vpc": typeof aws.ec2.Vpc;
  "aws:ec2/flowLog:FlowLog": typeof aws.ec2.FlowLog;
  "aws:ec2/securityGroup:SecurityGroup": typeof aws.ec2.SecurityGroup;
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": typeof aws.ec2.DefaultSecurityGroup;
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": typeof aws.vpc.SecurityGroupIngressRule;
  "aws:ec2/route:Route": typeof aws.ec2.Route;
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": typeof aws.ec2.VpcPeeringConnection;
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": typeof aws.ec2.VpcPeeringConnectionAccepter;
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": typeof aws.vpc.SecurityGroupEgressRule;
  "aws:codebuild/project:Project": typeof aws.codebuild.Project;
  "aws:codebuild/webhook:Webhook": typeof aws.codebuild.Webhook;
  "aws:secretsmanager/secret:Secret": typeof aws.secretsmanager.Secret;
  "aws:cloudtrail/trail:Trail": typeof aws.cloudtrail.Trail;
  "aws:eks/nodeGroup:NodeGroup": typeof aws.eks.NodeGroup;
  "aws:cloudwatch/logGroup:LogGroup": typeof aws.cloudwatch.LogGroup;
  "aws:sns/topic:Topic": typeof aws.sns.Topic;
  "aws:sns/topicPolicy:TopicPolicy": typeof aws.sns.TopicPolicy;
  "aws:sqs/queue:Queue": typeof aws.sqs.Queue;
  "aws:ecr/repository:Repository": typeof aws.ecr.Repository;
  "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": typeof aws.ecr.RepositoryCreationTemplate;
  "aws:kms/key:Key": typeof aws.kms.Key;
  "aws:kms/replicaKey:ReplicaKey": typeof aws.kms.ReplicaKey;
  "aws:lb/listener:Listener": typeof aws.lb.Listener;
  "aws:alb/listener:Listener": typeof aws.alb.Listener;
  "aws:lb/loadBalancer:LoadBalancer": typeof aws.lb.LoadBalancer;
  "aws:alb/loadBalancer:LoadBalancer": typeof aws.alb.LoadBalancer;
  "aws:wafv2/webAclAssociation:WebAclAssociation": typeof aws.wafv2.WebAclAssociation;
  "aws:elasticache/replicationGroup:ReplicationGroup": typeof aws.elasticache.ReplicationGroup;
  "tls:index/privateKey:PrivateKey": typeof tls.PrivateKey;
  "tls:index/selfSignedCert:SelfSignedCert": typeof tls.SelfSignedCert;
  "kubernetes:core/v1:Namespace": typeof k8s.core.v1.Namespace;
  "kubernetes:core/v1:ConfigMap": typeof k8s.core.v1.ConfigMap;
  "kubernetes:core/v1:Secret": typeof k8s.core.v1.Secret;
  "kubernetes:core/v1:Service": typeof k8s.core.v1.Service;
  "kubernetes:core/v1:Pod": typeof k8s.core.v1.Pod;
  "kubernetes:core/v1:PersistentVolumeClaim": typeof k8s.core.v1.PersistentVolumeClaim;
  "kubernetes:apps/v1:Deployment": typeof k8s.apps.v1.Deployment;
  "kubernetes:apps/v1:StatefulSet": typeof k8s.apps.v1.StatefulSet;
  "kubernetes:apps/v1:DaemonSet": typeof k8s.apps.v1.DaemonSet;
  "kubernetes:apps/v1:ReplicaSet": typeof k8s.apps.v1.ReplicaSet;
  "kubernetes:batch/v1:Job": typeof k8s.batch.v1.Job;
  "kubernetes:batch/v1:CronJob": typeof k8s.batch.v1.CronJob;
  "kubernetes:policy/v1:PodDisruptionBudget": typeof k8s.policy.v1.PodDisruptionBudget;
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": typeof k8s.autoscaling.v2.HorizontalPodAutoscaler;
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": typeof k8s.networking.v1.NetworkPolicy;
  "kubernetes:networking.k8s.io/v1:Ingress": typeof k8s.networking.v1.Ingress;
  "kubernetes:storage.k8s.io/v1:StorageClass": typeof k8s.storage.v1.StorageClass;
  "kubernetes:helm.sh/v3:Release": typeof k8s.helm.v3.Release;
  "kubernetes:helm.sh/v3:Chart": typeof k8s.helm.v3.Chart;
  "kubernetes:helm.sh/v4:Chart": typeof k8s.helm.v4.Chart;
  "kubernetes:monitoring.coreos.com/v1:Prometheus": CustomResourceClass<OperatorStorageResourceArgs>;
  "kubernetes:monitoring.coreos.com/v1alpha1:PrometheusAgent": CustomResourceClass<OperatorStorageResourceArgs>;
  "kubernetes:monitoring.coreos.com/v1:Alertmanager": CustomResourceClass<OperatorStorageResourceArgs>;
  "kubernetes:monitoring.coreos.com/v1:ThanosRuler": CustomResourceClass<OperatorStorageResourceArgs>;
}

/** The custom resource types among the tokens (no SDK class carries them). */
export const CUSTOM_RESOURCE_TOKENS = [
  "kubernetes:monitoring.coreos.com/v1:Prometheus",
  "kubernetes:monitoring.coreos.com/v1alpha1:PrometheusAgent",
  "kubernetes:monitoring.coreos.com/v1:Alertmanager",
  "kubernetes:monitoring.coreos.com/v1:ThanosRuler",
] as const satisfies readonly TypeToken[];

/** A type token the pack knows the shape of. */
export type TypeToken = keyof ResourceClasses;

/** Every {@link TypeToken}, at run time (checked to be exactly the keys of {@link ResourceClasses}). */
export const TYPE_TOKENS = Object.keys({
  "aws:s3/bucket:Bucket": true,
  "aws:s3/bucketV2:BucketV2": true,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": true,
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": true,
  "aws:s3/bucketPolicy:BucketPolicy": true,
  "aws:s3/bucketVersioning:BucketVersioning": true,
  "aws:s3/bucketVersioningV2:BucketVersioningV2": true,
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": true,
  "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": true,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": true,
  "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": true,
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": true,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": true,
  "aws:ebs/volume:Volume": true,
  "aws:ec2/launchTemplate:LaunchTemplate": true,
  "aws:ec2/instance:Instance": true,
  "aws:eks/cluster:Cluster": true,
  "aws:guardduty/detector:Detector": true,
  "aws:guardduty/detectorFeature:DetectorFeature": true,
  "aws:ec2/vpc:Vpc": true,
  "aws:ec2/flowLog:FlowLog": true,
  "aws:ec2/securityGroup:SecurityGroup": true,
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": true,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": true,
  "aws:ec2/route:Route": true,
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": true,
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": true,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": true,
  "aws:codebuild/project:Project": true,
  "aws:codebuild/webhook:Webhook": true,
  "aws:secretsmanager/secret:Secret": true,
  "aws:cloudtrail/trail:Trail": true,
  "aws:eks/nodeGroup:NodeGroup": true,
  "aws:cloudwatch/logGroup:LogGroup": true,
  "aws:sns/topic:Topic": true,
  "aws:sns/topicPolicy:TopicPolicy": true,
  "aws:sqs/queue:Queue": true,
  "aws:ecr/repository:Repository": true,
  "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": true,
  "aws:kms/key:Key": true,
  "aws:kms/replicaKey:ReplicaKey": true,
  "aws:lb/listener:Listener": true,
  "aws:alb/listener:Listener": true,
  "aws:lb/loadBalancer:LoadBalancer": true,
  "aws:alb/loadBalancer:LoadBalancer": true,
  "aws:wafv2/webAclAssociation:WebAclAssociation": true,
  "aws:elasticache/replicationGroup:ReplicationGroup": true,
  "tls:index/privateKey:PrivateKey": true,
  "tls:index/selfSignedCert:SelfSignedCert": true,
  "kubernetes:core/v1:Namespace": true,
  "kubernetes:core/v1:ConfigMap": true,
  "kubernetes:core/v1:Secret": true,
  "kubernetes:core/v1:Service": true,
  "kubernetes:core/v1:Pod": true,
  "kubernetes:core/v1:PersistentVolumeClaim": true,
  "kubernetes:apps/v1:Deployment": true,
  "kubernetes:apps/v1:StatefulSet": true,
  "kubernetes:apps/v1:DaemonSet": true,
  "kubernetes:apps/v1:ReplicaSet": true,
  "kubernetes:batch/v1:Job": true,
  "kubernetes:batch/v1:CronJob": true,
  "kubernetes:policy/v1:PodDisruptionBudget": true,
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": true,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": true,
  "kubernetes:networking.k8s.io/v1:Ingress": true,
  "kubernetes:storage.k8s.io/v1:StorageClass": true,
  "kubernetes:helm.sh/v3:Release": true,
  "kubernetes:helm.sh/v3:Chart": true,
  "kubernetes:helm.sh/v4:Chart": true,
  "aws:amp/workspace:Workspace": true,
  "kubernetes:monitoring.coreos.com/v1:Prometheus": true,
  "kubernetes:monitoring.coreos.com/v1alpha1:PrometheusAgent": true,
  "kubernetes:monitoring.coreos.com/v1:Alertmanager": true,
  "kubernetes:monitoring.coreos.com/v1:ThanosRuler": true,
} satisfies Record<TypeToken, true>) as TypeToken[];

type ArgsParam<C> = C extends new (name: string, args: infer A, ...rest: never[]) => Resource ? A : never;

/**
 * The inputs of a resource of type `T` as a policy sees them (`ResourceValidationArgs.props`):
 * plain values, no Outputs.
 */
export type ArgsOf<T extends TypeToken> = Unwrap<NonNullable<ArgsParam<ResourceClasses[T]>>>;

/**
 * The state of a resource of type `T` in a stack validation (`PolicyResource.props`). A preview
 * sends inputs plus whatever outputs are already known, so both shapes are allowed, all optional.
 */
export type StateOf<T extends TypeToken> = ArgsOf<T> &
  Partial<ResolvedResource<InstanceType<ResourceClasses[T]>>>;

/** True if `type` is one of the tokens the pack has a typed shape for. */
export function isTypeToken(type: string): type is TypeToken {
  return (TYPE_TOKENS as readonly string[]).includes(type);
}
