import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentTopology, RegionConfig } from "./config/types";
import { readTopology } from "./contracts/environment";
import { namePrefix } from "./naming";
import { awsProvider } from "./providers";
import { requireRegion } from "./regions";
import { LAYER_DATA_CLASSIFICATION, type RequiredTagKey, standardTags } from "./tags";
import {
  type EnvironmentLayer,
  type LayerName,
  LAYER_SPECS,
  parseRegionalStackName,
  type RegionalLayer,
  type StackId,
  stackId,
  ROOT_PROJECT,
} from "./topology";

/**
 * What a regional layer's program knows about itself: derived from its stack name and the topology
 * the environment stack publishes. Programs get it from {@link regionalLayerContext} and hand it to
 * components.
 */
export interface LayerContext {
  readonly layer: LayerName;
  readonly stack: StackId;
  readonly environment: string;
  readonly topology: EnvironmentTopology;
  /** This stack's region (the primary region for a once-per-environment layer). */
  readonly region: RegionConfig;
  /** The environment's primary region. */
  readonly primary: RegionConfig;
  /** AWS partition of the environment (from the region table; never hard-coded). */
  readonly partition: string;
  /** Prefix of physical names: `hcp-<env>-<region>` (`hcp-<env>` for a once-per-environment layer). */
  readonly namePrefix: string;
  /** The tag set applied as provider default tags. */
  readonly tags: Readonly<Record<RequiredTagKey, string>>;
  /** True in production: stateful resources get `protect`. */
  readonly protectStateful: boolean;
  /** The AWS provider of a region of the environment (this stack's region by default), created once. */
  aws(region?: string): aws.Provider;
}

/** Raised when a stack does not belong where it is being deployed. */
export class StackPlacementError extends Error {
  override readonly name = "StackPlacementError";
}

/** The running project, checked to be the layer's (a layer program run from the wrong directory). */
function runningProject(layer: LayerName): string {
  const spec = LAYER_SPECS[layer];
  const project = pulumi.getProject();
  if (project !== spec.project) {
    throw new StackPlacementError(
      `The ${layer} layer must run as Pulumi project ${spec.project}, not ${project}. Fix: run it from packages/${layer}.`,
    );
  }
  return project;
}

/**
 * Builds the context of a regional layer program from `pulumi.getStack()` (`<env>-<region>`) and the
 * environment's topology, read through the environment stack reference.
 */
export async function regionalLayerContext(layer: RegionalLayer): Promise<LayerContext> {
  const project = runningProject(layer);
  const stack = pulumi.getStack();
  const parts = parseRegionalStackName(stack);
  if (!parts) {
    throw new StackPlacementError(
      `Stack '${stack}' of ${project} is not named <environment>-<region> (e.g. production-sa-east-1). ` +
        `Fix: pulumi stack init <environment>-<region>.`,
    );
  }
  const topology = await readTopology(parts.environment);
  return contextFor(layer, topology, parts.region);
}

const ENVIRONMENT_STACK_RE = /^[a-z][a-z0-9]*$/;

/**
 * Builds the context of a once-per-environment layer other than the root (the global edge) from
 * `pulumi.getStack()` (the environment name) and the topology the environment stack publishes.
 */
export async function environmentLayerContext(
  layer: Exclude<EnvironmentLayer, "environment">,
): Promise<LayerContext> {
  const project = runningProject(layer);
  const stack = pulumi.getStack();
  if (!ENVIRONMENT_STACK_RE.test(stack)) {
    throw new StackPlacementError(
      `Stack '${stack}' of ${project} is not named after an environment (e.g. production): the ${layer} layer ` +
        `runs once per environment. Fix: pulumi stack init <environment>.`,
    );
  }
  const topology = await readTopology(stack);
  return globalContextFor(layer, topology);
}

/** The context of a once-per-environment layer of a known topology, anchored in the primary region. */
export function globalContextFor(layer: EnvironmentLayer, topology: EnvironmentTopology): LayerContext {
  const primary = topology.regions.find((r) => r.role === "primary");
  if (!primary) {
    throw new StackPlacementError(`Environment ${topology.name} has no primary region.`);
  }
  return makeContext(layer, topology, primary, stackId(layer, topology.name));
}

/** The context of a layer in a region of a known topology (used by programs and tests). */
export function contextFor(
  layer: RegionalLayer,
  topology: EnvironmentTopology,
  regionName: string,
): LayerContext {
  const spec = LAYER_SPECS[layer];
  const region = topology.regions.find((r) => r.name === regionName);
  if (!region) {
    throw new StackPlacementError(
      `Region ${regionName} is not part of environment ${topology.name} (regions: ${topology.regions
        .map((r) => r.name)
        .join(
          ", ",
        )}). Fix: add it to ${ROOT_PROJECT}:regions in Pulumi.${topology.name}.yaml and deploy the ` +
        `environment stack first, or remove this stack.`,
    );
  }
  if (!spec.runsIn?.includes(region.role)) {
    const where = topology.regions.filter((r) => spec.runsIn?.includes(r.role)).map((r) => r.name);
    throw new StackPlacementError(
      `The ${layer} layer runs only in ${spec.runsIn?.join("/")} regions; ${regionName} is a ${region.role} region of ` +
        `${topology.name}. Fix: deploy ${spec.project} to ${where.map((r) => `${topology.name}-${r}`).join(", ") || "no stack"}.`,
    );
  }
  return makeContext(layer, topology, region, stackId(layer, topology.name, region.name));
}

/** The context of the environment (root) layer: environment-wide, anchored in the primary region. */
export function environmentContextFor(topology: EnvironmentTopology): LayerContext {
  return globalContextFor("environment", topology);
}

function makeContext(
  layer: LayerName,
  topology: EnvironmentTopology,
  region: RegionConfig,
  stack: StackId,
): LayerContext {
  const primary = topology.regions.find((r) => r.role === "primary")!;
  const regional = LAYER_SPECS[layer].runsIn !== undefined;
  const tags = standardTags({
    environment: topology.name,
    region: regional ? region.name : undefined,
    layer,
    owner: topology.owner,
    dataClassification: LAYER_DATA_CLASSIFICATION[layer],
  });
  const providers = new Map<string, aws.Provider>();
  return {
    layer,
    stack,
    environment: topology.name,
    topology,
    region,
    primary,
    partition: requireRegion(region.name).partition,
    namePrefix: regional ? namePrefix(topology.name, region.name) : namePrefix(topology.name),
    tags,
    protectStateful: topology.tier === "production",
    aws(name = region.name) {
      if (!topology.regions.some((r) => r.name === name)) {
        throw new StackPlacementError(`Region ${name} is not part of environment ${topology.name}.`);
      }
      let provider = providers.get(name);
      if (!provider) {
        provider = awsProvider(`aws-${name}`, {
          region: name,
          accountId: topology.access.accountId,
          tags: { ...tags, Region: name },
        });
        providers.set(name, provider);
      }
      return provider;
    },
  };
}
