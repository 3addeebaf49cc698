import * as assert from "node:assert/strict";
import { runProgram } from "@hcp/testing";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { diffPlans, totals } from "../src/diff";
import { diffText } from "../src/diffReport";
import { diffMarkdown } from "../src/markdown";
import type { PlannedOptions, PlannedResource } from "../src/model";
import { plannedResource } from "../src/plan";
import { planDocument, resource, stackPlan } from "./planDocs";

const P = "hcp-data";
const S = "production-sa-east-1";
const ROOT = `urn:pulumi:${S}::${P}::pulumi:pulumi:Stack::${P}-${S}`;
const KEY = "aws:kms/key:Key";
const BUCKET = "aws:s3/bucket:Bucket";
const STS = "kubernetes:apps/v1:StatefulSet";

/** An alias spec as the recorder logs it (`RecordedAlias`: what was given, the parent filled in by the SDK). */
function spec(fields: { name?: string; type?: string; parent?: string; noParent?: boolean }): unknown {
  return {
    ...(fields.name ? { name: fields.name } : {}),
    ...(fields.type ? { type: fields.type } : {}),
    ...(fields.noParent ? { noParent: true } : { parent: fields.parent ?? ROOT }),
  };
}

/** The SDK's URN of a child (the mock monitor qualifies children of the root stack with its type). */
function sdkUrn(urn: string): string {
  return urn.replace(`::${P}::`, `::${P}::pulumi:pulumi:Stack$`);
}

/** A resource under `parent` (a URN), with the type chain the engine gives it. */
function child(
  parent: string | undefined,
  type: string,
  name: string,
  inputs: Record<string, unknown> = {},
  options: Partial<PlannedOptions> = {},
  custom = true,
): PlannedResource {
  const chain = parent ? `${parent.split("::")[2]}$${type}` : type;
  const base = resource(S, P, type, name, inputs, options);
  return { ...base, urn: `urn:pulumi:${S}::${P}::${chain}::${name}`, parent: parent ?? ROOT, custom };
}

function component(parent: string | undefined, type: string, name: string, aliases: unknown[] = []) {
  return child(parent, type, name, {}, { aliases }, false);
}

const doc = (resources: PlannedResource[]) =>
  planDocument("production", [stackPlan("data", P, S, resources)]);

