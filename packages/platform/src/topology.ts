import type { EnvironmentTopology, RegionConfig, RegionRole } from "./config/types";

/**
 * The layers of the platform and how they depend on each other. This is the one definition the
 * deploy order, the offline plan, the CI workflows and the docs are derived from.
 */

/** Every layer, in deploy order. */
export const LAYERS = [
  "environment",
  "network",
  "cluster",
  "data",
  "dr",
  "workloads",
  "edge",
  "observability",
] as const;

/** A layer of the platform. */
export type LayerName = (typeof LAYERS)[number];

/**
 * A layer with one stack per environment, named after the environment: the root project
 * (`environment`) and the global `edge`. Kept in step with `runsIn: undefined` in
 * {@link LAYER_SPECS} by a test.
 */
export type EnvironmentLayer = "environment" | "edge";

/** A layer that runs once per region (stacks `<env>-<region>`). */
export type RegionalLayer = Exclude<LayerName, EnvironmentLayer>;

/** Name of the root Pulumi project (the environment layer). */
export const ROOT_PROJECT = "healthcare-platform";

/**
 * Which region's stack of the upstream layer a read refers to:
 * - `same`: the consumer's own region (for a once-per-environment upstream: its one stack),
 * - `primary`: the environment's primary region,
 * - `each`: every region where the upstream layer runs.
 */
export type ReadScope = "same" | "primary" | "each";

/** One stack reference a layer makes. */
export interface LayerRead {
  readonly layer: LayerName;
  readonly scope: ReadScope;
  /** Only in regions of this role (e.g. observability reads `data` in primary, `dr` in DR). */
  readonly onlyIn?: RegionRole;
}

/** Where a layer runs and what it reads. */
export interface LayerSpec {
  readonly name: LayerName;
  /** Pulumi project name. */
  readonly project: string;
  /**
   * Region roles the layer runs in; `undefined` for a once-per-environment layer (the root project
   * and the global edge), whose stack is named after the environment.
   */
  readonly runsIn: readonly RegionRole[] | undefined;
  readonly reads: readonly LayerRead[];
  /**
   * What a deployment of the layer must reach: `aws` (AWS APIs only; GitHub-hosted runners can deploy
   * it) or `kubernetes` (also the cluster's API endpoint, which is private: only in-VPC runners can).
   */
  readonly reaches: "aws" | "kubernetes";
  /** One line on what the layer owns. */
  readonly description: string;
}

const env: LayerRead = { layer: "environment", scope: "same" };

/**
 * The layer table of DESIGN §2 (graph v2). Nothing reads a later layer: the DR layer comes before the
 * workloads because DR-region workloads use its local endpoints, and the global edge comes after every
 * region's workloads because its failover records point at their load balancers.
 */
