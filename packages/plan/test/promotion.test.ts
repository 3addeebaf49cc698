import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { repoRoot } from "@hcp/testing";
import { diffPlans, statefulSummary } from "../src/diff";
import type { PlanDocument, StackPlan } from "../src/model";
import { planEnvironments } from "../src/plan";

/**
 * `dr.promotedRegion` is what the environment file says after `pnpm dr promote`: the next
 * `pulumi up` must reconcile every layer to the promoted state without losing anything stateful.
 * The repository's production file, planned as it is and with its DR region promoted, compared by
 * the same diff `pnpm plan:diff` prints.
 */
describe("promoting a DR region in the environment file (plan:diff)", function () {
  this.timeout(300_000);

  let root: string;
  let base: PlanDocument;
  let head: PlanDocument;
  let drRegion: string;
  let primary: string;

  before(async () => {
    const repo = repoRoot();
    const file = parse(fs.readFileSync(path.join(repo, "Pulumi.production.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    };
    type Region = {
      name: string;
      role: string;
      sizes: { databaseMembers: number; nodeGroups: { database: Record<string, number> } };
    };
    const regions = file.config["healthcare-platform:regions"] as Region[];
    const dr = regions.find((r) => r.role === "dr");
    assert.ok(dr, "production has a DR region");
    drRegion = dr.name;
    primary = regions.find((r) => r.role === "primary")!.name;
    // docs/runbooks/dr.md: the promoted region is brought to writer strength in the same change
    // (strict synchronous mode needs 3 members; the config check refuses fewer).
    const promotedRegions = regions.map((r) =>
      r !== dr
        ? r
        : {
            ...r,
            sizes: {
              ...r.sizes,
              databaseMembers: Math.max(3, r.sizes.databaseMembers),
              nodeGroups: {
                ...r.sizes.nodeGroups,
                database: {
                  ...r.sizes.nodeGroups.database,
                  minSize: Math.max(3, r.sizes.nodeGroups.database["minSize"] ?? 0),
                  desiredSize: Math.max(3, r.sizes.nodeGroups.database["desiredSize"] ?? 0),
                  maxSize: Math.max(3, r.sizes.nodeGroups.database["maxSize"] ?? 0),
                },
              },
            },
          },
    );
    const drSection = file.config["healthcare-platform:dr"] as Record<string, unknown>;
    assert.equal(drSection["promotedRegion"], undefined, "the repository's production file is not promoted");
    // A workspace that differs from the repository only in its environment file.
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-promotion-"));
    fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    fs.symlinkSync(path.join(repo, "packages"), path.join(root, "packages"));
    fs.writeFileSync(
      path.join(root, "Pulumi.production.yaml"),
      stringify({
        config: {
          ...file.config,
          "healthcare-platform:regions": promotedRegions,
          "healthcare-platform:dr": { ...drSection, promotedRegion: drRegion },
        },
      }),
    );
    base = (await planEnvironments({ root: repo, env: "production" })).document;
    head = (await planEnvironments({ root, env: "production" })).document;
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const stackOf = (doc: PlanDocument, project: string, region: string): StackPlan => {
    const s = doc.environments[0]?.stacks.find((x) => x.project === project && x.region === region);
    assert.ok(s, `${project} in ${region} is planned`);
    return s;
  };

  it("plans both configurations without errors", () => {
    assert.deepEqual(base.environments[0]?.errors, []);
    assert.deepEqual(head.environments[0]?.errors, []);
  });

  it("replaces or deletes no stateful resource in either region", () => {
    const diff = diffPlans(base, head);
    assert.deepEqual(
      diff.stacks.flatMap((s) =>
        s.statefulRisks.map((r) => `${s.label}: ${r.action} ${r.type} ${r.name}: ${r.reason}`),
      ),
      [],
    );
    assert.equal(statefulSummary(diff), "Stateful resources: none would be replaced or deleted.");
    assert.deepEqual(
      diff.stacks.filter((s) => s.status === "added" || s.status === "removed").map((s) => s.label),
      [],
      "the same stacks in both",
    );
  });

  it("changes what promotion means: the DR stack exports a writer, and its cluster is no standby", () => {
    const diff = diffPlans(base, head);
    const drStack = stackOf(head, "hcp-dr", drRegion);
    const drDiff = diff.stacks.find((s) => s.label === `hcp-dr/${drStack.stack}`);
    assert.ok(drDiff && drDiff.status === "changed", "the DR stack changes");
    const mode = drDiff.outputs.find((o) => o.path.endsWith(".mode"));
    assert.deepEqual([mode?.old, mode?.new], ["standby", "promoted"]);
    // The Patroni configuration of the DR cluster no longer follows the primary.
    const standbyIn = (s: StackPlan) =>
      s.resources.some((r) => /standby_cluster/.test(JSON.stringify(r.inputs)));
    assert.equal(standbyIn(stackOf(base, "hcp-dr", drRegion)), true);
    assert.equal(standbyIn(drStack), false);
  });

  it("switches the DR region's workloads to read-write and the old primary's to read-only", () => {
    const readOnly = (s: StackPlan) =>
      [...new Set(JSON.stringify(s.resources).match(/\\?"READ_ONLY_MODE\\?":\\?"(true|false)/g) ?? [])].map(
        (m) => m.includes("true"),
      );
    assert.deepEqual(readOnly(stackOf(base, "hcp-workloads", drRegion)), [true]);
    assert.deepEqual(readOnly(stackOf(head, "hcp-workloads", drRegion)), [false]);
    // The old primary's database follows the promoted region now: its services must not write.
    assert.deepEqual(readOnly(stackOf(base, "hcp-workloads", primary)), [false]);
    assert.deepEqual(readOnly(stackOf(head, "hcp-workloads", primary)), [true]);
  });
});
