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
  clusterModelOf,
  compareFlows,
  type EndpointModel,
  type ExternalModel,
  type IstioObjectModel,
  isolatingPolicies,
  meshConnectionAllowed,
  type MeshClusterModel,
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
 * them in the chart values.
 *
 * With `mesh: ambient` a flow exists only if BOTH filters admit it (`meshConnectionAllowed` of
 * `@hcp/testing`): the NetworkPolicies for the packets that cross the network (HBONE on 15008 between
 * mesh pods, plain text on the real port otherwise) and, for a destination in the mesh, its mTLS mode
 * (STRICT, PERMISSIVE on the declared plain-text ports) and its AuthorizationPolicies as ztunnel
 * enforces them. The kubelet's probes arrive from the CNI's SNAT address 169.254.7.127, modelled as
 * one more host. Must-fail checks below break the generated policies the way the seeds did (an
 * allow-all AuthorizationPolicy) and require the comparison to catch it.
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
const KUBELET = "kubelet-probe";

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
function intendedFlows(primary: boolean, mesh: boolean): string[] {
  const flows = [
    // Ambient mode: the kubelet's probes come from the CNI's SNAT address, on the probed ports.
    ...(mesh ? [`${KUBELET} -> ${APP}:4000/TCP`, `${KUBELET} -> ${MCP}:8080/TCP`] : []),
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
      // Kubelet probes as ambient mode rewrites their source (a source only).
      { kind: "external", id: KUBELET, ip: "169.254.7.127", ports: [] },
    ],
  };
}

/** Ports nothing may reach (besides each destination's own): SSH, PostgreSQL, Redis, an arbitrary one. */
const CANARY_PORTS = [22, 5432, 6379, 9999].map((port) => ({ port, protocol: "TCP" as const }));

/** The layer's model (generated pods, namespaces, NetworkPolicies and Istio objects) plus the neighbours. */
async function layerModel(
  topology: ReturnType<typeof repoTopology>,
  region: RegionConfig,
): Promise<{ model: MeshClusterModel; endpoints: EndpointModel[]; exported: WorkloadsOutputs }> {
  const run = await runLayer({ layer: "workloads", topology, region: region.name });
  const exported = checkContract(
    workloadsContract,
    stackId("workloads", topology.name, region.name),
    run.outputs.workloads,
  );
  const generated = clusterModelOf(run.resources);
  const world = neighbours(region);
  // Pods of the layer get addresses in the private subnets too.
  const privateCidr = planSubnets(region.vpcCidr, region.azCount).find((s) => s.tier === "private")!.cidr;
  const pods = generated.pods.map((p, i) => ({ ...p, ip: host(privateCidr, 100 + i) }));
  const endpoints = [...pods, ...world.pods, ...world.externals];
  const model: MeshClusterModel = {
    namespaces: {
      ...generated.namespaces,
      [DATA_NS]: {},
      "kube-system": {},
      monitoring: { "hcp.io/monitoring": "true" },
      default: {},
    },
    endpoints,
    policies: generated.policies,
    istio: generated.istio,
  };
  return { model, endpoints, exported };
}

