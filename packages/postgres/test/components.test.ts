import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import {
  at,
  childrenOf,
  one,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runProgram,
} from "@hcp/testing";
import {
  BackupSchedule,
  BootstrapJob,
  dataTierPolicies,
  PatroniCluster,
  PgbackrestClient,
  PgbouncerPool,
  renderArtifacts,
} from "../src";

const production = repoTopology("production");
const artifacts = renderArtifacts(production, "sa-east-1");
const image = production.data.image;

describe("dataTierPolicies", () => {
  it("states exactly the flows of the members, PgBouncer and the Jobs", () => {
    const patroni = { app: "patroni" };
    const pgbouncer = { app: "pgbouncer" };
    const jobs = { "hcp.io/db-client": "true" };
    const monitoring = { namespaces: { "hcp.io/monitoring": "true" } };
    const https = { peers: [{ cidr: "0.0.0.0/0" }], ports: [443] };
    const agent = { peers: [{ cidr: "169.254.170.23/32" }], ports: [80] };
    assert.deepEqual(
      dataTierPolicies({
        patroniLabels: patroni,
        pgbouncerLabels: pgbouncer,
        replicationSourceCidrs: ["10.64.0.0/16"],
        loadBalancerSubnetCidrs: ["10.0.0.0/19", "10.0.32.0/19"],
      }),
      {
        patroni: {
          pods: patroni,
          ingress: [
            {
              peers: [{ pods: patroni }, { pods: pgbouncer }, { pods: jobs }, { cidr: "10.64.0.0/16" }],
              ports: [5432],
            },
            {
              peers: [{ pods: patroni }, monitoring, { cidr: "10.0.0.0/19" }, { cidr: "10.0.32.0/19" }],
              ports: [8008],
            },
            { peers: [{ pods: jobs }], ports: [8432] },
          ],
          egress: [{ peers: [{ pods: patroni }], ports: [5432, 8008] }, https, agent],
        },
        pgbouncer: {
          pods: pgbouncer,
          ingress: [
            { peers: [{ namespaces: { "hcp.io/database-client": "true" } }, monitoring], ports: [6432] },
          ],
          egress: [{ peers: [{ pods: patroni }], ports: [5432] }],
        },
        "db-clients": {
          pods: jobs,
          egress: [{ peers: [{ pods: patroni }], ports: [5432, 8432] }, https, agent],
        },
      },
    );
  });

  it("admits no DR VPC when there is none", () => {
    const flows = dataTierPolicies({
      patroniLabels: { a: "b" },
      pgbouncerLabels: { c: "d" },
      loadBalancerSubnetCidrs: [],
    });
    assert.deepEqual(
      flows["patroni"].ingress?.[0].peers.filter((p) => "cidr" in p),
      [],
    );
  });
});

