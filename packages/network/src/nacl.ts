import { DATA_TIER_SERVICE_PORTS } from "@hcp/kube";
import { type Cidr, formatCidr, lastAddress, parseCidr } from "@hcp/platform";

/**
 * The database tier's network ACL as data. NACLs are stateless: every allowed inbound connection
 * needs an outbound rule for its replies (to the client's ephemeral port).
 */

/**
 * Ports the database subnets accept: the data tier's (PostgreSQL, PgBouncer, the Patroni REST API),
 * as the data tier defines them.
 */
export const DATABASE_PORTS = DATA_TIER_SERVICE_PORTS;

/** Client source ports replies go back to (covers Linux, NLB and NAT ephemeral ranges). */
export const EPHEMERAL_PORTS = { from: 1024, to: 65535 } as const;

/** Default AWS quota of rules per direction of one network ACL. */
export const NACL_RULES_PER_DIRECTION = 20;

/** First rule number and step: gaps leave room for manual emergency rules in between. */
const FIRST_RULE = 100;
const RULE_STEP = 10;

/** One network ACL entry (an `aws.ec2.NetworkAclRule`). */
export interface NaclRule {
  readonly ruleNumber: number;
  readonly egress: boolean;
  readonly protocol: "tcp";
  readonly ruleAction: "allow";
  readonly cidrBlock: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** What the rule is for (becomes part of the resource name). */
  readonly purpose: string;
}

/**
 * The smallest list of CIDR blocks that covers exactly the addresses of `cidrs` (overlapping and
 * adjacent blocks merged, then cut into aligned blocks), sorted by address. Three /19 private
 * subnets of a /17 become one /18 and one /19.
 */
export function aggregateCidrs(cidrs: readonly string[]): string[] {
  const ranges = cidrs
    .map(parseCidr)
    .map((c) => [c.network, lastAddress(c)] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1] + 1) {
      last[1] = Math.max(last[1], end);
    } else {
      merged.push([start, end]);
    }
  }
  const out: Cidr[] = [];
  for (const [start, end] of merged) {
    let cur = start;
    while (cur <= end) {
      // The largest aligned block starting at `cur` that does not pass `end`.
      let prefix = 32;
      while (prefix > 0) {
        const size = 2 ** (32 - (prefix - 1));
        if (cur % size !== 0 || cur + size - 1 > end) {
          break;
        }
        prefix--;
      }
      out.push({ network: cur, prefix });
      cur += 2 ** (32 - prefix);
    }
  }
  return out.map(formatCidr);
}

/** Inputs of {@link databaseNaclRules}. */
export interface DatabaseNaclInputs {
  /** CIDRs of this VPC's private subnets (where the cluster's pods live). */
  readonly privateSubnetCidrs: readonly string[];
  /** VPC CIDRs of the environment's other regions (DR replication over peering). */
  readonly peerVpcCidrs: readonly string[];
}

/**
 * The database tier's rules: inbound PostgreSQL / PgBouncer / Patroni REST from the private subnets
 * and the peer regions' VPCs only, and outbound replies to those same sources on ephemeral ports.
 * Nothing else is allowed (every NACL ends in an implicit deny). Sources are aggregated so the rule
 * count stays within the default quota; throws if it would not.
 */
export function databaseNaclRules(inputs: DatabaseNaclInputs): NaclRule[] {
  const local = aggregateCidrs(inputs.privateSubnetCidrs);
  const peers = aggregateCidrs(inputs.peerVpcCidrs).filter((c) => !local.includes(c));
  const sources = [
    ...local.map((cidr) => ({ cidr, label: "private" })),
    ...peers.map((cidr) => ({ cidr, label: "peer" })),
  ];
  const ingress: NaclRule[] = [];
  const egress: NaclRule[] = [];
  for (const source of sources) {
    for (const service of DATABASE_PORTS) {
      ingress.push({
        ruleNumber: FIRST_RULE + RULE_STEP * ingress.length,
        egress: false,
        protocol: "tcp",
        ruleAction: "allow",
        cidrBlock: source.cidr,
        fromPort: service.port,
        toPort: service.port,
        purpose: `${service.name}-from-${source.label}-${cidrSlug(source.cidr)}`,
      });
    }
    egress.push({
      ruleNumber: FIRST_RULE + RULE_STEP * egress.length,
      egress: true,
      protocol: "tcp",
      ruleAction: "allow",
      cidrBlock: source.cidr,
      fromPort: EPHEMERAL_PORTS.from,
      toPort: EPHEMERAL_PORTS.to,
      purpose: `replies-to-${source.label}-${cidrSlug(source.cidr)}`,
    });
  }
  if (ingress.length > NACL_RULES_PER_DIRECTION) {
    throw new Error(
      `The database network ACL needs ${ingress.length} inbound rules (${sources.length} sources x ${DATABASE_PORTS.length} ports), ` +
        `above the default quota of ${NACL_RULES_PER_DIRECTION}. Fix: use fewer peer regions or adjacent VPC CIDRs, ` +
        `or raise the "Rules per network ACL" quota and NACL_RULES_PER_DIRECTION together.`,
    );
  }
  return [...ingress, ...egress];
}

/** A CIDR block as a name segment: `10.30.0.0/16` -> `10-30-0-0-16`. */
export function cidrSlug(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}

/** VPC CIDRs of the environment's regions other than `region`, in config order. */
export function peerVpcCidrs(
  regions: ReadonlyArray<{ readonly name: string; readonly vpcCidr: string }>,
  region: string,
): string[] {
  return regions.filter((r) => r.name !== region).map((r) => r.vpcCidr);
}
