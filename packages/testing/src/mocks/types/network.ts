import { arn, dnsSuffix, type MockResourceContext, type OutputsFn, str } from "../values";

/** Structured outputs of the network layer's EC2 types (ARNs with real ids, owner account, IPs). */

/** The id the mocks give an EC2 resource (see `mockId`): `<prefix>-<token of "id">`. */
function ec2Id(ctx: MockResourceContext, prefix: string): string {
  return `${prefix}-${ctx.token("id")}`;
}

/** A documentation-range (RFC 5737) address derived from a token, so it is stable per resource. */
function testNetAddress(ctx: MockResourceContext, attr: string): string {
  const t = ctx.token(attr);
  return `198.51.100.${(parseInt(t.slice(0, 2), 16) % 254) + 1}`;
}

/** A private address inside the first block of a CIDR (`10.20.0.0/19` -> `10.20.0.x`). */
function addressIn(ctx: MockResourceContext, cidr: string | undefined, attr: string): string {
  const base = (cidr ?? "10.0.0.0/24").split("/")[0].split(".").slice(0, 3).join(".");
  return `${base}.${(parseInt(ctx.token(attr).slice(0, 2), 16) % 250) + 4}`;
}

function ownedEc2(kind: string, prefix: string): OutputsFn {
  return (ctx) => ({
    arn: arn(ctx, "ec2", `${kind}/${ec2Id(ctx, prefix)}`),
    ownerId: ctx.accountId,
  });
}

export const NETWORK_OUTPUTS: Record<string, OutputsFn> = {
  "aws:ec2/subnet:Subnet": ownedEc2("subnet", "subnet"),
  "aws:ec2/routeTable:RouteTable": ownedEc2("route-table", "rtb"),
  "aws:ec2/internetGateway:InternetGateway": ownedEc2("internet-gateway", "igw"),
  "aws:ec2/networkAcl:NetworkAcl": ownedEc2("network-acl", "acl"),
  "aws:ec2/securityGroup:SecurityGroup": ownedEc2("security-group", "sg"),
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (ctx) => ({
    ...ownedEc2("security-group", "sg")(ctx),
    name: "default",
    description: "default VPC security group",
  }),
  "aws:ec2/eip:Eip": (ctx) => {
    const ip = testNetAddress(ctx, "publicIp");
    return {
      allocationId: ec2Id(ctx, "eipalloc"),
      arn: arn(ctx, "ec2", `elastic-ip/${ec2Id(ctx, "eipalloc")}`),
      publicIp: ip,
      publicDns: `ec2-${ip.replace(/\./g, "-")}.${ctx.region}.compute.${dnsSuffix(ctx.partition)}`,
      associationId: "",
      carrierIp: "",
      customerOwnedIp: "",
      privateDns: "",
      privateIp: "",
      ptrRecord: "",
    };
  },
  "aws:ec2/natGateway:NatGateway": (ctx) => ({
    networkInterfaceId: `eni-${ctx.token("eni")}`,
    associationId: `eipassoc-${ctx.token("assoc")}`,
    publicIp: testNetAddress(ctx, "publicIp"),
    privateIp: addressIn(ctx, undefined, "privateIp"),
  }),
  "aws:ec2/route:Route": () => ({
    origin: "CreateRoute",
    state: "active",
    instanceId: "",
    instanceOwnerId: "",
  }),
  "aws:ec2/vpcEndpoint:VpcEndpoint": (ctx) => {
    const id = ec2Id(ctx, "vpce");
    const service = str(ctx.inputs["serviceName"]) ?? "";
    const subnets = Array.isArray(ctx.inputs["subnetIds"]) ? ctx.inputs["subnetIds"] : [];
    const isGateway = ctx.inputs["vpcEndpointType"] === "Gateway";
    // com.amazonaws.<region>.ecr.api -> vpce-<id>.api.ecr.<region>.vpce.amazonaws.com
    const host = service.split(".").slice(3).reverse().join(".");
    return {
      arn: arn(ctx, "ec2", `vpc-endpoint/${id}`),
      ownerId: ctx.accountId,
      state: "available",
      requesterManaged: false,
      networkInterfaceIds: subnets.map((_, i) => `eni-${ctx.token(`eni${i}`)}`),
      dnsEntries: isGateway
        ? []
        : [
            {
              dnsName: `${id}.${host}.${ctx.region}.vpce.${dnsSuffix(ctx.partition)}`,
              hostedZoneId: `Z${ctx.token("zone").toUpperCase().slice(0, 12)}`,
            },
          ],
      prefixListId: isGateway ? `pl-${ctx.token("prefixList").slice(0, 8)}` : "",
      cidrBlocks: [],
    };
  },
  "aws:ec2/flowLog:FlowLog": (ctx) => ({
    arn: arn(ctx, "ec2", `vpc-flow-log/fl-${ctx.token("id")}`),
  }),
};
