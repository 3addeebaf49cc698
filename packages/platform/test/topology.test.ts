import * as assert from "node:assert/strict";
import * as path from "node:path";
import {
  deployOrder,
  LAYER_SPECS,
  LAYERS,
  type EnvironmentLayer,
  type EnvironmentTopology,
  type LayerName,
  type LayerSpec,
  layerEdges,
  loadEnvironmentConfigFile,
  parseRegionalStackName,
  regionalStackName,
  REQUIRED_TAG_KEYS,
  stackLabel,
  stacksOf,
  standardTags,
  upstreamStacks,
  stackId,
} from "../src";

const production = loadEnvironmentConfigFile(
  path.join(__dirname, "..", "..", "..", "Pulumi.production.yaml"),
  "production",
  {
    now: new Date("2026-06-01T00:00:00Z"),
  },
);

/** The topology with `count` DR regions (the production DR region's settings, other CIDRs). */
function withDrRegions(topology: EnvironmentTopology, count: number): EnvironmentTopology {
  const dr = topology.regions.find((r) => r.role === "dr")!;
  const names = ["us-east-1", "us-east-2", "us-west-2"];
  return {
    ...topology,
    regions: [
      ...topology.regions.filter((r) => r.role === "primary"),
      ...names.slice(0, count).map((name, i) => ({ ...dr, name, vpcCidr: `10.${200 + i}.0.0/16` })),
    ],
  };
}

