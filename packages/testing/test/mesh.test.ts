import * as assert from "node:assert/strict";
import {
  applicableAuthorizationPolicies,
  type EndpointModel,
  type ExternalModel,
  inMesh,
  type IstioObjectModel,
  meshConnectionAllowed,
  type MeshClusterModel,
  mtlsMode,
  type NetworkPolicyModel,
  type PodModel,
  reachableFlows,
} from "../src";

/** Exact behaviour of the Istio ambient evaluator (src/kubernetes/mesh.ts). */

const pod = (
  id: string,
  sa: string,
  ports: number[],
  ip: string,
  labels: Record<string, string> = {},
): PodModel => {
  const [namespace, name] = id.split("/");
  return {
    kind: "pod",
    id,
    namespace,
    labels: { app: name, ...labels },
    ports: ports.map((port) => ({ port, protocol: "TCP" })),
    ip,
    serviceAccount: sa,
  };
};

const WEB = pod("app/web", "web", [8080], "10.0.64.10");
const API = pod("app/api", "api", [9000, 9100], "10.0.64.11");
const OPTED_OUT = pod("app/legacy", "legacy", [7000], "10.0.64.12", { "istio.io/dataplane-mode": "none" });
const PROM = pod("monitoring/prometheus", "prometheus", [9090], "10.0.64.20");
const ALB: ExternalModel = { kind: "external", id: "alb", ip: "10.0.0.10", ports: [] };
const KUBELET: ExternalModel = { kind: "external", id: "kubelet", ip: "169.254.7.127", ports: [] };

const np = (name: string, namespace: string, spec: NetworkPolicyModel["spec"]): NetworkPolicyModel => ({
  name,
  namespace,
  spec,
});
const pa = (name: string, namespace: string, spec: IstioObjectModel["spec"]): IstioObjectModel => ({
  kind: "PeerAuthentication",
  name,
  namespace,
  spec,
});
const ap = (name: string, namespace: string, spec: IstioObjectModel["spec"]): IstioObjectModel => ({
  kind: "AuthorizationPolicy",
  name,
  namespace,
  spec,
});

function cluster(istio: IstioObjectModel[], policies: NetworkPolicyModel[] = []): MeshClusterModel {
  return {
    namespaces: { app: { "istio.io/dataplane-mode": "ambient" }, monitoring: {} },
    endpoints: [WEB, API, OPTED_OUT, PROM, ALB, KUBELET] as EndpointModel[],
    policies,
    istio,
  };
}

const allow = (m: MeshClusterModel, from: EndpointModel, to: EndpointModel, port: number) =>
  meshConnectionAllowed(m, from, to, port, "TCP");

