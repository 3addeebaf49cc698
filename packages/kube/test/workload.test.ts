import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import {
  assertConventions,
  at,
  byUrn,
  childrenOf,
  ofType,
  one,
  runProgram,
  validateKubernetesObjects,
} from "@hcp/testing";
import {
  envHash,
  networkPolicySpec,
  podLabelsOf,
  Workload,
  workloadManifests,
  workloadProblems,
  type WorkloadSpec,
} from "../src";

const ACCOUNT = "111122223333";

const probe = (path: string) => ({
  path,
  port: "http" as const,
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 5,
  failureThreshold: 3,
});

/** A serving, autoscaled service: every optional part set. */
const api: WorkloadSpec = {
  name: "api",
  namespace: "apps",
  kind: "http",
  image: "111122223333.dkr.ecr.sa-east-1.amazonaws.com/api@sha256:" + "a".repeat(64),
  args: ["serve"],
  runAs: { uid: 1000 },
  ports: { http: 4000, metrics: 9568 },
  probes: {
    startup: { ...probe("/health"), failureThreshold: 18 },
    liveness: probe("/health"),
    readiness: probe("/health/ready"),
  },
  resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
  scaling: {
    mode: "autoscaled",
    minReplicas: 3,
    maxReplicas: 10,
    cpuUtilizationPercent: 70,
    memoryUtilizationPercent: 80,
    scaleDown: {
      stabilizationWindowSeconds: 300,
      policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
      selectPolicy: "Max",
    },
  },
  rollout: { maxSurge: 1, maxUnavailable: 0 },
  env: { MODE: "x", A: "1" },
  secretEnv: { DATABASE_URL: { secretName: "api-secrets", key: "DATABASE_URL" } },
  writablePaths: { tmp: "/tmp" },
  configMapMounts: [{ configMapName: "db-ca", volumeName: "db-ca", mountPath: "/etc/hcp/db-ca" }],
  podLabels: { "hcp.io/tier": "app" },
  ingress: [{ peers: [{ pods: { "app.kubernetes.io/name": "web" } }], ports: [4000] }],
  egress: [{ peers: [{ cidr: "10.0.0.0/16" }], ports: [6379] }],
  serviceAnnotations: { "alb.ingress.kubernetes.io/healthcheck-path": "/health/ready" },
  automountServiceAccountToken: false,
  placement: { nodeSelector: { "hcp.io/node-group": "workloads" } },
  terminationGracePeriodSeconds: 30,
};

