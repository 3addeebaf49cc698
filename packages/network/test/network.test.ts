import * as assert from "node:assert/strict";
import {
  environmentContract,
  CI_JOB_TIMEOUT_MINUTES,
  ciRunnerProjectName,
  type EnvironmentTopology,
  isValidCloudWatchRetention,
  networkContract,
  type NetworkOutputs,
  planSubnets,
  stackId,
  stackLabel,
  SUBNET_TIERS,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  ofType,
  one,
  producerValue,
  ProgramError,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
  withRegions,
} from "@hcp/testing";
import { INTERFACE_ENDPOINT_SERVICES } from "../src/endpoints";
import { databaseNaclRules, peerVpcCidrs } from "../src/nacl";

interface Case {
  readonly label: string;
  readonly topology: EnvironmentTopology;
  readonly region: string;
}

const production = repoTopology("production");
const staging = repoTopology("staging");

/** Every region of both repository environments, plus a 2-zone variant of production. */
const CASES: readonly Case[] = [
  { label: "production sa-east-1 (primary, 3 AZs, NAT per AZ)", topology: production, region: "sa-east-1" },
  { label: "production us-east-1 (dr, 3 AZs, NAT per AZ)", topology: production, region: "us-east-1" },
  { label: "staging sa-east-1 (primary, 3 AZs, single NAT)", topology: staging, region: "sa-east-1" },
  { label: "staging us-east-1 (dr, 2 AZs, single NAT)", topology: staging, region: "us-east-1" },
  {
    label: "production sa-east-1 with 2 AZs",
    topology: withRegions(production, (r) => ({ ...r, azCount: 2 })),
    region: "sa-east-1",
  },
];

const SECURITY_GROUP_RULE_TYPES = [
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
];

function byId(resources: readonly RegisteredResource[], id: unknown): RegisteredResource {
  const found = resources.filter((r) => r.custom && r.id === id);
  assert.equal(found.length, 1, `exactly one resource with id ${String(id)}`);
  return found[0];
}

function outputOf(r: RegisteredResource, key: string): unknown {
  return (r.wireOutputs as Record<string, unknown>)[key];
}

