import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";

/** Arguments of {@link ReplicationDns}. */
export interface ReplicationDnsArgs {
  /** Private zone name (`data.<env>.hcp.internal`). */
  readonly zoneName: string;
  /** The record: the replication endpoint's stable name inside the zone. */
  readonly hostName: string;
  /** VPC of this region (the zone is associated with it; DR VPCs associate from their own stacks). */
  readonly vpcId: pulumi.Input<string>;
  readonly vpcRegion: string;
  /** DNS name of the load balancer that follows the Patroni leader. */
  readonly target: pulumi.Input<string>;
  /**
   * Seconds resolvers may cache the record. A replaced load balancer is followed within this time.
   * @default 60
   */
  readonly ttlSeconds?: number;
  /** Protect the zone (production). */
  readonly protect: boolean;
}

/**
 * The stable name DR standbys stream from: a private Route 53 zone of the environment's database
 * endpoints, associated with this region's VPC (each DR stack associates its own VPC), and a CNAME
 * from the stable name to the leader-following load balancer.
 */
export class ReplicationDns extends pulumi.ComponentResource {
  readonly zone: aws.route53.Zone;
  readonly record: aws.route53.Record;
  /** The stable name (known before deployment). */
  readonly hostName: string;

  constructor(name: string, args: ReplicationDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:data:ReplicationDns", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    this.zone = new aws.route53.Zone(
      `${name}-zone`,
      {
        name: args.zoneName,
        comment: "Database endpoints reachable across the environment's peered VPCs",
        vpcs: [{ vpcId: args.vpcId, vpcRegion: args.vpcRegion }],
        forceDestroy: false,
      },
      // Associations made by the DR stacks are their own resources, not this zone's `vpcs`.
      { ...child, protect: args.protect, ignoreChanges: ["vpcs"] },
    );
    this.record = new aws.route53.Record(
      `${name}-replication`,
      {
        zoneId: this.zone.zoneId,
        name: args.hostName,
        type: "CNAME",
        ttl: args.ttlSeconds ?? 60,
        records: [args.target],
      },
      child,
    );
    this.hostName = args.hostName;
    this.registerOutputs({ zoneId: this.zone.zoneId, hostName: this.hostName });
  }
}