describe("workloadManifests", () => {
  it("builds the Deployment, PDB, HPA, Service, ServiceAccount, ConfigMap and NetworkPolicy of a service", () => {
    const m = workloadManifests(api);
    const labels = {
      "hcp.io/tier": "app",
      "app.kubernetes.io/name": "api",
      "app.kubernetes.io/component": "http",
      "app.kubernetes.io/managed-by": "pulumi",
    };
    const selector = { matchLabels: { "app.kubernetes.io/name": "api" } };
    const meta = { name: "api", namespace: "apps", labels };
    assert.deepEqual(m.serviceAccount, { metadata: meta, automountServiceAccountToken: false });
    assert.deepEqual(m.configMap, {
      metadata: { ...meta, name: "api-env" },
      data: { MODE: "x", A: "1" },
    });
    assert.deepEqual(m.deployment, {
      metadata: meta,
      spec: {
        revisionHistoryLimit: 5,
        selector,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels, annotations: { "hcp.io/env-hash": envHash({ A: "1", MODE: "x" }) } },
          spec: {
            serviceAccountName: "api",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              fsGroup: 1000,
              fsGroupChangePolicy: "OnRootMismatch",
              seccompProfile: { type: "RuntimeDefault" },
            },
            terminationGracePeriodSeconds: 30,
            nodeSelector: { "hcp.io/node-group": "workloads" },
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "DoNotSchedule",
                nodeTaintsPolicy: "Honor",
                labelSelector: selector,
                matchLabelKeys: ["pod-template-hash"],
              },
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: selector,
                matchLabelKeys: ["pod-template-hash"],
              },
            ],
            containers: [
              {
                name: "api",
                image: api.image,
                imagePullPolicy: "IfNotPresent",
                args: ["serve"],
                ports: [
                  { name: "http", containerPort: 4000, protocol: "TCP" },
                  { name: "metrics", containerPort: 9568, protocol: "TCP" },
                ],
                envFrom: [{ configMapRef: { name: "api-env", optional: false } }],
                env: [
                  {
                    name: "DATABASE_URL",
                    valueFrom: {
                      secretKeyRef: { name: "api-secrets", key: "DATABASE_URL", optional: false },
                    },
                  },
                ],
                resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
                startupProbe: {
                  httpGet: { path: "/health", port: "http" },
                  initialDelaySeconds: 0,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 18,
                  successThreshold: 1,
                },
                livenessProbe: {
                  httpGet: { path: "/health", port: "http" },
                  initialDelaySeconds: 0,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                  successThreshold: 1,
                },
                readinessProbe: {
                  httpGet: { path: "/health/ready", port: "http" },
                  initialDelaySeconds: 0,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                  successThreshold: 1,
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  runAsNonRoot: true,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "db-ca", mountPath: "/etc/hcp/db-ca", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "tmp", emptyDir: {} },
              { name: "db-ca", configMap: { name: "db-ca", optional: false } },
            ],
          },
        },
      },
    });
    assert.deepEqual(m.podDisruptionBudget, {
      metadata: meta,
      spec: { maxUnavailable: 1, selector, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    });
    assert.deepEqual(m.horizontalPodAutoscaler, {
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
        minReplicas: 3,
        maxReplicas: 10,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
          },
          {
            type: "Resource",
            resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
          },
        ],
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: 300,
            policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
            selectPolicy: "Max",
          },
        },
      },
    });
    assert.deepEqual(m.service, {
      metadata: { ...meta, annotations: { "alb.ingress.kubernetes.io/healthcheck-path": "/health/ready" } },
      spec: {
        type: "ClusterIP",
        selector: { "app.kubernetes.io/name": "api" },
        ports: [
          { name: "http", port: 4000, targetPort: "http", protocol: "TCP", appProtocol: "http" },
          { name: "metrics", port: 9568, targetPort: "metrics", protocol: "TCP", appProtocol: "http" },
        ],
      },
    });
    assert.deepEqual(m.networkPolicy, {
      metadata: meta,
      spec: {
        podSelector: selector,
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } } }],
            ports: [{ protocol: "TCP", port: 4000 }],
          },
        ],
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ protocol: "TCP", port: 6379 }] }],
      },
    });
    assert.equal(m.job, undefined);
    assert.equal(m.cronJob, undefined);
  });

  it("gives a fixed-size worker replicas, no Service and no HPA", () => {
    const m = workloadManifests({
      ...api,
      name: "worker",
      kind: "worker",
      ports: { metrics: 9100 },
      probes: {
        liveness: { ...probe("/live"), port: "metrics" },
        readiness: { ...probe("/ready"), port: "metrics" },
      },
      scaling: { mode: "fixed", replicas: 2 },
      env: {},
      configMapMounts: [],
    });
    assert.equal(at(m.deployment, "spec.replicas"), 2);
    assert.equal(m.service, undefined);
    assert.equal(m.horizontalPodAutoscaler, undefined);
    assert.equal(m.configMap, undefined);
    assert.ok(m.podDisruptionBudget);
    const container = at(m.deployment, "spec.template.spec.containers[0]") as Record<string, unknown>;
    assert.equal(container["envFrom"], undefined);
    assert.deepEqual(at(container, "readinessProbe.httpGet"), { path: "/ready", port: "metrics" });
  });

  it("runs a job once to completion and a cronjob on its schedule, without spread, PDB or HPA", () => {
    const base = { ...api, probes: undefined, scaling: undefined, ports: {}, serviceAnnotations: {} };
    const job = workloadManifests({
      ...base,
      name: "api-migrate-1a2b",
      kind: "job",
      activeDeadlineSeconds: 900,
    });
    assert.deepEqual(
      { ...(job.job!.spec as unknown as Record<string, unknown>), template: undefined },
      { backoffLimit: 2, activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 86400, template: undefined },
    );
    assert.equal(at(job.job, "spec.template.spec.restartPolicy"), "Never");
    assert.equal(at(job.job, "spec.template.spec.topologySpreadConstraints"), undefined);
    assert.equal(job.deployment, undefined);
    assert.equal(job.podDisruptionBudget, undefined);
    const cron = workloadManifests({
      ...base,
      name: "report",
      kind: "cronjob",
      schedule: { cron: "0 2 * * *", timeZone: "America/Sao_Paulo" },
    });
    assert.deepEqual(
      { ...(cron.cronJob!.spec as unknown as Record<string, unknown>), jobTemplate: undefined },
      {
        schedule: "0 2 * * *",
        timeZone: "America/Sao_Paulo",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: undefined,
      },
    );
    assert.deepEqual(
      at(cron.cronJob, "spec.jobTemplate.metadata.labels"),
      podLabelsOf({ ...base, name: "report", kind: "cronjob" }),
    );
  });

  it("changes the pods' env hash when a plain value changes, not when the order does", () => {
    assert.equal(envHash({ A: "1", B: "2" }), envHash({ B: "2", A: "1" }));
    assert.notEqual(envHash({ A: "1" }), envHash({ A: "2" }));
  });

  it("lists every problem of a spec once and refuses it", () => {
    const bad: WorkloadSpec = {
      ...api,
      name: "Bad_Name",
      image: "registry/api:latest",
      ports: { metrics: 9568 },
      probes: { liveness: probe("/h"), readiness: probe("/r") },
      scaling: { mode: "autoscaled", minReplicas: 5, maxReplicas: 2 },
      env: { DATABASE_URL: "x" },
      writablePaths: { "db-ca": "/x" },
    };
    assert.deepEqual(workloadProblems(bad), [
      "name 'Bad_Name' is not a DNS label of at most 52 characters",
      "image 'registry/api:latest' has neither a digest nor a release tag (latest is not one)",
      "an http service needs ports.http",
      "minReplicas 5 exceeds maxReplicas 2",
      "an autoscaler needs a CPU or memory target",
      "probes.liveness uses port http, which the service does not declare",
      "probes.readiness uses port http, which the service does not declare",
      "volume names used twice: db-ca",
      "variables both plain and secret: DATABASE_URL",
    ]);
    assert.throws(
      () => workloadManifests(bad),
      /Workload Bad_Name: name 'Bad_Name'.*Fix the service's settings\./,
    );
    assert.deepEqual(workloadProblems({ ...api, image: "registry/api" }), [
      "image 'registry/api' has neither a digest nor a release tag (latest is not one)",
    ]);
  });
});

