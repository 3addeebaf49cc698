import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDWATCH_RETENTION_DAYS, type EndpointAccess, isValidCloudWatchRetention } from "@hcp/platform";
import { CONTROL_PLANE_LOG_TYPES, endpointAccessConfig, renderKubeconfig } from "../controlPlane";
import { secretsKeyUsePolicy, serviceTrustPolicy } from "../policies";

/** Arguments of {@link EksCluster}. */
export interface EksClusterArgs {
  /** Physical cluster name, e.g. `hcp-production-sa-east-1`. */
  readonly clusterName: string;
  /** Kubernetes minor version (in EKS standard support). */
  readonly version: string;
  readonly vpcId: pulumi.Input<string>;
  /** The VPC CIDR: the only source that reaches the private API endpoint. */
  readonly vpcCidr: pulumi.Input<string>;
  /** Subnets of the control-plane network interfaces (the private subnets, one per zone). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Kubernetes Service CIDR (outside the VPC). */
  readonly serviceCidr: string;
  readonly endpointAccess: EndpointAccess;
  /**
   * CIDRs allowed to reach the public endpoint (`privateAndPublic` only).
   * @default - none
   */
  readonly publicAccessCidrs?: readonly string[];
  /** Dedicated key for envelope encryption of Kubernetes Secrets. */
  readonly secretsKeyArn: pulumi.Input<string>;
  /** The region's logs key (network layer), for the control-plane log group. */
  readonly logsKeyArn: pulumi.Input<string>;
  /** Retention of the control-plane logs (audit class: a CloudWatch value of at least 2557). */
  readonly logRetentionDays: number;
  /** Protect the cluster and its log group from deletion (production). */
  readonly protect: boolean;
}

/**
 * The EKS control plane: a cluster role, the `/aws/eks/<name>/cluster` log group created first (KMS,
 * audit retention) so EKS does not create an unencrypted, never-expiring one, all five log types,
 * Secrets envelope-encrypted with a dedicated key, the endpoint exposure of the environment,
 * `API` authentication with no implicit admin for the creator, standard-support upgrade policy,
 * the OIDC provider, and a node security group other layers add rules to.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly oidcProvider: aws.iam.OpenIdConnectProvider;
  /** Extra security group of every node (the cluster security group is attached too). */
  readonly nodeSecurityGroup: aws.ec2.SecurityGroup;
  readonly clusterName: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthorityData: pulumi.Output<string>;
  readonly oidcIssuerUrl: pulumi.Output<string>;
  /** Security group EKS creates for the control plane and nodes. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** Exec-based kubeconfig (secret). */
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:EksCluster", name, {}, opts);
    if (!isValidCloudWatchRetention(args.logRetentionDays)) {
      throw new Error(
        `EksCluster ${name}: logRetentionDays ${args.logRetentionDays} is not a CloudWatch retention value ` +
          `(${CLOUDWATCH_RETENTION_DAYS.join(", ")}). Fix: set healthcare-platform:retention.logs.audit to one of them.`,
      );
    }
    const access = endpointAccessConfig(args.endpointAccess, args.publicAccessCidrs ?? []);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child);
    const region = aws.getRegionOutput({}, child).region;

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `EKS control plane of ${args.clusterName}`,
        assumeRolePolicy: partition.dnsSuffix.apply((d) =>
          JSON.stringify(serviceTrustPolicy("eks", d, ["sts:AssumeRole", "sts:TagSession"])),
        ),
      },
      child,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-role-cluster-policy`,
      {
        role: this.role.name,
        policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/AmazonEKSClusterPolicy`,
      },
      child,
    );
    const keyPolicy = new aws.iam.RolePolicy(
      `${name}-role-secrets-key`,
      {
        role: this.role.id,
        policy: pulumi.output(args.secretsKeyArn).apply((arn) => JSON.stringify(secretsKeyUsePolicy(arn))),
      },
      child,
    );

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/eks/${args.clusterName}/cluster`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.logsKeyArn,
        logGroupClass: "STANDARD",
      },
      { parent: this, protect: args.protect },
    );

    this.cluster = new aws.eks.Cluster(
      name,
      {
        name: args.clusterName,
        version: args.version,
        roleArn: this.role.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPrivateAccess: access.endpointPrivateAccess,
          endpointPublicAccess: access.endpointPublicAccess,
          publicAccessCidrs: access.endpointPublicAccess ? [...access.publicAccessCidrs] : undefined,
        },
        kubernetesNetworkConfig: { ipFamily: "ipv4", serviceIpv4Cidr: args.serviceCidr },
        encryptionConfig: { provider: { keyArn: args.secretsKeyArn }, resources: ["secrets"] },
        enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
        upgradePolicy: { supportType: "STANDARD" },
        // The platform installs VPC CNI, kube-proxy and CoreDNS as managed add-ons pinned in config,
        // so EKS must not install unmanaged copies first.
        bootstrapSelfManagedAddons: false,
        deletionProtection: args.protect,
      },
      { parent: this, protect: args.protect, dependsOn: [this.logGroup, clusterPolicy, keyPolicy] },
    );

    this.clusterName = this.cluster.name;
    this.endpoint = this.cluster.endpoint;
    this.certificateAuthorityData = this.cluster.certificateAuthority.data;
    this.clusterSecurityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;
    this.oidcIssuerUrl = this.cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");

    this.oidcProvider = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      // The audience IRSA tokens carry (kept for components that still use IRSA; ours use Pod Identity).
      { url: this.oidcIssuerUrl, clientIdLists: ["sts.amazonaws.com"] },
      child,
    );

    new aws.vpc.SecurityGroupIngressRule(
      `${name}-api-from-vpc`,
      {
        securityGroupId: this.clusterSecurityGroupId,
        description: "Kubernetes API (private endpoint) from inside the VPC",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: args.vpcCidr,
      },
      child,
    );
    // Deliberately not tagged kubernetes.io/cluster/<name>: the load balancer controller requires
    // exactly one tagged group per node (the cluster security group) to manage target rules.
    this.nodeSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-nodes`,
      {
        vpcId: args.vpcId,
        description: `Extra group of every ${args.clusterName} node; other layers add scoped rules here`,
        tags: { Name: `${args.clusterName}-nodes` },
      },
      child,
    );

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.clusterName, this.endpoint, this.certificateAuthorityData, region])
        .apply(([clusterName, endpoint, certificateAuthorityData, r]) =>
          renderKubeconfig({ clusterName, endpoint, certificateAuthorityData, region: r }),
        ),
    );
    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      oidcIssuerUrl: this.oidcIssuerUrl,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      nodeSecurityGroupId: this.nodeSecurityGroup.id,
      kubeconfig: this.kubeconfig,
    });
  }
}
