import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { contextFor, KmsKey, type LayerContext } from "@hcp/platform";
import { ofType, one, ProgramError, repoTopology, runProgram } from "@hcp/testing";
import { EksCluster } from "../src/components/eksCluster";
import { NodeGroups } from "../src/components/nodeGroups";
import { StorageClasses } from "../src/components/storageClasses";

/**
 * Components on their own, with a context from `contextFor` and hand-picked arguments: the cases a
 * repository environment cannot express (an open public endpoint, bad retention, bad sizes).
 */

const topology = repoTopology("staging");

function run(program: (ctx: LayerContext) => void) {
  return runProgram({
    program: () => program(contextFor("cluster", topology, "us-east-1")),
    project: "hcp-cluster",
    stack: "staging-us-east-1",
    accountId: topology.access.accountId,
  });
}

const SUBNETS = ["subnet-a", "subnet-b"];

function clusterArgs(ctx: LayerContext) {
  return {
    clusterName: "test-cluster",
    version: "1.34",
    vpcId: "vpc-1",
    vpcCidr: "10.130.0.0/16",
    subnetIds: SUBNETS,
    serviceCidr: "172.20.0.0/16",
    endpointAccess: "privateAndPublic" as const,
    publicAccessCidrs: ["198.51.100.0/24"],
    secretsKeyArn: `arn:aws:kms:us-east-1:${ctx.topology.access.accountId}:key/secrets`,
    logsKeyArn: `arn:aws:kms:us-east-1:${ctx.topology.access.accountId}:key/logs`,
    logRetentionDays: 2557,
    protect: false,
  };
}

describe("EksCluster component", () => {
  it("builds a cluster from its arguments alone", async () => {
    const result = await run((ctx) => {
      new EksCluster("eks", clusterArgs(ctx), { providers: [ctx.aws()] });
    });
    const eks = one(result.resources, "aws:eks/cluster:Cluster");
    assert.deepEqual((eks.inputs["vpcConfig"] as Record<string, unknown>)["publicAccessCidrs"], [
      "198.51.100.0/24",
    ]);
    assert.equal(
      one(result.resources, "aws:cloudwatch/logGroup:LogGroup").inputs["name"],
      "/aws/eks/test-cluster/cluster",
    );
    assert.equal(one(result.resources, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"], 2557);
  });

  it("refuses a public endpoint open to the internet", async () => {
    await assert.rejects(
      run((ctx) => {
        new EksCluster(
          "eks",
          { ...clusterArgs(ctx), publicAccessCidrs: ["0.0.0.0/0"] },
          { providers: [ctx.aws()] },
        );
      }),
      (e: unknown) => e instanceof ProgramError && /must be limited to specific CIDRs/.test(e.message),
    );
  });

  it("refuses a retention CloudWatch does not accept (2555 is not 7 years)", async () => {
    await assert.rejects(
      run((ctx) => {
        new EksCluster("eks", { ...clusterArgs(ctx), logRetentionDays: 2555 }, { providers: [ctx.aws()] });
      }),
      (e: unknown) =>
        e instanceof ProgramError &&
        /logRetentionDays 2555 is not a CloudWatch retention value/.test(e.message),
    );
  });
});

describe("NodeGroups component", () => {
  it("follows the sizes it is given and waits for what the component waits for", async () => {
    const sizes = topology.regions[1].sizes.nodeGroups;
    const result = await run((ctx) => {
      const before = new KmsKey(
        "before",
        { description: "stand-in", alias: "test/before", protect: false },
        { providers: [ctx.aws()] },
      );
      new NodeGroups(
        "nodes",
        {
          clusterName: "test-cluster",
          namePrefix: "test-cluster",
          version: "1.34",
          subnetIds: SUBNETS,
          securityGroupIds: ["sg-cluster", "sg-nodes"],
          ebsKeyArn: "arn:aws:kms:us-east-1:444455556666:key/ebs",
          sizes: { ...sizes, workloads: { ...sizes.workloads, minSize: 0, desiredSize: 0, maxSize: 1 } },
          instanceTags: ctx.tags,
        },
        { providers: [ctx.aws()], dependsOn: [before] },
      );
    });
    const key = one(result.resources, "aws:kms/key:Key");
    for (const ng of ofType(result.resources, "aws:eks/nodeGroup:NodeGroup")) {
      assert.ok(ng.dependencies.includes(key.urn), `${ng.name} inherits the component's dependsOn`);
    }
    const workloads = one(result.resources, "aws:eks/nodeGroup:NodeGroup", "nodes-workloads");
    assert.deepEqual(workloads.inputs["scalingConfig"], { minSize: 0, desiredSize: 0, maxSize: 1 });
    const lt = one(result.resources, "aws:ec2/launchTemplate:LaunchTemplate", "nodes-database");
    const specs = lt.inputs["tagSpecifications"] as Array<{
      resourceType: string;
      tags: Record<string, string>;
    }>;
    assert.deepEqual(
      specs.map((s) => s.resourceType),
      ["instance", "volume", "network-interface"],
    );
    assert.ok(specs.every((s) => s.tags["Environment"] === "staging" && s.tags["Layer"] === "cluster"));
  });

  it("refuses inconsistent sizes before registering anything", async () => {
    const sizes = topology.regions[1].sizes.nodeGroups;
    await assert.rejects(
      run((ctx) => {
        new NodeGroups(
          "nodes",
          {
            clusterName: "c",
            namePrefix: "c",
            version: "1.34",
            subnetIds: SUBNETS,
            securityGroupIds: [],
            ebsKeyArn: "k",
            sizes: { ...sizes, database: { ...sizes.database, minSize: 5 } },
            instanceTags: ctx.tags,
          },
          { providers: [ctx.aws()] },
        );
      }),
      (e: unknown) =>
        e instanceof ProgramError &&
        /database: minSize 5 <= desiredSize 2 <= maxSize 2 does not hold/.test(e.message),
    );
  });
});

describe("StorageClasses component", () => {
  it("needs only a Kubernetes provider and the EBS key", async () => {
    const result = await run(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new StorageClasses(
        "storage",
        { ebsKeyArn: "arn:aws:kms:us-east-1:444455556666:key/ebs" },
        { providers: [provider] },
      );
    });
    const sc = one(result.resources, "kubernetes:storage.k8s.io/v1:StorageClass");
    assert.equal(
      (sc.inputs["parameters"] as Record<string, string>)["kmsKeyId"],
      "arn:aws:kms:us-east-1:444455556666:key/ebs",
    );
    assert.equal(ofType(result.resources, "kubernetes:storage.k8s.io/v1:StorageClassPatch").length, 1);
  });
});