describe("Workload", () => {
  it("registers every manifest as a child named after it, with the Pod Identity role, valid against the schemas", async () => {
    const run = await runProgram({
      project: "p",
      stack: "s",
      searchPaths: [__dirname],
      accountId: ACCOUNT,
      program: () => {
        const k8sProvider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        const awsProvider = new aws.Provider("aws-sa-east-1", {
          region: "sa-east-1",
          allowedAccountIds: [ACCOUNT],
        });
        const before = new k8s.core.v1.ConfigMap(
          "before",
          { metadata: { name: "b" } },
          { provider: k8sProvider },
        );
        new Workload(
          "api",
          {
            spec: api,
            configMaps: {
              "db-ca": { "ca.crt": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" },
            },
            podIdentity: { clusterName: "c", description: "the api" },
          },
          { providers: [k8sProvider, awsProvider], dependsOn: [before] },
        );
      },
    });
    const component = one(run.resources, "hcp:kube:Workload");
    const names = (type: string) => ofType(run.resources, type).map((r) => r.name);
    assert.deepEqual(names("kubernetes:apps/v1:Deployment"), ["api"]);
    assert.deepEqual(names("kubernetes:core/v1:Service"), ["api-svc"]);
    assert.deepEqual(names("kubernetes:core/v1:ServiceAccount"), ["api-sa"]);
    assert.deepEqual(names("kubernetes:core/v1:ConfigMap").sort(), ["api-db-ca", "api-env", "before"]);
    assert.deepEqual(names("kubernetes:policy/v1:PodDisruptionBudget"), ["api-pdb"]);
    assert.deepEqual(names("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"), ["api-hpa"]);
    assert.deepEqual(names("kubernetes:networking.k8s.io/v1:NetworkPolicy"), ["api-netpol"]);
    assert.deepEqual(names("aws:eks/podIdentityAssociation:PodIdentityAssociation"), ["api-identity-api"]);
    assert.ok(childrenOf(run.resources, component).length >= 8);

    const deployment = one(run.resources, "kubernetes:apps/v1:Deployment");
    const deps = deployment.dependencies.map((u) => byUrn(run.resources, u)?.name).sort();
    // The pods start after what they mount or need, and after the component's own dependsOn.
    for (const name of ["api-db-ca", "api-env", "api-identity", "api-netpol", "api-sa", "before"]) {
      assert.ok(deps.includes(name), `Deployment depends on ${name}: ${deps.join(", ")}`);
    }
    const hpa = one(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    assert.ok(hpa.dependencies.includes(deployment.urn));
    assertConventions(run, { tier: "production" });
    assert.deepEqual(
      (await validateKubernetesObjects(run.resources)).map((r) => [r.name, r.problems]),
      [],
      "every object fits the upstream schema",
    );
  });

  it("refuses a bad spec before registering anything", async () => {
    await assert.rejects(
      runProgram({
        project: "p",
        stack: "s",
        searchPaths: [__dirname],
        program: () => new Workload("api", { spec: { ...api, ports: {} } }),
      }),
      /an http service needs ports\.http/,
    );
  });
});

describe("networkPolicySpec", () => {
  it("states one group's flows, an IP block minus its exceptions included, and refuses bad ones", () => {
    assert.deepEqual(
      networkPolicySpec("web", {
        pods: { app: "web" },
        egress: [{ peers: [{ cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] }], ports: [443] }],
      }),
      {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ],
      },
    );
    assert.throws(
      () =>
        networkPolicySpec("web", {
          pods: { app: "web" },
          egress: [{ peers: [{ cidr: "0.0.0.0/0", except: ["169.254.0.0/33"] }], ports: [443] }],
        }),
      /Network policy web: web\.egress\[0\]: '169\.254\.0\.0\/33'/,
    );
  });
});
