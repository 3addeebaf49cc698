/**
 * IPv4 CIDR arithmetic and the per-region subnet plan. Pure functions: the network layer, the config
 * validation and the tests all use these, so a plan is computed the same way everywhere.
 */

/** A parsed IPv4 CIDR block. `network` is the first address as an unsigned 32-bit integer. */
export interface Cidr {
  readonly network: number;
  readonly prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Why a string is not a usable CIDR block, or `undefined` when it is one. */
export function cidrProblem(text: string): string | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) {
    return "is not in a.b.c.d/n notation";
  }
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) {
    return "has an octet above 255";
  }
  const prefix = Number(m[5]);
  if (prefix > 32) {
    return "has a prefix length above 32";
  }
  const address = toInt(octets);
  const network = (address & mask(prefix)) >>> 0;
  if (network !== address) {
    return `has host bits set (the network address of /${prefix} is ${formatCidr({ network, prefix }).split("/")[0]})`;
  }
  return undefined;
}

/** Parses a canonical CIDR block; throws with the reason when it is not one. */
export function parseCidr(text: string): Cidr {
  const problem = cidrProblem(text);
  if (problem) {
    throw new Error(`'${text}' ${problem}.`);
  }
  const m = CIDR_RE.exec(text)!;
  return { network: toInt(m.slice(1, 5).map(Number)), prefix: Number(m[5]) };
}

/** Formats a block as `a.b.c.d/n`. */
export function formatCidr(cidr: Cidr): string {
  const n = cidr.network;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${cidr.prefix}`;
}

/** Number of addresses in the block. */
export function size(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** Last address of the block, as an unsigned integer. */
export function lastAddress(cidr: Cidr): number {
  return cidr.network + size(cidr) - 1;
}

/** True when the two blocks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.network >= outer.network && lastAddress(inner) <= lastAddress(outer);
}

/** The RFC 1918 private ranges, the only ones a VPC of this platform may use. */
export const PRIVATE_RANGES: readonly Cidr[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(
  parseCidr,
);

/** True when the block lies inside one RFC 1918 range. */
export function isPrivate(cidr: Cidr): boolean {
  return PRIVATE_RANGES.some((range) => contains(range, cidr));
}

/**
 * The `index`-th block of prefix `newPrefix` inside `parent`. Throws if it does not fit, which
 * would be a bug in the plan, not a user error.
 */
export function subdivide(parent: Cidr, newPrefix: number, index: number): Cidr {
  if (newPrefix < parent.prefix || newPrefix > 32) {
    throw new Error(`cannot cut /${newPrefix} blocks out of ${formatCidr(parent)}`);
  }
  const count = 2 ** (newPrefix - parent.prefix);
  if (index < 0 || index >= count) {
    throw new Error(`${formatCidr(parent)} holds ${count} /${newPrefix} blocks; index ${index} is outside`);
  }
  return { network: parent.network + index * 2 ** (32 - newPrefix), prefix: newPrefix };
}

/** The tiers of the subnet plan. */
export type SubnetTier = "public" | "private" | "database";

/** Subnet tiers in plan order. */
export const SUBNET_TIERS: readonly SubnetTier[] = ["public", "private", "database"];

/** One subnet of a region's plan. */
export interface PlannedSubnet {
  readonly tier: SubnetTier;
  /** Index of the Availability Zone (0-based, in the order the network layer picks zones). */
  readonly azIndex: number;
  readonly cidr: string;
}

/** Smallest subnet AWS allows. */
export const MIN_SUBNET_PREFIX = 28;
/** Largest VPC AWS allows. */
export const MIN_VPC_PREFIX = 16;

/**
 * Bits of a tier's block used for the zone slot: each tier is cut into 4 slots (8 for 5-6 zones),
 * a fixed number so that a zone added later (up to 4) gets a free slot and no subnet moves.
 */
function zoneBits(azCount: number): number {
  return azCount <= 4 ? 2 : 3;
}

/** The longest VPC prefix the plan supports for a given number of AZs. */
export function maxVpcPrefix(azCount: number): number {
  return MIN_SUBNET_PREFIX - 2 - zoneBits(azCount);
}

/**
 * The subnet plan of a VPC: the first half of the block is private subnets (EKS pods take their
 * addresses from these with the VPC CNI, so they get the most room); the third quarter holds the
 * public subnets and the last quarter the database subnets. Each tier is cut into 4 equal slots (8
 * when there are more than 4 zones) and zone `i` gets slot `i`, so adding a zone, up to the fourth,
 * never moves an existing subnet. For a /16: private /19s, public and database /20s.
 */
export function planSubnets(vpcCidr: string, azCount: number): PlannedSubnet[] {
  const vpc = parseCidr(vpcCidr);
  if (!Number.isInteger(azCount) || azCount < 1) {
    throw new Error(`azCount must be a positive integer, got ${azCount}`);
  }
  if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > maxVpcPrefix(azCount)) {
    throw new Error(
      `${vpcCidr} cannot hold ${azCount} zones of subnets: the prefix must be /${MIN_VPC_PREFIX} to /${maxVpcPrefix(azCount)}`,
    );
  }
  const bits = zoneBits(azCount);
  const privateHalf = subdivide(vpc, vpc.prefix + 1, 0);
  const publicQuarter = subdivide(vpc, vpc.prefix + 2, 2);
  const databaseQuarter = subdivide(vpc, vpc.prefix + 2, 3);
  const tierBlocks: Record<SubnetTier, Cidr> = {
    public: publicQuarter,
    private: privateHalf,
    database: databaseQuarter,
  };
  const plan: PlannedSubnet[] = [];
  for (const tier of SUBNET_TIERS) {
    const block = tierBlocks[tier];
    for (let azIndex = 0; azIndex < azCount; azIndex++) {
      plan.push({ tier, azIndex, cidr: formatCidr(subdivide(block, block.prefix + bits, azIndex)) });
    }
  }
  return plan;
}

function toInt(octets: number[]): number {
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}
