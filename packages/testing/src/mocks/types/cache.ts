import { arn, dnsSuffix, type MockResourceContext, type OutputsFn, str } from "../values";

/**
 * Structured outputs of ElastiCache (the workloads layer's regional cache). A replication group with
 * cluster mode disabled and in-transit encryption has a primary endpoint `master.<id>.<hash>.<region
 * code>.cache.amazonaws.com` and a reader endpoint `replica.…` on the group's port, no configuration
 * endpoint, and member clusters `<id>-001` … one per node.
 */

/** ElastiCache's short region code in endpoint names: `sa-east-1` → `sae1`, `ap-southeast-1` → `apse1`. */
export function elasticacheRegionCode(region: string): string {
  const [geo = "", direction = "", number = ""] = region.split("-");
  const initials = direction
    .replace(/^(north|south)(east|west)$/, (_, a: string, b: string) => a[0] + b[0])
    .replace(/^(north|south|east|west|central)$/, (d: string) => d[0]);
  return `${geo}${initials}${number}`;
}

function replicationGroupId(ctx: MockResourceContext): string {
  // ElastiCache stores the identifier in lower case.
  return (str(ctx.inputs["replicationGroupId"]) ?? ctx.autoname()).toLowerCase();
}

export const CACHE_OUTPUTS: Record<string, OutputsFn> = {
  "aws:elasticache/replicationGroup:ReplicationGroup": (ctx) => {
    const id = replicationGroupId(ctx);
    const domain = `${id}.${ctx.token("hash").slice(0, 6)}.${elasticacheRegionCode(ctx.region)}.cache.${dnsSuffix(ctx.partition)}`;
    const nodes = typeof ctx.inputs["numCacheClusters"] === "number" ? ctx.inputs["numCacheClusters"] : 1;
    return {
      arn: arn(ctx, "elasticache", `replicationgroup:${id}`),
      primaryEndpointAddress: `master.${domain}`,
      readerEndpointAddress: `replica.${domain}`,
      configurationEndpointAddress: undefined,
      memberClusters: Array.from({ length: nodes }, (_, i) => `${id}-${String(i + 1).padStart(3, "0")}`),
      clusterEnabled: false,
      port: typeof ctx.inputs["port"] === "number" ? ctx.inputs["port"] : 6379,
      engineVersionActual: `${str(ctx.inputs["engineVersion"]) ?? "8.0"}.1`,
    };
  },
  "aws:elasticache/subnetGroup:SubnetGroup": (ctx) => ({
    arn: arn(ctx, "elasticache", `subnetgroup:${str(ctx.inputs["name"]) ?? ctx.autoname()}`),
  }),
};
