import * as fs from "node:fs";
import * as path from "node:path";
import {
  ciRunnerProjectName,
  type ClusterOutputs,
  type DataOutputs,
  type EnvironmentOutputs,
  type EnvironmentTopology,
  type LayerName,
  loadEnvironmentConfigFile,
  NAMESPACE,
  type NetworkOutputs,
  planSubnets,
  type RawStackConfig,
  regionInfo,
  stackId,
  type StackId,
} from "@hcp/platform";
import type { StackExports } from "./mocks/strict";
import { token } from "./mocks/tokens";

/**
 * Stack-reference fixtures: contract-typed exports of upstream stacks with deterministic fake ids, so
 * a layer can be tested without running its upstream programs. (The offline plan feeds real
 * synthesized exports instead.)
 */

/** The repository root (the directory holding pnpm-workspace.yaml). */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`repoRoot: no pnpm-workspace.yaml above ${from}`);
    }
    dir = parent;
  }
  return dir;
}

/** Parses the repository's `Pulumi.<env>.yaml` (the real environment definitions). */
export function repoTopology(environment: string): EnvironmentTopology {
  return loadEnvironmentConfigFile(path.join(repoRoot(), `Pulumi.${environment}.yaml`), environment);
}

/**
 * A topology derived from a repository environment with changes, e.g. a 2-AZ variant:
 * `withRegions(repoTopology("staging"), (r) => ({ ...r, azCount: 2 }))`.
 */
export function withRegions(
  topology: EnvironmentTopology,
  change: (region: EnvironmentTopology["regions"][number]) => EnvironmentTopology["regions"][number],
): EnvironmentTopology {
  return { ...topology, regions: topology.regions.map(change) };
}

/** The root stack configuration that parses to `topology` (for running the environment program). */
export function topologyConfig(topology: EnvironmentTopology): RawStackConfig {
  const { name: _name, ...keys } = topology;
  const values: Record<string, unknown> = { "pulumi:disable-default-providers": ["*"] };
  for (const [key, value] of Object.entries(keys)) {
    values[`${NAMESPACE}:${key}`] = value;
  }
  return { values, secretKeys: new Set() };
}

function fake(id: StackId, attr: string): string {
  return token("fixture", id.project, id.stack, attr);
}

function partition(region: string): string {
  return regionInfo(region)?.partition ?? "aws";
}

/** Exports of the environment stack for a topology. */
export function environmentExports(topology: EnvironmentTopology): EnvironmentOutputs {
  const id = stackId("environment", topology.name);
  const primary = topology.regions.find((r) => r.role === "primary")!.name;
  const p = partition(primary);
  const account = topology.access.accountId;
  const repositories: Record<string, { name: string; url: string; arn: string }> = {};
  for (const name of topology.ecr.repositories) {
    repositories[name] = {
      name,
      url: `${account}.dkr.ecr.${primary}.amazonaws.com/${name}`,
      arn: `arn:${p}:ecr:${primary}:${account}:repository/${name}`,
    };
  }
  return {
    topology,
    dns: {
      zoneId: `Z${fake(id, "zone").toUpperCase()}`,
      zoneName: topology.dns.domain,
      nameServers: ["ns-1.awsdns-01.net", "ns-2.awsdns-02.org", "ns-3.awsdns-03.com", "ns-4.awsdns-04.co.uk"],
    },
    ecr: {
      repositories,
      replicationRegions: topology.regions.filter((r) => r.role === "dr").map((r) => r.name),
      kmsKeyArn: `arn:${p}:kms:${primary}:${account}:key/mrk-${fake(id, "ecrKey")}`,
    },
    ci: {
      oidcProviderArn: `arn:${p}:iam::${account}:oidc-provider/token.actions.githubusercontent.com`,
      previewRoleArn: `arn:${p}:iam::${account}:role/hcp-${topology.name}-ci-preview`,
      deployRoleArn: `arn:${p}:iam::${account}:role/hcp-${topology.name}-ci-deploy`,
      githubConnectionArns: Object.fromEntries(
        topology.regions.map((r) => [
          r.name,
          `arn:${partition(r.name)}:codeconnections:${r.name}:${account}:connection/${fake(id, `github${r.name}`)}`,
        ]),
      ),
    },
    audit: {
      trailArn: `arn:${p}:cloudtrail:${primary}:${account}:trail/hcp-${topology.name}-audit`,
      bucketName: `hcp-${topology.name}-audit-${fake(id, "bucket").slice(0, 8)}`,
      bucketArn: `arn:${p}:s3:::hcp-${topology.name}-audit-${fake(id, "bucket").slice(0, 8)}`,
      kmsKeyArn: `arn:${p}:kms:${primary}:${account}:key/${fake(id, "auditKey")}`,
    },
  };
}

