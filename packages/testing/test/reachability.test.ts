import * as assert from "node:assert/strict";
import {
  cidrContains,
  type ClusterModel,
  clusterModelOf,
  compareFlows,
  connectionAllowed,
  type EndpointModel,
  type ExternalModel,
  isolatingPolicies,
  type NetworkPolicyModel,
  type PodModel,
  reachableFlows,
  type RegisteredResource,
  selectorMatches,
} from "../src";

/** Exact behaviour of the NetworkPolicy evaluator (src/kubernetes/reachability.ts). */

const pod = (id: string, labels: Record<string, string>, ports: number[] = [8080], ip?: string): PodModel => {
  const [namespace] = id.split("/");
  return {
    kind: "pod",
    id,
    namespace,
    labels,
    ports: ports.map((port) => ({ name: port === 8080 ? "http" : `p${port}`, port, protocol: "TCP" })),
    ...(ip ? { ip } : {}),
  };
};

const APP = pod("app/web", { app: "web" });
const API = pod("app/api", { app: "api" }, [9000]);
const OTHER_WEB = pod("other/web", { app: "web" });
const DB = pod("data/db", { app: "db" }, [5432]);
const IMDS: ExternalModel = {
  kind: "external",
  id: "imds",
  ip: "169.254.169.254",
  ports: [{ port: 80, protocol: "TCP" }],
};
const INTERNET: ExternalModel = {
  kind: "external",
  id: "internet",
  ip: "203.0.113.10",
  ports: [{ port: 443, protocol: "TCP" }],
};

const NAMESPACES = { app: {}, other: {}, data: { tier: "data" } };

function model(
  policies: NetworkPolicyModel[],
  endpoints: EndpointModel[] = [APP, API, OTHER_WEB, DB],
): ClusterModel {
  return { namespaces: NAMESPACES, endpoints, policies };
}

const policy = (name: string, namespace: string, spec: NetworkPolicyModel["spec"]): NetworkPolicyModel => ({
  name,
  namespace,
  spec,
});

const DENY_APP = policy("default-deny", "app", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

describe("reachability: selectors and CIDRs", () => {
  it("matches labels and every expression operator; an empty selector matches everything", () => {
    const labels = { app: "web", tier: "front" };
    assert.equal(selectorMatches({}, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: "web" } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: "api" } }, labels), false);
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] }, labels),
      true,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels),
      false,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, labels),
      true,
    );
    assert.equal(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels), true);
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels),
      false,
    );
    assert.throws(
      () => selectorMatches({ matchExpressions: [{ key: "app", operator: "Equals" }] }, labels),
      /Equals/,
    );
  });

  it("contains addresses exactly at the block's edges", () => {
    assert.equal(cidrContains("10.0.0.0/8", "10.255.255.255"), true);
    assert.equal(cidrContains("10.0.0.0/8", "11.0.0.0"), false);
    assert.equal(cidrContains("169.254.169.254/32", "169.254.169.254"), true);
    assert.equal(cidrContains("169.254.169.254/32", "169.254.169.255"), false);
    assert.equal(cidrContains("0.0.0.0/0", "255.255.255.255"), true);
    assert.equal(cidrContains("10.20.0.0/22", "10.20.3.255"), true);
    assert.equal(cidrContains("10.20.0.0/22", "10.20.4.0"), false);
    assert.throws(() => cidrContains("10.0.0.0", "10.0.0.1"), /not an IPv4 CIDR/);
    assert.throws(() => cidrContains("10.0.0.0/8", "10.0.0.256"), /not an IPv4 address/);
  });
});

