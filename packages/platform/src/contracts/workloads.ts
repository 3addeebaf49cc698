import { z } from "zod";
import { stackId } from "../topology";
import type { SchemaMatches } from "../typecheck";
import { arn, hostname, port, region, text } from "./fields";
import { type Contract, type ContractRef, readContract } from "./contract";

/**
 * A public host name served by one region's load balancer: what the edge layer's failover records
 * and health checks point at.
 */
export interface PublicEndpoint {
  /** Host name clients use, e.g. `app.saude.example.com.br` (the edge's failover record). */
  readonly hostname: string;
  /**
   * The same service under a name of this region only, e.g. `app.sa-east-1.saude.example.com.br`
   * (an alias record to this region's load balancer, on the certificate and the ALB rules): Route 53
   * health checks probe it with SNI and the matching Host header, so they test this region's path
   * to the service and nothing else.
   */
  readonly regionalHostname: string;
  /** The service behind it. */
  readonly service: string;
  /** DNS name of the load balancer serving it in this region. */
  readonly loadBalancerDnsName: string;
  /** Canonical hosted zone id of that load balancer (for alias records). */
  readonly loadBalancerZoneId: string;
  /** Path the Route 53 health check probes: the service's readiness path. */
  readonly healthCheckPath: string;
}

/** A DR region's replica of the documents bucket. */
export interface DocumentsReplica {
  /** Physical bucket name (the services' DOCUMENTS_BUCKET in that region). */
  readonly name: string;
  readonly arn: string;
  /** The replica's key, in that region (S3 encrypts the replicas with it). */
  readonly kmsKeyArn: string;
}

/** An in-cluster service of the workloads. */
export interface WorkloadService {
  /** Cluster DNS name (`<name>.<namespace>.svc.cluster.local`); absent for services without a port. */
  readonly host?: string;
  /** Serving port; absent for workers, jobs and cronjobs. */
  readonly port?: number;
  /** Prometheus metrics port (what a ServiceMonitor / PodMonitor scrapes), when the service has one. */
  readonly metricsPort?: number;
  readonly kind: "http" | "worker" | "job" | "cronjob";
  /** Pod labels (selectors of monitors and policies). */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** What a workloads stack exports as `workloads`. */
export interface WorkloadsOutputs {
  readonly region: string;
  /**
   * `readWrite` in the primary region and in a promoted DR region; `readOnly` in a DR region whose
   * database is a standby (the services run with READ_ONLY_MODE=true).
   */
  readonly mode: "readWrite" | "readOnly";
  /** Namespaces of the application services. */
  readonly namespaces: readonly string[];
  /** In-cluster services by name. */
  readonly services: Readonly<Record<string, WorkloadService>>;
  readonly publicEndpoints: readonly PublicEndpoint[];
  /** The region's internet-facing ALB (created by the AWS Load Balancer Controller from the Ingress). */
  readonly loadBalancer: {
    readonly dnsName: string;
    readonly zoneId: string;
    readonly arn: string;
    /**
     * ARN suffix, `app/<name>/<id>`: the `LoadBalancer` dimension of its `AWS/ApplicationELB`
     * CloudWatch metrics (the observability layer's 5xx alarms).
     */
    readonly arnSuffix: string;
    /** WAFv2 web ACL associated with it. */
    readonly webAclArn: string;
    /** Bucket receiving its access logs (SSE-S3: the only encryption ALB access-log delivery supports). */
    readonly accessLogBucketName: string;
  };
  /**
   * The buckets the region's services use. `documents` is the primary region's documents bucket in
   * its export, and the replica of it in a DR region's export.
   */
  readonly buckets: {
    readonly documents: {
      readonly name: string;
      readonly arn: string;
      /**
       * The documents bucket's replicas, by DR region: created and replicated to (S3 live
       * replication, one rule per region) by the primary region's stack. Empty in a DR region's
       * export.
       */
      readonly replicas: Readonly<Record<string, DocumentsReplica>>;
    };
    readonly exports: { readonly name: string; readonly arn: string };
  };
  /**
   * Secrets Manager names of the application secrets (SECRET_KEY_BASE, encryption keys, API keys), by
   * environment variable. The primary region's stack creates them, replicated to every DR region
   * under the same names (same values: data encrypted in one region decrypts in the other); a DR
   * region's stack reads them from the primary's export.
   */
  readonly appSecretNames: Readonly<Record<string, string>>;
}

const bucket = z.object({ name: text(), arn: arn() });

const schema = z.object({
  region: region(),
  mode: z.enum(["readWrite", "readOnly"]),
  namespaces: z.array(text()).min(1),
  services: z.record(
    z.string(),
    z.object({
      host: hostname().optional(),
      port: port().optional(),
      metricsPort: port().optional(),
      kind: z.enum(["http", "worker", "job", "cronjob"]),
      podLabels: z.record(z.string(), z.string()),
    }),
  ),
  publicEndpoints: z.array(
    z.object({
      hostname: hostname(),
      regionalHostname: hostname(),
      service: text(),
      loadBalancerDnsName: hostname(),
      loadBalancerZoneId: text(),
      healthCheckPath: z.string().regex(/^\//, "expected an absolute path"),
    }),
  ),
  loadBalancer: z.object({
    dnsName: hostname(),
    zoneId: text(),
    arn: arn(),
    arnSuffix: z.string().regex(/^app\/[^/]+\/[0-9a-f]+$/, "expected app/<name>/<id>"),
    webAclArn: arn(),
    accessLogBucketName: text(),
  }),
  buckets: z.object({
    documents: bucket.extend({
      replicas: z.record(region(), z.object({ name: text(), arn: arn(), kmsKeyArn: arn() })),
    }),
    exports: bucket,
  }),
  appSecretNames: z.record(z.string(), text()),
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
