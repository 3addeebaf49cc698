import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type NodeGroupSizes, type NodePlacement, physicalName } from "@hcp/platform";
import {
  AMI_TYPE,
  checkNodeGroupSizes,
  eksTaintEffect,
  NODE_GROUPS,
  NODE_METADATA_OPTIONS,
  type NodeGroupName,
  nodePlacement,
  ROOT_DEVICE_NAME,
} from "../nodeGroups";
import { serviceTrustPolicy } from "../policies";
import { inheritedDependsOn } from "@hcp/kube";

/** Arguments of {@link NodeGroups}. */
export interface NodeGroupsArgs {
  /** The cluster the groups join. */
  readonly clusterName: pulumi.Input<string>;
  /** Prefix of the node group names (the cluster's physical name). */
  readonly namePrefix: string;
  /** Kubernetes version of the nodes (the cluster's). */
  readonly version: string;
  /** Subnets the groups spread over, one per zone (the private subnets). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups of every node: the cluster security group and the node security group. */
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Key that encrypts the root volumes (its policy must allow the Auto Scaling service-linked role). */
  readonly ebsKeyArn: pulumi.Input<string>;
  /** Instance types and sizes per group. */
  readonly sizes: NodeGroupSizes;
  /**
   * Tags of the instances, volumes and network interfaces the groups launch (provider default tags
   * do not reach resources that Auto Scaling creates).
   */
  readonly instanceTags: Readonly<Record<string, string>>;
}

/** AWS-managed policies of the node role (`arn:<partition>:iam::aws:policy/<name>`). */
const NODE_ROLE_POLICIES = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEC2ContainerRegistryPullOnly",
  "AmazonEKS_CNI_Policy",
];

/**
 * The managed node groups `system`, `database` and `workloads`, each on its own launch template:
 * gp3 root volumes encrypted with the cluster's EBS key, IMDSv2 required with hop limit 1, no SSH
 * key and no remote access, spread over every zone. The database group is tainted and labelled
 * for the data tier. Nodes repair themselves; the desired size is the autoscaler's after creation.
 */
export class NodeGroups extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly launchTemplates: Readonly<Record<NodeGroupName, aws.ec2.LaunchTemplate>>;
  readonly groups: Readonly<Record<NodeGroupName, aws.eks.NodeGroup>>;
  /** Labels and taints per group (the database group's are part of the cluster contract). */
  readonly placements: Readonly<Record<NodeGroupName, NodePlacement>>;

  constructor(name: string, args: NodeGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:NodeGroups", name, {}, opts);
    checkNodeGroupSizes(args.sizes);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const partition = aws.getPartitionOutput({}, { parent: this });

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `EKS nodes of ${args.namePrefix}`,
        assumeRolePolicy: partition.dnsSuffix.apply((d) => JSON.stringify(serviceTrustPolicy("ec2", d))),
      },
      child,
    );
    const attachments = NODE_ROLE_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-role-${policy.toLowerCase()}`,
          {
            role: this.role.name,
            policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/${policy}`,
          },
          child,
        ),
    );

    const tagSpecifications = ["instance", "volume", "network-interface"].map((resourceType) => ({
      resourceType,
      tags: { ...args.instanceTags },
    }));
    const templates = {} as Record<NodeGroupName, aws.ec2.LaunchTemplate>;
    const groups = {} as Record<NodeGroupName, aws.eks.NodeGroup>;
    const placements = {} as Record<NodeGroupName, NodePlacement>;
    for (const group of NODE_GROUPS) {
      const size = args.sizes[group];
      const placement = nodePlacement(group);
      placements[group] = placement;
      templates[group] = new aws.ec2.LaunchTemplate(
        `${name}-${group}`,
        {
          description: `${args.namePrefix} ${group} nodes: encrypted gp3 root volume, IMDSv2 only, no SSH`,
          blockDeviceMappings: [
            {
              deviceName: ROOT_DEVICE_NAME,
              ebs: {
                volumeSize: size.diskSizeGiB,
                volumeType: "gp3",
                encrypted: "true",
                kmsKeyId: args.ebsKeyArn,
                deleteOnTermination: "true",
              },
            },
          ],
          metadataOptions: { ...NODE_METADATA_OPTIONS },
          vpcSecurityGroupIds: args.securityGroupIds,
          tagSpecifications,
          updateDefaultVersion: true,
        },
        child,
      );
      groups[group] = new aws.eks.NodeGroup(
        `${name}-${group}`,
        {
          clusterName: args.clusterName,
          nodeGroupName: physicalName("eksNodeGroup", args.namePrefix, group),
          version: args.version,
          nodeRoleArn: this.role.arn,
          subnetIds: args.subnetIds,
          amiType: AMI_TYPE,
          capacityType: "ON_DEMAND",
          instanceTypes: [...size.instanceTypes],
          scalingConfig: { minSize: size.minSize, desiredSize: size.desiredSize, maxSize: size.maxSize },
          launchTemplate: {
            id: templates[group].id,
            version: templates[group].latestVersion.apply((v) => String(v)),
          },
          labels: { ...placement.labels },
          taints: placement.taints.map((t) => ({
            key: t.key,
            value: t.value,
            effect: eksTaintEffect(t.effect),
          })),
          updateConfig: { maxUnavailable: 1 },
          nodeRepairConfig: { enabled: true },
        },
        {
          parent: this,
          dependsOn: inheritedDependsOn(opts, ...attachments),
          ignoreChanges: ["scalingConfig.desiredSize"],
        },
      );
    }
    this.launchTemplates = templates;
    this.groups = groups;
    this.placements = placements;
    this.registerOutputs({ nodeRoleArn: this.role.arn });
  }
}
