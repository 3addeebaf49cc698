import * as assert from "node:assert/strict";
import { CI_JOB_TIMEOUT_MINUTES, planSubnets } from "@hcp/platform";
import { at } from "@hcp/testing";
import { endpointKey, endpointServiceName, INTERFACE_ENDPOINT_SERVICES } from "../src/endpoints";
import {
  aggregateCidrs,
  databaseNaclRules,
  NACL_RULES_PER_DIRECTION,
  type NaclRule,
  peerVpcCidrs,
} from "../src/nacl";
import { flowLogsDeliveryPolicy, flowLogsTrustPolicy, logsKeyStatements } from "../src/policies";
import { connectionArns, RUNNER_BUILD_TIMEOUT_MINUTES, runnerPolicy, runnerTrustPolicy } from "../src/runner";
import { natLayout, selectZones } from "../src/zones";

describe("selectZones", () => {
  it("takes the first zones in name order", () => {
    assert.deepEqual(selectZones(["us-east-1c", "us-east-1a", "us-east-1f", "us-east-1b"], 3, "us-east-1"), [
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
    ]);
  });

  it("refuses more zones than the region offers, saying how to fix it", () => {
    assert.throws(
      () => selectZones(["sa-east-1a", "sa-east-1b"], 3, "sa-east-1"),
      /sa-east-1 has 2 available Availability Zones \(sa-east-1a, sa-east-1b\), but azCount is 3\. Fix: lower .*azCount for sa-east-1 to 2 or fewer/,
    );
  });
});

describe("natLayout", () => {
  it("perAz: one gateway per zone, each zone egresses through its own", () => {
    assert.deepEqual(natLayout("perAz", 3), { gatewayZones: [0, 1, 2], egressZoneFor: [0, 1, 2] });
  });

  it("single: one gateway in the first zone for every zone", () => {
    assert.deepEqual(natLayout("single", 2), { gatewayZones: [0], egressZoneFor: [0, 0] });
  });
});

