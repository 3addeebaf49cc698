import * as assert from "node:assert/strict";
import {
  checkContract,
  drRegions,
  planSubnets,
  primaryRegion,
  type RegionConfig,
  stackId,
  type WorkloadsOutputs,
  workloadsContract,
} from "@hcp/platform";
import {
  type ClusterModel,
  clusterModelOf,
  compareFlows,
  type EndpointModel,
  type ExternalModel,
  isolatingPolicies,
  type PodModel,
  reachableFlows,
  repoTopology,
  runLayer,
} from "@hcp/testing";

/**
 * Issue 11, "Verification": which pod can reach which pod, port and address under the
 * NetworkPolicies this layer generates (run under the strict mocks with every value known), compared
 * with the intent declared below. The rest of the cluster is modelled by one pod per neighbour the
 * services talk to (PgBouncer and Patroni in the data namespace, kube-dns, Prometheus) plus a
 * stranger in `default`; addresses outside the pod network by one host each (the internet, IMDS,
 * the Pod Identity agent, the ALB's node in a public subnet, the control plane / VPC endpoint ENI in
 * a private subnet, an ElastiCache node in a private subnet). Pods get addresses in the private subnets, as the VPC CNI gives them, so an
 * ipBlock that covers pod addresses shows up. The External Secrets Operator's pods are rendered by
 * its chart at deploy time (not under the mocks): they are modelled with the labels the layer gives
 * them in the chart values. No Istio AuthorizationPolicy is generated yet (`mesh` is not applied),
 * so NetworkPolicies are the only filter.
 */

const APP_NS = "healthcare-platform";
const ESO_NS = "external-secrets";
const DATA_NS = "hcp-data";
const APP = `${APP_NS}/healthcare-app`;
const MCP = `${APP_NS}/healthcare-mcp`;
const MIGRATE = `${APP_NS}/healthcare-app-migrate`;
const ESO = `${ESO_NS}/external-secrets`;
const PGBOUNCER = `${DATA_NS}/pgbouncer`;
const PATRONI = `${DATA_NS}/patroni`;
const DNS = "kube-system/kube-dns";
// The observability layer's Prometheus, in its namespace (`monitoring`, labelled hcp.io/monitoring=true):
// it scrapes the metrics endpoints this layer exports. Its own egress to these ports is that layer's
// and is checked there (packages/observability/test/scrapeReachability.test.ts).
const PROMETHEUS = "monitoring/prometheus";
const STRANGER = "default/stranger";

