import { z } from "zod";
import { environmentSchema } from "../config/schema";
import type { EnvironmentTopology } from "../config/types";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, hostname, region, text } from "./fields";
import { type Contract, type ContractRef, readContract, readContractValue } from "./contract";

/** What the environment (root) stack exports as `environment`. */
export interface EnvironmentOutputs {
  /** The parsed environment definition every layer reads. */
  readonly topology: EnvironmentTopology;
  /** Route 53 public zone of the environment's domain. */
  readonly dns: {
    readonly zoneId: string;
    readonly zoneName: string;
    readonly nameServers: readonly string[];
  };
  /** Application image repositories (replicated to every DR region). */
  readonly ecr: {
    readonly repositories: Readonly<
      Record<string, { readonly name: string; readonly url: string; readonly arn: string }>
    >;
    readonly replicationRegions: readonly string[];
    readonly kmsKeyArn: string;
  };
  /** Roles GitHub Actions assumes through OIDC. */
  readonly ci: {
    readonly oidcProviderArn: string;
    readonly previewRoleArn: string;
    readonly deployRoleArn: string;
    /**
     * CodeConnections GitHub connection of each region (by region name), used by that region's
     * in-VPC runner project (network layer).
     */
    readonly githubConnectionArns: Readonly<Record<string, string>>;
  };
  /** The organization-wide audit trail and its locked bucket. */
  readonly audit: {
    readonly trailArn: string;
    readonly bucketName: string;
    readonly bucketArn: string;
    readonly kmsKeyArn: string;
  };
}

const schema = z.object({
  topology: environmentSchema.extend({ name: z.string() }),
  dns: z.object({ zoneId: text(), zoneName: hostname(), nameServers: z.array(hostname()).min(1) }),
  ecr: z.object({
    repositories: z.record(z.string(), z.object({ name: text(), url: text(), arn: arn() })),
    replicationRegions: z.array(region()),
    kmsKeyArn: arn(),
  }),
  ci: z.object({
    oidcProviderArn: arn(),
    previewRoleArn: arn(),
    deployRoleArn: arn(),
    githubConnectionArns: z.record(z.string(), arn()),
  }),
  audit: z.object({
    trailArn: arn(),
    bucketName: text(),
    bucketArn: arn(),
    kmsKeyArn: arn(),
  }),
});
const _matches: SchemaMatches<typeof schema, EnvironmentOutputs> = true;
void _matches;

/** The environment layer's contract. */
export const environmentContract: Contract<EnvironmentOutputs> = {
  layer: "environment",
  outputName: "environment",
  schema,
  secretFields: [],
};

/** Reads the environment stack's outputs. */
export function readEnvironment(environment: string): ContractRef<EnvironmentOutputs> {
  return readContract(environmentContract, stackId("environment", environment));
}

/**
 * Reads the environment topology as a plain value, for the decisions a layer makes before it
 * registers resources (regions, zones, sizes). The topology holds no secrets.
 */
export async function readTopology(environment: string): Promise<EnvironmentTopology> {
  return (await readContractValue(environmentContract, stackId("environment", environment))).topology;
}
