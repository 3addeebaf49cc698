import * as assert from "node:assert/strict";
import { drRegions, type MetricsEndpoint, primaryRegion, workloadsContract } from "@hcp/platform";
import {
  type ClusterModel,
  clusterModelOf,
  connectionAllowed,
  type PodModel,
  producerValue,
  repoTopology,
  runLayer,
} from "@hcp/testing";
import { applicationServices, HEALTHCARE_APP, HTTP_EXPORTERS } from "../src/rules";
import {
  applicationScrapeTargets,
  MONITORING_NAMESPACE,
  MONITORING_NAMESPACE_LABELS,
  monitoringFlows,
} from "../src/values";

const endpoint = (name: string, namespace: string, exporter: string): MetricsEndpoint => ({
  name,
  kind: "pod",
  namespace,
  selector: { "app.kubernetes.io/name": name },
  port: "metrics",
  path: "/metrics",
  scheme: "http",
  tls: null,
  basicAuth: null,
  exporter,
});

describe("application endpoints: the services the rules watch and the ports Prometheus opens", () => {
  const app = endpoint("healthcare-app", "apps", "app:healthcare");
  const mcp = endpoint("healthcare-mcp", "apps", "app:healthcare-mcp");
  const other = endpoint("billing", "billing", "app:healthcare");

  it("derives one HTTP service per endpoint of a family with HTTP metrics, where the endpoint runs", () => {
    assert.deepEqual(applicationServices([app, mcp, other]), [
      { job: "healthcare-app", namespace: "apps", ...HTTP_EXPORTERS["app:healthcare"] },
      { job: "billing", namespace: "billing", ...HTTP_EXPORTERS["app:healthcare"] },
    ]);
    assert.deepEqual(applicationServices([mcp]), []);
    // The repository's default is the app where the environments run it.
    assert.equal(HEALTHCARE_APP.namespace, repoTopology("production").workloads.namespace);
  });

  it("opens each application namespace on its services' metrics ports only, and refuses an endpoint without one", () => {
    const services = {
      "healthcare-app": { kind: "http" as const, podLabels: {}, metricsPort: 9568, port: 4000 },
      "healthcare-mcp": { kind: "http" as const, podLabels: {}, metricsPort: 9464 },
      billing: { kind: "worker" as const, podLabels: {}, metricsPort: 9100 },
      quiet: { kind: "worker" as const, podLabels: {} },
    };
    const targets = applicationScrapeTargets({ services, metrics: [mcp, app, other] });
    assert.deepEqual(targets, [
      { namespace: "apps", ports: [9464, 9568] },
      { namespace: "billing", ports: [9100] },
    ]);
    const egress = monitoringFlows("10.0.0.0/16", targets)["prometheus"].egress!;
    for (const t of targets) {
      assert.deepEqual(
        egress.filter((f) =>
          f.peers.some(
            (p) => "namespaces" in p && p.namespaces?.["kubernetes.io/metadata.name"] === t.namespace,
          ),
        ),
        [{ peers: [{ namespaces: { "kubernetes.io/metadata.name": t.namespace } }], ports: t.ports }],
      );
    }
    assert.equal(monitoringFlows("10.0.0.0/16")["prometheus"].egress!.length, egress.length - 2);
    assert.throws(
      () => applicationScrapeTargets({ services, metrics: [endpoint("quiet", "apps", "x")] }),
      /metrics endpoint 'quiet' names no service with a metricsPort \(services with one: healthcare-app, healthcare-mcp, billing\)/,
    );
  });
});

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  for (const region of [primaryRegion(topology), drRegions(topology)[0]]) {
    describe(`scrape reachability ${env}-${region.name}: Prometheus reaches every application metrics endpoint`, () => {
      let model: ClusterModel;
      let prometheus: PodModel;
      let endpoints: readonly MetricsEndpoint[];
      let workloadPods: PodModel[];

      before(async () => {
        // Both sides' NetworkPolicies as their programs generate them: the monitoring namespace's
        // (this layer) and the application's (the workloads layer).
        const observability = clusterModelOf(
          (await runLayer({ layer: "observability", topology, region: region.name })).resources,
        );
        const workloads = clusterModelOf(
          (await runLayer({ layer: "workloads", topology, region: region.name })).resources,
        );
        endpoints = (await producerValue(workloadsContract, topology, region.name)).metrics;
        // Prometheus' pods are rendered by the operator at deploy time: modelled with the label
        // monitoringFlows selects them by.
        prometheus = {
          kind: "pod",
          id: `${MONITORING_NAMESPACE}/prometheus`,
          namespace: MONITORING_NAMESPACE,
          labels: { "app.kubernetes.io/name": "prometheus" },
          ports: [{ port: 9090, protocol: "TCP" }],
        };
        workloadPods = workloads.pods;
        model = {
          namespaces: { ...observability.namespaces, ...workloads.namespaces },
          endpoints: [prometheus, ...workloadPods],
          policies: [...observability.policies, ...workloads.policies],
        };
        // The label the application's ingress rule admits.
        for (const [k, v] of Object.entries(MONITORING_NAMESPACE_LABELS)) {
          assert.equal(observability.namespaces[MONITORING_NAMESPACE]?.[k], v);
        }
      });

      /** The pods an endpoint's PodMonitor selects and the number of the port it names. */
      function targets(e: MetricsEndpoint): Array<{ pod: PodModel; port: number }> {
        return workloadPods
          .filter(
            (p) =>
              p.namespace === e.namespace && Object.entries(e.selector).every(([k, v]) => p.labels[k] === v),
          )
          .flatMap((pod) => pod.ports.filter((x) => x.name === e.port).map((x) => ({ pod, port: x.port })));
      }

      it("allows the scrape of each endpoint's pods on its named port, under both layers' policies", () => {
        assert.ok(endpoints.length > 0);
        for (const e of endpoints) {
          const found = targets(e);
          assert.equal(found.length, 1, `${e.name}: ${JSON.stringify(found)}`);
          for (const { pod, port } of found) {
            assert.ok(connectionAllowed(model, prometheus, pod, port, "TCP"), `${pod.id}:${port}`);
          }
        }
      });

      it("allows nothing else into the application's pods, and only because of the application rule", () => {
        for (const e of endpoints) {
          for (const { pod, port } of targets(e)) {
            for (const other of pod.ports.filter((x) => x.port !== port)) {
              assert.ok(
                !connectionAllowed(model, prometheus, pod, other.port, "TCP"),
                `${pod.id}:${other.port}`,
              );
            }
            // Without the egress rule naming the application's namespace Prometheus cannot scrape it
            // (the exporters' ports of every namespace do not include the application's).
            const withoutAppRule: ClusterModel = {
              ...model,
              policies: model.policies.map((p) =>
                p.namespace !== MONITORING_NAMESPACE
                  ? p
                  : {
                      ...p,
                      spec: {
                        ...p.spec,
                        egress: (p.spec.egress ?? []).filter(
                          (r) =>
                            !(r.to ?? []).some(
                              (peer) =>
                                peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] ===
                                e.namespace,
                            ),
                        ),
                      },
                    },
              ),
            };
            assert.ok(!connectionAllowed(withoutAppRule, prometheus, pod, port, "TCP"), `${pod.id}:${port}`);
          }
        }
      });
    });
  }
}
