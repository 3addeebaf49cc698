import { createHash } from "node:crypto";
import * as path from "node:path";
import {
  type Contract,
  contractProblems,
  type EnvironmentTopology,
  LAYER_SPECS,
  type LayerName,
  type RawStackConfig,
  type StackId,
  stackId,
  stackLabel,
  stackReferenceName,
  upstreamStacks,
} from "@hcp/platform";
import { repoRoot, topologyConfig } from "./fixtures";
import type { StackExports } from "./mocks/strict";
import { type ProgramRun, runProgram } from "./run";

/** Options of {@link runLayer}. */
export interface RunLayerOptions {
  readonly layer: LayerName;
  readonly topology: EnvironmentTopology;
  /** Region of a regional layer's stack. */
  readonly region?: string;
  /**
   * Exports of upstream stacks by label (`hcp-network/production-sa-east-1`), replacing what the
   * producers export.
   * @default - each upstream stack's exports from running its producer's program ({@link producerExports})
   */
  readonly upstream?: Readonly<Record<string, StackExports>>;
  /** Stack configuration. @default - the topology as root config for the environment layer, else none */
  readonly config?: RawStackConfig;
  /** @default "organization" */
  readonly organization?: string;
  /**
   * Run as a preview of a new stack (ids and computed outputs unknown).
   * @default false - a deployment: every value known
   */
  readonly preview?: boolean;
}

/** Path of a layer's program (`packages/<layer>/src/index.ts`). */
export function layerProgram(layer: LayerName): string {
  return path.join(repoRoot(), "packages", layer, "src", "index.ts");
}

const producerRuns = new Map<string, Promise<StackExports>>();

function topologyKey(topology: EnvironmentTopology): string {
  return createHash("sha256").update(JSON.stringify(topology)).digest("hex").slice(0, 16);
}

/**
 * What a stack exports as deployed: its producer's real program run under strict mocks (as a
 * deployment, so every value is known), itself fed by its own producers. Memoised per topology and
 * stack for the process, so a suite pays for each producer once. A consumer's fixtures therefore
 * change with the producer's code: a producer change that breaks a consumer fails the consumer's tests.
 */
export function producerExports(topology: EnvironmentTopology, id: StackId): Promise<StackExports> {
  const key = `${topologyKey(topology)}\u0000${stackLabel(id)}`;
  let run = producerRuns.get(key);
  if (!run) {
    run = runLayer({ layer: id.layer, topology, ...(id.region ? { region: id.region } : {}) }).then((r) => ({
      outputs: r.outputs,
      secretOutputNames: r.secretOutputNames,
    }));
    // A failed producer is reported by every consumer that needs it, not cached as a success.
    run.catch(() => producerRuns.delete(key));
    producerRuns.set(key, run);
  }
  return run;
}

/**
 * A producer's contract value as deployed (see {@link producerExports}), checked against the contract:
 * what a consumer's stack reference would receive, typed.
 */
export async function producerValue<T extends object>(
  contract: Contract<T>,
  topology: EnvironmentTopology,
  region?: string,
): Promise<T> {
  const id = stackId(contract.layer, topology.name, region);
  const value = (await producerExports(topology, id)).outputs[contract.outputName];
  const problems = contractProblems(contract, value);
  if (problems.length > 0) {
    throw new Error(`${stackLabel(id)} exports a value its contract refuses: ${problems.join("; ")}`);
  }
  return value as T;
}

/**
 * Runs a layer's real program for one stack of a topology under strict mocks, with every stack it
 * reads provided (from `upstream`, else by running the producers).
 */
export async function runLayer(options: RunLayerOptions): Promise<ProgramRun> {
  const organization = options.organization ?? "organization";
  const id = stackId(options.layer, options.topology.name, options.region);
  const stackOutputs: Record<string, StackExports> = {};
  for (const upstream of upstreamStacks(options.topology, id)) {
    const exports =
      options.upstream?.[stackLabel(upstream)] ?? (await producerExports(options.topology, upstream));
    stackOutputs[stackReferenceName(upstream, organization)] = exports;
  }
  const config =
    options.config ??
    (options.layer === "environment"
      ? topologyConfig(options.topology)
      : { values: { "pulumi:disable-default-providers": ["*"] }, secretKeys: new Set<string>() });
  return runProgram({
    program: layerProgram(options.layer),
    project: LAYER_SPECS[options.layer].project,
    stack: id.stack,
    organization,
    config,
    stackOutputs,
    accountId: options.topology.access.accountId,
    preview: options.preview ?? false,
  });
}