describe("plan diff: aliases keep state", () => {
  it("reports a resource renamed with its own alias as renamed, not a delete and an add", () => {
    const base = doc([child(undefined, BUCKET, "backups", { forceDestroy: false })]);
    const head = doc([
      child(
        undefined,
        BUCKET,
        "data-backups",
        { forceDestroy: false },
        { aliases: [spec({ name: "backups" })] },
      ),
    ]);
    const d = diffPlans(base, head);
    const [s] = d.stacks;
    assert.deepEqual([s.added, s.removed, s.changed], [[], [], []]);
    assert.deepEqual(
      s.renamed.map((r) => [r.from.name, r.name, r.changes]),
      [["backups", "data-backups", []]],
    );
    assert.equal(s.status, "changed");
    assert.deepEqual(s.statefulRisks, []);
    const t = totals(d);
    assert.equal(t.resourcesRenamed, 1);
    assert.equal(t.resourcesAdded + t.resourcesRemoved, 0);
    const text = diffText(d);
    assert.match(text, /→ aws:s3\/bucket:Bucket {2}backups → data-backups \(renamed, state kept\)/);
    assert.match(text, /Resources: 0 added, 0 removed, 0 changed, 1 renamed \(state kept\)\./);
    assert.match(text, /^Stateful resources: none would be replaced or deleted\.$/m);
  });

  it("without the alias, the same rename deletes a stateful bucket, and says so", () => {
    const base = doc([child(undefined, BUCKET, "backups", { forceDestroy: false })]);
    const head = doc([child(undefined, BUCKET, "data-backups", { forceDestroy: false })]);
    const d = diffPlans(base, head);
    const [s] = d.stacks;
    assert.deepEqual(
      s.removed.map((r) => r.name),
      ["backups"],
    );
    assert.deepEqual(
      s.added.map((r) => r.name),
      ["data-backups"],
    );
    assert.deepEqual(
      s.statefulRisks.map((r) => [r.action, r.name]),
      [["delete", "backups"]],
    );
    assert.match(
      diffText(d),
      /^Stateful resources: 1 would be deleted: aws:s3\/bucket:Bucket backups \(removed, and no alias in head keeps its state\)\.$/m,
    );
    const md = diffMarkdown(d);
    assert.match(md, /⚠️ Stateful resources: 1 would be deleted/);
    assert.match(md, /would be \*\*deleted\*\*/);
  });

  it("gives children the alias of a parent whose type changed (inherited, as the engine does)", () => {
    const oldParent = component(undefined, "hcp:data:DataTls", "tls");
    const newParent = component(undefined, "hcp:data:Tls", "tls", [spec({ type: "hcp:data:DataTls" })]);
    const base = doc([oldParent, child(oldParent.urn, KEY, "tls-key", { multiRegion: true })]);
    const head = doc([newParent, child(newParent.urn, KEY, "tls-key", { multiRegion: true })]);
    const [s] = diffPlans(base, head).stacks;
    assert.deepEqual([s.added.length, s.removed.length], [0, 0]);
    assert.deepEqual(
      s.renamed.map((r) => [r.from.urn, r.urn]),
      [
        [oldParent.urn, newParent.urn],
        [
          `urn:pulumi:${S}::${P}::hcp:data:DataTls$${KEY}::tls-key`,
          `urn:pulumi:${S}::${P}::hcp:data:Tls$${KEY}::tls-key`,
        ],
      ],
    );
  });

  it("renames a child named after its renamed parent (`${name}-<identity>`), through grandchildren", () => {
    const oldTop = component(undefined, "hcp:data:Data", "data");
    const oldMid = component(oldTop.urn, "hcp:data:Backups", "data-backups");
    const oldLeaf = child(oldMid.urn, BUCKET, "data-backups-repo1", { bucket: "x" });
    const newTop = component(undefined, "hcp:data:Data", "db", [spec({ name: "data" })]);
    const newMid = component(newTop.urn, "hcp:data:Backups", "db-backups");
    const newLeaf = child(newMid.urn, BUCKET, "db-backups-repo1", { bucket: "x" });
    const [s] = diffPlans(doc([oldTop, oldMid, oldLeaf]), doc([newTop, newMid, newLeaf])).stacks;
    assert.deepEqual(s.added, []);
    assert.deepEqual(s.removed, []);
    assert.deepEqual(
      s.renamed.map((r) => `${r.from.name} → ${r.name}`),
      ["data → db", "data-backups → db-backups", "data-backups-repo1 → db-backups-repo1"],
    );
    assert.deepEqual(s.statefulRisks, []);
  });

  it("multiplies a child's own alias with its parent's: both moved at once", () => {
    const oldParent = component(undefined, "hcp:data:DataTls", "tls");
    const newParent = component(undefined, "hcp:data:Tls", "tls", [spec({ type: "hcp:data:DataTls" })]);
    const oldKey = child(oldParent.urn, KEY, "tls-key-0");
    // The child is renamed by identity (no more position) and its parent's type changed.
    const newKey = child(
      newParent.urn,
      KEY,
      "tls-key-ca",
      {},
      { aliases: [spec({ name: "tls-key-0", parent: sdkUrn(newParent.urn) })] },
    );
    const [s] = diffPlans(doc([oldParent, oldKey]), doc([newParent, newKey])).stacks;
    assert.deepEqual(s.removed, []);
    assert.deepEqual(s.renamed.map((r) => [r.from.urn, r.urn]).slice(1), [[oldKey.urn, newKey.urn]]);
  });

  it("accepts alias URNs (older SDKs send them collapsed) and aliases to no parent", () => {
    const oldTop = child(undefined, KEY, "key");
    const comp = component(undefined, "hcp:data:Keys", "keys");
    const moved = child(comp.urn, KEY, "keys-main", {}, { aliases: [oldTop.urn] });
    const other = child(undefined, BUCKET, "b1");
    const movedUnder = child(comp.urn, BUCKET, "b1", {}, { aliases: [spec({ noParent: true })] });
    const [s] = diffPlans(doc([oldTop, other]), doc([comp, moved, movedUnder])).stacks;
    assert.deepEqual(
      s.added.map((r) => r.name),
      ["keys"],
    );
    assert.deepEqual(s.removed, []);
    assert.deepEqual(
      s.renamed.map((r) => r.from.urn),
      [oldTop.urn, other.urn],
    );
  });

  it("does not count references to renamed resources as changes, but does report real ones", () => {
    const oldKey = child(undefined, KEY, "key");
    const newKey = child(undefined, KEY, "data-key", {}, { aliases: [spec({ name: "key" })] });
    const bucket = (k: PlannedResource, extra: Record<string, unknown> = {}) => ({
      ...child(undefined, BUCKET, "logs", { kmsKeyRef: k.urn, ...extra }),
      dependencies: [k.urn],
    });
    const same = diffPlans(doc([oldKey, bucket(oldKey)]), doc([newKey, bucket(newKey)])).stacks[0];
    assert.deepEqual(same.changed, [], "the bucket only follows the key's new URN");
    const moved = diffPlans(
      doc([oldKey, bucket(oldKey)]),
      doc([newKey, bucket(newKey, { bucket: "renamed-bucket" })]),
    ).stacks[0];
    assert.deepEqual(
      moved.changed.map((c) => c.changes.map((x) => x.path)),
      [["bucket"]],
    );
    assert.deepEqual(
      moved.statefulRisks.map((r) => [r.action, r.name, r.reason]),
      [["replace", "logs", "bucket changes"]],
    );
  });

  it("flags a stateful resource whose change replaces it: volume claim templates, replaceOnChanges", () => {
    const sts = (size: string, extra: Partial<PlannedOptions> = {}) =>
      child(
        undefined,
        STS,
        "patroni",
        {
          spec: {
            replicas: 3,
            volumeClaimTemplates: [
              { metadata: { name: "pgdata" }, spec: { resources: { requests: { storage: size } } } },
            ],
          },
        },
        extra,
      );
    const grown = diffPlans(doc([sts("100Gi")]), doc([sts("200Gi")]));
    assert.deepEqual(
      grown.stacks[0].statefulRisks.map((r) => r.reason),
      ["spec.volumeClaimTemplates[0].spec.resources.requests.storage changes"],
    );
    assert.equal(totals(grown).statefulReplaced, 1);
    assert.match(
      diffText(grown),
      /Stateful resources: 1 would be replaced: kubernetes:apps\/v1:StatefulSet patroni/,
    );
    const scaled = (n: number) => ({
      ...sts("100Gi"),
      inputs: { spec: { ...(sts("100Gi").inputs["spec"] as object), replicas: n } },
    });
    assert.deepEqual(
      diffPlans(doc([scaled(3)]), doc([scaled(5)])).stacks[0].statefulRisks,
      [],
      "scaling replaces nothing",
    );
    const key = (usage: string, opts: Partial<PlannedOptions> = {}) =>
      child(undefined, KEY, "k", { description: usage }, opts);
    assert.deepEqual(diffPlans(doc([key("a")]), doc([key("b")])).stacks[0].statefulRisks, []);
    assert.deepEqual(
      diffPlans(
        doc([key("a", { replaceOnChanges: ["description"] })]),
        doc([key("b", { replaceOnChanges: ["description"] })]),
      ).stacks[0].statefulRisks.map((r) => r.reason),
      ["description changes"],
    );
  });

  it("counts renames in the PR comment's table and states the stateful verdict", () => {
    const base = doc([child(undefined, BUCKET, "backups")]);
    const head = doc([
      child(undefined, BUCKET, "data-backups", {}, { aliases: [spec({ name: "backups" })] }),
    ]);
    const md = diffMarkdown(diffPlans(base, head));
    assert.match(md, /^✅ Stateful resources: none would be replaced or deleted\.$/m);
    assert.match(md, /\| Stack \| Env \| Status \| \+ \| − \| ~ \| → renamed \|/);
    assert.match(md, /\| `hcp-data\/production-sa-east-1` \| production \| changed \| 0 \| 0 \| 0 \| 1 \|/);
    assert.match(md, /backups → data-backups \(renamed, state kept\)/);
  });
});