export const LAYER_SPECS: Readonly<Record<LayerName, LayerSpec>> = {
  environment: {
    name: "environment",
    project: ROOT_PROJECT,
    runsIn: undefined,
    reads: [],
    reaches: "aws",
    description: "DNS zone, ECR + replication, CI OIDC roles, CloudTrail; publishes the topology",
  },
  network: {
    name: "network",
    project: "hcp-network",
    runsIn: ["primary", "dr"],
    reads: [env],
    reaches: "aws",
    description: "VPC, subnets, NAT, flow logs, VPC endpoints",
  },
  cluster: {
    name: "cluster",
    project: "hcp-cluster",
    runsIn: ["primary", "dr"],
    reads: [env, { layer: "network", scope: "same" }],
    reaches: "kubernetes",
    description: "EKS, node groups, add-ons, storage class, load balancer controller, cert-manager",
  },
  data: {
    name: "data",
    project: "hcp-data",
    runsIn: ["primary"],
    reads: [env, { layer: "network", scope: "same" }, { layer: "cluster", scope: "same" }],
    reaches: "kubernetes",
    description: "Patroni + TimescaleDB, PgBouncer, pgBackRest to S3 in every region",
  },
  dr: {
    name: "dr",
    project: "hcp-dr",
    runsIn: ["dr"],
    reads: [
      env,
      { layer: "network", scope: "same" },
      { layer: "network", scope: "primary" },
      { layer: "cluster", scope: "same" },
      { layer: "data", scope: "primary" },
    ],
    reaches: "kubernetes",
    description: "Patroni standby cluster, PgBouncer, VPC peering to the primary, promotion",
  },
  workloads: {
    name: "workloads",
    project: "hcp-workloads",
    runsIn: ["primary", "dr"],
    reads: [
      env,
      // The cache's subnets and security group.
      { layer: "network", scope: "same" },
      { layer: "cluster", scope: "same" },
      { layer: "data", scope: "same", onlyIn: "primary" },
      { layer: "dr", scope: "same", onlyIn: "dr" },
      // A DR region's documents replica and application secrets are created by the primary's stack.
      { layer: "workloads", scope: "primary", onlyIn: "dr" },
    ],
    reaches: "kubernetes",
    description: "application services, network policies, autoscaling, TLS ingress",
  },
  edge: {
    name: "edge",
    project: "hcp-edge",
    runsIn: undefined,
    reads: [env, { layer: "workloads", scope: "each" }],
    reaches: "aws",
    description: "Route 53 failover records and health checks in front of every region's app",
  },
  observability: {
    name: "observability",
    project: "hcp-observability",
    runsIn: ["primary", "dr"],
    reads: [
      env,
      // The NAT gateways' CloudWatch alarms.
      { layer: "network", scope: "same" },
      { layer: "cluster", scope: "same" },
      { layer: "data", scope: "same", onlyIn: "primary" },
      { layer: "dr", scope: "same", onlyIn: "dr" },
      // The ALB's 5xx alarms (and, to come, the application's metrics endpoints).
      { layer: "workloads", scope: "same" },
      // The edge health checks' alarms are routed with the region's other notifications.
      { layer: "edge", scope: "same" },
    ],
    reaches: "kubernetes",
    description: "Prometheus, Alertmanager, Grafana, alert rules, log groups",
  },
};

/** Layer-level dependency edges (`from` reads `to`), derived from {@link LAYER_SPECS}. */
export function layerEdges(): Array<{ from: LayerName; to: LayerName }> {
  const edges = new Map<string, { from: LayerName; to: LayerName }>();
  for (const spec of Object.values(LAYER_SPECS)) {
    for (const read of spec.reads) {
      edges.set(`${spec.name}>${read.layer}`, { from: spec.name, to: read.layer });
    }
  }
  return [...edges.values()];
}

/**
 * Layers in an order where every layer comes after the layers it reads (Kahn's algorithm, ties
 * broken by {@link LAYERS} order). Throws naming the layers of a cycle if there is one.
 */
export function deployOrder(specs: Readonly<Record<LayerName, LayerSpec>> = LAYER_SPECS): LayerName[] {
  const pending = new Map<LayerName, Set<LayerName>>();
  for (const name of LAYERS) {
    pending.set(name, new Set(specs[name].reads.map((r) => r.layer).filter((l) => l !== name)));
  }
  const order: LayerName[] = [];
  while (pending.size > 0) {
    const ready = LAYERS.filter((l) => pending.has(l) && pending.get(l)!.size === 0);
    if (ready.length === 0) {
      throw new Error(`The layer graph has a cycle among: ${[...pending.keys()].join(", ")}`);
    }
    for (const layer of ready) {
      order.push(layer);
      pending.delete(layer);
      for (const deps of pending.values()) {
        deps.delete(layer);
      }
    }
  }
  return order;
}

const STACK_RE = /^(?<env>[a-z][a-z0-9]*)-(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)$/;

/** Stack name of a regional layer: `<env>-<region>`. */
export function regionalStackName(environment: string, region: string): string {
  return `${environment}-${region}`;
}

