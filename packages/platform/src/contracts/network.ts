import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, cidr, region, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";

/** Subnet or route table ids per tier, each list ordered by Availability Zone. */
export interface PerTier<T> {
  readonly public: readonly T[];
  readonly private: readonly T[];
  readonly database: readonly T[];
}

/** What a network stack exports as `network`. */
export interface NetworkOutputs {
  readonly region: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Availability Zones used, in the order subnets are listed. */
  readonly availabilityZones: readonly string[];
  readonly subnetIds: PerTier<string>;
  /** Route tables per tier (peering routes are added to these), ordered by AZ. */
  readonly routeTableIds: PerTier<string>;
  /**
   * The VPC's NAT gateways, ordered by AZ: one per zone (`natGateways: perAz`) or one in the first
   * zone (`single`). Observability alarms on each one's CloudWatch metrics (`NatGatewayId`).
   */
  readonly natGateways: ReadonlyArray<{
    /** Zone of the public subnet the gateway sits in (one of `availabilityZones`). */
    readonly availabilityZone: string;
    readonly id: string;
  }>;
  /** Security group of the interface VPC endpoints. */
  readonly endpointSecurityGroupId: string;
  /** CloudWatch log group receiving the VPC flow logs. */
  readonly flowLogGroupName: string;
  /** Regional customer-managed KMS key for logs. */
  readonly kmsKeyArn: string;
  /** The region's in-VPC GitHub Actions runners (AWS CodeBuild-hosted). */
  readonly ciRunner: {
    /** CodeBuild project: jobs run on it with `runs-on: codebuild-<projectName>-<run id>-<attempt>`. */
    readonly projectName: string;
    /** Service role of the runner builds (no cluster, state or data access). */
    readonly roleArn: string;
    readonly securityGroupId: string;
    readonly logGroupName: string;
  };
}

const perTier = z.object({
  public: z.array(text()).min(1),
  private: z.array(text()).min(1),
  database: z.array(text()).min(1),
});
const schema = z.object({
  region: region(),
  vpcId: text(),
  vpcCidr: cidr(),
  availabilityZones: z.array(text()).min(1),
  subnetIds: perTier,
  routeTableIds: perTier,
  natGateways: z
    .array(
      z.object({
        availabilityZone: text(),
        id: z.string().regex(/^nat-[0-9a-z]+$/, "expected a NAT gateway id"),
      }),
    )
    .min(1),
  endpointSecurityGroupId: text(),
  flowLogGroupName: text(),
  kmsKeyArn: arn(),
  ciRunner: z.object({
    projectName: text(),
    roleArn: arn(),
    securityGroupId: text(),
    logGroupName: text(),
  }),
});
const _matches: SchemaMatches<typeof schema, NetworkOutputs> = true;
void _matches;

/** The network layer's contract. */
export const networkContract: Contract<NetworkOutputs> = {
  layer: "network",
  outputName: "network",
  schema,
  secretFields: [],
};

/** Reads the network stack of an environment's region. */
export function readNetwork(environment: string, region: string): ContractRef<NetworkOutputs> {
  return readContract(networkContract, stackId("network", environment, region));
}
