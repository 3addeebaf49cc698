import type { EnvironmentTopology, RegionConfig } from "@hcp/platform";
import { ENV } from "@hcp/postgres";

/**
 * Pure decisions of the DR layer (no Pulumi, no I/O): the peering routes, which Availability Zones
 * the route tables belong to, the replica ARNs of the primary's secrets, and the credentials a DR
 * region needs. The components and the program only wire these.
 */

/** Route table tiers that get a route to the peer VPC (the public tier never does). */
export const PEERED_TIERS = ["private", "database"] as const;
export type PeeredTier = (typeof PEERED_TIERS)[number];

/** One route over the peering: in `side`'s VPC, to the other side's CIDR. */
export interface PeeringRoute {
  /** `requester` = the DR VPC, `accepter` = the primary VPC. */
  readonly side: "requester" | "accepter";
  readonly tier: PeeredTier;
  /** Zone of the route table (its identity together with the tier). */
  readonly zone: string;
  /** Position of the table in the network contract's `routeTableIds[tier]` (ordered by zone). */
  readonly index: number;
  /** Destination: exactly the peer VPC's block, never a wider one. */
  readonly destinationCidr: string;
}

/**
 * The first `count` zones in name order, the rule the network layer lays its subnets out by (so the
 * route table at position `i` of a tier is in zone `i` of this list). The program checks the result
 * against the network contract's `availabilityZones` before using a table.
 */
export function zonesInUse(available: readonly string[], count: number, region: string): string[] {
  const zones = [...new Set(available)].sort();
  if (zones.length < count) {
    throw new Error(
      `${region} offers ${zones.length} Availability Zones (${zones.join(", ")}), the network uses ${count}.`,
    );
  }
  return zones.slice(0, count);
}

/** Every peering route of a DR region: each private and database table of both VPCs, to the other VPC. */
export function peeringRoutes(
  dr: { readonly region: RegionConfig; readonly zones: readonly string[] },
  primary: { readonly region: RegionConfig; readonly zones: readonly string[] },
): PeeringRoute[] {
  const side = (
    name: PeeringRoute["side"],
    own: { readonly zones: readonly string[] },
    peerCidr: string,
  ): PeeringRoute[] =>
    PEERED_TIERS.flatMap((tier) =>
      own.zones.map((zone, index) => ({ side: name, tier, zone, index, destinationCidr: peerCidr })),
    );
  return [...side("requester", dr, primary.region.vpcCidr), ...side("accepter", primary, dr.region.vpcCidr)];
}

/**
 * The ARN of a Secrets Manager secret's replica in another region. A replica keeps the primary
 * secret's name and random suffix; only the region field of the ARN differs.
 */
export function replicaSecretArn(primaryArn: string, region: string): string {
  const parts = primaryArn.split(":");
  if (parts.length < 7 || parts[0] !== "arn" || parts[2] !== "secretsmanager" || parts[5] !== "secret") {
    throw new Error(`not a Secrets Manager secret ARN: ${primaryArn}`);
  }
  parts[3] = region;
  return parts.join(":");
}

/**
 * Credentials (the data layer's names) the DR region's pods read, and the Kubernetes Secret key each
 * becomes. The standby is a physical copy of the primary, so these are the primary's passwords.
 */
export const PATRONI_CREDENTIALS = {
  superuser: ENV.superuserPassword,
  replication: ENV.replicationPassword,
  rewind: ENV.rewindPassword,
  restApi: ENV.restApiPassword,
} as const;

/** The credential PgBouncer's auth_file holds. */
export const PGBOUNCER_AUTH_CREDENTIAL = "pgbouncerAuth";

/** The metrics role's credential: its password is in the PgBouncer auth_file (the exporter's admin-console login). */
export const MONITORING_CREDENTIAL = "monitoring";

/** The password field of a credential secret written by `@hcp/postgres`'s `DatabaseSecrets`. */
export function passwordOf(secretString: string, what: string): string {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new Error(`${what}: the secret is not JSON`);
  }
  const password = (value as { password?: unknown }).password;
  if (typeof password !== "string" || password.length === 0) {
    throw new Error(`${what}: the secret has no password field`);
  }
  return password;
}

/** The CA escrow secret written by `DataTierTls` (`{ certificatePem, privateKeyPem }`). */
export function caOf(secretString: string): { certificatePem: string; privateKeyPem: string } {
  const value = JSON.parse(secretString) as { certificatePem?: unknown; privateKeyPem?: unknown };
  if (typeof value.certificatePem !== "string" || typeof value.privateKeyPem !== "string") {
    throw new Error("the CA escrow secret has no certificatePem/privateKeyPem");
  }
  return { certificatePem: value.certificatePem, privateKeyPem: value.privateKeyPem };
}

/** `standby` while the region follows the writer, `promoted` once it is the writer. */
export function drMode(topology: EnvironmentTopology, region: string): "standby" | "promoted" {
  return topology.dr.promotedRegion === region ? "promoted" : "standby";
}
