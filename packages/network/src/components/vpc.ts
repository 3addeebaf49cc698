import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type NatGatewayMode, type PerTier, planSubnets, SUBNET_TIERS, type SubnetTier } from "@hcp/platform";
import { natLayout } from "../zones";

/** Arguments of {@link Vpc}. */
export interface VpcArgs {
  /** Prefix of `Name` tags, e.g. `hcp-production-sa-east-1`. */
  readonly namePrefix: string;
  /** The VPC's IPv4 block; subnets follow `planSubnets` of `@hcp/platform`. */
  readonly cidrBlock: string;
  /** Availability Zones in plan order: zone `i` gets subnet `i` of every tier. */
  readonly availabilityZones: readonly string[];
  /** NAT gateway layout. */
  readonly natGateways: NatGatewayMode;
}

/** Subnet tags the AWS Load Balancer Controller discovers subnets by. */
const LOAD_BALANCER_ROLE_TAGS: Readonly<Record<SubnetTier, Record<string, string>>> = {
  public: { "kubernetes.io/role/elb": "1" },
  private: { "kubernetes.io/role/internal-elb": "1" },
  database: {},
};

const ANYWHERE = "0.0.0.0/0";

/**
 * A VPC with public, private and database subnets in every zone, an internet gateway, NAT gateways
 * (one per zone or one in total), a route table per tier and zone, and its default security group
 * stripped of every rule (so nothing can rely on it). Public subnets route to the internet gateway,
 * private subnets to a NAT gateway, database subnets nowhere outside the VPC. Routes are separate
 * resources so other layers (DR peering) can add routes to these tables.
 */
export class Vpc extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly internetGateway: aws.ec2.InternetGateway;
  readonly defaultSecurityGroup: aws.ec2.DefaultSecurityGroup;
  readonly natGateways: aws.ec2.NatGateway[];
  /** The NAT gateways with the zone each one sits in, ordered by zone. */
  readonly natGatewayZones: ReadonlyArray<{
    readonly availabilityZone: string;
    readonly id: pulumi.Output<string>;
  }>;
  /** Subnet ids per tier, ordered by zone. */
  readonly subnetIds: PerTier<pulumi.Output<string>>;
  /** Subnet CIDRs per tier, ordered by zone (known before deployment). */
  readonly subnetCidrs: PerTier<string>;
  /** Route table ids per tier, ordered by zone. */
  readonly routeTableIds: PerTier<pulumi.Output<string>>;

  constructor(name: string, args: VpcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:Vpc", name, {}, opts);
    const child = { parent: this };
    const zones = args.availabilityZones;
    const plan = planSubnets(args.cidrBlock, zones.length);
    const label = (...parts: string[]) => [args.namePrefix, ...parts].join("-");

    this.vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: args.cidrBlock,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        instanceTenancy: "default",
        tags: { Name: label("vpc") },
      },
      child,
    );
    this.defaultSecurityGroup = new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: this.vpc.id, ingress: [], egress: [], tags: { Name: label("default-unused") } },
      child,
    );
    this.internetGateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: this.vpc.id, tags: { Name: label("igw") } },
      child,
    );

    const subnets = {} as Record<SubnetTier, aws.ec2.Subnet[]>;
    const tables = {} as Record<SubnetTier, aws.ec2.RouteTable[]>;
    for (const tier of SUBNET_TIERS) {
      subnets[tier] = [];
      tables[tier] = [];
      for (const planned of plan.filter((s) => s.tier === tier)) {
        const zone = zones[planned.azIndex];
        const subnet = new aws.ec2.Subnet(
          `${name}-${tier}-${zone}`,
          {
            vpcId: this.vpc.id,
            cidrBlock: planned.cidr,
            availabilityZone: zone,
            // Public subnets hold load balancers and NAT gateways only; nothing gets a public IP by default.
            mapPublicIpOnLaunch: false,
            tags: { Name: label(tier, zone), "hcp.io/tier": tier, ...LOAD_BALANCER_ROLE_TAGS[tier] },
          },
          child,
        );
        const table = new aws.ec2.RouteTable(
          `${name}-${tier}-${zone}-rt`,
          { vpcId: this.vpc.id, tags: { Name: label(tier, zone, "rt"), "hcp.io/tier": tier } },
          child,
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-${tier}-${zone}-rta`,
          { subnetId: subnet.id, routeTableId: table.id },
          child,
        );
        subnets[tier].push(subnet);
        tables[tier].push(table);
      }
    }

    tables.public.forEach((table, i) => {
      new aws.ec2.Route(
        `${name}-public-${zones[i]}-internet`,
        { routeTableId: table.id, destinationCidrBlock: ANYWHERE, gatewayId: this.internetGateway.id },
        child,
      );
    });

    const layout = natLayout(args.natGateways, zones.length);
    const gateways = new Map<number, aws.ec2.NatGateway>();
    for (const z of layout.gatewayZones) {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${zones[z]}-eip`,
        { domain: "vpc", tags: { Name: label("nat", zones[z]) } },
        child,
      );
      gateways.set(
        z,
        new aws.ec2.NatGateway(
          `${name}-nat-${zones[z]}`,
          {
            connectivityType: "public",
            allocationId: eip.allocationId,
            subnetId: subnets.public[z].id,
            tags: { Name: label("nat", zones[z]) },
          },
          { parent: this, dependsOn: [this.internetGateway] },
        ),
      );
    }
    this.natGateways = [...gateways.values()];
    this.natGatewayZones = [...gateways.entries()].map(([z, gateway]) => ({
      availabilityZone: zones[z],
      id: gateway.id,
    }));
    tables.private.forEach((table, i) => {
      const gateway = gateways.get(layout.egressZoneFor[i])!;
      new aws.ec2.Route(
        `${name}-private-${zones[i]}-egress`,
        { routeTableId: table.id, destinationCidrBlock: ANYWHERE, natGatewayId: gateway.id },
        child,
      );
    });
    // Database route tables get no route: only the VPC's implicit local route (and peering routes
    // the DR layer adds), so the tier has no path to or from the internet.

    const ids = <T extends { id: pulumi.Output<string> }>(byTier: Record<SubnetTier, T[]>) => ({
      public: byTier.public.map((r) => r.id),
      private: byTier.private.map((r) => r.id),
      database: byTier.database.map((r) => r.id),
    });
    this.subnetIds = ids(subnets);
    this.routeTableIds = ids(tables);
    const cidrs = (tier: SubnetTier) => plan.filter((s) => s.tier === tier).map((s) => s.cidr);
    this.subnetCidrs = { public: cidrs("public"), private: cidrs("private"), database: cidrs("database") };
    this.registerOutputs({
      vpcId: this.vpc.id,
      subnetIds: this.subnetIds,
      routeTableIds: this.routeTableIds,
    });
  }
}
