import * as assert from "node:assert/strict";
import { repoTopology } from "@hcp/testing";
import {
  databaseCredential,
  databaseUrlTemplate,
  imageRef,
  metricsEndpoints,
  migrationSpec,
  redisUrlTemplate,
  type RegionInputs,
  replicaRepositoryUrl,
  serviceSpec,
} from "../src/services";

const topology = repoTopology("staging");
const config = topology.workloads;
const inputs: RegionInputs = {
  region: "sa-east-1",
  role: "primary",
  mode: "readWrite",
  workloadScale: 1,
  repositoryUrls: Object.fromEntries(
    topology.ecr.repositories.map((r) => [r, `444455556666.dkr.ecr.sa-east-1.amazonaws.com/${r}`]),
  ),
  database: {
    namespace: "data",
    host: "pgbouncer.data.svc.cluster.local",
    port: 6432,
    databaseName: "healthcare",
  },
  loadBalancerSubnetCidrs: ["10.0.0.0/24", "10.0.1.0/24"],
  cache: { subnetCidrs: ["10.0.64.0/19", "10.0.96.0/19"], port: 6379 },
};
const service = (name: string) => config.services.find((s) => s.name === name)!;

describe("services", () => {
  it("pins the image by digest when there is one, else by tag, and refuses an unknown repository", () => {
    const s = service("healthcare-app");
    assert.equal(
      imageRef(s, inputs.repositoryUrls),
      `${inputs.repositoryUrls["healthcare-app"]}:${s.image.tag}`,
    );
    const digest = `sha256:${"b".repeat(64)}`;
    assert.match(
      imageRef({ ...s, image: { ...s.image, digest } }, inputs.repositoryUrls),
      new RegExp(`@${digest}$`),
    );
    assert.throws(
      () => imageRef({ ...s, image: { repository: "nope", tag: "1" } }, inputs.repositoryUrls),
      /ecr\.repositories/,
    );
  });

  it("moves a registry URL to the replica's region and keeps everything else", () => {
    assert.equal(
      replicaRepositoryUrl("444455556666.dkr.ecr.sa-east-1.amazonaws.com/healthcare-app", "us-east-1"),
      "444455556666.dkr.ecr.us-east-1.amazonaws.com/healthcare-app",
    );
  });

  it("maps access to the role: readWrite writes only where the database is writable", () => {
    assert.equal(databaseCredential("readWrite", "readWrite"), "app");
    assert.equal(databaseCredential("readWrite", "readOnly"), "reader");
    assert.equal(databaseCredential("readOnly", "readWrite"), "reader");
    assert.equal(
      databaseUrlTemplate(inputs.database),
      "postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@pgbouncer.data.svc.cluster.local:6432/healthcare?sslmode=verify-full&sslrootcert=/etc/hcp/database-ca/ca.crt",
    );
  });

  it("admits only the declared callers and the ALB subnets, and opens only what the service needs", () => {
    const mcp = serviceSpec(service("healthcare-mcp"), config, inputs);
    assert.deepEqual(mcp.ingress[0], {
      peers: [{ pods: { "app.kubernetes.io/name": "healthcare-app" } }],
      ports: [8080],
    });
    assert.ok(
      !mcp.ingress.some((f) => f.peers.some((p) => "cidr" in p && p.cidr !== "169.254.7.127/32")),
      "no ingress of its own: no ALB flow (only the mesh's probe address)",
    );
    assert.ok(!mcp.egress.some((f) => f.ports.includes(6432)), "no database access declared");
    const app = serviceSpec(service("healthcare-app"), config, inputs);
    assert.deepEqual(
      app.ingress[0].peers,
      inputs.loadBalancerSubnetCidrs.map((cidr) => ({ cidr })),
    );
    assert.ok(
      app.egress.some((f) => f.ports.includes(8080)),
      "reaches its callee",
    );
    assert.ok(
      app.egress.some((f) => f.ports.includes(6432)),
      "reaches PgBouncer",
    );
  });

  it("gives REDIS_URL and the cache port only to services with cache access", () => {
    assert.equal(redisUrlTemplate(), "rediss://:{{ .authToken | urlquery }}@{{ .host }}:{{ .port }}");
    const app = service("healthcare-app");
    const cacheFlows = (spec: ReturnType<typeof serviceSpec>) =>
      spec.egress.filter((f) => f.ports.includes(6379));
    const withCache = serviceSpec({ ...app, cache: "readWrite" }, config, inputs);
    assert.deepEqual(withCache.secretEnv.REDIS_URL, { secretName: "healthcare-app-cache", key: "REDIS_URL" });
    assert.deepEqual(cacheFlows(withCache), [
      { peers: inputs.cache.subnetCidrs.map((cidr) => ({ cidr })), ports: [6379] },
    ]);
    const without = serviceSpec({ ...app, cache: "none" }, config, inputs);
    assert.equal(without.secretEnv.REDIS_URL, undefined);
    assert.deepEqual(cacheFlows(without), []);
    // The migration Job never gets the cache.
    const job = migrationSpec({ ...app, cache: "readWrite" }, config, inputs)!;
    assert.equal(job.secretEnv.REDIS_URL, undefined);
    assert.deepEqual(cacheFlows(job), []);
  });

  it("gives every service with a metrics port a PodMonitor endpoint named after it, and no other", () => {
    assert.deepEqual(metricsEndpoints(config), [
      {
        name: "healthcare-app",
        kind: "pod",
        namespace: config.namespace,
        selector: { "app.kubernetes.io/name": "healthcare-app" },
        port: "metrics",
        path: "/metrics",
        scheme: "http",
        tls: null,
        basicAuth: null,
        exporter: "app:healthcare",
      },
      {
        name: "healthcare-mcp",
        kind: "pod",
        namespace: config.namespace,
        selector: { "app.kubernetes.io/name": "healthcare-mcp" },
        port: "metrics",
        path: "/metrics",
        scheme: "http",
        tls: null,
        basicAuth: null,
        exporter: "app:healthcare-mcp",
      },
    ]);
    const mcp = service("healthcare-mcp");
    const { metrics: _m, ...noExporter } = mcp;
    assert.deepEqual(
      metricsEndpoints({ ...config, services: [{ ...mcp, ports: { http: 8080 }, metrics: undefined }] }),
      [],
    );
    assert.throws(
      () => metricsEndpoints({ ...config, services: [noExporter] }),
      /healthcare-mcp.*ports\.metrics is set but metrics\.exporter is not/,
    );
  });

  it("runs migrations only in a writable primary region", () => {
    const s = service("healthcare-app");
    assert.ok(migrationSpec(s, config, inputs));
    assert.equal(migrationSpec(s, config, { ...inputs, role: "dr" }), undefined);
    assert.equal(migrationSpec(s, config, { ...inputs, mode: "readOnly" }), undefined);
    assert.equal(migrationSpec(service("healthcare-mcp"), config, inputs), undefined);
  });
});
