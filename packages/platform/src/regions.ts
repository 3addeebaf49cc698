/**
 * The AWS regions this platform may be configured for, with the facts the config schema and the
 * policies need: the ISO 3166-1 country the region's data centres are in (LGPD Art. 33 residency),
 * the partition (for ARNs; never hard-code `arn:aws:`) and how many Availability Zones a new account
 * is offered there (some regions have more zones that are restricted to older accounts).
 */
export interface RegionInfo {
  /** AWS region code, e.g. `sa-east-1`. */
  readonly name: string;
  /** ISO 3166-1 alpha-2 country code of the region's location. */
  readonly country: string;
  /** AWS partition the region belongs to. */
  readonly partition: "aws" | "aws-us-gov";
  /** Availability Zones a new account can use in the region. */
  readonly azCount: number;
}

const table: ReadonlyArray<readonly [string, string, RegionInfo["partition"], number]> = [
  ["af-south-1", "ZA", "aws", 3],
  ["ap-east-1", "HK", "aws", 3],
  ["ap-northeast-1", "JP", "aws", 3],
  ["ap-northeast-2", "KR", "aws", 4],
  ["ap-northeast-3", "JP", "aws", 3],
  ["ap-south-1", "IN", "aws", 3],
  ["ap-south-2", "IN", "aws", 3],
  ["ap-southeast-1", "SG", "aws", 3],
  ["ap-southeast-2", "AU", "aws", 3],
  ["ap-southeast-3", "ID", "aws", 3],
  ["ap-southeast-4", "AU", "aws", 3],
  ["ca-central-1", "CA", "aws", 3],
  ["ca-west-1", "CA", "aws", 3],
  ["eu-central-1", "DE", "aws", 3],
  ["eu-central-2", "CH", "aws", 3],
  ["eu-north-1", "SE", "aws", 3],
  ["eu-south-1", "IT", "aws", 3],
  ["eu-south-2", "ES", "aws", 3],
  ["eu-west-1", "IE", "aws", 3],
  ["eu-west-2", "GB", "aws", 3],
  ["eu-west-3", "FR", "aws", 3],
  ["il-central-1", "IL", "aws", 3],
  ["me-central-1", "AE", "aws", 3],
  ["me-south-1", "BH", "aws", 3],
  ["mx-central-1", "MX", "aws", 3],
  ["sa-east-1", "BR", "aws", 3],
  ["us-east-1", "US", "aws", 6],
  ["us-east-2", "US", "aws", 3],
  ["us-west-1", "US", "aws", 2],
  ["us-west-2", "US", "aws", 4],
  ["us-gov-east-1", "US", "aws-us-gov", 3],
  ["us-gov-west-1", "US", "aws-us-gov", 3],
];

/** Every region the platform knows, keyed by region code. */
export const REGIONS: ReadonlyMap<string, RegionInfo> = new Map(
  table.map(([name, country, partition, azCount]) => [name, { name, country, partition, azCount }]),
);

/** Region codes in a stable order, for error messages. */
export const REGION_NAMES: readonly string[] = [...REGIONS.keys()];

/** Looks a region up; `undefined` for a region the platform does not know. */
export function regionInfo(name: string): RegionInfo | undefined {
  return REGIONS.get(name);
}

/**
 * Looks a region up and throws if it is unknown. Use only on regions that already passed config
 * validation; user input goes through the schema, which reports unknown regions properly.
 */
export function requireRegion(name: string): RegionInfo {
  const info = REGIONS.get(name);
  if (!info) {
    throw new Error(`Unknown AWS region '${name}'. Known regions: ${REGION_NAMES.join(", ")}.`);
  }
  return info;
}
