import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import {
  clusterContract,
  drRegions,
  networkContract,
  planSubnets,
  primaryRegion,
  type RegionConfig,
} from "@hcp/platform";
import {
  at,
  childrenOf,
  ofType,
  parsePolicy,
  producerValue,
  ProgramError,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
  runProgram,
} from "@hcp/testing";
import { RegionalCache, type RegionalCacheArgs } from "../src/components/cache";
import { redisUrlTemplate } from "../src/services";

const T = {
  group: "aws:elasticache/replicationGroup:ReplicationGroup",
  subnetGroup: "aws:elasticache/subnetGroup:SubnetGroup",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  key: "aws:kms/key:Key",
  password: "random:index/randomPassword:RandomPassword",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
  deployment: "kubernetes:apps/v1:Deployment",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  component: "hcp:workloads:RegionalCache",
} as const;

function single(run: ProgramRun, type: string, filter: (r: RegisteredResource) => boolean = () => true) {
  const found = ofType(run.resources, type).filter(filter);
  assert.equal(found.length, 1, `one ${type}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

/** The cache component's children of a type. */
function cacheChildren(run: ProgramRun, type: string): RegisteredResource[] {
  const cache = single(run, T.component);
  const below = (parent: RegisteredResource): RegisteredResource[] =>
    childrenOf(run.resources, parent).flatMap((c) => [c, ...below(c)]);
  return below(cache).filter((r) => r.type === type);
}

function containerEnv(run: ProgramRun, service: string) {
  const d = single(run, T.deployment, (r) => at(r.inputs, "metadata.name") === service);
  return (at(d.inputs, "spec.template.spec.containers.0.env") ?? []) as Array<{
    name: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }>;
}

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const production = topology.tier === "production";
  const regions: RegionConfig[] = [primaryRegion(topology), drRegions(topology)[0]];
  for (const region of regions) {
    describe(`cache: hcp-workloads ${env}-${region.name} (${region.role})`, () => {
      let run: ProgramRun;
      let group: RegisteredResource;
      before(async () => {
        run = await runLayer({ layer: "workloads", topology, region: region.name });
        group = single(run, T.group);
      });

      it("runs the region's own group with the configured engine, a stable id and no global datastore", () => {
        const c = topology.workloads.cache;
        assert.equal(group.inputs.replicationGroupId, `hcp-${env}-${region.name}-cache`);
        assert.equal(group.inputs.engine, c.engine);
        assert.equal(group.inputs.engineVersion, c.engineVersion);
        assert.equal(group.inputs.nodeType, c.nodeType);
        assert.equal(group.inputs.port, 6379);
        assert.equal(group.inputs.globalReplicationGroupId, undefined);
        assert.equal(group.inputs.snapshotRetentionLimit, c.snapshotRetentionDays);
        assert.equal(group.inputs.maintenanceWindow, c.maintenanceWindow);
        if (c.snapshotRetentionDays > 0) {
          assert.equal(group.inputs.snapshotWindow, c.snapshotWindow);
        }
      });

      it("sizes the group: the configured nodes in the primary, scaled in a DR region, multi-AZ in production", () => {
        const nodes = group.inputs.numCacheClusters as number;
        const configured = topology.workloads.cache.nodes;
        if (region.role === "primary") {
          assert.equal(nodes, configured);
        } else {
          assert.ok(nodes <= Math.max(configured, production ? 2 : 1), `${nodes} nodes`);
          assert.ok(nodes >= Math.ceil(configured * region.sizes.workloadScale), `${nodes} nodes`);
        }
        if (production) {
          assert.ok(nodes >= 2, `${nodes} nodes in production`);
        }
        assert.equal(group.inputs.automaticFailoverEnabled, nodes >= 2);
        assert.equal(group.inputs.multiAzEnabled, nodes >= 2);
      });

      it("requires TLS and encrypts at rest with its own customer-managed key", () => {
        assert.equal(group.inputs.transitEncryptionEnabled, true);
        assert.equal(group.inputs.transitEncryptionMode, "required");
        assert.equal(group.inputs.atRestEncryptionEnabled, true);
        const [key] = cacheChildren(run, T.key);
        assert.ok(key, "the cache's key");
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(group.inputs.kmsKeyId, key.wireOutputs.arn);
      });

      it("authenticates with a generated token that only Secrets Manager holds, as a secret", () => {
        const [password] = cacheChildren(run, T.password);
        assert.equal(password.inputs.special, false);
        assert.ok((password.inputs.length as number) >= 32);
        const token =
          (password.wireOutputs.result as { value?: string }).value ?? password.wireOutputs.result;
        assert.equal(typeof token, "string");
        assert.equal(group.inputs.authToken, token);
        assert.ok(group.secretInputPaths.includes("authToken"), group.secretInputPaths.join(", "));

        const [secret] = cacheChildren(run, T.secret);
        assert.equal(secret.inputs.name, `hcp-${env}-${region.name}/workloads/cache`);
        const [key] = cacheChildren(run, T.key);
        assert.equal(secret.inputs.kmsKeyId, key.wireOutputs.arn);
        const [version] = cacheChildren(run, T.secretVersion);
        assert.ok(version.secretInputPaths.includes("secretString"));
        const stored = JSON.parse(version.inputs.secretString as string) as Record<string, unknown>;
        assert.equal(stored.authToken, token);
        assert.equal(stored.host, group.wireOutputs.primaryEndpointAddress);
        assert.equal(stored.port, 6379);
        // Nowhere else: no other input of the stack carries the token.
        const carriers = run.resources.filter(
          (r) =>
            r.urn !== group.urn && r.urn !== version.urn && JSON.stringify(r.inputs).includes(String(token)),
        );
        assert.deepEqual(
          carriers.map((r) => r.name),
          [],
        );
        assert.ok(!JSON.stringify(run.outputs).includes(String(token)), "not in the stack outputs");
      });

      it("places the nodes in the private subnets behind a group admitting only the cluster's nodes on 6379", async () => {
        const network = await producerValue(networkContract, topology, region.name);
        const cluster = await producerValue(clusterContract, topology, region.name);
        const [subnetGroup] = cacheChildren(run, T.subnetGroup);
        assert.deepEqual(subnetGroup.inputs.subnetIds, network.subnetIds.private);
        assert.equal(group.inputs.subnetGroupName, subnetGroup.wireOutputs.name ?? subnetGroup.inputs.name);

        const [sg] = cacheChildren(run, T.sg);
        assert.equal(sg.inputs.vpcId, network.vpcId);
        assert.deepEqual(group.inputs.securityGroupIds, [sg.id]);
        assert.equal(sg.inputs.ingress, undefined, "no inline rules");
        assert.equal(sg.inputs.egress, undefined, "no egress: the provider drops the default rule");
        const rules = ofType(run.resources, T.ingressRule).filter((r) => r.inputs.securityGroupId === sg.id);
        assert.deepEqual(
          rules.map((r) => ({
            ipProtocol: r.inputs.ipProtocol,
            fromPort: r.inputs.fromPort,
            toPort: r.inputs.toPort,
            source: r.inputs.referencedSecurityGroupId,
            cidr: r.inputs.cidrIpv4,
          })),
          [
            {
              ipProtocol: "tcp",
              fromPort: 6379,
              toPort: 6379,
              source: cluster.nodeSecurityGroupId,
              cidr: undefined,
            },
          ],
        );
        assert.equal(
          ofType(run.resources, T.egressRule).filter((r) => r.inputs.securityGroupId === sg.id).length,
          0,
        );
      });

      it("protects the group, its key and its secret in production only", () => {
        const [key] = cacheChildren(run, T.key);
        const [secret] = cacheChildren(run, T.secret);
        for (const r of [group, key, secret]) {
          assert.equal(r.options.protect ?? false, production, r.name);
        }
      });

      it("gives REDIS_URL to the services with cache access, composed by ESO from the cache's secret", () => {
        const [secret] = cacheChildren(run, T.secret);
        for (const s of topology.workloads.services.filter((x) => x.kind === "http" || x.kind === "worker")) {
          const es = ofType(run.resources, T.externalSecret).filter(
            (r) => at(r.inputs, "metadata.name") === `${s.name}-cache`,
          );
          const redis = containerEnv(run, s.name).find((e) => e.name === "REDIS_URL");
          if (s.cache === "none") {
            assert.equal(es.length, 0, `${s.name}: no cache secret`);
            assert.equal(redis, undefined, `${s.name}: no REDIS_URL`);
            continue;
          }
          assert.equal(es.length, 1);
          assert.equal(at(es[0].inputs, "spec.secretStoreRef.name"), "aws-secrets-manager");
          assert.equal(at(es[0].inputs, "spec.target.template.data.REDIS_URL"), redisUrlTemplate());
          assert.deepEqual(
            (
              at(es[0].inputs, "spec.data") as Array<{ secretKey: string; remoteRef: Record<string, string> }>
            ).map((d) => [d.secretKey, d.remoteRef.key, d.remoteRef.property]),
            ["authToken", "host", "port"].map((p) => [p, secret.wireOutputs.arn, p]),
          );
          assert.deepEqual(redis?.valueFrom?.secretKeyRef, {
            name: `${s.name}-cache`,
            key: "REDIS_URL",
            optional: false,
          });
        }
      });

      it("lets the External Secrets Operator read the cache's secret and decrypt it", () => {
        const [secret] = cacheChildren(run, T.secret);
        const [key] = cacheChildren(run, T.key);
        const operatorPolicies = ofType(run.resources, T.rolePolicy)
          .filter((r) => r.name.startsWith("external-secrets"))
          .map((r) => JSON.stringify(parsePolicy(r.inputs.policy)));
        assert.ok(
          operatorPolicies.some((p) => p.includes(String(secret.wireOutputs.arn))),
          "the operator may read the cache secret",
        );
        assert.ok(
          operatorPolicies.some((p) => p.includes(String(key.wireOutputs.arn))),
          "the operator may decrypt with the cache key",
        );
      });

      it("opens the cache port only to the private subnets and only for services with cache access", () => {
        const privateCidrs = planSubnets(region.vpcCidr, region.azCount)
          .filter((s) => s.tier === "private")
          .map((s) => s.cidr)
          .sort();
        for (const s of topology.workloads.services) {
          const policies = ofType(run.resources, T.policy).filter(
            (p) =>
              at(p.inputs, "metadata.namespace") === topology.workloads.namespace &&
              at(p.inputs, "spec.podSelector.matchLabels")?.toString() !== undefined &&
              JSON.stringify(at(p.inputs, "spec.podSelector")).includes(`"${s.name}"`),
          );
          const cacheRules = policies.flatMap((p) =>
            (
              (at(p.inputs, "spec.egress") ?? []) as Array<{
                to: Array<{ ipBlock?: { cidr: string } }>;
                ports: Array<{ port: number }>;
              }>
            ).filter((r) => r.ports?.some((port) => port.port === 6379)),
          );
          if (s.cache === "none") {
            assert.deepEqual(cacheRules, [], s.name);
            continue;
          }
          assert.equal(cacheRules.length, 1, s.name);
          assert.deepEqual(
            cacheRules[0].ports.map((p) => p.port),
            [6379],
          );
          assert.deepEqual(cacheRules[0].to.map((t) => t.ipBlock?.cidr).sort(), privateCidrs);
        }
      });
    });
  }
}

describe("RegionalCache arguments", () => {
  const args: RegionalCacheArgs = {
    replicationGroupId: "hcp-staging-sa-east-1-cache",
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.t4g.small",
    nodes: 1,
    snapshotRetentionDays: 1,
    snapshotWindow: "03:00-04:00",
    maintenanceWindow: "tue:05:00-tue:06:00",
    vpcId: "vpc-1",
    subnetIds: ["subnet-1"],
    clients: { "cluster-nodes": "sg-1" },
    keyAlias: "hcp/staging/sa-east-1/cache",
    secretName: "hcp-staging-sa-east-1/workloads/cache",
    dataClassification: "phi",
    protect: false,
  };

  async function failure(overrides: Partial<RegionalCacheArgs>): Promise<string> {
    try {
      await runProgram({
        project: "p",
        stack: "s",
        searchPaths: [__dirname],
        program: () => {
          const aws_ = new aws.Provider("aws-sa-east-1", { region: "sa-east-1" });
          const rnd = new random.Provider("random", {});
          new RegionalCache("cache", { ...args, ...overrides }, { providers: [aws_, rnd] });
        },
      });
    } catch (e) {
      assert.ok(e instanceof ProgramError, String(e));
      return e.message;
    }
    return assert.fail("expected the component to refuse its arguments");
  }

  it("refuses an identifier ElastiCache would refuse, too many nodes and no client, all at once", async () => {
    const message = await failure({
      replicationGroupId: "hcp-preproduction-environment-ap-southeast-1-cache",
      nodes: 7,
      clients: {},
    });
    assert.match(
      message,
      /replicationGroupId 'hcp-preproduction-environment-ap-southeast-1-cache' must be 1-40/,
    );
    assert.match(message, /nodes 7 must be 1 to 6/);
    assert.match(message, /clients is empty/);
    assert.match(await failure({ replicationGroupId: "hcp--cache" }), /single hyphens/);
  });
});