/** Exports of a network stack. */
export function networkExports(topology: EnvironmentTopology, region: string): NetworkOutputs {
  const id = stackId("network", topology.name, region);
  const r = topology.regions.find((x) => x.name === region);
  if (!r) {
    throw new Error(`networkExports: ${region} is not a region of ${topology.name}`);
  }
  const zones = "abcdef"
    .slice(0, r.azCount)
    .split("")
    .map((l) => `${region}${l}`);
  const plan = planSubnets(r.vpcCidr, r.azCount);
  const ids = (tier: string, prefix: string) =>
    plan.filter((s) => s.tier === tier).map((s) => `${prefix}-${fake(id, `${tier}${s.azIndex}${prefix}`)}`);
  return {
    region,
    vpcId: `vpc-${fake(id, "vpc")}`,
    vpcCidr: r.vpcCidr,
    availabilityZones: zones,
    subnetIds: {
      public: ids("public", "subnet"),
      private: ids("private", "subnet"),
      database: ids("database", "subnet"),
    },
    routeTableIds: {
      public: ids("public", "rtb"),
      private: ids("private", "rtb"),
      database: ids("database", "rtb"),
    },
    endpointSecurityGroupId: `sg-${fake(id, "endpointSg")}`,
    flowLogGroupName: `/hcp/${topology.name}/${region}/vpc-flow-logs`,
    kmsKeyArn: `arn:${partition(region)}:kms:${region}:${topology.access.accountId}:key/${fake(id, "key")}`,
    ciRunner: {
      projectName: ciRunnerProjectName(topology.name, region),
      roleArn: `arn:${partition(region)}:iam::${topology.access.accountId}:role/ci-runner-role-${fake(id, "runnerRole").slice(0, 7)}`,
      securityGroupId: `sg-${fake(id, "runnerSg")}`,
      logGroupName: `/hcp/${topology.name}/${region}/ci-runner`,
    },
  };
}

/** Exports of a cluster stack (the kubeconfig is a fake exec-based kubeconfig). */
export function clusterExports(topology: EnvironmentTopology, region: string): ClusterOutputs {
  const id = stackId("cluster", topology.name, region);
  const account = topology.access.accountId;
  const p = partition(region);
  const clusterName = `hcp-${topology.name}-${region}`;
  const endpoint = `https://${fake(id, "endpoint").toUpperCase()}.gr7.${region}.eks.amazonaws.com`;
  const ca = Buffer.from(`fixture-ca-${fake(id, "ca")}`).toString("base64");
  return {
    clusterName,
    version: topology.cluster.version,
    endpoint,
    certificateAuthorityData: ca,
    kubeconfig: JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": ca } }],
      contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
      "current-context": clusterName,
      users: [
        {
          name: clusterName,
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "aws",
              args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region],
            },
          },
        },
      ],
    }),
    oidcIssuerUrl: `https://oidc.eks.${region}.amazonaws.com/id/${fake(id, "oidc").toUpperCase()}`,
    oidcProviderArn: `arn:${p}:iam::${account}:oidc-provider/oidc.eks.${region}.amazonaws.com/id/${fake(id, "oidc").toUpperCase()}`,
    clusterSecurityGroupId: `sg-${fake(id, "clusterSg")}`,
    nodeSecurityGroupId: `sg-${fake(id, "nodeSg")}`,
    storageClassName: "gp3-encrypted",
    kmsKeyArns: {
      secrets: `arn:${p}:kms:${region}:${account}:key/${fake(id, "secretsKey")}`,
      ebs: `arn:${p}:kms:${region}:${account}:key/${fake(id, "ebsKey")}`,
    },
    databaseNodes: {
      labels: { "hcp.io/node-group": "database" },
      taints: [{ key: "hcp.io/dedicated", value: "database", effect: "NoSchedule" }],
    },
  };
}

