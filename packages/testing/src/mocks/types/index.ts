import type { OutputsFn } from "../values";
import { CACHE_OUTPUTS } from "./cache";
import { CLUSTER_OUTPUTS } from "./cluster";
import { CORE_OUTPUTS } from "./core";
import { NETWORK_OUTPUTS } from "./network";
import { WORKLOADS_OUTPUTS } from "./workloads";
import { OBSERVABILITY_OUTPUTS } from "./observability";

/**
 * Every structured output mock, by type token. A domain (network, cluster, data, ...) adds its own
 * file next to this one and spreads it here; a type listed twice is a mistake and fails at load.
 */
const sources: ReadonlyArray<Readonly<Record<string, OutputsFn>>> = [
  CORE_OUTPUTS,
  NETWORK_OUTPUTS,
  CLUSTER_OUTPUTS,
  WORKLOADS_OUTPUTS,
  OBSERVABILITY_OUTPUTS,
  CACHE_OUTPUTS,
];

export const TYPE_OUTPUTS: Record<string, OutputsFn> = {};
for (const source of sources) {
  for (const [type, fn] of Object.entries(source)) {
    if (type in TYPE_OUTPUTS) {
      throw new Error(`@hcp/testing: two structured mocks for ${type}`);
    }
    TYPE_OUTPUTS[type] = fn;
  }
}
