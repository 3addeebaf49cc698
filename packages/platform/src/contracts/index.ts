export * from "./contract";
export * from "./environment";
export * from "./network";
export * from "./cluster";
export * from "./data";
export * from "./workloads";
export * from "./observability";
export * from "./dr";
export * from "./edge";
export * from "./fields";
export * from "./metrics";

import type { Contract } from "./contract";
import { clusterContract } from "./cluster";
import { dataContract } from "./data";
import { drContract } from "./dr";
import { edgeContract } from "./edge";
import { environmentContract } from "./environment";
import { networkContract } from "./network";
import { observabilityContract } from "./observability";
import { workloadsContract } from "./workloads";
import type { LayerName } from "../topology";

/** A contract of any layer. */
export type AnyContract = Omit<Contract<object>, "secretFields"> & {
  readonly secretFields: ReadonlyArray<PropertyKey>;
};

/** Every layer's contract, by layer. */
export const CONTRACTS: Readonly<Record<LayerName, AnyContract>> = {
  environment: environmentContract,
  network: networkContract,
  cluster: clusterContract,
  data: dataContract,
  dr: drContract,
  workloads: workloadsContract,
  edge: edgeContract,
  observability: observabilityContract,
};
