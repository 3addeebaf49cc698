import * as assert from "node:assert/strict";
import * as path from "node:path";
import { readStackConfigFile } from "../src/config/load";
import { NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { ConfigError, type ConfigProblem } from "../src/config/problems";
import type { EnvironmentConfig } from "../src/config/types";
import { cpuMillis, memoryBytes, scaledReplicas } from "../src/config/workloads";

const repoRoot = path.resolve(__dirname, "../../..");
/** Inside EKS standard support of the repository's cluster version. */
const NOW = new Date("2026-06-01T00:00:00Z");

type Raw = Record<string, unknown>;

/** The repository's environment with its raw values changed. */
function parse(
  env: "production" | "staging",
  change: (values: Raw) => void,
): { config?: EnvironmentConfig; problems: readonly ConfigProblem[] } {
  const file = path.join(repoRoot, `Pulumi.${env}.yaml`);
  const raw = readStackConfigFile(file);
  const values = structuredClone(raw.values) as Raw;
  change(values);
  try {
    return { config: parseEnvironmentConfig(env, { ...raw, values }, file, { now: NOW }), problems: [] };
  } catch (e) {
    if (ConfigError.isInstance(e)) {
      return { problems: e.problems };
    }
    throw e;
  }
}

const W = `${NAMESPACE}:workloads`;
const workloads = (v: Raw) => v[W] as Raw;
const service = (v: Raw, i: number) => (workloads(v)["services"] as Raw[])[i];

describe("config: workloads section", () => {
  it("parses both repository environments with defaults applied", () => {
    for (const env of ["production", "staging"] as const) {
      const { config, problems } = parse(env, () => undefined);
      assert.deepEqual(problems, []);
      const app = config!.workloads.services.find((s) => s.name === "healthcare-app")!;
      assert.equal(app.probes!.readiness.path, "/health/ready");
      assert.equal(app.probes!.readiness.port, "http");
      assert.deepEqual(app.callers, []);
      assert.equal(app.externalHttps, false);
      assert.equal(app.timeZone, "Etc/UTC");
    }
    const { config } = parse("staging", (v) => {
      delete service(v, 1)["rollout"];
    });
    assert.deepEqual(config!.workloads.services[1].rollout, { maxSurge: 1, maxUnavailable: 0 });
  });

  const cases: Array<{
    name: string;
    env: "production" | "staging";
    change: (v: Raw) => void;
    expected: ConfigProblem[];
  }> = [
    {
      name: "latest is refused everywhere, and production requires a digest",
      env: "production",
      change: (v) => {
        service(v, 0)["image"] = { repository: "healthcare-app", tag: "latest" };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[0].image.tag",
          received: '"latest"',
          allowed:
            "an immutable release tag or a digest, never latest (it moves, so two pods can run different code)",
          fix: "set the release's tag, or digest: sha256:<64 hex>",
        },
        {
          path: "healthcare-platform:workloads.services[0].image.digest",
          received: "nothing (the key is missing)",
          allowed: "a digest in production: only the digest names exactly the image that was approved",
          fix: "set digest: sha256:<64 hex> of the approved image (the release workflow's pull request does)",
        },
      ],
    },
    {
      name: "latest is refused in staging too (any case)",
      env: "staging",
      change: (v) => {
        service(v, 1)["image"] = { repository: "healthcare-mcp", tag: "Latest" };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[1].image.tag",
          received: '"Latest"',
          allowed:
            "an immutable release tag or a digest, never latest (it moves, so two pods can run different code)",
          fix: "set the release's tag, or digest: sha256:<64 hex>",
        },
      ],
    },
    {
      name: "an image repository outside ecr.repositories",
      env: "staging",
      change: (v) => {
        service(v, 0)["image"] = { repository: "nginx", tag: "1.27.0" };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[0].image.repository",
          received: '"nginx"',
          allowed: "an ECR repository of the environment (ecr.repositories: healthcare-app, healthcare-mcp)",
          fix: "add it to ecr.repositories or use one of those",
        },
      ],
    },
    {
      name: "the connection budget: pool × max pods above what PgBouncer accepts with one replica drained",
      env: "staging",
      change: (v) => {
        const app = service(v, 0);
        app["database"] = { access: "readWrite", poolSize: 200 };
        app["autoscaling"] = { ...(app["autoscaling"] as Raw), maxReplicas: 20 };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services",
          received:
            "4002 client connections in sa-east-1 (healthcare-app 200×20 + healthcare-app migrations 2)",
          allowed:
            "at most 2000: data.pgbouncer.maxClientConnections 2000 × (regions[0].sizes.pgbouncerReplicas 2 − 1 drained)",
          fix: "lower database.poolSize or autoscaling.maxReplicas, or raise data.pgbouncer.maxClientConnections / pgbouncerReplicas",
        },
      ],
    },
    {
      name: "production: mesh on, two cache nodes, two replicas, no unavailable pods during a rollout",
      env: "production",
      change: (v) => {
        workloads(v)["mesh"] = "none";
        (workloads(v)["cache"] as Raw)["nodes"] = 1;
        const mcp = service(v, 1);
        mcp["autoscaling"] = { ...(mcp["autoscaling"] as Raw), minReplicas: 1 };
        mcp["rollout"] = { maxSurge: 1, maxUnavailable: "25%" };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.mesh",
          received: '"none"',
          allowed:
            "ambient in a production environment (mTLS between every pod and caller-scoped authorization)",
          fix: "set mesh: ambient",
        },
        {
          path: "healthcare-platform:workloads.cache.nodes",
          received: "1",
          allowed: "2 or more in production (a replica in another zone for automatic failover)",
          fix: "set nodes: 2",
        },
        {
          path: "healthcare-platform:workloads.services[1].autoscaling.minReplicas",
          received: "1",
          allowed: "2 or more in production (one pod lost to a node or zone must not take the service down)",
          fix: "set minReplicas: 2",
        },
        {
          path: "healthcare-platform:workloads.services[1].rollout.maxUnavailable",
          received: '"25%"',
          allowed: "0 in production (a rollout never removes a serving pod before its replacement is ready)",
          fix: "set maxUnavailable: 0 (and maxSurge: 1 or more)",
        },
      ],
    },
    {
      name: "replicas and autoscaling together; a metrics port equal to the serving port",
      env: "staging",
      change: (v) => {
        const app = service(v, 0);
        app["replicas"] = 3;
        app["ports"] = { http: 4000, metrics: 4000 };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[0].ports.metrics",
          received: "4000",
          allowed: "a port other than ports.http (metrics must not be reachable through the serving port)",
          fix: "serve metrics on their own port, e.g. 9568",
        },
        {
          path: "healthcare-platform:workloads.services[0].replicas",
          received: "3",
          allowed:
            "either replicas or autoscaling: with an HPA the Deployment must not set replicas (each deploy would reset the HPA's count)",
          fix: "remove replicas (autoscaling.minReplicas is the floor)",
        },
      ],
    },
    {
      name: "a metrics port without its exporter, and metrics without a metrics port",
      env: "production",
      change: (v) => {
        delete service(v, 0)["metrics"];
        service(v, 1)["ports"] = { http: 8080 };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[0].metrics",
          received: "nothing (the key is missing)",
          allowed: "metrics.exporter naming what serves ports.metrics (the observability layer scrapes it)",
          fix: "add metrics: { exporter: <family of the metric catalogue, e.g. app:healthcare> }",
        },
        {
          path: "healthcare-platform:workloads.services[1].metrics",
          received: '{"exporter":"app:healthcare-mcp","path":"/metrics"}',
          allowed: "metrics only for a service that declares ports.metrics",
          fix: "declare ports.metrics or remove metrics",
        },
      ],
    },
    {
      name: "references: unknown secret and caller, platform-owned env, duplicate host, probe timeout",
      env: "staging",
      change: (v) => {
        const app = service(v, 0);
        app["secrets"] = ["SECRET_KEY_BASE", "JWT_SIGNING_KEY"];
        app["env"] = { ...(app["env"] as Raw), DATABASE_URL: "x" };
        app["callers"] = ["billing"];
        const mcp = service(v, 1);
        mcp["ingress"] = { hosts: ["app"] };
        const probes = mcp["probes"] as Raw;
        probes["readiness"] = { ...(probes["readiness"] as Raw), timeoutSeconds: 10, periodSeconds: 10 };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[0].secrets[1]",
          received: '"JWT_SIGNING_KEY"',
          allowed:
            "a name from workloads.secrets (SECRET_KEY_BASE, MASTER_ENCRYPTION_KEY, AUDIT_ENCRYPTION_KEY, PUBMED_API_KEY, SCIELO_API_TOKEN)",
          fix: "add the secret to workloads.secrets or remove it here",
        },
        {
          path: "healthcare-platform:workloads.services[0].env.DATABASE_URL",
          received: '"DATABASE_URL"',
          allowed: "a variable the platform and the service's secrets do not set",
          fix: "remove it: the platform (or the secret of that name) provides it",
        },
        {
          path: "healthcare-platform:workloads.services[0].callers[0]",
          received: '"billing"',
          allowed: "another service of this section (healthcare-mcp)",
          fix: "name a service, or remove it",
        },
        {
          path: "healthcare-platform:workloads.services[1].probes.readiness.timeoutSeconds",
          received: "10",
          allowed: "less than periodSeconds (10)",
          fix: "lower timeoutSeconds below 10",
        },
        {
          path: "healthcare-platform:workloads.services[1].ingress.hosts[0]",
          received: '"app"',
          allowed: "each host used by one service",
          fix: "remove it here or from services[0]",
        },
      ],
    },
    {
      name: "migrations need write access; limits below requests; blocking the home country",
      env: "staging",
      change: (v) => {
        const app = service(v, 0);
        app["database"] = { access: "readOnly", poolSize: 5 };
        app["resources"] = { requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: "500m", memory: "1Gi" } };
        ((workloads(v)["ingress"] as Raw)["waf"] as Raw)["blockedCountries"] = ["KP", "BR"];
      },
      expected: [
        {
          path: "healthcare-platform:workloads.ingress.waf.blockedCountries[1]",
          received: '"BR"',
          allowed: "countries other than residency.homeCountry (the patients' own country)",
          fix: "remove BR from the list",
        },
        {
          path: "healthcare-platform:workloads.services[0].resources.limits.memory",
          received: '"1Gi"',
          allowed: "at least the request (2Gi)",
          fix: "set the limit to 2Gi or more",
        },
        {
          path: "healthcare-platform:workloads.services[0].resources.limits.cpu",
          received: '"500m"',
          allowed: "at least the request (2), or no CPU limit",
          fix: "raise the CPU limit to the request or remove it",
        },
        {
          path: "healthcare-platform:workloads.services[0].migrations",
          received: '"readOnly"',
          allowed: "migrations on a service with database.access readWrite",
          fix: "set database.access: readWrite or remove migrations",
        },
      ],
    },
    {
      name: "a cronjob needs a schedule and takes no replicas; callers of a non-http service",
      env: "staging",
      change: (v) => {
        const services = workloads(v)["services"] as Raw[];
        services.push({
          name: "nightly-report",
          kind: "cronjob",
          image: { repository: "healthcare-app", tag: "0.1.0-rc.1" },
          runAs: { uid: 1000 },
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          replicas: 2,
          callers: ["healthcare-app"],
        });
      },
      expected: [
        {
          path: "healthcare-platform:workloads.services[2].replicas",
          received: "2",
          allowed: "no replicas or autoscaling for a job or cronjob",
          fix: "remove it",
        },
        {
          path: "healthcare-platform:workloads.services[2].callers[0]",
          received: '"healthcare-app"',
          allowed: "callers of http services only (nothing else listens)",
          fix: "remove callers or make the service kind: http",
        },
        {
          path: "healthcare-platform:workloads.services[2].schedule",
          received: "nothing (the key is missing)",
          allowed: "a five-field cron schedule for a cronjob",
          fix: 'set schedule, e.g. "0 2 * * *"',
        },
      ],
    },
    {
      name: "structure: an unknown key and a WAF window AWS does not offer",
      env: "staging",
      change: (v) => {
        service(v, 0)["replica"] = 3;
        ((workloads(v)["ingress"] as Raw)["waf"] as Raw)["rateLimit"] = { limit: 1000, windowSeconds: 30 };
      },
      expected: [
        {
          path: "healthcare-platform:workloads.ingress.waf.rateLimit.windowSeconds",
          received: "30",
          allowed: "one of 60, 120, 300, 600",
          fix: "use one of 60, 120, 300, 600 (the evaluation window AWS WAF accepts: 60, 120, 300 or 600)",
        },
        {
          path: "healthcare-platform:workloads.services[0].replica",
          received: "3",
          allowed:
            "only the keys name, kind, image, command, args, runAs, ports, metrics, probes, resources, replicas, autoscaling, rollout, database, cache, objectStorage, secrets, env, writablePaths, ingress, callers, externalHttps, migrations, schedule, timeZone",
          fix: "rename it to replicas",
        },
      ],
    },
  ];

  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const { problems } = parse(c.env, c.change);
      const ours = problems.filter((p) => p.path.startsWith(W));
      const sort = (ps: readonly ConfigProblem[]) => [...ps].sort((a, b) => a.path.localeCompare(b.path));
      assert.deepEqual(sort(ours), sort(c.expected));
    });
  }

  it("parses quantities and scales replicas for a DR region", () => {
    assert.equal(memoryBytes("512Mi"), 512 * 1024 ** 2);
    assert.equal(memoryBytes("2Gi"), 2 * 1024 ** 3);
    assert.equal(memoryBytes("2G"), undefined);
    assert.equal(cpuMillis("250m"), 250);
    assert.equal(cpuMillis("1.5"), 1500);
    assert.equal(cpuMillis("x"), undefined);
    assert.equal(scaledReplicas(10, 0.25), 3);
    assert.equal(scaledReplicas(3, 0.25), 1);
    assert.equal(scaledReplicas(1, 1), 1);
  });
});
