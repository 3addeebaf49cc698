import * as aws from "@pulumi/aws";
import {
  ciRunnerProjectName,
  exportContract,
  networkContract,
  readEnvironment,
  regionalLayerContext,
} from "@hcp/platform";
import { CiRunner } from "./components/ciRunner";
import { DatabaseNetworkAcl } from "./components/databaseNetworkAcl";
import { FlowLogs } from "./components/flowLogs";
import { LogEncryptionKey } from "./components/logEncryptionKey";
import { Vpc } from "./components/vpc";
import { VpcEndpoints } from "./components/vpcEndpoints";
import { peerVpcCidrs } from "./nacl";
import { selectZones } from "./zones";

/**
 * Program of `hcp-network` (stack `<env>-<region>`): the region's VPC, NAT, database-tier ACL, flow
 * logs, endpoints and the regional logs key, exported as the `network` contract.
 */
export = async () => {
  const ctx = await regionalLayerContext("network");
  const provider = ctx.aws();
  const providers = { providers: [provider] };
  const region = ctx.region;

  const available = await aws.getAvailabilityZones({ state: "available" }, { provider });
  const zones = selectZones(available.names, region.azCount, region.name);

  const logsKey = new LogEncryptionKey(
    "logs",
    { alias: `hcp/${ctx.environment}/${region.name}/logs`, protect: ctx.protectStateful },
    providers,
  );
  const vpc = new Vpc(
    "vpc",
    {
      namePrefix: ctx.namePrefix,
      cidrBlock: region.vpcCidr,
      availabilityZones: zones,
      natGateways: region.natGateways,
    },
    providers,
  );
  new DatabaseNetworkAcl(
    "database-acl",
    {
      vpcId: vpc.vpc.id,
      subnetIds: vpc.subnetIds.database,
      privateSubnetCidrs: vpc.subnetCidrs.private,
      peerVpcCidrs: peerVpcCidrs(ctx.topology.regions, region.name),
      displayName: `${ctx.namePrefix}-database`,
    },
    providers,
  );
  const flowLogs = new FlowLogs(
    "flow-logs",
    {
      vpcId: vpc.vpc.id,
      logGroupName: `/hcp/${ctx.environment}/${region.name}/vpc-flow-logs`,
      retentionDays: ctx.topology.retention.logs.security,
      kmsKeyArn: logsKey.arn,
      protect: ctx.protectStateful,
    },
    providers,
  );
  const endpoints = new VpcEndpoints(
    "endpoints",
    {
      vpcId: vpc.vpc.id,
      vpcCidr: vpc.vpc.cidrBlock,
      subnetIds: vpc.subnetIds.private,
      gatewayRouteTableIds: vpc.routeTableIds.private,
      namePrefix: ctx.namePrefix,
    },
    providers,
  );

  // In-VPC CI runners: every layer that reaches the cluster's private endpoint deploys from here.
  const connections = readEnvironment(ctx.environment).ci.apply((ci) => ci.githubConnectionArns);
  const runner = new CiRunner(
    "ci-runner",
    {
      projectName: ciRunnerProjectName(ctx.environment, region.name),
      vpcId: vpc.vpc.id,
      subnetIds: [...vpc.subnetIds.private],
      github: ctx.topology.access.github,
      connectionArn: connections.apply((arns) => {
        const arn = arns[region.name];
        if (arn === undefined) {
          throw new Error(
            `The environment stack ${ctx.environment} has no GitHub connection for ${region.name}. ` +
              `Fix: deploy the environment stack (it creates one per region) before this network stack.`,
          );
        }
        return arn;
      }),
      logGroupName: `/hcp/${ctx.environment}/${region.name}/ci-runner`,
      logRetentionDays: ctx.topology.retention.logs.audit,
      logsKeyArn: logsKey.arn,
      protect: ctx.protectStateful,
    },
    providers,
  );

  return exportContract(networkContract, {
    region: region.name,
    vpcId: vpc.vpc.id,
    vpcCidr: vpc.vpc.cidrBlock,
    availabilityZones: zones,
    subnetIds: vpc.subnetIds,
    routeTableIds: vpc.routeTableIds,
    natGateways: vpc.natGatewayZones,
    endpointSecurityGroupId: endpoints.securityGroup.id,
    flowLogGroupName: flowLogs.logGroup.name,
    kmsKeyArn: logsKey.arn,
    ciRunner: {
      projectName: runner.project.name,
      roleArn: runner.role.arn,
      securityGroupId: runner.securityGroup.id,
      logGroupName: runner.logGroup.name,
    },
  });
};