/** A host address `n` inside `cidr` (IPv4). */
function host(cidr: string, n: number): string {
  const [base] = cidr.split("/");
  const value = base.split(".").reduce((acc, p) => acc * 256 + Number(p), 0) + n;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * The declared intent: every flow that must exist, and no other. `primary` adds the migration Job
 * (it runs only where the database is writable, in the primary region).
 */
function intendedFlows(primary: boolean): string[] {
  const flows = [
    // Every pod of the two namespaces resolves names through kube-dns, and nothing else is open by default.
    ...[APP, MCP, ESO, ...(primary ? [MIGRATE] : [])].flatMap((p) => [
      `${p} -> ${DNS}:53/TCP`,
      `${p} -> ${DNS}:53/UDP`,
    ]),
    // healthcare-app: PgBouncer (never PostgreSQL itself), its callee, S3 over the internet range
    // with Pod Identity credentials; reached by the ALB (public subnets) and scraped by Prometheus.
    `${APP} -> ${PGBOUNCER}:6432/TCP`,
    `${APP} -> ${MCP}:8080/TCP`,
    `${APP} -> pod-identity-agent:80/TCP`,
    `${APP} -> internet:443/TCP`,
    `alb-node -> ${APP}:4000/TCP`,
    `${PROMETHEUS} -> ${APP}:9568/TCP`,
    // The region's cache (its nodes in the private subnets), for the services with cache access:
    // the app, never healthcare-mcp. The nodes' addresses move with failovers, so the policy opens
    // the cache port to the private subnets, which hold every pod too: the app's pod could also
    // open 6379 on a pod outside the two isolated namespaces (none listens there; their own
    // ingress policies are what stops it). Declared and accepted, like the webhook below.
    `${APP} -> cache:6379/TCP`,
    ...["control-plane", PGBOUNCER, PATRONI, DNS, PROMETHEUS, STRANGER].map((p) => `${APP} -> ${p}:6379/TCP`),
    // healthcare-mcp: PubMed / SciELO over HTTPS; called by the app only; scraped.
    `${MCP} -> internet:443/TCP`,
    `${PROMETHEUS} -> ${MCP}:9464/TCP`,
    // The migration Job: PgBouncer only.
    ...(primary ? [`${MIGRATE} -> ${PGBOUNCER}:6432/TCP`] : []),
    // The External Secrets Operator: the API server and the Secrets Manager / STS endpoints (private
    // subnets), AWS APIs over HTTPS, Pod Identity credentials.
    `${ESO} -> control-plane:443/TCP`,
    `${ESO} -> internet:443/TCP`,
    `${ESO} -> pod-identity-agent:80/TCP`,
    // Its admission webhook is called by the API server from the control plane's ENIs, which share
    // the private subnets with every pod: a CIDR cannot tell them apart, so every pod outside the two
    // isolated namespaces reaches 10250 too (the data tier's and others' own egress policies are
    // what stops them). The ALB's nodes (public subnets) do not. Nor does the cache in fact: its
    // security group has no egress rule, which this model of NetworkPolicies does not see.
    ...[`control-plane`, "cache", PGBOUNCER, PATRONI, DNS, PROMETHEUS, STRANGER].map(
      (p) => `${p} -> ${ESO}:10250/TCP`,
    ),
  ];
  return flows.sort();
}

/** The rest of the cluster and the addresses outside it. */
function neighbours(region: RegionConfig): { pods: PodModel[]; externals: ExternalModel[] } {
  const subnets = planSubnets(region.vpcCidr, region.azCount);
  const privateCidr = subnets.find((s) => s.tier === "private")!.cidr;
  const publicCidr = subnets.find((s) => s.tier === "public")!.cidr;
  const tcp = (...ports: number[]) => ports.map((port) => ({ port, protocol: "TCP" as const }));
  const pod = (
    id: string,
    labels: Record<string, string>,
    ports: PodModel["ports"],
    n: number,
  ): PodModel => ({
    kind: "pod",
    id,
    namespace: id.split("/")[0],
    labels,
    ports,
    ip: host(privateCidr, n),
  });
  return {
    pods: [
      pod(PGBOUNCER, { "app.kubernetes.io/name": "pgbouncer" }, tcp(6432), 40),
      pod(PATRONI, { "app.kubernetes.io/name": "patroni" }, tcp(5432, 8008), 41),
      pod(DNS, { "k8s-app": "kube-dns" }, [{ port: 53, protocol: "UDP" }, ...tcp(53)], 42),
      pod(PROMETHEUS, { "app.kubernetes.io/name": "prometheus" }, tcp(9090), 43),
      pod(STRANGER, { app: "stranger" }, tcp(8080), 44),
      // The operator's controller, webhook and cert controller (chart values: podLabels).
      pod(ESO, { "app.kubernetes.io/instance": "external-secrets" }, tcp(10250), 45),
    ],
    externals: [
      { kind: "external", id: "internet", ip: "203.0.113.10", ports: tcp(443, 80) },
      { kind: "external", id: "imds", ip: "169.254.169.254", ports: tcp(80) },
      { kind: "external", id: "pod-identity-agent", ip: "169.254.170.23", ports: tcp(80) },
      { kind: "external", id: "alb-node", ip: host(publicCidr, 10), ports: [] },
      { kind: "external", id: "control-plane", ip: host(privateCidr, 5), ports: tcp(443) },
      // An ElastiCache node (an ENI in the cache's subnet group, the private subnets).
      { kind: "external", id: "cache", ip: host(privateCidr, 7), ports: tcp(6379) },
    ],
  };
}

/** Ports nothing may reach (besides each destination's own): SSH, PostgreSQL, Redis, an arbitrary one. */
const CANARY_PORTS = [22, 5432, 6379, 9999].map((port) => ({ port, protocol: "TCP" as const }));

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  for (const region of [primaryRegion(topology), drRegions(topology)[0]]) {
    const primary = region.role === "primary";
    describe(`reachability: hcp-workloads ${env}-${region.name} (${region.role})`, () => {
      let endpoints: EndpointModel[];
      let model: ClusterModel;
      let exported: WorkloadsOutputs;
      before(async () => {
        const run = await runLayer({ layer: "workloads", topology, region: region.name });
        exported = checkContract(
          workloadsContract,
          stackId("workloads", env, region.name),
          run.outputs.workloads,
        );
        const generated = clusterModelOf(run.resources);
        const world = neighbours(region);
        // Pods of the layer get addresses in the private subnets too.
        const pods = generated.pods.map((p, i) => ({
          ...p,
          ip: host(
            planSubnets(region.vpcCidr, region.azCount).find((s) => s.tier === "private")!.cidr,
            100 + i,
          ),
        }));
        endpoints = [...pods, ...world.pods, ...world.externals];
        model = {
          namespaces: {
            ...generated.namespaces,
            [DATA_NS]: {},
            "kube-system": {},
            monitoring: { "hcp.io/monitoring": "true" },
            default: {},
          },
          endpoints,
          policies: generated.policies,
        };
      });

      it("generates the pods the intent speaks of", () => {
        const ids = endpoints.filter((e) => e.kind === "pod" && e.namespace === APP_NS).map((e) => e.id);
        assert.deepEqual(ids.sort(), [APP, ...(primary ? [MIGRATE] : []), MCP].sort());
      });

      it("denies by default: every pod of the layer's namespaces is isolated in both directions", () => {
        for (const e of endpoints) {
          if (e.kind === "pod" && (e.namespace === APP_NS || e.namespace === ESO_NS)) {
            for (const direction of ["Ingress", "Egress"] as const) {
              const names = isolatingPolicies(model, e, direction).map((p) => p.name);
              assert.ok(names.includes("default-deny"), `${e.id} ${direction}: ${names.join(", ")}`);
            }
          }
        }
      });

      it("allows exactly the declared flows", () => {
        const actual = reachableFlows(model, { extraPorts: CANARY_PORTS, within: [APP_NS, ESO_NS] });
        assert.deepEqual(compareFlows(actual, intendedFlows(primary)), { unexpected: [], missing: [] });
      });

      it("declares Prometheus' flow to every metrics endpoint the layer exports (and allows it)", () => {
        assert.ok(exported.metrics.length > 0);
        const actual = reachableFlows(model, { extraPorts: CANARY_PORTS, within: [APP_NS, ESO_NS] });
        for (const e of exported.metrics) {
          const flow = `${PROMETHEUS} -> ${e.namespace}/${e.name}:${exported.services[e.name].metricsPort}/TCP`;
          assert.ok(intendedFlows(primary).includes(flow), `${flow} is not in the intent table`);
          assert.ok(actual.includes(flow), `${flow} is not allowed`);
        }
      });

      it("never lets a pod of the layer reach the instance metadata service", () => {
        const actual = reachableFlows(model, { extraPorts: CANARY_PORTS, within: [APP_NS, ESO_NS] });
        assert.deepEqual(
          actual.filter((f) => / -> imds:/.test(f)),
          [],
        );
      });
    });
  }
}
