import * as assert from "node:assert/strict";
import { validateKubernetesObject } from "@hcp/testing";
import { CUSTOM_RESOURCE_TOKENS } from "../src/lib";
import { ALL_CASES } from "./cases";
import { res } from "./fixtures";
import type { Fixture } from "./harness";

/**
 * The pack declares the shape of the custom resources it reads (src/types.ts) by hand, because the
 * SDK has no class per kind. Every fixture of those types is validated against the CRD schema of
 * the operator release the platform's schemas come from (`@kubernetes-models/prometheus-operator`
 * in packages/testing), so a field the rules read that the CRD does not have fails here.
 */

const customTypes: ReadonlySet<string> = new Set(CUSTOM_RESOURCE_TOKENS);

/**
 * The models mark `apiVersion` / `kind` of an embedded claim template required (generated from the
 * Go type, which inlines TypeMeta); the CRDs do not (kube-prometheus-stack 86.3.2
 * charts/crds/crds/crd-prometheuses.yaml lists both under `volumeClaimTemplate.properties`, with no
 * `required`), and the layer's values leave them out, as the chart's examples do.
 */
const TYPE_META = /volumeClaimTemplate\.(apiVersion|kind)$/;

function fixtures(): Fixture[] {
  return ALL_CASES.flatMap((c) => [...(c.resource ? [c.resource] : []), ...(c.stack ?? [])]).filter((f) =>
    customTypes.has(f.type),
  );
}

async function problems(f: Fixture): Promise<string[]> {
  const report = await validateKubernetesObject({
    urn: f.urn,
    type: f.type,
    name: f.name,
    custom: true,
    read: false,
    wireInputs: f.props,
  });
  return (report?.problems ?? [])
    .filter((p) => !(TYPE_META.test(p.path) && p.message === "is required"))
    .map((p) => `${p.path}: ${p.message}`);
}

describe("custom resource fixtures", () => {
  it("include the Prometheus and Alertmanager the observability stack renders", () => {
    const types = new Set(fixtures().map((f) => f.type));
    assert.ok(types.has("kubernetes:monitoring.coreos.com/v1:Prometheus"));
    assert.ok(types.has("kubernetes:monitoring.coreos.com/v1:Alertmanager"));
  });

  it("match the operator's CRD schemas", async () => {
    for (const f of fixtures()) {
      assert.deepEqual(await problems(f), [], `${f.type} ${f.name}`);
    }
  });

  it("a misspelt storage field fails the same check", async () => {
    const wrong = res("kubernetes:monitoring.coreos.com/v1:Prometheus", "wrong", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Prometheus",
      metadata: { name: "wrong", namespace: "monitoring" },
      // The types allow only known fields; the wire shape a misreading rule would expect is built here.
      spec: { storage: { volumeClaimTemplate: { spec: { storageClassName: "gp3-encrypted" } } } },
    });
    const misspelt: Fixture = {
      ...wrong,
      props: { ...wrong.props, spec: { storage: { volumeClaimTemplates: [{ spec: {} }] } } },
    };
    assert.deepEqual(await problems(wrong), []);
    assert.match((await problems(misspelt)).join("\n"), /volumeClaimTemplates: unknown field/);
  });
});
