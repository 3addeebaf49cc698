import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  clusterContract,
  environmentContract,
  exportContract,
  networkContract,
  readCluster,
  readNetwork,
  readTopology,
  stackId,
  stackReferenceName,
} from "@hcp/platform";
import {
  isSecretOutput,
  producerExports,
  producerValue,
  ProgramError,
  repoTopology,
  runLayer,
  runProgram,
  type StackExports,
  unwrap,
} from "../src";

const topology = repoTopology("staging");
const ref = (layer: "environment" | "network" | "cluster", region?: string) =>
  stackReferenceName(stackId(layer, "staging", region), "organization");

async function read<T>(stackOutputs: Record<string, StackExports>, program: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  await runProgram({
    project: "consumer",
    stack: "staging-sa-east-1",
    searchPaths: [__dirname],
    stackOutputs,
    program: async () => {
      result = await program();
    },
  });
  return result!;
}

describe("producer-derived fixtures", () => {
  it("are what the producer's program exports as deployed, run once per topology and stack", async () => {
    const id = stackId("network", "staging", "us-east-1");
    const first = producerExports(topology, id);
    assert.equal(producerExports(topology, id), first, "memoised");
    const direct = await runLayer({ layer: "network", topology, region: "us-east-1" });
    assert.deepEqual((await first).outputs, direct.outputs);
    assert.deepEqual((await first).secretOutputNames, direct.secretOutputNames);
    // A different topology is a different producer run.
    const twoAz = { ...topology, regions: topology.regions.map((r) => ({ ...r, azCount: 2 })) };
    assert.notEqual(producerExports(twoAz, id), first);
  });

  it("carry the producer's secrets as secrets", async () => {
    const exports = await producerExports(topology, stackId("cluster", "staging", "sa-east-1"));
    assert.deepEqual([...exports.secretOutputNames], ["cluster"]);
  });
});

describe("layer contracts", () => {
  it("reads each field as its own output; a secret field stays secret, the others do not", async () => {
    const cluster = await producerValue(clusterContract, topology, "sa-east-1");
    const [name, nameSecret, kubeconfig, kubeconfigSecret] = await read(
      { [ref("cluster", "sa-east-1")]: { outputs: { cluster }, secretOutputNames: ["cluster"] } },
      async () => {
        const c = readCluster("staging", "sa-east-1");
        return [
          await unwrap(c.clusterName),
          await isSecretOutput(c.clusterName),
          await unwrap(c.kubeconfig),
          await isSecretOutput(c.kubeconfig),
        ];
      },
    );
    assert.equal(name, cluster.clusterName);
    assert.equal(nameSecret, false);
    assert.equal(kubeconfig, cluster.kubeconfig);
    assert.equal(kubeconfigSecret, true);
  });

  it("reads the topology as a plain value for synthesis-time decisions", async () => {
    const t = await read(
      {
        [ref("environment")]: {
          outputs: { environment: await producerValue(environmentContract, topology) },
          secretOutputNames: [],
        },
      },
      () => readTopology("staging"),
    );
    assert.deepEqual(t, topology);
  });

  it("fails naming both stacks and the output when the producer does not export it", async () => {
    try {
      await read(
        { [ref("network", "sa-east-1")]: { outputs: { vpc: {} }, secretOutputNames: [] } },
        async () => unwrap(readNetwork("staging", "sa-east-1").vpcId),
      );
      assert.fail("expected a contract error");
    } catch (e) {
      assert.ok(e instanceof ProgramError);
      assert.match(
        e.message,
        /consumer\/staging-sa-east-1 reads output 'network' of hcp-network\/staging-sa-east-1, which does not match the contract: the stack does not export 'network'/,
      );
    }
  });

  it("fails listing the paths a producer's object lacks (a renamed field)", async () => {
    const { vpcId: _dropped, ...renamed } = await producerValue(networkContract, topology, "sa-east-1");
    try {
      await read(
        {
          [ref("network", "sa-east-1")]: {
            outputs: { network: { ...renamed, vpcIdentifier: "vpc-1" } },
            secretOutputNames: [],
          },
        },
        async () => unwrap(readNetwork("staging", "sa-east-1").vpcCidr),
      );
      assert.fail("expected a contract error");
    } catch (e) {
      assert.match((e as Error).message, /network\.vpcId: expected string, received undefined/);
    }
  });

  it("exports secret fields as secrets", async () => {
    // Producers run before the consumer: runs are serialized, so never start one inside another.
    const cluster = await producerValue(clusterContract, topology, "sa-east-1");
    const run = await runProgram({
      project: "hcp-cluster",
      stack: "staging-sa-east-1",
      searchPaths: [__dirname],
      program: () =>
        exportContract(clusterContract, {
          ...cluster,
          kubeconfig: pulumi.output("k"),
        }),
    });
    assert.deepEqual([...run.secretOutputNames], ["cluster"]);
    const wire = run.wireOutputs["cluster"] as Record<string, unknown>;
    assert.equal(typeof wire["clusterName"], "string");
    assert.notEqual(typeof wire["kubeconfig"], "string");
  });
});