/** Every flow both filters admit. */
function flowsOf(model: MeshClusterModel): string[] {
  return reachableFlows(
    model,
    { extraPorts: CANARY_PORTS, within: [APP_NS, ESO_NS] },
    (f, t, port, protocol) => meshConnectionAllowed(model, f, t, port, protocol),
  );
}

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  for (const region of [primaryRegion(topology), drRegions(topology)[0]]) {
    const primary = region.role === "primary";
    const mesh = topology.workloads.mesh === "ambient";
    describe(`reachability: hcp-workloads ${env}-${region.name} (${region.role}, mesh ${topology.workloads.mesh})`, () => {
      let endpoints: EndpointModel[];
      let model: MeshClusterModel;
      let exported: WorkloadsOutputs;
      before(async () => {
        ({ model, endpoints, exported } = await layerModel(topology, region));
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

      it("allows exactly the declared flows (NetworkPolicies and AuthorizationPolicies both)", () => {
        assert.deepEqual(compareFlows(flowsOf(model), intendedFlows(primary, mesh)), {
          unexpected: [],
          missing: [],
        });
      });

      it("declares Prometheus' flow to every metrics endpoint the layer exports (and allows it)", () => {
        assert.ok(exported.metrics.length > 0);
        const actual = flowsOf(model);
        for (const e of exported.metrics) {
          const flow = `${PROMETHEUS} -> ${e.namespace}/${e.name}:${exported.services[e.name].metricsPort}/TCP`;
          assert.ok(intendedFlows(primary, mesh).includes(flow), `${flow} is not in the intent table`);
          assert.ok(actual.includes(flow), `${flow} is not allowed`);
        }
      });

      it("never lets a pod of the layer reach the instance metadata service", () => {
        assert.deepEqual(
          flowsOf(model).filter((f) => / -> imds:/.test(f)),
          [],
        );
      });

      if (mesh) {
        it("must fail: an allow-all AuthorizationPolicy (the seeds' defect) shows up as undeclared flows", () => {
          const allowAll: IstioObjectModel = {
            kind: "AuthorizationPolicy",
            name: "allow-all",
            namespace: APP_NS,
            spec: { action: "ALLOW", rules: [{}] },
          };
          const diff = compareFlows(
            flowsOf({ ...model, istio: [...model.istio, allowAll] }),
            intendedFlows(primary, mesh),
          );
          // The app's HBONE path to healthcare-mcp now reaches its metrics port too.
          assert.ok(diff.unexpected.includes(`${APP} -> ${MCP}:9464/TCP`), JSON.stringify(diff));
          assert.deepEqual(diff.missing, []);
        });

        it("must fail: without the plain-text port exceptions the ALB and Prometheus are refused (STRICT)", () => {
          const istio = model.istio.filter((o) => !o.name.endsWith("-plaintext-ports"));
          const diff = compareFlows(flowsOf({ ...model, istio }), intendedFlows(primary, mesh));
          assert.deepEqual(diff.unexpected, []);
          assert.deepEqual(
            [...diff.missing].sort(),
            [
              `${PROMETHEUS} -> ${APP}:9568/TCP`,
              `${PROMETHEUS} -> ${MCP}:9464/TCP`,
              `alb-node -> ${APP}:4000/TCP`,
            ].sort(),
          );
        });

        it("must fail: a NetworkPolicy without the HBONE port cuts the mesh call to healthcare-mcp", () => {
          const policies = model.policies.map((p) => ({
            ...p,
            spec: {
              ...p.spec,
              // Drop the HBONE rule (emptying its ports would admit every port).
              ingress: (p.spec.ingress ?? []).filter(
                (r) => !(r.ports ?? []).some((port) => port.port === 15008),
              ),
            },
          }));
          const diff = compareFlows(flowsOf({ ...model, policies }), intendedFlows(primary, mesh));
          assert.deepEqual(diff, { unexpected: [], missing: [`${APP} -> ${MCP}:8080/TCP`] });
        });
      }
    });
  }
}

describe("reachability: hcp-workloads staging with mesh none", () => {
  const base = repoTopology("staging");
  const topology = { ...base, workloads: { ...base.workloads, mesh: "none" as const } };
  let model: MeshClusterModel;
  before(async () => {
    ({ model } = await layerModel(topology, primaryRegion(topology)));
  });

  it("generates no Istio object and no mesh label, and the NetworkPolicies alone give the declared flows", () => {
    assert.deepEqual(model.istio, []);
    assert.equal(model.namespaces[APP_NS]?.["istio.io/dataplane-mode"], undefined);
    assert.deepEqual(compareFlows(flowsOf(model), intendedFlows(true, false)), {
      unexpected: [],
      missing: [],
    });
  });
});