describe("components and their dependsOn", () => {
  let run: ProgramRun;
  let marker: RegisteredResource;

  before(async () => {
    run = await runProgram({
      project: "hcp-data",
      stack: "production-sa-east-1",
      searchPaths: [path.join(__dirname, "..")],
      program: () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        const after = new k8s.core.v1.ConfigMap("before-everything", { data: {} }, { provider });
        const opts = { provider, dependsOn: [after] };
        new PatroniCluster(
          "patroni",
          {
            role: "primary",
            names: artifacts.names,
            namespace: "hcp-data",
            members: 3,
            image,
            patroni: artifacts.patroni,
            pgbackrestConf: artifacts.pgbackrest.conf,
            container: artifacts.sizing.container,
            storage: { storageClassName: "gp3", sizeGiB: 100 },
            placement: { labels: { "hcp.io/node-group": "database" }, taints: [] },
            credentialsSecretName: "patroni-credentials",
            tlsSecretName: "postgres-tls",
            readinessLagBytes: 1,
            protect: false,
          },
          opts,
        );
        new PgbouncerPool(
          "pgbouncer",
          {
            namespace: "hcp-data",
            serviceName: "pgbouncer",
            replicas: 2,
            image,
            ini: artifacts.pgbouncer.ini,
            userlistSecretName: "pgbouncer-auth",
            tlsSecretName: "pgbouncer-tls",
          },
          opts,
        );
        const jobs = new PgbackrestClient(
          "pgbackrest-jobs",
          {
            namespace: "hcp-data",
            serviceAccountName: "pgbackrest",
            conf: "[global]\n",
            image,
            clientTlsSecretName: "t",
          },
          opts,
        );
        new BootstrapJob(
          "bootstrap",
          {
            ...jobs.pod,
            namespace: "hcp-data",
            sql: artifacts.sql,
            databaseName: "healthcare",
            primaryHost: artifacts.names.hosts.primary,
            stanza: artifacts.names.stanza,
            credentialsSecretName: "bootstrap-credentials",
          },
          opts,
        );
        new BackupSchedule(
          "backup-schedule",
          {
            ...jobs.pod,
            namespace: "hcp-data",
            stanza: artifacts.names.stanza,
            backups: {
              full: { schedule: "0 1 * * 0", command: artifacts.pgbackrest.backupCommands.full },
              diff: { schedule: "0 1 * * 1-6", command: artifacts.pgbackrest.backupCommands.diff },
            },
            archiveCopy: {
              image: production.data.backup.archiveCopyImage,
              sourceBucket: "source",
              sourcePath: "/pgbackrest",
              archiveBucket: "archive",
              archiveKmsKeyArn: "arn:aws:kms:sa-east-1:111122223333:key/k",
              region: "sa-east-1",
            },
          },
          opts,
        );
      },
    });
    marker = run.resources.find((r) => r.name === "before-everything")!;
  });

  it("names each component's type after its class", () => {
    for (const [name, cls] of [
      ["patroni", "PatroniCluster"],
      ["pgbouncer", "PgbouncerPool"],
      ["pgbackrest-jobs", "PgbackrestClient"],
      ["bootstrap", "BootstrapJob"],
      ["backup-schedule", "BackupSchedule"],
    ]) {
      assert.equal(run.resources.find((r) => r.name === name && !r.custom)!.type, `hcp:postgres:${cls}`);
    }
  });

  it("hands a component's dependsOn to the children that start pods, which Pulumi does not do itself", () => {
    const waits = (r: RegisteredResource) => r.dependencies.includes(marker.urn);
    const acting = [
      one(run.resources, "kubernetes:apps/v1:StatefulSet"),
      one(run.resources, "kubernetes:apps/v1:Deployment"),
      one(run.resources, "kubernetes:batch/v1:Job"),
      ...childrenOf(run.resources, one(run.resources, "hcp:postgres:BackupSchedule")),
      ...childrenOf(run.resources, one(run.resources, "hcp:postgres:PgbackrestClient")),
    ];
    assert.equal(acting.length, 3 + 3 + 2);
    for (const r of acting) {
      assert.ok(waits(r), `${r.name} waits for what its component was created after`);
    }
    // The components themselves carry it too, so a dependent of the component waits for it.
    assert.ok(waits(one(run.resources, "hcp:postgres:PatroniCluster")));
  });

  it("keeps the StatefulSet's volumes and mounts: the PVC, the declared writable paths and read-only config", () => {
    const spec = at(one(run.resources, "kubernetes:apps/v1:StatefulSet").inputs, "spec.template.spec");
    assert.deepEqual(
      (at(spec, "volumes") as Array<{ name: string; emptyDir?: unknown }>)
        .filter((v) => v.emptyDir)
        .map((v) => v.name),
      ["socket", "tmp"],
    );
    const mounts = at(spec, "containers[0].volumeMounts") as Array<{
      name: string;
      mountPath: string;
      readOnly?: boolean;
    }>;
    const writable = mounts.filter((m) => !m.readOnly).map((m) => m.mountPath);
    assert.deepEqual(writable, ["/home/postgres/pgdata", "/var/run/postgresql", "/tmp"]);
    assert.equal(at(spec, "securityContext.runAsUser"), 1000);
    assert.equal(at(spec, "containers[0].securityContext.readOnlyRootFilesystem"), true);
  });
});

describe("container images", () => {
  it("run repository:tag@digest when the config pins a digest, and repository:tag otherwise", async () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const images = async (pinned: boolean) => {
      const ref = pinned ? { ...image, digest } : image;
      const run = await runProgram({
        project: "hcp-data",
        stack: "production-sa-east-1",
        searchPaths: [path.join(__dirname, "..")],
        program: () => {
          const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
          new PgbouncerPool(
            "pgbouncer",
            {
              namespace: "hcp-data",
              serviceName: "pgbouncer",
              replicas: 2,
              image: ref,
              ini: artifacts.pgbouncer.ini,
              userlistSecretName: "pgbouncer-auth",
              tlsSecretName: "pgbouncer-tls",
            },
            { provider },
          );
        },
      });
      const deployment = one(run.resources, "kubernetes:apps/v1:Deployment");
      return (at(deployment.inputs, "spec.template.spec.containers") as Array<{ image: string }>).map(
        (c) => c.image,
      );
    };
    const base = `${image.repository}:${image.tag}`;
    assert.ok((await images(false)).includes(base));
    const pinned = await images(true);
    assert.ok(pinned.includes(`${base}@${digest}`), pinned.join(", "));
    assert.ok(!pinned.includes(base));
  });
});
