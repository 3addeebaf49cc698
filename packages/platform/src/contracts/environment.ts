import { z } from "zod";
import { environmentSchema } from "../config/schema";
import type { EnvironmentTopology } from "../config/types";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
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
  dns: z.object({ zoneId: z.string(), zoneName: z.string(), nameServers: z.array(z.string()) }),
  ecr: z.object({
    repositories: z.record(z.string(), z.object({ name: z.string(), url: z.string(), arn: z.string() })),
    replicationRegions: z.array(z.string()),
    kmsKeyArn: z.string(),
  }),
  ci: z.object({
    oidcProviderArn: z.string(),
    previewRoleArn: z.string(),
    deployRoleArn: z.string(),
    githubConnectionArns: z.record(z.string(), z.string()),
  }),
  audit: z.object({
    trailArn: z.string(),
    bucketName: z.string(),
    bucketArn: z.string(),
    kmsKeyArn: z.string(),
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
