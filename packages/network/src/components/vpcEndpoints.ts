import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ENDPOINT_PORT,
  endpointKey,
  endpointServiceName,
  INTERFACE_ENDPOINT_SERVICES,
  type InterfaceEndpointService,
} from "../endpoints";

/** Arguments of {@link VpcEndpoints}. */
export interface VpcEndpointsArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The VPC's CIDR: the only source the endpoint security group admits. */
  readonly vpcCidr: pulumi.Input<string>;
  /** Subnets that get an endpoint network interface (one per zone: the private subnets). */
  readonly subnetIds: ReadonlyArray<pulumi.Input<string>>;
  /** Route tables that get the S3 gateway route (the private subnets' tables). */
  readonly gatewayRouteTableIds: ReadonlyArray<pulumi.Input<string>>;
  /**
   * Interface endpoint services.
   * @default - every service of `INTERFACE_ENDPOINT_SERVICES` (ECR api/dkr, STS, KMS, logs, Secrets
   * Manager, EC2, ELB, autoscaling, EKS auth)
   */
  readonly services?: readonly InterfaceEndpointService[];
  /** `Name` tag prefix. */
  readonly namePrefix: string;
}

/**
 * VPC endpoints: an S3 gateway endpoint on the private route tables and interface endpoints with
 * private DNS, behind a security group that admits HTTPS from the VPC CIDR and nothing else (it has
 * no egress rule: endpoints only answer). Service names come from the provider's partition and
 * region.
 */
export class VpcEndpoints extends pulumi.ComponentResource {
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly s3: aws.ec2.VpcEndpoint;
  readonly interfaces: Readonly<Record<string, aws.ec2.VpcEndpoint>>;

  constructor(name: string, args: VpcEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:VpcEndpoints", name, {}, opts);
    const child = { parent: this };
    const prefix = aws.getPartitionOutput({}, child).reverseDnsPrefix;
    const region = aws.getRegionOutput({}, child).region;
    const serviceName = (service: string) =>
      pulumi.all([prefix, region]).apply(([p, r]) => endpointServiceName(p, r, service));

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "Interface VPC endpoints: HTTPS from the VPC only",
        tags: { Name: `${args.namePrefix}-vpc-endpoints` },
      },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-sg-https-from-vpc`,
      {
        securityGroupId: this.securityGroup.id,
        description: "HTTPS from the VPC",
        ipProtocol: "tcp",
        fromPort: ENDPOINT_PORT,
        toPort: ENDPOINT_PORT,
        cidrIpv4: args.vpcCidr,
      },
      child,
    );

    this.s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: args.vpcId,
        serviceName: serviceName("s3"),
        vpcEndpointType: "Gateway",
        routeTableIds: [...args.gatewayRouteTableIds],
        tags: { Name: `${args.namePrefix}-s3` },
      },
      child,
    );
    const interfaces: Record<string, aws.ec2.VpcEndpoint> = {};
    for (const service of args.services ?? INTERFACE_ENDPOINT_SERVICES) {
      interfaces[service] = new aws.ec2.VpcEndpoint(
        `${name}-${endpointKey(service)}`,
        {
          vpcId: args.vpcId,
          serviceName: serviceName(service),
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: [...args.subnetIds],
          securityGroupIds: [this.securityGroup.id],
          tags: { Name: `${args.namePrefix}-${endpointKey(service)}` },
        },
        child,
      );
    }
    this.interfaces = interfaces;
    this.registerOutputs({ securityGroupId: this.securityGroup.id });
  }
}
