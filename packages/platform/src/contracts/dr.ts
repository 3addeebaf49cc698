import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { type Contract, type ContractRef, readContract } from "./contract";

/** What a DR stack exports as `dr`. */
export interface DrOutputs {
  /** Region the standby runs in. */
  readonly region: string;
  /** Primary region it follows. */
  readonly primaryRegion: string;
  readonly standby: {
    readonly namespace: string;
    readonly patroniScope: string;
    /** In-cluster DNS name of the standby leader. */
    readonly standbyLeaderHost: string;
    readonly port: number;
  };
  readonly peeringConnectionId: string;
  /** Route 53 failover records and their health checks. */
  readonly failoverRecords: ReadonlyArray<{ readonly name: string; readonly healthCheckId: string }>;
}

const schema = z.object({
  region: z.string(),
  primaryRegion: z.string(),
  standby: z.object({
    namespace: z.string(),
    patroniScope: z.string(),
    standbyLeaderHost: z.string(),
    port: z.number(),
  }),
  peeringConnectionId: z.string(),
  failoverRecords: z.array(z.object({ name: z.string(), healthCheckId: z.string() })),
});
const _matches: SchemaMatches<typeof schema, DrOutputs> = true;
void _matches;

/** The DR layer's contract. */
export const drContract: Contract<DrOutputs> = {
  layer: "dr",
  outputName: "dr",
  schema,
  secretFields: [],
};

/** Reads the DR stack of an environment's DR region. */
export function readDr(environment: string, region: string): ContractRef<DrOutputs> {
  return readContract(drContract, stackId("dr", environment, region));
}
