import { type Rule, resourceRule } from "../policy";
import { known } from "../unknowns";

/**
 * Inter-region peering of the DR layer: a peering connection is explicit about its peer (VPC and
 * account, accepted by the peer region's own accepter), and routes over it carry only a VPC-sized
 * block (never a default route), so the peering cannot become a path to anywhere but the peer VPC.
 */

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** Widest block a route over a peering may carry: an AWS VPC is at most a /16. */
const WIDEST_PEER_PREFIX = 16;

/** Routes over a VPC peering connection only to the peer VPC's block. */
export const peeringRoutesScoped = resourceRule({
  name: "vpc-peering-routes-scoped",
  concern: "network-security",
  description:
    "A route over a VPC peering connection must carry a VPC-sized IPv4 block (/16 or narrower, the peer VPC's CIDR), never 0.0.0.0/0 or ::/0, so the peering is not a path to anything but the peer VPC.",
  remediationSteps:
    "Set destinationCidrBlock to the peer VPC's CIDR (the topology's vpcCidr of the other region); never route a default route to a peering connection.",
  severity: "high",
  enforcementLevel: "mandatory",
  // A route wider than the peer VPC turns the peering into a path to anything behind it (access
  // control and transmission security of the replication traffic).
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-routing.html"],
  },
  evidence: {
    properties: {
      "aws:ec2/route:Route": [
        "destinationCidrBlock",
        "destinationIpv6CidrBlock",
        "destinationPrefixListId",
        "vpcPeeringConnectionId",
      ],
    },
  },
  checks: {
    "aws:ec2/route:Route": (props, { report }) => {
      // The destination first: a VPC-sized IPv4 block is fine whatever the target, so the target
      // (unknown in a preview until the peering exists) is read only for a wider destination.
      const v4 = props.destinationCidrBlock;
      const v6 = props.destinationIpv6CidrBlock;
      const prefix = Number(/\/(\d+)$/.exec(v4 ?? "")?.[1] ?? NaN);
      if (v6 === undefined && props.destinationPrefixListId === undefined && prefix >= WIDEST_PEER_PREFIX) {
        return;
      }
      if (props.vpcPeeringConnectionId === undefined) {
        return;
      }
      for (const block of [v4, v6]) {
        if (block !== undefined && ANYWHERE.includes(block)) {
          report(
            `the route sends ${block} to a VPC peering connection: only the peer VPC's block may go there.`,
          );
          return;
        }
      }
      if (v6 !== undefined || props.destinationPrefixListId !== undefined) {
        report(
          "the route over a VPC peering connection is not an IPv4 block: the peer VPCs are IPv4 /16 blocks.",
        );
        return;
      }
      report(
        `the route sends ${v4 ?? "no block"} to a VPC peering connection: wider than a VPC (/${WIDEST_PEER_PREFIX}); use the peer VPC's CIDR.`,
      );
    },
  },
});

/** A peering connection names its peer and is accepted by the peer region's accepter. */
export const peeringExplicitPeer = resourceRule({
  name: "vpc-peering-explicit-peer",
  concern: "network-security",
  description:
    "A VPC peering connection must name the peer VPC and the peer account (peerVpcId, peerOwnerId); a cross-region one (peerRegion) is requested with autoAccept false and accepted by a VpcPeeringConnectionAccepter in the peer region with autoAccept true, so neither side depends on a manual console step or an implicit account.",
  remediationSteps:
    "Set peerVpcId and peerOwnerId (the environment's account) on the connection, autoAccept: false when peerRegion is set, and accept it with aws.ec2.VpcPeeringConnectionAccepter (autoAccept: true) through the peer region's provider.",
  severity: "medium",
  enforcementLevel: "mandatory",
  // Which VPC and account the data tier's network is joined to is an access-control decision made
  // in code, not by whoever accepts a pending request in the console.
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://docs.aws.amazon.com/vpc/latest/peering/create-vpc-peering-connection.html",
      "https://docs.aws.amazon.com/vpc/latest/peering/accept-vpc-peering-connection.html",
    ],
  },
  evidence: {
    properties: {
      "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": [
        "peerVpcId",
        "peerOwnerId",
        "peerRegion",
        "autoAccept",
      ],
      "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": ["autoAccept"],
    },
  },
  checks: {
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (props, { report }) => {
      // A value computed in a preview (the peer VPC from a stack reference) is set: only an absent one fails.
      const missing = (["peerVpcId", "peerOwnerId"] as const).filter(
        (k) => known(() => props[k]) === undefined,
      );
      if (missing.length > 0) {
        report(`the peering connection does not set ${missing.join(" and ")}.`);
      }
      if (props.peerRegion !== undefined && props.autoAccept === true) {
        report(
          "autoAccept is true on a cross-region peering (peerRegion set): only the accepter in the peer region can accept it.",
        );
      }
    },
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": (props, { report }) => {
      if (props.autoAccept !== true) {
        report("the accepter does not set autoAccept: true, so the connection stays pending-acceptance.");
      }
    },
  },
});

export const peeringRules: readonly Rule[] = [peeringRoutesScoped, peeringExplicitPeer];
