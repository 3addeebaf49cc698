import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { one, runProgram } from "../src";
import { elasticacheRegionCode } from "../src/mocks/types/cache";

describe("ElastiCache mocks", () => {
  it("abbreviates regions as ElastiCache endpoint names do", () => {
    assert.equal(elasticacheRegionCode("sa-east-1"), "sae1");
    assert.equal(elasticacheRegionCode("us-east-1"), "use1");
    assert.equal(elasticacheRegionCode("ap-southeast-1"), "apse1");
    assert.equal(elasticacheRegionCode("eu-central-1"), "euc1");
    assert.equal(elasticacheRegionCode("ap-northeast-3"), "apne3");
  });

  it("gives a replication group its primary and reader endpoints, members and port in the provider's region", async () => {
    const run = await runProgram({
      project: "p",
      stack: "s",
      searchPaths: [__dirname],
      program: () => {
        const provider = new aws.Provider("aws-us-east-1", {
          region: "us-east-1",
          allowedAccountIds: ["111122223333"],
        });
        new aws.elasticache.ReplicationGroup(
          "cache",
          { replicationGroupId: "Hcp-Cache", description: "d", numCacheClusters: 2, port: 6380 },
          { provider },
        );
      },
    });
    const group = one(run.resources, "aws:elasticache/replicationGroup:ReplicationGroup");
    const out = group.wireOutputs;
    assert.match(
      String(out.primaryEndpointAddress),
      /^master\.hcp-cache\.[0-9a-f]{6}\.use1\.cache\.amazonaws\.com$/,
    );
    assert.equal(
      out.readerEndpointAddress,
      String(out.primaryEndpointAddress).replace(/^master\./, "replica."),
    );
    assert.deepEqual(out.memberClusters, ["hcp-cache-001", "hcp-cache-002"]);
    assert.equal(out.port, 6380);
    assert.equal(out.arn, "arn:aws:elasticache:us-east-1:111122223333:replicationgroup:hcp-cache");
  });
});
