import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  clusterContract,
  exportContract,
  readCluster,
  readNetwork,
  readTopology,
  stackId,
  stackReferenceName,
} from "@hcp/platform";
import {
  clusterExports,
  environmentExports,
  isSecretOutput,
  networkExports,
  ProgramError,
  repoTopology,
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

describe("layer contracts", () => {
  it("reads each field as its own output; a secret field stays secret, the others do not", async () => {
    const cluster = clusterExports(topology, "sa-east-1");
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
          outputs: { environment: environmentExports(topology) },
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
    const { vpcId: _dropped, ...renamed } = networkExports(topology, "sa-east-1");
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
    const run = await runProgram({
      project: "hcp-cluster",
      stack: "staging-sa-east-1",
      searchPaths: [__dirname],
      program: () =>
        exportContract(clusterContract, {
          ...clusterExports(topology, "sa-east-1"),
          kubeconfig: pulumi.output("k"),
        }),
    });
    assert.deepEqual([...run.secretOutputNames], ["cluster"]);
    const wire = run.wireOutputs["cluster"] as Record<string, unknown>;
    assert.equal(typeof wire["clusterName"], "string");
    assert.notEqual(typeof wire["kubeconfig"], "string");
  });
});