describe("mesh evaluator", () => {
  it("enrols pods of ambient namespaces unless the pod opts out", () => {
    const m = cluster([]);
    assert.equal(inMesh(m, WEB), true);
    assert.equal(inMesh(m, OPTED_OUT), false);
    assert.equal(inMesh(m, PROM), false);
    assert.equal(inMesh(m, ALB), false);
  });

  it("resolves the mTLS mode: workload port, workload, namespace, root, else PERMISSIVE", () => {
    assert.equal(mtlsMode(cluster([]), API, 9000), "PERMISSIVE");
    assert.equal(
      mtlsMode(cluster([pa("mesh", "istio-system", { mtls: { mode: "STRICT" } })]), API, 9000),
      "STRICT",
    );
    const strict = pa("default", "app", { mtls: { mode: "STRICT" } });
    assert.equal(mtlsMode(cluster([strict]), API, 9000), "STRICT");
    const exception = pa("api-ports", "app", {
      selector: { matchLabels: { app: "api" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { "9100": { mode: "PERMISSIVE" } },
    });
    assert.equal(mtlsMode(cluster([strict, exception]), API, 9100), "PERMISSIVE");
    assert.equal(mtlsMode(cluster([strict, exception]), API, 9000), "STRICT");
    assert.equal(mtlsMode(cluster([strict, exception]), WEB, 9100), "STRICT", "the selector picks the pods");
    // Port-level settings without a selector are ignored (istiod converts only workload policies).
    const nsPorts = pa("default", "app", {
      mtls: { mode: "STRICT" },
      portLevelMtls: { "9100": { mode: "PERMISSIVE" } },
    });
    assert.equal(mtlsMode(cluster([nsPorts]), API, 9100), "STRICT");
    // UNSET inherits.
    const unset = pa("api-unset", "app", {
      selector: { matchLabels: { app: "api" } },
      mtls: { mode: "UNSET" },
    });
    assert.equal(mtlsMode(cluster([strict, unset]), API, 9000), "STRICT");
  });

  it("sends mesh traffic over HBONE: the NetworkPolicies must admit 15008, the policies see the app port", () => {
    const isolateApi = np("api", "app", {
      podSelector: { matchLabels: { app: "api" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 9000 }] }],
    });
    assert.equal(allow(cluster([], [isolateApi]), WEB, API, 9000), false, "9000 alone blocks HBONE");
    const withHbone = np("api", "app", {
      podSelector: { matchLabels: { app: "api" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 15008 }] }],
    });
    assert.equal(allow(cluster([], [withHbone]), WEB, API, 9000), true);
    assert.equal(allow(cluster([], [withHbone]), WEB, API, 9100), true, "any port once HBONE is open");
    const only9000 = ap("api", "app", {
      selector: { matchLabels: { app: "api" } },
      rules: [
        {
          from: [{ source: { principals: ["cluster.local/ns/app/sa/web"] } }],
          to: [{ operation: { ports: ["9000"] } }],
        },
      ],
    });
    assert.equal(allow(cluster([only9000], [withHbone]), WEB, API, 9000), true);
    assert.equal(allow(cluster([only9000], [withHbone]), WEB, API, 9100), false);
  });

  it("refuses plain text to a STRICT port and admits it to a PERMISSIVE one only as its policies say", () => {
    const strict = pa("default", "app", { mtls: { mode: "STRICT" } });
    assert.equal(allow(cluster([strict]), PROM, API, 9100), false);
    assert.equal(allow(cluster([strict]), ALB, WEB, 8080), false);
    assert.equal(allow(cluster([]), ALB, WEB, 8080), true, "PERMISSIVE by default, no policy");
    const exception = pa("web-ports", "app", {
      selector: { matchLabels: { app: "web" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { "8080": { mode: "PERMISSIVE" } },
    });
    const fromAlb = ap("web", "app", {
      selector: { matchLabels: { app: "web" } },
      rules: [
        {
          from: [{ source: { ipBlocks: ["10.0.0.0/24"], notPrincipals: ["*"] } }],
          to: [{ operation: { ports: ["8080"] } }],
        },
      ],
    });
    const m = cluster([strict, exception, fromAlb]);
    assert.equal(allow(m, ALB, WEB, 8080), true);
    assert.equal(allow(m, PROM, WEB, 8080), false, "not in the ALB's subnet");
  });

  it("needs an identity for principals and namespaces; notPrincipals matches only plain text", () => {
    const onlyPlain = ap("api", "app", {
      selector: { matchLabels: { app: "api" } },
      rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }],
    });
    assert.equal(allow(cluster([onlyPlain]), PROM, API, 9100), true);
    assert.equal(allow(cluster([onlyPlain]), WEB, API, 9100), false, "a mesh caller has an identity");
    const byNamespace = ap("api", "app", { rules: [{ from: [{ source: { namespaces: ["app"] } }] }] });
    assert.equal(allow(cluster([byNamespace]), WEB, API, 9000), true);
    assert.equal(allow(cluster([byNamespace]), PROM, API, 9000), false);
    const prefix = ap("api", "app", {
      rules: [{ from: [{ source: { principals: ["cluster.local/ns/app/*"] } }] }],
    });
    assert.equal(allow(cluster([prefix]), WEB, API, 9000), true);
    const suffix = ap("api", "app", { rules: [{ from: [{ source: { principals: ["*/sa/other"] } }] }] });
    assert.equal(allow(cluster([suffix]), WEB, API, 9000), false);
  });

  it("denies by default with allow-nothing, lets DENY win, admits everything with an empty rule", () => {
    const nothing = ap("allow-nothing", "app", {});
    assert.equal(allow(cluster([nothing]), WEB, API, 9000), false);
    assert.equal(allow(cluster([nothing]), PROM, API, 9100), false);
    const allowAll = ap("allow-all", "app", { action: "ALLOW", rules: [{}] });
    assert.equal(allow(cluster([nothing, allowAll]), WEB, API, 9000), true);
    assert.equal(allow(cluster([nothing, allowAll]), PROM, API, 9100), true);
    const deny = ap("deny-web", "app", {
      action: "DENY",
      rules: [{ from: [{ source: { principals: ["cluster.local/ns/app/sa/web"] } }] }],
    });
    assert.equal(allow(cluster([allowAll, deny]), WEB, API, 9000), false);
    assert.equal(allow(cluster([allowAll, deny]), PROM, API, 9000), true);
    // A root-namespace policy without a selector applies everywhere.
    assert.deepEqual(
      applicableAuthorizationPolicies(cluster([ap("global", "istio-system", {})]), API).map((p) => p.name),
      ["global"],
    );
    assert.equal(allow(cluster([ap("global", "istio-system", {})]), WEB, API, 9000), false);
  });

  it("drops ALLOW rules with HTTP attributes (ztunnel cannot see them)", () => {
    const http = ap("api", "app", { rules: [{ to: [{ operation: { methods: ["GET"] } }] }] });
    assert.equal(allow(cluster([http]), WEB, API, 9000), false);
  });

  it("lets kubelet probes past the mesh, not past the NetworkPolicies", () => {
    const nothing = ap("allow-nothing", "app", {});
    const strict = pa("default", "app", { mtls: { mode: "STRICT" } });
    assert.equal(allow(cluster([nothing, strict]), KUBELET, API, 9000), true);
    const isolate = np("deny", "app", { podSelector: {}, policyTypes: ["Ingress"] });
    assert.equal(allow(cluster([nothing, strict], [isolate]), KUBELET, API, 9000), false);
  });

  it("leaves destinations outside the mesh and UDP to the NetworkPolicies", () => {
    const nothing = ap("allow-nothing", "monitoring", {});
    assert.equal(allow(cluster([nothing]), WEB, PROM, 9090), true, "monitoring is not in the mesh");
    assert.equal(allow(cluster([ap("allow-nothing", "app", {})]), PROM, OPTED_OUT, 7000), true);
    assert.equal(
      meshConnectionAllowed(cluster([ap("allow-nothing", "app", {})]), PROM, API, 9000, "UDP"),
      true,
    );
  });

  it("plugs into reachableFlows", () => {
    const m = cluster([ap("allow-nothing", "app", {})]);
    const flows = reachableFlows(m, {}, (f, t, p, proto) => meshConnectionAllowed(m, f, t, p, proto));
    assert.ok(flows.includes("app/web -> monitoring/prometheus:9090/TCP"));
    assert.ok(!flows.some((f) => /^(?!kubelet ).* -> app\/(web|api):/.test(f)), flows.join("\n"));
    assert.ok(flows.includes("kubelet -> app/web:8080/TCP"), "probes bypass the mesh policies");
    assert.ok(flows.includes("monitoring/prometheus -> app/legacy:7000/TCP"), "opted out: no policy");
  });
});
