import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import {
  authorizationPolicies,
  istioChartValues,
  meshFlows,
  meshNamespaceLabels,
  meshNamespaceLabelsOfSystem,
  type MeshPolicyInputs,
  peerAuthentications,
  principalOf,
} from "../src/mesh";

const config = repoTopology("production").workloads;
const app = config.services.find((s) => s.name === "healthcare-app")!;
const mcp = config.services.find((s) => s.name === "healthcare-mcp")!;
const inputs: MeshPolicyInputs = {
  namespace: "healthcare-platform",
  services: [app, mcp],
  loadBalancerSubnetCidrs: ["10.0.0.0/24", "10.0.1.0/24"],
  podSubnetCidrs: ["10.0.64.0/19", "10.0.96.0/19"],
};

describe("mesh (pure)", () => {
  it("enrols the application namespace only in ambient mode", () => {
    assert.deepEqual(meshNamespaceLabels({ mesh: "ambient" }), { "istio.io/dataplane-mode": "ambient" });
    assert.deepEqual(meshNamespaceLabels({ mesh: "none" }), {});
  });

  it("labels istio-system privileged (enforced) and restricted (audited), pinned to the cluster version", () => {
    assert.deepEqual(meshNamespaceLabelsOfSystem("1.34"), {
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/enforce-version": "v1.34",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "v1.34",
    });
    assert.throws(() => meshNamespaceLabelsOfSystem("latest"), /not a minor version.*Fix/);
  });

  it("sets the ambient profile, the VPC CNI's directories and istiod's availability per tier", () => {
    for (const chart of ["base", "istiod", "cni", "ztunnel"] as const) {
      assert.equal(istioChartValues(chart, true).profile, "ambient", chart);
    }
    const cni = istioChartValues("cni", true);
    assert.deepEqual(cni.ambient, { enabled: true });
    assert.equal(cni.cniBinDir, "/opt/cni/bin");
    assert.equal(cni.cniConfDir, "/etc/cni/net.d");
    assert.equal(cni.global, undefined, "no platform profile: EKS uses the default paths");
    const prod = istioChartValues("istiod", true);
    const staging = istioChartValues("istiod", false);
    assert.equal(prod.autoscaleMin, 2);
    assert.deepEqual(prod.global, {
      networkPolicy: { enabled: true },
      defaultPodDisruptionBudget: { enabled: true },
    });
    assert.equal(staging.autoscaleMin, 1);
    assert.deepEqual(staging.global, {
      networkPolicy: { enabled: true },
      defaultPodDisruptionBudget: { enabled: false },
    });
    assert.deepEqual(istioChartValues("ztunnel", false).global, { networkPolicy: { enabled: true } });
    for (const chart of ["istiod", "cni", "ztunnel"] as const) {
      const r = istioChartValues(chart, true).resources as { requests: object; limits: { memory: string } };
      assert.ok(r.requests && r.limits.memory, chart);
    }
  });

  it("makes the namespace STRICT and opens plain text only on the ALB's target port and the metrics ports", () => {
    assert.deepEqual(peerAuthentications(inputs), [
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "default", namespace: "healthcare-platform" },
        spec: { mtls: { mode: "STRICT" } },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "healthcare-app-plaintext-ports", namespace: "healthcare-platform" },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "healthcare-app" } },
          mtls: { mode: "STRICT" },
          portLevelMtls: { "4000": { mode: "PERMISSIVE" }, "9568": { mode: "PERMISSIVE" } },
        },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "healthcare-mcp-plaintext-ports", namespace: "healthcare-platform" },
        // No ingress: its HTTP port stays STRICT (its only caller is in the mesh).
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "healthcare-mcp" } },
          mtls: { mode: "STRICT" },
          portLevelMtls: { "9464": { mode: "PERMISSIVE" } },
        },
      },
    ]);
  });

  it("denies by default and admits exactly the declared callers, the ALB and Prometheus", () => {
    const unauthenticated = (ipBlocks: readonly string[]) => [
      { source: { ipBlocks: [...ipBlocks], notPrincipals: ["*"] } },
    ];
    assert.deepEqual(authorizationPolicies(inputs), [
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "allow-nothing", namespace: "healthcare-platform" },
        spec: {},
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "healthcare-app", namespace: "healthcare-platform" },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "healthcare-app" } },
          action: "ALLOW",
          rules: [
            {
              from: unauthenticated(inputs.loadBalancerSubnetCidrs),
              to: [{ operation: { ports: ["4000"] } }],
            },
            { from: unauthenticated(inputs.podSubnetCidrs), to: [{ operation: { ports: ["9568"] } }] },
          ],
        },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "healthcare-mcp", namespace: "healthcare-platform" },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "healthcare-mcp" } },
          action: "ALLOW",
          rules: [
            {
              from: [{ source: { principals: ["cluster.local/ns/healthcare-platform/sa/healthcare-app"] } }],
              to: [{ operation: { ports: ["8080"] } }],
            },
            { from: unauthenticated(inputs.podSubnetCidrs), to: [{ operation: { ports: ["9464"] } }] },
          ],
        },
      },
    ]);
    assert.equal(principalOf("a", "b"), "cluster.local/ns/a/sa/b");
  });

  it("never writes an allow-all rule (an empty rule, or a rule without a source)", () => {
    for (const p of authorizationPolicies(inputs)) {
      for (const rule of (p.spec.rules as Array<{ from?: unknown[]; to?: unknown[] }> | undefined) ?? []) {
        assert.ok((rule.from ?? []).length > 0 && (rule.to ?? []).length > 0, JSON.stringify(rule));
      }
    }
  });

  it("opens the HBONE port between callers and callees and the probe address on the probed ports", () => {
    const all = [app, mcp];
    assert.deepEqual(meshFlows(mcp, all, { mesh: "ambient" }), {
      ingress: [
        { peers: [{ pods: { "app.kubernetes.io/name": "healthcare-app" } }], ports: [15008] },
        { peers: [{ cidr: "169.254.7.127/32" }], ports: [8080] },
      ],
      egress: [],
    });
    assert.deepEqual(meshFlows(app, all, { mesh: "ambient" }), {
      ingress: [{ peers: [{ cidr: "169.254.7.127/32" }], ports: [4000] }],
      egress: [{ peers: [{ pods: { "app.kubernetes.io/name": "healthcare-mcp" } }], ports: [15008] }],
    });
    assert.deepEqual(meshFlows(app, all, { mesh: "none" }), { ingress: [], egress: [] });
  });
});
