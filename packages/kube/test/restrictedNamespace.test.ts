import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { at, childrenOf, ofType, one, runProgram } from "@hcp/testing";
import { networkPolicySpecs, podSecurityLabels, RestrictedNamespace } from "../src";

describe("podSecurityLabels", () => {
  it("enforces, audits and warns restricted, pinned to the cluster's version", () => {
    assert.deepEqual(podSecurityLabels("1.34"), {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "v1.34",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "v1.34",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "v1.34",
    });
  });

  it("refuses a version that is not major.minor", () => {
    assert.throws(() => podSecurityLabels("v1.34"), /'v1\.34' is not a minor version\. Fix/);
    assert.throws(() => podSecurityLabels("latest"), /'latest'/);
  });
});

describe("networkPolicySpecs", () => {
  it("denies everything, allows DNS, then states each group's flows", () => {
    const specs = networkPolicySpecs({
      api: {
        pods: { app: "api" },
        ingress: [{ peers: [{ namespaces: { team: "web" } }], ports: [8080] }],
        egress: [
          { peers: [{ pods: { app: "db" } }, { cidr: "10.1.0.0/16" }], ports: [5432] },
          { peers: [{ cidr: "0.0.0.0/0" }], ports: [{ port: 443, protocol: "TCP" }] },
        ],
      },
      worker: {
        pods: { app: "worker" },
        egress: [{ peers: [{ namespaces: { a: "b" }, pods: { c: "d" } }], ports: [80] }],
      },
    });
    assert.deepEqual(specs, {
      "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      "allow-dns": {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
      api: {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { team: "web" } } }],
            ports: [{ protocol: "TCP", port: 8080 }],
          },
        ],
        egress: [
          {
            to: [{ podSelector: { matchLabels: { app: "db" } } }, { ipBlock: { cidr: "10.1.0.0/16" } }],
            ports: [{ protocol: "TCP", port: 5432 }],
          },
          { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
        ],
      },
      worker: {
        podSelector: { matchLabels: { app: "worker" } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: { matchLabels: { a: "b" } }, podSelector: { matchLabels: { c: "d" } } },
            ],
            ports: [{ protocol: "TCP", port: 80 }],
          },
        ],
      },
    });
  });

  it("lists every problem once: reserved names, empty selectors and flows, bad CIDRs and ports", () => {
    assert.throws(
      () =>
        networkPolicySpecs({
          "default-deny": { pods: { a: "b" } },
          Bad_Name: { pods: {} },
          x: {
            pods: { a: "b" },
            ingress: [{ peers: [], ports: [80] }],
            egress: [{ peers: [{ cidr: "10.0.0.0/33" }], ports: [0] }],
          },
        }),
      (e: Error) => {
        for (const part of [
          "'default-deny' is reserved",
          "'Bad_Name' is not a DNS label",
          "Bad_Name: pods selects no labels",
          "x.ingress[0]: a flow needs at least one peer and one port",
          "x.egress[0]: '10.0.0.0/33'",
          "x.egress[0]: port 0 is not 1-65535",
        ]) {
          assert.ok(e.message.includes(part), `${part} in ${e.message}`);
        }
        return true;
      },
    );
  });
});

describe("RestrictedNamespace", () => {
  it("creates the labelled namespace and one NetworkPolicy per spec, named after the component", async () => {
    const run = await runProgram({
      project: "p",
      stack: "s",
      searchPaths: [__dirname],
      program: () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        const ns = new RestrictedNamespace(
          "apps",
          {
            name: "hcp-apps",
            kubernetesVersion: "1.33",
            labels: { "hcp.io/database-client": "true" },
            policies: {
              api: { pods: { app: "api" }, egress: [{ peers: [{ pods: { app: "x" } }], ports: [1] }] },
            },
          },
          { provider },
        );
        return { name: ns.name };
      },
    });
    const component = one(run.resources, "hcp:kube:RestrictedNamespace");
    const namespace = one(run.resources, "kubernetes:core/v1:Namespace");
    assert.equal(namespace.name, "apps");
    assert.equal(namespace.parent, component.urn);
    const labels = at(namespace.inputs, "metadata.labels") as Record<string, string>;
    assert.equal(labels["hcp.io/database-client"], "true");
    assert.equal(labels["pod-security.kubernetes.io/enforce-version"], "v1.33");
    const policies = ofType(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    assert.deepEqual(
      policies.map((p) => [p.name, at(p.inputs, "metadata.name"), at(p.inputs, "metadata.namespace")]).sort(),
      [
        ["apps-allow-dns", "allow-dns", "hcp-apps"],
        ["apps-api", "api", "hcp-apps"],
        ["apps-default-deny", "default-deny", "hcp-apps"],
      ],
    );
    assert.equal(childrenOf(run.resources, component).length, 4);
    assert.equal(run.outputs["name"], "hcp-apps");
  });

  it("refuses a bad version before registering anything", async () => {
    await assert.rejects(
      runProgram({
        project: "p",
        stack: "s",
        searchPaths: [__dirname],
        program: () => new RestrictedNamespace("apps", { name: "a", kubernetesVersion: "1" }),
      }),
      /'1' is not a minor version/,
    );
  });
});