describe("reachability: isolation and policy types", () => {
  it("allows everything without policies", () => {
    assert.equal(connectionAllowed(model([]), APP, DB, 5432, "TCP"), true);
    assert.equal(connectionAllowed(model([]), APP, IMDS, 80, "TCP"), true);
  });

  it("default deny isolates every pod of its namespace in both directions, and only there", () => {
    const m = model([DENY_APP]);
    assert.equal(connectionAllowed(m, APP, API, 9000, "TCP"), false);
    assert.equal(connectionAllowed(m, APP, DB, 5432, "TCP"), false);
    assert.equal(connectionAllowed(m, OTHER_WEB, APP, 8080, "TCP"), false);
    assert.equal(connectionAllowed(m, OTHER_WEB, DB, 5432, "TCP"), true);
    assert.deepEqual(
      isolatingPolicies(m, APP, "Egress").map((p) => p.name),
      ["default-deny"],
    );
    assert.deepEqual(isolatingPolicies(m, OTHER_WEB, "Egress"), []);
  });

  it("defaults policyTypes as the API server does: Ingress, plus Egress when there are egress rules", () => {
    const egressOnly = policy("egress", "app", {
      podSelector: { matchLabels: { app: "web" } },
      egress: [{ to: [{ podSelector: { matchLabels: { app: "api" } } }] }],
    });
    // Its Ingress type (no ingress rules) isolates web for ingress too.
    assert.equal(connectionAllowed(model([egressOnly]), API, APP, 8080, "TCP"), false);
    assert.equal(connectionAllowed(model([egressOnly]), APP, API, 9000, "TCP"), true);
    assert.equal(connectionAllowed(model([egressOnly]), APP, DB, 5432, "TCP"), false);
    const ingressOnly = policy("ingress", "app", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [],
    });
    assert.equal(connectionAllowed(model([ingressOnly]), APP, DB, 5432, "TCP"), true);
    assert.equal(connectionAllowed(model([ingressOnly]), API, APP, 8080, "TCP"), false);
    const emptyEgress = policy("empty", "app", { podSelector: {}, egress: [] });
    assert.equal(connectionAllowed(model([emptyEgress]), APP, DB, 5432, "TCP"), true);
  });

  it("needs both ends: egress allowed at the source and ingress at the destination", () => {
    const out = policy("out", "app", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { tier: "data" } } }], ports: [{ port: 5432 }] }],
    });
    const dbDeny = policy("deny", "data", { podSelector: {}, policyTypes: ["Ingress"] });
    assert.equal(connectionAllowed(model([out]), APP, DB, 5432, "TCP"), true);
    assert.equal(connectionAllowed(model([out, dbDeny]), APP, DB, 5432, "TCP"), false);
  });

  it("adds up policies: any rule of any selecting policy admits", () => {
    const toApi = policy("to-api", "app", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { app: "api" } } }], ports: [{ port: 9000 }] }],
    });
    const toDb = policy("to-db", "app", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { tier: "data" } } }], ports: [{ port: 5432 }] }],
    });
    const m = model([DENY_APP, toApi, toDb]);
    assert.equal(connectionAllowed(m, APP, API, 9000, "TCP"), false, "api's ingress is still denied");
    assert.equal(connectionAllowed(m, APP, DB, 5432, "TCP"), true);
  });
});

describe("reachability: peers", () => {
  const ingressFrom = (from: NetworkPolicyModel["spec"]["ingress"]) =>
    model([
      DENY_APP,
      policy("api", "app", {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Ingress"],
        ingress: from,
      }),
    ]);

  it("reads a podSelector alone as pods of the policy's namespace", () => {
    const m = ingressFrom([{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }]);
    // web's egress is denied by default-deny of app; check the ingress side alone from outside.
    const open = { ...m, policies: m.policies.filter((p) => p.name !== "default-deny") };
    assert.equal(connectionAllowed(open, APP, API, 9000, "TCP"), true);
    assert.equal(connectionAllowed(open, OTHER_WEB, API, 9000, "TCP"), false, "same labels, other namespace");
  });

  it("ANDs namespaceSelector and podSelector in one peer, ORs separate peers", () => {
    const and = ingressFrom([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { tier: "data" } },
            podSelector: { matchLabels: { app: "web" } },
          },
        ],
      },
    ]);
    const or = ingressFrom([
      {
        from: [
          { namespaceSelector: { matchLabels: { tier: "data" } } },
          { podSelector: { matchLabels: { app: "web" } } },
        ],
      },
    ]);
    assert.equal(connectionAllowed(and, DB, API, 9000, "TCP"), false);
    assert.equal(connectionAllowed(or, DB, API, 9000, "TCP"), true);
    const everyNamespace = ingressFrom([{ from: [{ namespaceSelector: {} }] }]);
    assert.equal(connectionAllowed(everyNamespace, OTHER_WEB, API, 9000, "TCP"), true);
    const byName = ingressFrom([
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] },
    ]);
    assert.equal(connectionAllowed(byName, OTHER_WEB, API, 9000, "TCP"), true);
    assert.equal(connectionAllowed(byName, DB, API, 9000, "TCP"), false);
  });

  it("admits every peer for a rule without from / to, and every port without ports", () => {
    const m = ingressFrom([{}]);
    assert.equal(connectionAllowed(m, DB, API, 1, "UDP"), true);
    assert.equal(connectionAllowed(m, INTERNET, API, 9000, "TCP"), true);
  });

  it("matches ipBlocks minus their exceptions, pods only when they have an address", () => {
    const out = policy("out", "app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16", "10.0.0.0/8"] } }],
          ports: [{ port: 443 }, { port: 80 }],
        },
      ],
    });
    const withIp = pod("data/db", { app: "db" }, [443], "10.20.8.9");
    const m = model([out], [APP, IMDS, INTERNET, withIp]);
    assert.equal(connectionAllowed(m, APP, INTERNET, 443, "TCP"), true);
    assert.equal(connectionAllowed(m, APP, IMDS, 80, "TCP"), false);
    assert.equal(connectionAllowed(m, APP, withIp, 443, "TCP"), false, "10/8 excepted");
    const vpc = policy("vpc", "app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ port: 443 }] }],
    });
    assert.equal(connectionAllowed(model([vpc], [APP, withIp]), APP, withIp, 443, "TCP"), true);
    assert.equal(
      connectionAllowed(model([vpc], [APP, DB]), APP, DB, 443, "TCP"),
      false,
      "no address, no match",
    );
  });
});