describe("hcp-network program", () => {
  for (const c of CASES) {
    describe(c.label, () => {
      const config = c.topology.regions.find((r) => r.name === c.region)!;
      const zones = "abcdef"
        .slice(0, config.azCount)
        .split("")
        .map((l) => `${c.region}${l}`);
      let run: ProgramRun;
      let network: NetworkOutputs;
      let res: readonly RegisteredResource[];

      before(async () => {
        run = await runLayer({ layer: "network", topology: c.topology, region: c.region });
        res = run.resources;
        network = networkContract.schema.parse(run.outputs["network"]) as unknown as NetworkOutputs;
      });

      it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
        assertConventions(run, { tier: c.topology.tier });
      });

      it("exports the network contract, nothing secret, ordered by AZ", () => {
        assert.deepEqual(Object.keys(run.outputs), ["network"]);
        assert.deepEqual(run.secretOutputNames, []);
        assert.equal(network.region, c.region);
        assert.equal(network.vpcCidr, config.vpcCidr);
        assert.deepEqual(network.availabilityZones, zones);
        const vpc = one(res, "aws:ec2/vpc:Vpc");
        assert.equal(network.vpcId, vpc.id);
        for (const tier of SUBNET_TIERS) {
          assert.equal(network.subnetIds[tier].length, config.azCount);
          assert.deepEqual(
            network.subnetIds[tier].map((id) => byId(res, id).inputs["availabilityZone"]),
            zones,
            `${tier} subnets in AZ order`,
          );
          // Each exported route table is the one associated with the same zone's subnet of the tier.
          network.routeTableIds[tier].forEach((rtb, i) => {
            const association = ofType(res, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter(
              (a) => a.inputs["routeTableId"] === rtb,
            );
            assert.deepEqual(
              association.map((a) => a.inputs["subnetId"]),
              [network.subnetIds[tier][i]],
            );
          });
        }
        assert.equal(
          network.endpointSecurityGroupId,
          one(res, "aws:ec2/securityGroup:SecurityGroup", "endpoints-sg").id,
        );
        assert.equal(network.flowLogGroupName, `/hcp/${c.topology.name}/${c.region}/vpc-flow-logs`);
        assert.equal(
          network.flowLogGroupName,
          one(res, "aws:cloudwatch/logGroup:LogGroup", "flow-logs-logs").inputs["name"],
        );
        assert.equal(network.kmsKeyArn, outputOf(one(res, "aws:kms/key:Key"), "arn"));
        // Every NAT gateway once, in AZ order, with the zone of the subnet it really sits in.
        const nats = ofType(res, "aws:ec2/natGateway:NatGateway");
        assert.deepEqual(network.natGateways.map((g) => g.id).sort(), nats.map((n) => n.id).sort());
        assert.deepEqual(
          network.natGateways.map((g) => g.availabilityZone),
          config.natGateways === "perAz" ? zones : [zones[0]],
        );
        for (const g of network.natGateways) {
          const subnet = byId(res, byId(res, g.id).inputs["subnetId"]);
          assert.equal(subnet.inputs["availabilityZone"], g.availabilityZone);
        }
      });

      it("cuts subnets from the CIDR plan, with DNS on and no public IPs by default", () => {
        const vpc = one(res, "aws:ec2/vpc:Vpc");
        assert.equal(vpc.inputs["cidrBlock"], config.vpcCidr);
        assert.equal(vpc.inputs["enableDnsSupport"], true);
        assert.equal(vpc.inputs["enableDnsHostnames"], true);
        const plan = planSubnets(config.vpcCidr, config.azCount);
        const subnets = ofType(res, "aws:ec2/subnet:Subnet");
        assert.equal(subnets.length, 3 * config.azCount);
        for (const planned of plan) {
          const id = network.subnetIds[planned.tier][planned.azIndex];
          const subnet = byId(res, id);
          assert.equal(subnet.inputs["cidrBlock"], planned.cidr);
          assert.equal(subnet.inputs["vpcId"], vpc.id);
          assert.equal(subnet.inputs["mapPublicIpOnLaunch"], false);
          assert.equal((subnet.inputs["tags"] as Record<string, string>)["hcp.io/tier"], planned.tier);
        }
      });

      it("routes public subnets to the internet gateway only", () => {
        const igw = one(res, "aws:ec2/internetGateway:InternetGateway");
        for (const rtb of network.routeTableIds.public) {
          const routes = ofType(res, "aws:ec2/route:Route").filter((r) => r.inputs["routeTableId"] === rtb);
          assert.deepEqual(
            routes.map((r) => [
              r.inputs["destinationCidrBlock"],
              r.inputs["gatewayId"],
              r.inputs["natGatewayId"],
            ]),
            [["0.0.0.0/0", igw.id, undefined]],
          );
        }
      });

      it(`puts ${config.natGateways === "perAz" ? "one NAT gateway per AZ" : "a single NAT gateway"} behind the private subnets`, () => {
        const nats = ofType(res, "aws:ec2/natGateway:NatGateway");
        assert.equal(nats.length, config.natGateways === "perAz" ? config.azCount : 1);
        for (const nat of nats) {
          assert.ok(
            network.subnetIds.public.includes(nat.inputs["subnetId"] as string),
            "NAT in a public subnet",
          );
          const eip = byId(res, nat.inputs["allocationId"]);
          assert.equal(eip.inputs["domain"], "vpc");
        }
        network.routeTableIds.private.forEach((rtb, i) => {
          const routes = ofType(res, "aws:ec2/route:Route").filter((r) => r.inputs["routeTableId"] === rtb);
          assert.equal(routes.length, 1);
          assert.equal(routes[0].inputs["destinationCidrBlock"], "0.0.0.0/0");
          assert.equal(routes[0].inputs["gatewayId"], undefined);
          const nat = byId(res, routes[0].inputs["natGatewayId"]);
          const natZone = byId(res, nat.inputs["subnetId"]).inputs["availabilityZone"];
          assert.equal(natZone, config.natGateways === "perAz" ? zones[i] : zones[0]);
        });
      });

      it("gives database subnets no route to an internet or NAT gateway", () => {
        for (const rtb of network.routeTableIds.database) {
          const table = byId(res, rtb);
          assert.equal(table.inputs["routes"], undefined, "no inline routes");
          const routes = ofType(res, "aws:ec2/route:Route").filter((r) => r.inputs["routeTableId"] === rtb);
          assert.deepEqual(routes, []);
        }
        const gatewayEndpointTables = one(res, "aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3").inputs[
          "routeTableIds"
        ] as string[];
        assert.ok(!gatewayEndpointTables.some((t) => network.routeTableIds.database.includes(t)));
      });

      it("strips every rule from the default security group", () => {
        const sg = one(res, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
        assert.equal(sg.inputs["vpcId"], network.vpcId);
        assert.deepEqual(sg.inputs["ingress"], []);
        assert.deepEqual(sg.inputs["egress"], []);
      });

      it("guards the database subnets with exactly the database NACL rules", () => {
        const acl = one(res, "aws:ec2/networkAcl:NetworkAcl");
        assert.deepEqual(acl.inputs["subnetIds"], network.subnetIds.database);
        const rules = ofType(res, "aws:ec2/networkAclRule:NetworkAclRule");
        assert.ok(rules.every((r) => r.inputs["networkAclId"] === acl.id));
        const privateCidrs = planSubnets(config.vpcCidr, config.azCount)
          .filter((s) => s.tier === "private")
          .map((s) => s.cidr);
        const expected = databaseNaclRules({
          privateSubnetCidrs: privateCidrs,
          peerVpcCidrs: peerVpcCidrs(c.topology.regions, c.region),
        }).map(({ purpose: _purpose, ...rule }) => rule);
        assert.deepEqual(
          rules.map((r) => ({
            ruleNumber: r.inputs["ruleNumber"],
            egress: r.inputs["egress"],
            protocol: r.inputs["protocol"],
            ruleAction: r.inputs["ruleAction"],
            cidrBlock: r.inputs["cidrBlock"],
            fromPort: r.inputs["fromPort"],
            toPort: r.inputs["toPort"],
          })),
          expected,
        );
        // Independently of the rule builder: only the three data-tier ports come in, only ephemeral
        // replies go out, and every source is a private subnet range or a peer region's VPC.
        const inbound = rules.filter((r) => r.inputs["egress"] === false);
        assert.deepEqual([...new Set(inbound.map((r) => r.inputs["fromPort"]))].sort(), [5432, 6432, 8008]);
        assert.ok(inbound.every((r) => r.inputs["fromPort"] === r.inputs["toPort"]));
        const outbound = rules.filter((r) => r.inputs["egress"] === true);
        assert.ok(outbound.every((r) => r.inputs["fromPort"] === 1024 && r.inputs["toPort"] === 65535));
        const peers = c.topology.regions.filter((r) => r.name !== c.region).map((r) => r.vpcCidr);
        for (const r of rules) {
          const cidr = r.inputs["cidrBlock"] as string;
          assert.ok(peers.includes(cidr) || cidr.startsWith(config.vpcCidr.split(".").slice(0, 2).join(".")));
          assert.notEqual(
            cidr,
            config.vpcCidr,
            "not the whole VPC: database and public subnets are not sources",
          );
          assert.notEqual(cidr, "0.0.0.0/0");
        }
      });

      it("logs ALL traffic to a KMS-encrypted log group with security-class retention", () => {
        const flowLog = one(res, "aws:ec2/flowLog:FlowLog");
        const group = one(res, "aws:cloudwatch/logGroup:LogGroup", "flow-logs-logs");
        const key = one(res, "aws:kms/key:Key");
        assert.equal(flowLog.inputs["vpcId"], network.vpcId);
        assert.equal(flowLog.inputs["trafficType"], "ALL");
        assert.equal(flowLog.inputs["logDestinationType"], "cloud-watch-logs");
        assert.equal(flowLog.inputs["logDestination"], outputOf(group, "arn"));
        assert.equal(group.inputs["kmsKeyId"], outputOf(key, "arn"));
        assert.equal(group.inputs["retentionInDays"], c.topology.retention.logs.security);
        assert.ok(isValidCloudWatchRetention(group.inputs["retentionInDays"]));
        assert.equal(group.options.protect, c.topology.tier === "production");
        const role = ofType(res, "aws:iam/role:Role").find(
          (r) => outputOf(r, "arn") === flowLog.inputs["iamRoleArn"],
        );
        assert.ok(role, "the flow log's delivery role is registered");
        const trust = JSON.parse(role.inputs["assumeRolePolicy"] as string) as {
          Statement: Array<Record<string, unknown>>;
        };
        assert.deepEqual(at(trust, "Statement[0].Principal"), { Service: "vpc-flow-logs.amazonaws.com" });
        assert.equal(
          at(trust, "Statement[0].Condition.StringEquals.aws:SourceAccount"),
          c.topology.access.accountId,
        );
      });

      it("encrypts logs with a rotating regional key usable only by this region's CloudWatch Logs", () => {
        const key = one(res, "aws:kms/key:Key");
        assert.equal(key.inputs["enableKeyRotation"], true);
        assert.equal(key.inputs["deletionWindowInDays"], 30);
        assert.equal(key.options.protect, c.topology.tier === "production");
        const policy = JSON.parse(key.inputs["policy"] as string) as {
          Statement: Array<Record<string, unknown>>;
        };
        const logs = policy.Statement.find((s) => s["Sid"] === "CloudWatchLogsOfThisAccountAndRegion");
        assert.deepEqual(logs?.["Principal"], { Service: `logs.${c.region}.amazonaws.com` });
        assert.deepEqual(logs?.["Condition"], {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${c.region}:${c.topology.access.accountId}:log-group:*`,
          },
        });
        assert.equal(
          one(res, "aws:kms/alias:Alias").inputs["name"],
          `alias/hcp/${c.topology.name}/${c.region}/logs`,
        );
      });

      it("admits only HTTPS from the VPC CIDR to the interface endpoints", () => {
        const sg = one(res, "aws:ec2/securityGroup:SecurityGroup", "endpoints-sg");
        assert.equal(sg.inputs["ingress"], undefined);
        assert.equal(sg.inputs["egress"], undefined);
        const rules = SECURITY_GROUP_RULE_TYPES.flatMap((t) => ofType(res, t)).filter(
          (r) => r.inputs["securityGroupId"] === sg.id,
        );
        assert.deepEqual(
          rules.map((r) => [
            r.type,
            r.inputs["securityGroupId"],
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs["cidrIpv4"],
          ]),
          [[SECURITY_GROUP_RULE_TYPES[0], sg.id, "tcp", 443, 443, config.vpcCidr]],
        );
      });

      it("creates the S3 gateway and every interface endpoint with private DNS in the private subnets", () => {
        const endpoints = ofType(res, "aws:ec2/vpcEndpoint:VpcEndpoint");
        const s3 = one(res, "aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3");
        assert.equal(s3.inputs["vpcEndpointType"], "Gateway");
        assert.equal(s3.inputs["serviceName"], `com.amazonaws.${c.region}.s3`);
        assert.deepEqual(s3.inputs["routeTableIds"], network.routeTableIds.private);
        const interfaces = endpoints.filter((e) => e.inputs["vpcEndpointType"] === "Interface");
        assert.deepEqual(
          interfaces.map((e) => e.inputs["serviceName"]).sort(),
          INTERFACE_ENDPOINT_SERVICES.map((s) => `com.amazonaws.${c.region}.${s}`).sort(),
        );
        for (const e of interfaces) {
          assert.equal(e.inputs["privateDnsEnabled"], true);
          assert.deepEqual(e.inputs["subnetIds"], network.subnetIds.private);
          assert.deepEqual(e.inputs["securityGroupIds"], [network.endpointSecurityGroupId]);
        }
        assert.equal(endpoints.length, INTERFACE_ENDPOINT_SERVICES.length + 1);
      });

      it("runs in-VPC CI runners: a CodeBuild project in the private subnets, HTTPS out only, least privilege", async () => {
        const env = await producerValue(environmentContract, c.topology);
        const project = one(res, "aws:codebuild/project:Project");
        const projectName = ciRunnerProjectName(c.topology.name, c.region);
        assert.equal(project.inputs["name"], projectName);
        assert.equal(network.ciRunner.projectName, projectName);
        assert.deepEqual(at(project.inputs, "vpcConfig.subnets"), network.subnetIds.private);
        assert.equal(at(project.inputs, "vpcConfig.vpcId"), network.vpcId);
        const sg = one(res, "aws:ec2/securityGroup:SecurityGroup", "ci-runner-sg");
        assert.deepEqual(at(project.inputs, "vpcConfig.securityGroupIds"), [sg.id]);
        assert.equal(network.ciRunner.securityGroupId, sg.id);
        assert.equal(sg.inputs["ingress"], undefined);
        assert.equal(sg.inputs["egress"], undefined);
        const rules = SECURITY_GROUP_RULE_TYPES.flatMap((t) => ofType(res, t)).filter(
          (r) => r.inputs["securityGroupId"] === sg.id,
        );
        assert.deepEqual(
          rules.map((r) => [r.type, r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"]]),
          [[SECURITY_GROUP_RULE_TYPES[1], "tcp", 443, 443]],
          "one egress rule (HTTPS), no ingress",
        );
        // GitHub through the region's connection, never a token.
        assert.equal(at(project.inputs, "source.type"), "GITHUB");
        assert.equal(
          at(project.inputs, "source.location"),
          `https://github.com/${c.topology.access.github.owner}/${c.topology.access.github.repository}.git`,
        );
        assert.deepEqual(at(project.inputs, "source.auth"), {
          type: "CODECONNECTIONS",
          resource: env.ci.githubConnectionArns[c.region],
        });
        assert.equal(at(project.inputs, "environment.privilegedMode"), false);
        assert.ok((project.inputs["buildTimeout"] as number) >= CI_JOB_TIMEOUT_MINUTES.deploy);
        const webhook = one(res, "aws:codebuild/webhook:Webhook");
        assert.equal(webhook.inputs["projectName"], projectName);
        assert.deepEqual(webhook.inputs["filterGroups"], [
          { filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] },
        ]);
        // Logs: KMS-encrypted with the region's key, audit-class retention, written by the runner role.
        const logs = one(res, "aws:cloudwatch/logGroup:LogGroup", "ci-runner-logs");
        assert.equal(logs.inputs["name"], network.ciRunner.logGroupName);
        assert.equal(at(project.inputs, "logsConfig.cloudwatchLogs.groupName"), logs.inputs["name"]);
        assert.equal(logs.inputs["kmsKeyId"], network.kmsKeyArn);
        assert.equal(logs.inputs["retentionInDays"], c.topology.retention.logs.audit);
        assert.equal(logs.options.protect, c.topology.tier === "production");
        const role = one(res, "aws:iam/role:Role", "ci-runner-role");
        assert.equal(project.inputs["serviceRole"], outputOf(role, "arn"));
        const trust = JSON.parse(role.inputs["assumeRolePolicy"] as string) as {
          Statement: Array<{ Principal: unknown; Condition: Record<string, Record<string, string>> }>;
        };
        assert.deepEqual(trust.Statement[0].Principal, { Service: "codebuild.amazonaws.com" });
        assert.equal(
          trust.Statement[0].Condition["ArnLike"]["aws:SourceArn"],
          `arn:aws:codebuild:${c.region}:${c.topology.access.accountId}:project/${projectName}`,
        );
        const policy = JSON.parse(
          one(res, "aws:iam/rolePolicy:RolePolicy", "ci-runner-role-policy").inputs["policy"] as string,
        ) as { Statement: Array<{ Action: string | string[] }> };
        const actions = policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
        for (const forbidden of [/^eks:/, /^s3:/, /^kms:/, /^sts:/, /^secretsmanager:/, /\*/]) {
          assert.ok(!actions.some((a) => forbidden.test(a)), `runner role has no ${forbidden} action`);
        }
        assert.equal(ofType(res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0);
      });

      it("gives every AWS resource the region's explicit provider and a component parent", () => {
        const provider = one(res, "pulumi:providers:aws");
        assert.equal(provider.inputs["region"], c.region);
        const stack = one(res, "pulumi:pulumi:Stack");
        for (const r of res.filter((x) => x.type.startsWith("aws:"))) {
          assert.equal(r.provider, provider.urn, `${r.type} ${r.name} provider`);
          assert.notEqual(r.parent, stack.urn, `${r.type} ${r.name} is inside a component`);
        }
      });
    });
  }

  it("refuses an azCount above the zones the region offers, even if the environment stack let it through", async () => {
    const tooMany = withRegions(production, (r) => (r.name === "sa-east-1" ? { ...r, azCount: 4 } : r));
    // The environment program refuses this topology itself; the network layer checks again against
    // what the region reports, so hand it the environment's real exports with the topology swapped.
    const environment = await producerValue(environmentContract, production);
    await assert.rejects(
      runLayer({
        layer: "network",
        topology: tooMany,
        region: "sa-east-1",
        upstream: {
          [stackLabel(stackId("environment", "production"))]: {
            outputs: { environment: { ...environment, topology: tooMany } },
            secretOutputNames: [],
          },
        },
      }),
      (e: unknown) =>
        e instanceof ProgramError && /sa-east-1 has 3 available Availability Zones/.test(e.message),
    );
  });
});
