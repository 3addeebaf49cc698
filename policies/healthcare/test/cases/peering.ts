import type { ArgsOf } from "../../src/lib";
import { type Case, cases, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";

const route = (props: Partial<ArgsOf<"aws:ec2/route:Route">>) =>
  res("aws:ec2/route:Route", "peering-requester-private-us-east-1a", {
    routeTableId: "rtb-1",
    vpcPeeringConnectionId: "pcx-1",
    destinationCidrBlock: "10.20.0.0/16",
    ...props,
  });

const connection = (props: Partial<ArgsOf<"aws:ec2/vpcPeeringConnection:VpcPeeringConnection">>) =>
  res("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "peering-connection", {
    vpcId: "vpc-dr",
    peerVpcId: "vpc-primary",
    peerOwnerId: "111122223333",
    peerRegion: "sa-east-1",
    autoAccept: false,
    ...props,
  });

const accepter = (autoAccept: boolean | undefined) =>
  res("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "peering-accepter", {
    vpcPeeringConnectionId: "pcx-1",
    ...(autoAccept === undefined ? {} : { autoAccept }),
  });

export const peeringCases: Case[] = [
  ...cases("vpc-peering-routes-scoped", [
    { kind: "pass", title: "the peer VPC's /16", resource: route({}), expect: pass },
    {
      kind: "pass",
      title: "a default route to a NAT gateway (not over a peering)",
      resource: route({
        vpcPeeringConnectionId: undefined,
        natGatewayId: "nat-1",
        destinationCidrBlock: "0.0.0.0/0",
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a default route to the peering",
      resource: route({ destinationCidrBlock: "0.0.0.0/0" }),
      expect: violation(/sends 0.0.0.0\/0 to a VPC peering connection/),
    },
    {
      kind: "fail",
      title: "a block wider than a VPC",
      resource: route({ destinationCidrBlock: "10.0.0.0/8" }),
      expect: violation(/wider than a VPC \(\/16\)/),
    },
    {
      kind: "fail",
      title: "an IPv6 default route to the peering",
      resource: route({ destinationCidrBlock: undefined, destinationIpv6CidrBlock: "::/0" }),
      expect: violation(/sends ::\/0/),
    },
    {
      kind: "unknown",
      title: "the destination computed from another stack",
      resource: route({ destinationCidrBlock: unknown.string() }),
      expect: preview,
    },
    {
      kind: "pass",
      title: "the peer's /16 over a peering not created yet (preview)",
      resource: route({ vpcPeeringConnectionId: unknown.string() }),
      expect: pass,
    },
  ]),
  ...cases("vpc-peering-explicit-peer", [
    {
      kind: "pass",
      title: "cross-region, requested without auto-accept",
      resource: connection({}),
      expect: pass,
    },
    { kind: "pass", title: "the accepter accepts", resource: accepter(true), expect: pass },
    {
      kind: "fail",
      title: "no peer account",
      resource: connection({ peerOwnerId: undefined }),
      expect: violation(/does not set peerOwnerId/),
    },
    {
      kind: "fail",
      title: "auto-accept on a cross-region request",
      resource: connection({ autoAccept: true }),
      expect: violation(/autoAccept is true on a cross-region peering/),
    },
    {
      kind: "fail",
      title: "an accepter that does not accept",
      resource: accepter(undefined),
      expect: violation(/stays pending-acceptance/),
    },
    {
      kind: "unknown",
      title: "auto-accept computed in a preview",
      resource: connection({ autoAccept: unknown.boolean() }),
      expect: preview,
    },
    {
      kind: "pass",
      title: "the peer VPC from another stack (unknown in a preview) is set",
      resource: connection({ peerVpcId: unknown.string() }),
      expect: pass,
    },
  ]),
];