describe("reachability: ports", () => {
  const egressPorts = (ports: NetworkPolicyModel["spec"]["egress"]) =>
    model([
      policy("out", "app", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Egress"],
        egress: ports,
      }),
    ]);

  it("defaults the protocol to TCP and keeps UDP apart", () => {
    const m = egressPorts([{ ports: [{ port: 53 }] }]);
    assert.equal(connectionAllowed(m, APP, DB, 53, "TCP"), true);
    assert.equal(connectionAllowed(m, APP, DB, 53, "UDP"), false);
  });

  it("honours endPort ranges and protocol-only entries", () => {
    const range = egressPorts([{ ports: [{ port: 5000, endPort: 5010 }] }]);
    assert.equal(connectionAllowed(range, APP, DB, 5010, "TCP"), true);
    assert.equal(connectionAllowed(range, APP, DB, 5011, "TCP"), false);
    const udp = egressPorts([{ ports: [{ protocol: "UDP" }] }]);
    assert.equal(connectionAllowed(udp, APP, DB, 5432, "UDP"), true);
    assert.equal(connectionAllowed(udp, APP, DB, 5432, "TCP"), false);
  });

  it("resolves a named port against the destination pod's container ports", () => {
    const named = egressPorts([{ ports: [{ port: "http" }] }]);
    assert.equal(connectionAllowed(named, APP, OTHER_WEB, 8080, "TCP"), true);
    assert.equal(connectionAllowed(named, APP, OTHER_WEB, 9000, "TCP"), false);
    assert.equal(
      connectionAllowed(named, APP, INTERNET, 8080, "TCP"),
      false,
      "externals have no named ports",
    );
  });
});

