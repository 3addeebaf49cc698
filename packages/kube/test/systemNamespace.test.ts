import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { at, childrenOf, ofType, one, runProgram } from "@hcp/testing";
import { EXEMPTION_ANNOTATION, podSecurityLabels, SystemNamespace, systemNamespaceMetadata } from "../src";

const REASON = "node-exporter reads /proc and /sys with hostPID";

describe("podSecurityLabels with a level", () => {
  it("enforces, audits and warns the given level, pinned like restricted", () => {
    assert.deepEqual(podSecurityLabels("1.34", "privileged"), {
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/enforce-version": "v1.34",
      "pod-security.kubernetes.io/audit": "privileged",
      "pod-security.kubernetes.io/audit-version": "v1.34",
      "pod-security.kubernetes.io/warn": "privileged",
      "pod-security.kubernetes.io/warn-version": "v1.34",
    });
    assert.equal(podSecurityLabels("1.34", "baseline")["pod-security.kubernetes.io/enforce"], "baseline");
  });
});

describe("systemNamespaceMetadata", () => {
  it("labels the level, keeps extra labels and records the reason as an annotation", () => {
    assert.deepEqual(
      systemNamespaceMetadata({
        name: "agents",
        kubernetesVersion: "1.34",
        podSecurity: "privileged",
        reason: REASON,
        labels: { team: "platform" },
      }),
      {
        name: "agents",
        labels: { ...podSecurityLabels("1.34", "privileged"), team: "platform" },
        annotations: { [EXEMPTION_ANNOTATION]: REASON },
      },
    );
  });

  it("refuses a namespace without a real reason", () => {
    assert.throws(
      () =>
        systemNamespaceMetadata({
          name: "agents",
          kubernetesVersion: "1.34",
          podSecurity: "baseline",
          reason: " x ",
        }),
      /agents: reason ' x ' does not say why.*Fix: state what its pods need/,
    );
  });
});

describe("SystemNamespace", () => {
  it("creates the privileged namespace with default-deny, DNS and the declared policies", async () => {
    const run = await runProgram({
      project: "p",
      stack: "s",
      searchPaths: [__dirname],
      program: () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        const ns = new SystemNamespace(
          "agents",
          {
            name: "monitoring-agents",
            kubernetesVersion: "1.34",
            podSecurity: "privileged",
            reason: REASON,
            policies: {
              exporter: {
                pods: { app: "exporter" },
                ingress: [{ peers: [{ namespaces: { team: "mon" } }], ports: [9100] }],
              },
            },
          },
          { provider },
        );
        return { name: ns.name };
      },
    });
    const component = one(run.resources, "hcp:kube:SystemNamespace");
    const namespace = one(run.resources, "kubernetes:core/v1:Namespace");
    assert.equal(namespace.name, "agents");
    assert.equal(namespace.parent, component.urn);
    const labels = at(namespace.inputs, "metadata.labels") as Record<string, string>;
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "privileged");
    assert.equal(labels["pod-security.kubernetes.io/enforce-version"], "v1.34");
    assert.deepEqual(at(namespace.inputs, "metadata.annotations"), { [EXEMPTION_ANNOTATION]: REASON });
    const policies = ofType(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    assert.deepEqual(
      policies.map((p) => [p.name, at(p.inputs, "metadata.name"), at(p.inputs, "metadata.namespace")]).sort(),
      [
        ["agents-allow-dns", "allow-dns", "monitoring-agents"],
        ["agents-default-deny", "default-deny", "monitoring-agents"],
        ["agents-exporter", "exporter", "monitoring-agents"],
      ],
    );
    const deny = policies.find((p) => p.name === "agents-default-deny")!;
    assert.deepEqual(at(deny.inputs, "spec"), { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    assert.equal(childrenOf(run.resources, component).length, 4);
    assert.equal(run.outputs["name"], "monitoring-agents");
  });
});
