import type { PublicEndpoint, RegionRole } from "@hcp/platform";

/** Where every health-check alarm lives (defined with the edge contract, which observability reads). */
export { ROUTE53_METRICS_REGION } from "@hcp/platform";

/** One region's view of a public host name, from its workloads export. */
export interface RegionEndpoint {
  readonly region: string;
  readonly role: RegionRole;
  readonly endpoint: PublicEndpoint;
}

/** A public host name and the regions behind it, the primary first. */
export interface FailoverPlan {
  readonly hostname: string;
  readonly targets: ReadonlyArray<RegionEndpoint & { readonly failover: "PRIMARY" | "SECONDARY" }>;
}

/**
 * Groups every region's public endpoints by host name: the primary region's load balancer is the
 * PRIMARY record, the DR region's the SECONDARY. Route 53 failover routing has exactly one record of
 * each kind per name, so a host name served by more than one DR region, or by none but the primary's
 * missing, is refused (every problem listed).
 */
export function failoverPlans(endpoints: readonly RegionEndpoint[]): FailoverPlan[] {
  const byHost = new Map<string, RegionEndpoint[]>();
  for (const e of endpoints) {
    byHost.set(e.endpoint.hostname, [...(byHost.get(e.endpoint.hostname) ?? []), e]);
  }
  const problems: string[] = [];
  const plans: FailoverPlan[] = [];
  for (const [hostname, list] of [...byHost.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const primary = list.filter((e) => e.role === "primary");
    const secondary = list.filter((e) => e.role === "dr");
    if (primary.length !== 1) {
      problems.push(`${hostname} is served by ${primary.length} primary regions (expected 1)`);
    }
    if (secondary.length > 1) {
      problems.push(
        `${hostname} is served by ${secondary.length} DR regions (${secondary.map((e) => e.region).join(", ")}); Route 53 failover has one SECONDARY per name`,
      );
    }
    plans.push({
      hostname,
      targets: [
        ...primary.map((e) => ({ ...e, failover: "PRIMARY" as const })),
        ...secondary.map((e) => ({ ...e, failover: "SECONDARY" as const })),
      ],
    });
  }
  if (problems.length > 0) {
    throw new Error(
      `Edge failover: ${problems.join("; ")}. Fix: serve each public host name from the primary region and at most one DR region (workloads.services[].ingress.hosts).`,
    );
  }
  return plans;
}

/** Logical identity of a region's record or health check of a host name. */
export function targetId(hostname: string, region: string): string {
  return `${hostname.split(".")[0]}-${region}`;
}