describe("aggregateCidrs", () => {
  it("merges three /19 private subnets of a /16 into a /18 and a /19", () => {
    assert.deepEqual(aggregateCidrs(["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]), [
      "10.20.0.0/18",
      "10.20.64.0/19",
    ]);
  });

  it("merges two adjacent /18s into their /17, whatever the input order", () => {
    assert.deepEqual(aggregateCidrs(["10.130.64.0/18", "10.130.0.0/18"]), ["10.130.0.0/17"]);
  });

  it("does not merge adjacent blocks that are not aligned to the larger block", () => {
    assert.deepEqual(aggregateCidrs(["10.0.32.0/19", "10.0.64.0/19"]), ["10.0.32.0/19", "10.0.64.0/19"]);
  });

  it("covers exactly the planned private subnets of any zone count", () => {
    for (const azCount of [2, 3, 4, 5, 6]) {
      const privates = planSubnets("10.20.0.0/16", azCount)
        .filter((s) => s.tier === "private")
        .map((s) => s.cidr);
      const size = (c: string) => 2 ** (32 - Number(c.split("/")[1]));
      const total = (cs: string[]) => cs.reduce((n, c) => n + size(c), 0);
      const merged = aggregateCidrs(privates);
      assert.equal(total(merged), total(privates), `${azCount} zones: same address count`);
      assert.ok(merged.length <= privates.length);
      assert.deepEqual(aggregateCidrs(merged), merged, "idempotent");
    }
  });

  it("keeps disjoint blocks apart, drops contained ones and sorts by address", () => {
    assert.deepEqual(aggregateCidrs(["10.30.0.0/16", "10.20.0.0/16", "10.20.4.0/24"]), [
      "10.20.0.0/16",
      "10.30.0.0/16",
    ]);
  });

  it("cuts unaligned unions into aligned blocks", () => {
    assert.deepEqual(aggregateCidrs(["10.0.1.0/24", "10.0.2.0/24"]), ["10.0.1.0/24", "10.0.2.0/24"]);
    assert.deepEqual(aggregateCidrs(["10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"]), [
      "10.0.2.0/23",
      "10.0.4.0/24",
    ]);
  });
});

describe("databaseNaclRules", () => {
  const rule = (
    ruleNumber: number,
    egress: boolean,
    cidrBlock: string,
    fromPort: number,
    toPort: number,
    purpose: string,
  ): NaclRule => ({
    ruleNumber,
    egress,
    protocol: "tcp",
    ruleAction: "allow",
    cidrBlock,
    fromPort,
    toPort,
    purpose,
  });

  it("allows only PostgreSQL, PgBouncer and Patroni REST from private subnets and peers, replies back", () => {
    const rules = databaseNaclRules({
      privateSubnetCidrs: ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"],
      peerVpcCidrs: ["10.30.0.0/16"],
    });
    assert.deepEqual(rules, [
      rule(100, false, "10.20.0.0/18", 5432, 5432, "postgresql-from-private-10-20-0-0-18"),
      rule(110, false, "10.20.0.0/18", 6432, 6432, "pgbouncer-from-private-10-20-0-0-18"),
      rule(120, false, "10.20.0.0/18", 8008, 8008, "patroni-rest-from-private-10-20-0-0-18"),
      rule(130, false, "10.20.64.0/19", 5432, 5432, "postgresql-from-private-10-20-64-0-19"),
      rule(140, false, "10.20.64.0/19", 6432, 6432, "pgbouncer-from-private-10-20-64-0-19"),
      rule(150, false, "10.20.64.0/19", 8008, 8008, "patroni-rest-from-private-10-20-64-0-19"),
      rule(160, false, "10.30.0.0/16", 5432, 5432, "postgresql-from-peer-10-30-0-0-16"),
      rule(170, false, "10.30.0.0/16", 6432, 6432, "pgbouncer-from-peer-10-30-0-0-16"),
      rule(180, false, "10.30.0.0/16", 8008, 8008, "patroni-rest-from-peer-10-30-0-0-16"),
      rule(100, true, "10.20.0.0/18", 1024, 65535, "replies-to-private-10-20-0-0-18"),
      rule(110, true, "10.20.64.0/19", 1024, 65535, "replies-to-private-10-20-64-0-19"),
      rule(120, true, "10.30.0.0/16", 1024, 65535, "replies-to-peer-10-30-0-0-16"),
    ]);
  });

  it("without peers, only the private subnets", () => {
    const rules = databaseNaclRules({
      privateSubnetCidrs: ["10.130.0.0/18", "10.130.64.0/18"],
      peerVpcCidrs: [],
    });
    assert.deepEqual(
      rules.map((r) => [r.egress, r.cidrBlock, r.fromPort]),
      [
        [false, "10.130.0.0/17", 5432],
        [false, "10.130.0.0/17", 6432],
        [false, "10.130.0.0/17", 8008],
        [true, "10.130.0.0/17", 1024],
      ],
    );
  });

  it("refuses more sources than the rule quota holds", () => {
    const peers = Array.from({ length: 7 }, (_, i) => `10.${100 + 2 * i}.0.0/16`);
    assert.throws(
      () => databaseNaclRules({ privateSubnetCidrs: ["10.20.0.0/18"], peerVpcCidrs: peers }),
      new RegExp(
        `needs 24 inbound rules \\(8 sources x 3 ports\\), above the default quota of ${NACL_RULES_PER_DIRECTION}`,
      ),
    );
  });
});

describe("peerVpcCidrs", () => {
  it("lists the other regions' VPC CIDRs", () => {
    const regions = [
      { name: "sa-east-1", vpcCidr: "10.20.0.0/16" },
      { name: "us-east-1", vpcCidr: "10.30.0.0/16" },
      { name: "us-west-2", vpcCidr: "10.40.0.0/16" },
    ];
    assert.deepEqual(peerVpcCidrs(regions, "us-east-1"), ["10.20.0.0/16", "10.40.0.0/16"]);
  });
});

describe("endpoints", () => {
  it("names services from the partition's reverse DNS prefix and the region", () => {
    assert.equal(
      endpointServiceName("com.amazonaws", "sa-east-1", "ecr.api"),
      "com.amazonaws.sa-east-1.ecr.api",
    );
    assert.equal(endpointKey("ecr.api"), "ecr-api");
    assert.equal(endpointKey("eks-auth"), "eks-auth");
  });

  it("covers ECR api/dkr, STS, KMS, logs, Secrets Manager, EC2, ELB, autoscaling and EKS auth", () => {
    assert.deepEqual([...INTERFACE_ENDPOINT_SERVICES].sort(), [
      "autoscaling",
      "ec2",
      "ecr.api",
      "ecr.dkr",
      "eks-auth",
      "elasticloadbalancing",
      "kms",
      "logs",
      "secretsmanager",
      "sts",
    ]);
  });
});

describe("network policies", () => {
  const where = {
    partition: "aws",
    accountId: "111122223333",
    region: "sa-east-1",
    dnsSuffix: "amazonaws.com",
  };

  it("lets only this region's CloudWatch Logs use the key, for this account's log groups", () => {
    assert.deepEqual(logsKeyStatements(where), [
      {
        Sid: "CloudWatchLogsOfThisAccountAndRegion",
        Effect: "Allow",
        Principal: { Service: "logs.sa-east-1.amazonaws.com" },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:sa-east-1:111122223333:log-group:*",
          },
        },
      },
    ]);
  });

  it("derives ARNs from the partition", () => {
    const gov = { ...where, partition: "aws-us-gov", region: "us-gov-west-1" };
    assert.equal(
      at(logsKeyStatements(gov)[0], "Condition.ArnLike.kms:EncryptionContext:aws:logs:arn"),
      "arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:*",
    );
  });

  it("lets only VPC Flow Logs of this account and region assume the delivery role", () => {
    assert.deepEqual(flowLogsTrustPolicy(where), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "VpcFlowLogsOfThisAccount",
          Effect: "Allow",
          Principal: { Service: "vpc-flow-logs.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": "111122223333" },
            ArnLike: { "aws:SourceArn": "arn:aws:ec2:sa-east-1:111122223333:vpc-flow-log/*" },
          },
        },
      ],
    });
  });

  it("lets the delivery role write to one log group only", () => {
    const arn = "arn:aws:logs:sa-east-1:111122223333:log-group:/hcp/production/sa-east-1/vpc-flow-logs";
    assert.deepEqual(flowLogsDeliveryPolicy(arn).Statement[0].Resource, [arn, `${arn}:log-stream:*`]);
    assert.deepEqual(flowLogsDeliveryPolicy(arn).Statement[1], {
      Sid: "DescribeLogGroups",
      Effect: "Allow",
      Action: "logs:DescribeLogGroups",
      Resource: "*",
    });
  });
});

