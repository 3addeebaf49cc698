import * as assert from "node:assert/strict";
import { type LayerName, stackLabel, stacksOf, upstreamStacks } from "@hcp/platform";
import { repoTopology } from "@hcp/testing";
import { selectStacks } from "../src/plan";
import { summary } from "../src/report";
import { planDocument, stackPlan } from "./planDocs";

const production = repoTopology("production");
const BUILT = new Set<LayerName>(["environment", "network", "cluster", "data"]);

describe("--layers: the selected layers and the producers they read", () => {
  it("plans every stack the selected stacks read, transitively, and nothing else", () => {
    const s = selectStacks(production, BUILT, ["data"]);
    assert.deepEqual(s.selected, ["data"]);
    const planned = new Set(s.stacks.map(stackLabel));
    for (const id of s.stacks) {
      for (const u of upstreamStacks(production, id)) {
        assert.ok(
          !BUILT.has(u.layer) || planned.has(stackLabel(u)),
          `${stackLabel(id)} reads ${stackLabel(u)}`,
        );
      }
    }
    const data = stacksOf(production, ["data"]).map(stackLabel);
    assert.ok(data.every((d) => planned.has(d)));
    // The data layer runs in the primary region only: the DR region's network and cluster are not read.
    const dataRegions = new Set(stacksOf(production, ["data"]).map((id) => id.region));
    assert.ok(s.stacks.filter((id) => id.region !== undefined).every((id) => dataRegions.has(id.region)));
    assert.deepEqual(s.pulledIn, ["environment", "network", "cluster"]);
    assert.deepEqual(
      s.stacks.map(stackLabel),
      stacksOf(production)
        .map(stackLabel)
        .filter((l) => planned.has(l)),
      "in deploy order",
    );
  });

  it("plans every built layer without --layers, and lists a requested layer that is not built", () => {
    const all = selectStacks(production, BUILT);
    assert.deepEqual(all.selected, [...BUILT]);
    assert.deepEqual(all.pulledIn, []);
    assert.deepEqual(all.stacks, stacksOf(production, [...BUILT]));
    const unbuilt = selectStacks(production, BUILT, ["network", "workloads"]);
    assert.deepEqual(unbuilt.selected, ["network", "workloads"]);
    assert.deepEqual(unbuilt.pulledIn, ["environment"]);
    assert.ok(unbuilt.stacks.every((id) => id.layer === "network" || id.layer === "environment"));
  });

  it("says which layers were selected, pulled in and not built in the summary", () => {
    const doc = planDocument("production", [
      stackPlan("environment", "healthcare-platform", "production", []),
    ]);
    const text = summary({
      ...doc,
      environments: [
        {
          ...doc.environments[0],
          layersSelected: ["network", "workloads"],
          layersPulledIn: ["environment"],
          layersNotBuilt: ["workloads", "observability", "dr"],
        },
      ],
    });
    assert.match(text, /^ {2}layers selected: network, workloads \(not built yet\)$/m);
    assert.match(text, /^ {2}producers pulled in \(read by the selected layers\): environment$/m);
    assert.match(text, /^ {2}healthcare-platform\/production \[producer\]: 0 resources/m);
    assert.match(text, /^ {2}layers not built yet: workloads, observability, dr$/m);
  });
});