/** Exports of the data stack (primary region). */
export function dataExports(topology: EnvironmentTopology, region: string): DataOutputs {
  const id = stackId("data", topology.name, region);
  const account = topology.access.accountId;
  const p = partition(region);
  const dr = topology.regions.filter((r) => r.role === "dr").map((r) => r.name);
  const key = (rg: string) => `arn:${partition(rg)}:kms:${rg}:${account}:key/mrk-${fake(id, "key")}`;
  const bucket = (rg: string) =>
    `hcp-${topology.name}-${rg}-pgbackrest-${fake(id, `bucket${rg}`).slice(0, 8)}`;
  const ns = "hcp-data";
  const scope = `pg-${region}`;
  const host = (service: string) => `${service}.${ns}.svc.cluster.local`;
  const secretArn = (cred: string) =>
    `arn:${p}:secretsmanager:${region}:${account}:secret:hcp/${topology.name}/data/${cred}-AbCdEf`;
  const credentials = [
    "superuser",
    "replication",
    "rewind",
    "restApi",
    "pgbouncerAuth",
    "monitoring",
    "app",
    "admin",
    "reader",
  ];
  return {
    namespace: ns,
    patroniScope: scope,
    databaseName: topology.data.databaseName,
    endpoints: {
      primaryHost: host(scope),
      replicasHost: host(`${scope}-replicas`),
      pgbouncerHost: host("pgbouncer"),
      port: 5432,
      pgbouncerPort: 6432,
    },
    secrets: {
      appCredentialsSecretArn: secretArn("app"),
      credentialSecretArns: Object.fromEntries(credentials.map((c) => [c, secretArn(c)])),
      kubernetesSecretNames: {
        patroni: "patroni-credentials",
        pgbouncerAuth: "pgbouncer-auth",
        bootstrap: "bootstrap-credentials",
      },
    },
    kmsKeyArns: { primary: key(region), replicas: Object.fromEntries(dr.map((rg) => [rg, key(rg)])) },
    backups: {
      stanza: `hcp-${topology.name}`,
      repositories: [region, ...dr].map((rg, i) => ({
        index: i + 1,
        region: rg,
        bucketName: bucket(rg),
        bucketArn: `arn:${partition(rg)}:s3:::${bucket(rg)}`,
        kmsKeyArn: key(rg),
      })),
      archiveBucketName: `hcp-${topology.name}-${region}-archive-${fake(id, "archive").slice(0, 8)}`,
      archiveBucketArn: `arn:${p}:s3:::hcp-${topology.name}-${region}-archive-${fake(id, "archive").slice(0, 8)}`,
    },
    replication: {
      host: `internal-patroni-leader-${fake(id, "nlb").slice(0, 8)}.elb.${region}.amazonaws.com`,
      port: 5432,
      user: "replicator",
      passwordSecretArn: secretArn("replication"),
    },
  };
}

/** Fixture exports for any layer that has one; `undefined` for layers without fixtures yet. */
export function fixtureExports(topology: EnvironmentTopology, id: StackId): StackExports | undefined {
  const make: Partial<Record<LayerName, () => object>> = {
    environment: () => environmentExports(topology),
    network: () => networkExports(topology, id.region!),
    cluster: () => clusterExports(topology, id.region!),
    data: () => dataExports(topology, id.region!),
  };
  const value = make[id.layer]?.();
  if (!value) {
    return undefined;
  }
  return { outputs: { [id.layer]: value }, secretOutputNames: id.layer === "cluster" ? ["cluster"] : [] };
}