describe("CI runner policies", () => {
  const where = {
    partition: "aws",
    accountId: "111122223333",
    region: "sa-east-1",
    dnsSuffix: "amazonaws.com",
  };
  const connection = "arn:aws:codeconnections:sa-east-1:111122223333:connection/abc";

  it("addresses the connection under both service prefixes", () => {
    assert.deepEqual(connectionArns(connection), [
      connection,
      "arn:aws:codestar-connections:sa-east-1:111122223333:connection/abc",
    ]);
    assert.deepEqual(connectionArns("arn:aws:codestar-connections:sa-east-1:1:connection/x"), [
      "arn:aws:codestar-connections:sa-east-1:1:connection/x",
      "arn:aws:codeconnections:sa-east-1:1:connection/x",
    ]);
  });

  it("lets only this CodeBuild project of this account assume the runner role", () => {
    const trust = runnerTrustPolicy(where, "hcp-production-sa-east-1-ci-runner");
    assert.deepEqual(trust.Statement[0].Condition, {
      StringEquals: { "aws:SourceAccount": "111122223333" },
      ArnLike: {
        "aws:SourceArn":
          "arn:aws:codebuild:sa-east-1:111122223333:project/hcp-production-sa-east-1-ci-runner",
      },
    });
  });

  it("grants the runner its log group, its subnets' interfaces and the connection, nothing else", () => {
    const logGroupArn = "arn:aws:logs:sa-east-1:111122223333:log-group:/hcp/production/sa-east-1/ci-runner";
    const policy = runnerPolicy({
      where,
      logGroupArn,
      subnetIds: ["subnet-1", "subnet-2"],
      connectionArn: connection,
    });
    assert.deepEqual(
      policy.Statement.map((s) => s.Sid),
      [
        "WriteOwnLogGroup",
        "DescribeVpcForNetworkInterfaces",
        "ManageNetworkInterfaces",
        "AttachNetworkInterfacesInRunnerSubnets",
        "UseGitHubConnection",
      ],
    );
    assert.deepEqual(policy.Statement[0].Resource, [logGroupArn, `${logGroupArn}:log-stream:*`]);
    assert.deepEqual(policy.Statement[3].Condition, {
      StringEquals: {
        "ec2:Subnet": [
          "arn:aws:ec2:sa-east-1:111122223333:subnet/subnet-1",
          "arn:aws:ec2:sa-east-1:111122223333:subnet/subnet-2",
        ],
        "ec2:AuthorizedService": "codebuild.amazonaws.com",
      },
    });
    assert.ok(policy.Statement.every((s) => s.Effect === "Allow"));
    assert.ok(RUNNER_BUILD_TIMEOUT_MINUTES > CI_JOB_TIMEOUT_MINUTES.deploy);
  });
});
