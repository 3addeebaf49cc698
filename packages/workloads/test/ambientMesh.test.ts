import * as assert from "node:assert/strict";
import { drRegions, primaryRegion } from "@hcp/platform";
import { at, ofType, type ProgramRun, type RegisteredResource, repoTopology, runLayer } from "@hcp/testing";

/**
 * The mesh as the program registers it under the strict mocks, for the primary and the DR region of
 * both environments, and nothing of it with `mesh: none`.
 */

const T = {
  namespace: "kubernetes:core/v1:Namespace",
  chart: "kubernetes:helm.sh/v4:Chart",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  peer: "kubernetes:security.istio.io/v1:PeerAuthentication",
  authz: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
  deployment: "kubernetes:apps/v1:Deployment",
} as const;

/** A label of a registered object (label keys contain dots, so not through `at`). */
const label = (r: RegisteredResource, key: string): unknown =>
  (at(r.inputs, "metadata.labels") as Record<string, unknown> | undefined)?.[key];

const named = (run: ProgramRun, type: string, name: string): RegisteredResource => {
  const found = ofType(run.resources, type).filter((r) => at(r.inputs, "metadata.name") === name);
  assert.equal(found.length, 1, `one ${type} named ${name}`);
  return found[0];
};

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const ns = topology.workloads.namespace;
  for (const region of [primaryRegion(topology), drRegions(topology)[0]]) {
    describe(`mesh: hcp-workloads ${env}-${region.name} (${region.role})`, () => {
      let run: ProgramRun;
      before(async () => {
        run = await runLayer({ layer: "workloads", topology, region: region.name });
      });

      it("puts istio-system at Pod Security privileged, default-deny, and installs the four charts in order", () => {
        const system = named(run, T.namespace, "istio-system");
        assert.equal(label(system, "pod-security.kubernetes.io/enforce"), "privileged");
        assert.equal(
          label(system, "pod-security.kubernetes.io/enforce-version"),
          `v${topology.cluster.version}`,
        );
        const deny = ofType(run.resources, T.policy).filter(
          (p) => at(p.inputs, "metadata.namespace") === "istio-system",
        );
        assert.deepEqual(deny.map((p) => at(p.inputs, "metadata.name")).sort(), [
          "allow-dns",
          "default-deny",
        ]);
        const charts = ofType(run.resources, T.chart).filter(
          (c) => at(c.inputs, "namespace") === "istio-system",
        );
        assert.deepEqual(
          charts.map((c) => c.inputs.chart),
          ["base", "istiod", "cni", "ztunnel"],
        );
        for (const [i, c] of charts.entries()) {
          assert.equal(c.inputs.version, topology.workloads.charts.istio.version);
          assert.equal(at(c.inputs, "repositoryOpts.repo"), topology.workloads.charts.istio.repository);
          assert.equal(at(c.inputs, "values.profile"), "ambient");
          // Each chart waits for the one before (CRDs before istiod, istiod before the node agents).
          const before = i === 0 ? system : charts[i - 1];
          assert.ok(
            c.dependencies.includes(before.urn),
            `${String(c.inputs.chart)} waits for ${before.name}`,
          );
        }
        const istiod = charts[1];
        assert.equal(
          at(istiod.inputs, "values.global.defaultPodDisruptionBudget.enabled"),
          env === "production",
        );
        assert.equal(at(istiod.inputs, "values.autoscaleMin"), env === "production" ? 2 : 1);
        assert.equal(at(charts[2].inputs, "values.ambient.enabled"), true);
      });

      it("enrols the application namespace, which stays restricted, after the mesh is installed", () => {
        const app = named(run, T.namespace, ns);
        assert.equal(label(app, "istio.io/dataplane-mode"), "ambient");
        assert.equal(label(app, "pod-security.kubernetes.io/enforce"), "restricted");
        const ztunnel = ofType(run.resources, T.chart).find((c) => c.inputs.chart === "ztunnel")!;
        const meshComponent = run.resources.find((r) => r.type === "hcp:workloads:AmbientMesh")!;
        // dependsOn a component waits for its children: the charts, ztunnel last.
        assert.ok(
          app.dependencies.includes(meshComponent.urn) || app.dependencies.includes(ztunnel.urn),
          `namespace after the mesh: ${app.dependencies.join(", ")}`,
        );
        assert.ok(ztunnel.parent === meshComponent.urn);
      });

      it("makes the application namespace STRICT and denies by default", () => {
        const strict = named(run, T.peer, "default");
        assert.equal(at(strict.inputs, "metadata.namespace"), ns);
        assert.deepEqual(at(strict.inputs, "spec"), { mtls: { mode: "STRICT" } });
        const nothing = named(run, T.authz, "allow-nothing");
        assert.deepEqual(at(nothing.inputs, "spec"), {});
        for (const s of topology.workloads.services) {
          const ap = named(run, T.authz, s.name);
          const rules = at(ap.inputs, "spec.rules") as Array<{
            from: Array<{ source: Record<string, string[]> }>;
          }>;
          const principals = rules.flatMap((r) => r.from.flatMap((f) => f.source.principals ?? []));
          assert.deepEqual(
            principals,
            s.callers.map((c) => `cluster.local/ns/${ns}/sa/${c}`),
          );
        }
      });

      it("runs every pod of the namespace as its own ServiceAccount (the principals the policies name)", () => {
        for (const d of ofType(run.resources, T.deployment).filter(
          (x) => at(x.inputs, "metadata.namespace") === ns,
        )) {
          assert.equal(at(d.inputs, "spec.template.spec.serviceAccountName"), at(d.inputs, "metadata.name"));
        }
      });
    });
  }
}

describe("mesh: hcp-workloads staging with mesh none", () => {
  const base = repoTopology("staging");
  const topology = { ...base, workloads: { ...base.workloads, mesh: "none" as const } };
  let run: ProgramRun;
  before(async () => {
    run = await runLayer({ layer: "workloads", topology, region: primaryRegion(topology).name });
  });

  it("registers no chart, namespace, label or policy of the mesh", () => {
    assert.equal(
      ofType(run.resources, T.chart).filter((c) => at(c.inputs, "namespace") === "istio-system").length,
      0,
    );
    assert.equal(ofType(run.resources, T.peer).length + ofType(run.resources, T.authz).length, 0);
    assert.ok(
      !ofType(run.resources, T.namespace).some((n) => at(n.inputs, "metadata.name") === "istio-system"),
    );
    const app = named(run, T.namespace, base.workloads.namespace);
    assert.equal(label(app, "istio.io/dataplane-mode"), undefined);
    const hbone = ofType(run.resources, T.policy).filter((p) =>
      JSON.stringify(p.inputs.spec).includes("15008"),
    );
    assert.deepEqual(hbone, []);
  });
});
