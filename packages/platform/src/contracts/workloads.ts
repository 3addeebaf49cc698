import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { hostname, port, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";

/** A public application endpoint (what Route 53 failover records point at). */
export interface PublicEndpoint {
  /** Host name clients use, e.g. `app.saude.example.com.br`. */
  readonly hostname: string;
  /** DNS name of the load balancer serving it in this region. */
  readonly loadBalancerDnsName: string;
  /** Hosted zone id of that load balancer (for alias records). */
  readonly loadBalancerZoneId: string;
  /** Path the Route 53 health check probes. */
  readonly healthCheckPath: string;
}

/** What a workloads stack exports as `workloads`. */
export interface WorkloadsOutputs {
  /** Namespaces of the application services. */
  readonly namespaces: readonly string[];
  /** In-cluster service endpoints by service name. */
  readonly services: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
  readonly publicEndpoints: readonly PublicEndpoint[];
}

const schema = z.object({
  namespaces: z.array(text()),
  services: z.record(z.string(), z.object({ host: hostname(), port: port() })),
  publicEndpoints: z.array(
    z.object({
      hostname: hostname(),
      loadBalancerDnsName: hostname(),
      loadBalancerZoneId: text(),
      healthCheckPath: z.string().regex(/^\//, "expected an absolute path"),
    }),
  ),
});
const _matches: SchemaMatches<typeof schema, WorkloadsOutputs> = true;
void _matches;

/** The workloads layer's contract. */
export const workloadsContract: Contract<WorkloadsOutputs> = {
  layer: "workloads",
  outputName: "workloads",
  schema,
  secretFields: [],
};

/** Reads the workloads stack of an environment's region. */
export function readWorkloads(environment: string, region: string): ContractRef<WorkloadsOutputs> {
  return readContract(workloadsContract, stackId("workloads", environment, region));
}