describe("plan diff: aliases from real programs (the SDK's registrations, as the plan records them)", () => {
  /** A component with a child named after it; `type` and aliases vary between base and head. */
  class Tls extends pulumi.ComponentResource {
    constructor(
      type: string,
      name: string,
      provider: k8s.Provider,
      opts: pulumi.ComponentResourceOptions = {},
    ) {
      super(type, name, {}, opts);
      new k8s.core.v1.ConfigMap(`${name}-ca`, { data: { "ca.crt": "public" } }, { parent: this, provider });
      this.registerOutputs({});
    }
  }

  async function planOf(program: (provider: k8s.Provider) => void): Promise<PlannedResource[]> {
    const run = await runProgram({
      project: P,
      stack: S,
      searchPaths: [__dirname],
      program: () => program(new k8s.Provider("k8s", { kubeconfig: "{}" })),
    });
    // What the plan records, exactly as the plan builds it.
    return run.resources.map(plannedResource);
  }

  const document = (resources: PlannedResource[]) =>
    planDocument("production", [{ ...stackPlan("data", P, S, []), resources }]);

  it("keeps the child of a component whose type and name changed, with an alias on the component only", async () => {
    const base = await planOf((provider) => new Tls("hcp:data:DataTls", "data-tls", provider));
    const head = await planOf(
      (provider) =>
        new Tls("hcp:data:Tls", "tls", provider, {
          aliases: [{ type: "hcp:data:DataTls", name: "data-tls" }],
        }),
    );
    const [s] = diffPlans(document(base), document(head)).stacks;
    assert.deepEqual(s.added, []);
    assert.deepEqual(s.removed, []);
    assert.deepEqual(
      s.renamed.map((r) => `${r.from.type} ${r.from.name} → ${r.type} ${r.name}`),
      [
        "hcp:data:DataTls data-tls → hcp:data:Tls tls",
        "kubernetes:core/v1:ConfigMap data-tls-ca → kubernetes:core/v1:ConfigMap tls-ca",
      ],
    );
    const without = await planOf((provider) => new Tls("hcp:data:Tls", "tls", provider));
    const lost = diffPlans(document(base), document(without)).stacks[0];
    assert.deepEqual(
      lost.removed.map((r) => r.name),
      ["data-tls", "data-tls-ca"],
      "without the alias, both would be deleted",
    );
  });
});