describe("reachability: flows and intent", () => {
  const endpoints = [APP, API, IMDS, INTERNET];
  const intended = ["app/web -> app/api:9000/TCP", "app/web -> internet:443/TCP"];
  const allowApi = policy("api", "app", {
    podSelector: { matchLabels: { app: "api" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 9000 }] }],
  });
  const webOut = (to: NonNullable<NetworkPolicyModel["spec"]["egress"]>) =>
    policy("web", "app", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Ingress", "Egress"],
      egress: to,
    });
  const internet = { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16", "10.0.0.0/8"] } };

  it("lists exactly the allowed flows, sorted, never a pod to itself nor external to external", () => {
    const m = model(
      [
        DENY_APP,
        allowApi,
        webOut([
          { to: [{ podSelector: { matchLabels: { app: "api" } } }], ports: [{ port: 9000 }] },
          { to: [internet], ports: [{ port: 443 }] },
        ]),
      ],
      endpoints,
    );
    assert.deepEqual(reachableFlows(m, { extraPorts: [{ port: 22, protocol: "TCP" }] }), intended);
    assert.deepEqual(compareFlows(reachableFlows(m), intended), { unexpected: [], missing: [] });
  });

  it("catches an egress rule without ports: IMDS and every port become reachable", () => {
    const m = model(
      [
        DENY_APP,
        allowApi,
        webOut([
          { to: [{ podSelector: { matchLabels: { app: "api" } } }], ports: [{ port: 9000 }] },
          { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] },
        ]),
      ],
      endpoints,
    );
    assert.deepEqual(
      compareFlows(reachableFlows(m, { extraPorts: [{ port: 22, protocol: "TCP" }] }), intended),
      {
        unexpected: ["app/web -> imds:22/TCP", "app/web -> imds:80/TCP", "app/web -> internet:22/TCP"],
        missing: [],
      },
    );
  });

  it("catches namespaceSelector {} where this namespace was meant, and a missing flow", () => {
    const other = pod("other/api", { app: "api" }, [9000]);
    const m = model(
      [
        DENY_APP,
        allowApi,
        webOut([
          {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "api" } } }],
            ports: [{ port: 9000 }],
          },
        ]),
      ],
      [...endpoints, other],
    );
    assert.deepEqual(compareFlows(reachableFlows(m, { within: ["app"] }), intended), {
      unexpected: ["app/web -> other/api:9000/TCP"],
      missing: ["app/web -> internet:443/TCP"],
    });
    // other/api's namespace has no policy, so it is open both ways: that shows up too.
    assert.deepEqual(compareFlows(reachableFlows(m), intended), {
      unexpected: [
        "app/web -> other/api:9000/TCP",
        "imds -> other/api:9000/TCP",
        "internet -> other/api:9000/TCP",
        "other/api -> imds:80/TCP",
        "other/api -> internet:443/TCP",
      ],
      missing: ["app/web -> internet:443/TCP"],
    });
  });
});

describe("reachability: the model of a program's resources", () => {
  const registered = (type: string, name: string, inputs: Record<string, unknown>) =>
    ({ type, name, urn: `urn:pulumi:s::p::${type}::${name}`, inputs }) as unknown as RegisteredResource;

  it("takes namespaces, one pod per workload with its template's labels and ports, and the policies", () => {
    const out = clusterModelOf([
      registered("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "app", labels: { team: "a" } } }),
      registered("kubernetes:apps/v1:Deployment", "web", {
        metadata: { name: "web", namespace: "app" },
        spec: {
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              serviceAccountName: "web",
              containers: [
                {
                  ports: [
                    { name: "http", containerPort: 8080, protocol: "TCP" },
                    { containerPort: 53, protocol: "UDP" },
                  ],
                },
              ],
            },
          },
        },
      }),
      registered("kubernetes:batch/v1:CronJob", "report", {
        metadata: { name: "report", namespace: "app" },
        spec: {
          jobTemplate: {
            spec: { template: { metadata: { labels: { app: "report" } }, spec: { containers: [{}] } } },
          },
        },
      }),
      registered("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", {
        metadata: { name: "default-deny", namespace: "app" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      }),
      registered("kubernetes:core/v1:Service", "web", { metadata: { name: "web", namespace: "app" } }),
      registered("kubernetes:security.istio.io/v1:AuthorizationPolicy", "nothing", {
        metadata: { name: "allow-nothing", namespace: "app" },
        spec: {},
      }),
      registered("kubernetes:security.istio.io/v1:PeerAuthentication", "strict", {
        metadata: { name: "default", namespace: "app" },
        spec: { mtls: { mode: "STRICT" } },
      }),
    ]);
    assert.deepEqual(out, {
      namespaces: { app: { team: "a" } },
      pods: [
        {
          kind: "pod",
          id: "app/web",
          namespace: "app",
          labels: { app: "web" },
          serviceAccount: "web",
          ports: [
            { name: "http", port: 8080, protocol: "TCP" },
            { port: 53, protocol: "UDP" },
          ],
        },
        { kind: "pod", id: "app/report", namespace: "app", labels: { app: "report" }, ports: [] },
      ],
      policies: [
        {
          name: "default-deny",
          namespace: "app",
          spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        },
      ],
      istio: [
        { kind: "AuthorizationPolicy", name: "allow-nothing", namespace: "app", spec: {} },
        { kind: "PeerAuthentication", name: "default", namespace: "app", spec: { mtls: { mode: "STRICT" } } },
      ],
    });
  });

  it("refuses a policy whose namespace is not known (a preview run)", () => {
    assert.throws(
      () =>
        clusterModelOf([
          registered("kubernetes:networking.k8s.io/v1:NetworkPolicy", "x", {
            metadata: { name: "x" },
            spec: {},
          }),
        ]),
      /no known name and namespace/,
    );
  });
});
