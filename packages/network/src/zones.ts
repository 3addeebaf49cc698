import type { NatGatewayMode } from "@hcp/platform";

/**
 * Zone selection and NAT layout: which Availability Zones a region's VPC uses and which zone's NAT
 * gateway each private subnet sends its egress through.
 */

/**
 * The first `count` zones of a region, in name order (`sa-east-1a`, `sa-east-1b`, ...). Name order
 * keeps subnet `i` of the CIDR plan in the same zone on every run. Throws when the region offers
 * fewer zones than configured.
 */
export function selectZones(available: readonly string[], count: number, region: string): string[] {
  const zones = [...new Set(available)].sort();
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`azCount must be a positive integer, got ${count}`);
  }
  if (zones.length < count) {
    throw new Error(
      `${region} has ${zones.length} available Availability Zones (${zones.join(", ") || "none"}), but azCount is ${count}. ` +
        `Fix: lower healthcare-platform:regions[].azCount for ${region} to ${zones.length} or fewer.`,
    );
  }
  return zones.slice(0, count);
}

/** Where NAT gateways live and which one each zone's private subnet routes through. */
export interface NatLayout {
  /** Zone indexes (into the selected zones) that get a NAT gateway in their public subnet. */
  readonly gatewayZones: readonly number[];
  /** For each zone index, the zone index of the NAT gateway its private subnet uses. */
  readonly egressZoneFor: readonly number[];
}

/**
 * The NAT layout of a mode: `perAz` gives every zone its own gateway (a zone outage leaves the other
 * zones' egress intact); `single` puts one gateway in the first zone for all of them.
 */
export function natLayout(mode: NatGatewayMode, azCount: number): NatLayout {
  const zones = Array.from({ length: azCount }, (_, i) => i);
  switch (mode) {
    case "perAz":
      return { gatewayZones: zones, egressZoneFor: zones };
    case "single":
      return { gatewayZones: [0], egressZoneFor: zones.map(() => 0) };
  }
}