/** Splits `<env>-<region>`; `undefined` if the name does not have that shape. */
export function parseRegionalStackName(stack: string): { environment: string; region: string } | undefined {
  const m = STACK_RE.exec(stack);
  return m?.groups ? { environment: m.groups["env"], region: m.groups["region"] } : undefined;
}

/** Identifies one stack of the platform. */
export interface StackId {
  readonly layer: LayerName;
  readonly project: string;
  /** Stack name (`production`, or `production-sa-east-1`). */
  readonly stack: string;
  readonly environment: string;
  /** Region of a regional stack; `undefined` for the environment stack. */
  readonly region: string | undefined;
}

/** Identifies a layer's stack for an environment (and region, for regional layers). */
export function stackId(layer: LayerName, environment: string, region?: string): StackId {
  const spec = LAYER_SPECS[layer];
  if (spec.runsIn === undefined) {
    return { layer, project: spec.project, stack: environment, environment, region: undefined };
  }
  if (region === undefined) {
    throw new Error(`The ${layer} layer is regional: give a region to name its stack`);
  }
  return { layer, project: spec.project, stack: regionalStackName(environment, region), environment, region };
}

/** `<project>/<stack>`, the form the plan and messages use. */
export function stackLabel(id: StackId): string {
  return `${id.project}/${id.stack}`;
}

/** The primary region of a topology. */
export function primaryRegion(topology: EnvironmentTopology): RegionConfig {
  const primary = topology.regions.find((r) => r.role === "primary");
  if (!primary) {
    throw new Error(`Environment ${topology.name} has no primary region`);
  }
  return primary;
}

/** The DR regions of a topology, in config order. */
export function drRegions(topology: EnvironmentTopology): RegionConfig[] {
  return topology.regions.filter((r) => r.role === "dr");
}

/** True when `layer` runs in a region with `role`. */
export function layerRunsIn(layer: LayerName, role: RegionRole): boolean {
  return LAYER_SPECS[layer].runsIn?.includes(role) ?? false;
}

/** Every stack of an environment, for the given layers, in deploy order. */
export function stacksOf(topology: EnvironmentTopology, layers: readonly LayerName[] = LAYERS): StackId[] {
  const wanted = new Set(layers);
  const out: StackId[] = [];
  for (const layer of deployOrder()) {
    if (!wanted.has(layer)) {
      continue;
    }
    const spec = LAYER_SPECS[layer];
    if (spec.runsIn === undefined) {
      out.push(stackId(layer, topology.name));
      continue;
    }
    // The primary region first: a DR region's stack of a layer may read the primary's stack of it.
    const regions = [...topology.regions].sort(
      (a, b) => Number(b.role === "primary") - Number(a.role === "primary"),
    );
    for (const region of regions) {
      if (spec.runsIn.includes(region.role)) {
        out.push(stackId(layer, topology.name, region.name));
      }
    }
  }
  return out;
}

/** The stacks a given stack reads, resolved against the topology. */
export function upstreamStacks(topology: EnvironmentTopology, consumer: StackId): StackId[] {
  const spec = LAYER_SPECS[consumer.layer];
  const role = consumer.region ? topology.regions.find((r) => r.name === consumer.region)?.role : undefined;
  const out = new Map<string, StackId>();
  for (const read of spec.reads) {
    if (read.onlyIn && read.onlyIn !== role) {
      continue;
    }
    const upstream = LAYER_SPECS[read.layer];
    if (upstream.runsIn === undefined) {
      const id = stackId(read.layer, topology.name);
      out.set(stackLabel(id), id);
      continue;
    }
    const regions =
      read.scope === "same"
        ? [consumer.region!]
        : read.scope === "primary"
          ? [primaryRegion(topology).name]
          : topology.regions.filter((r) => upstream.runsIn!.includes(r.role)).map((r) => r.name);
    for (const region of regions) {
      const id = stackId(read.layer, topology.name, region);
      out.set(stackLabel(id), id);
    }
  }
  return [...out.values()];
}
