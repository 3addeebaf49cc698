import * as path from "node:path";
import {
  type EnvironmentTopology,
  LAYER_SPECS,
  type LayerName,
  type RawStackConfig,
  stackId,
  stackLabel,
  stackReferenceName,
  upstreamStacks,
} from "@hcp/platform";
import { fixtureExports, repoRoot, topologyConfig } from "./fixtures";
import type { StackExports } from "./mocks/strict";
import { type ProgramRun, runProgram } from "./run";

/** Options of {@link runLayer}. */
export interface RunLayerOptions {
  readonly layer: LayerName;
  readonly topology: EnvironmentTopology;
  /** Region of a regional layer's stack. */
  readonly region?: string;
  /**
   * Exports of upstream stacks by label (`hcp-network/production-sa-east-1`), replacing fixtures.
   * @default - fixtures from `fixtureExports` for every stack the layer reads
   */
  readonly upstream?: Readonly<Record<string, StackExports>>;
  /** Stack configuration. @default - the topology as root config for the environment layer, else none */
  readonly config?: RawStackConfig;
  /** @default "organization" */
  readonly organization?: string;
}

/** Path of a layer's program (`packages/<layer>/src/index.ts`). */
export function layerProgram(layer: LayerName): string {
  return path.join(repoRoot(), "packages", layer, "src", "index.ts");
}

/**
 * Runs a layer's real program for one stack of a topology under strict mocks, with every stack it
 * reads provided (from `upstream`, else from fixtures). A read of a stack with neither fails the run.
 */
export function runLayer(options: RunLayerOptions): Promise<ProgramRun> {
  const organization = options.organization ?? "organization";
  const id = stackId(options.layer, options.topology.name, options.region);
  const stackOutputs: Record<string, StackExports> = {};
  for (const upstream of upstreamStacks(options.topology, id)) {
    const exports = options.upstream?.[stackLabel(upstream)] ?? fixtureExports(options.topology, upstream);
    if (exports) {
      stackOutputs[stackReferenceName(upstream, organization)] = exports;
    }
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
  });
}
