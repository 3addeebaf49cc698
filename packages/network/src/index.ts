import * as aws from "@pulumi/aws";
import { exportContract, networkContract, regionalLayerContext } from "@hcp/platform";
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

  return exportContract(networkContract, {
    region: region.name,
    vpcId: vpc.vpc.id,
    vpcCidr: vpc.vpc.cidrBlock,
    availabilityZones: zones,
    subnetIds: vpc.subnetIds,
    routeTableIds: vpc.routeTableIds,
    endpointSecurityGroupId: endpoints.securityGroup.id,
    flowLogGroupName: flowLogs.logGroup.name,
    kmsKeyArn: logsKey.arn,
  });
};
