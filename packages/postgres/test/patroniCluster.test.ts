import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { at, ofType, one, type ProgramRun, repoTopology, runProgram } from "@hcp/testing";
import { checkRole, PatroniCluster, type PatroniClusterArgs } from "../src/components/patroniCluster";
import { renderArtifacts, type StandbySource, standbySourceOf } from "../src/render";

/**
 * The DR layer runs PatroniCluster as a standby cluster: the same component, another role. These
 * tests run it on its own under the strict mocks.
 */

const production = repoTopology("production");
const source: StandbySource = standbySourceOf(production, "us-east-1");

function args(role: "primary" | "standby", withSource: boolean): PatroniClusterArgs {
  const region = role === "primary" ? "sa-east-1" : "us-east-1";
  const artifacts = renderArtifacts(production, region);
  return {
    role,
    standbySource: withSource ? source : undefined,
    names: artifacts.names,
    namespace: artifacts.names.namespace,
    members: 2,
    image: production.data.image,
    patroni: artifacts.patroni,
    pgbackrestConf: artifacts.pgbackrest.conf,
    container: artifacts.sizing.container,
    storage: { storageClassName: "gp3-encrypted", sizeGiB: 100 },
    placement: { labels: { "hcp.io/node-group": "database" }, taints: [] },
    credentialsSecretName: "patroni-credentials",
    tlsSecretName: "postgres-tls",
    readinessLagBytes: 1048576,
    replicationEndpoint: { subnetIds: ["subnet-a", "subnet-b"], sourceCidrs: [] },
    protect: false,
  };
}

function runCluster(clusterArgs: PatroniClusterArgs): Promise<ProgramRun> {
  return runProgram({
    program: () => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
      new PatroniCluster("pg", clusterArgs, { provider });
    },
    project: "hcp-dr",
    stack: "production-us-east-1",
    searchPaths: [path.join(__dirname, "..")],
  });
}

describe("PatroniCluster roles", () => {
  it("accepts consistent role arguments and lists every inconsistency", () => {
    assert.deepEqual(checkRole(args("primary", false)), []);
    assert.deepEqual(checkRole(args("standby", true)), []);
    assert.deepEqual(checkRole({ ...args("standby", false) }), [
      "role standby needs standbySource (the source cluster's replication endpoint)",
    ]);
    const primaryConfig = args("primary", false).patroni;
    assert.deepEqual(checkRole({ role: "standby", standbySource: source, patroni: primaryConfig }), [
      "role standby needs a Patroni configuration rendered with role standby (standby_cluster)",
    ]);
    assert.deepEqual(
      checkRole({ role: "primary", standbySource: source, patroni: args("standby", true).patroni }),
      [
        "role primary takes no standbySource",
        "role primary needs a Patroni configuration rendered without standby_cluster",
      ],
    );
    assert.match(
      checkRole({
        role: "standby",
        standbySource: { ...source, port: 6543 },
        patroni: args("standby", true).patroni,
      })[0],
      /differs from standbySource/,
    );
  });

  it("refuses to build a cluster whose arguments disagree", () => {
    assert.throws(
      () => new PatroniCluster("bad", args("standby", false)),
      /PatroniCluster bad: role standby needs standbySource/,
    );
  });

  it("runs a standby cluster whose NLB follows the standby leader and whose config streams from the source", async () => {
    const run = await runCluster(args("standby", true));
    const sts = one(run.resources, "kubernetes:apps/v1:StatefulSet");
    assert.equal(at(sts.inputs, "metadata.name"), "pg-us-east-1");
    const yaml = ofType(run.resources, "kubernetes:core/v1:ConfigMap")
      .map((m) => (m.inputs["data"] as Record<string, string>)["patroni.yml"])
      .find((y) => y !== undefined)!;
    assert.match(
      yaml,
      /standby_cluster:\n\s+host: replication\.sa-east-1\.data\.production\.hcp\.internal\n\s+port: 5432\n\s+primary_slot_name: hcp_standby_us_east_1/,
    );
    const nlb = ofType(run.resources, "kubernetes:core/v1:Service").find(
      (s) => at(s.inputs, "metadata.name") === "pg-us-east-1-replication",
    )!;
    assert.equal(
      (at(nlb.inputs, "metadata.annotations") as Record<string, string>)[
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"
      ],
      "/leader",
      "the health check answers on the lock holder of either role, so a promotion needs no change",
    );
    // The standby leader carries the same role label value: the Services need no change on promotion.
    assert.equal(at(nlb.inputs, "spec.selector.role"), "primary");
  });
});