describe("topology", () => {
  it("orders every layer after the layers it reads", () => {
    const order = deployOrder();
    assert.deepEqual([...order].sort(), [...LAYERS].sort());
    for (const { from, to } of layerEdges()) {
      if (from === to) {
        // A DR region's stack reading the primary's stack of the same layer: ordered stack by
        // stack (the primary region first), checked by "can deploy every stack in the printed order".
        continue;
      }
      assert.ok(order.indexOf(to) < order.indexOf(from), `${from} reads ${to} but deploys before it`);
    }
  });

  it("refuses a cycle and names its layers", () => {
    const cyclic: Record<LayerName, LayerSpec> = {
      ...LAYER_SPECS,
      network: { ...LAYER_SPECS.network, reads: [{ layer: "cluster", scope: "same" }] },
    };
    assert.throws(
      () => deployOrder(cyclic),
      /cycle among: .*network.*cluster|cycle among: .*cluster.*network/,
    );
  });

  it("round-trips stack names", () => {
    assert.equal(regionalStackName("production", "sa-east-1"), "production-sa-east-1");
    assert.deepEqual(parseRegionalStackName("production-sa-east-1"), {
      environment: "production",
      region: "sa-east-1",
    });
    assert.deepEqual(parseRegionalStackName("staging-us-gov-west-1"), {
      environment: "staging",
      region: "us-gov-west-1",
    });
    assert.equal(parseRegionalStackName("production"), undefined);
    assert.equal(parseRegionalStackName("production-saopaulo"), undefined);
  });

  it("lists the stacks of an environment by region role", () => {
    assert.deepEqual(stacksOf(production).map(stackLabel), [
      "healthcare-platform/production",
      "hcp-network/production-sa-east-1",
      "hcp-network/production-us-east-1",
      "hcp-cluster/production-sa-east-1",
      "hcp-cluster/production-us-east-1",
      "hcp-data/production-sa-east-1",
      // DR-region workloads use the DR layer's local endpoints, so DR deploys before them.
      "hcp-dr/production-us-east-1",
      "hcp-workloads/production-sa-east-1",
      "hcp-workloads/production-us-east-1",
      // The global edge points at every region's load balancers.
      "hcp-edge/production",
      "hcp-observability/production-sa-east-1",
      "hcp-observability/production-us-east-1",
    ]);
  });

  it("can deploy every stack in the printed order on an empty account", () => {
    // Also with the DR region listed before the primary: stacks of a layer still start with the primary.
    const drFirst = { ...production, regions: [...production.regions].reverse() };
    for (const topology of [production, withDrRegions(production, 2), drFirst]) {
      const order = stacksOf(topology).map(stackLabel);
      for (const [i, id] of stacksOf(topology).entries()) {
        for (const upstream of upstreamStacks(topology, id)) {
          const at = order.indexOf(stackLabel(upstream));
          assert.ok(
            at >= 0,
            `${stackLabel(id)} reads ${stackLabel(upstream)}, which is not a stack of the environment`,
          );
          assert.ok(at < i, `${stackLabel(id)} reads ${stackLabel(upstream)}, which deploys after it`);
        }
      }
    }
  });

  it("names once-per-environment stacks after the environment, exactly for runsIn: undefined", () => {
    const environmentLayers: readonly EnvironmentLayer[] = ["environment", "edge"];
    assert.deepEqual(
      LAYERS.filter((l) => LAYER_SPECS[l].runsIn === undefined),
      environmentLayers,
    );
    assert.equal(stackLabel(stackId("edge", "staging")), "hcp-edge/staging");
  });

  it("resolves what each stack reads", () => {
    const reads = (layer: LayerName, region: string) =>
      upstreamStacks(production, stackId(layer, "production", region)).map(stackLabel);
    assert.deepEqual(reads("cluster", "us-east-1"), [
      "healthcare-platform/production",
      "hcp-network/production-us-east-1",
    ]);
    assert.deepEqual(reads("dr", "us-east-1"), [
      "healthcare-platform/production",
      "hcp-network/production-us-east-1",
      "hcp-network/production-sa-east-1",
      "hcp-cluster/production-us-east-1",
      "hcp-data/production-sa-east-1",
    ]);
    assert.deepEqual(reads("workloads", "us-east-1"), [
      "healthcare-platform/production",
      "hcp-network/production-us-east-1",
      "hcp-cluster/production-us-east-1",
      "hcp-dr/production-us-east-1",
      "hcp-workloads/production-sa-east-1",
    ]);
    assert.deepEqual(reads("workloads", "sa-east-1"), [
      "healthcare-platform/production",
      "hcp-network/production-sa-east-1",
      "hcp-cluster/production-sa-east-1",
      "hcp-data/production-sa-east-1",
    ]);
    assert.deepEqual(upstreamStacks(production, stackId("edge", "production")).map(stackLabel), [
      "healthcare-platform/production",
      "hcp-workloads/production-sa-east-1",
      "hcp-workloads/production-us-east-1",
    ]);
    assert.ok(reads("observability", "sa-east-1").includes("hcp-data/production-sa-east-1"));
    // Its region's network stack (the NAT gateways it alarms on), not another region's.
    assert.ok(reads("observability", "us-east-1").includes("hcp-network/production-us-east-1"));
    assert.ok(!reads("observability", "us-east-1").includes("hcp-network/production-sa-east-1"));
    assert.ok(reads("observability", "sa-east-1").includes("hcp-workloads/production-sa-east-1"));
    assert.ok(reads("observability", "sa-east-1").includes("hcp-edge/production"));
    assert.ok(reads("observability", "us-east-1").includes("hcp-dr/production-us-east-1"));
    assert.ok(!reads("observability", "us-east-1").includes("hcp-data/production-sa-east-1"));
  });

  it("names the environment stack without a region and refuses a regional stack without one", () => {
    assert.equal(stackId("environment", "staging").stack, "staging");
    assert.throws(() => stackId("network", "staging"), /regional/);
  });

  it("tags carry the full DESIGN §6 set", () => {
    const tags = standardTags({
      environment: "production",
      region: "sa-east-1",
      layer: "data",
      owner: "platform-team",
      dataClassification: "phi",
    });
    assert.deepEqual(Object.keys(tags).sort(), [...REQUIRED_TAG_KEYS].sort());
    assert.equal(tags.ManagedBy, "pulumi");
    for (const value of Object.values(tags)) {
      assert.match(value, /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, `${value} is not a valid AWS tag value`);
    }
  });
});
