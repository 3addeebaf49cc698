import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";

/** Arguments of {@link StandbyDns}. */
export interface StandbyDnsArgs {
  /** The environment's private zone of database endpoints (the data layer's). */
  readonly zoneId: pulumi.Input<string>;
  /** This region's VPC, associated with the zone so it resolves the primary's replication name. */
  readonly vpcId: pulumi.Input<string>;
  readonly vpcRegion: string;
  /** This region's replication endpoint name (`replication.<region>.data.<env>.hcp.internal`). */
  readonly hostName: string;
  /** DNS name of this region's leader-following NLB. */
  readonly target: pulumi.Input<string>;
  /** @default 60 */
  readonly ttlSeconds?: number;
}

/**
 * Private DNS of a DR region: its VPC joins the environment's private zone (so the standby resolves
 * the primary's stable replication name, and through the peering reaches the NLB it points at), and
 * the zone gets this region's own replication name, pointing at this region's NLB: after a promotion
 * the old primary, and every other region, stream from it under a name on its certificate.
 */
export class StandbyDns extends pulumi.ComponentResource {
  readonly association: aws.route53.ZoneAssociation;
  readonly record: aws.route53.Record;
  readonly hostName: string;

  constructor(name: string, args: StandbyDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:dr:StandbyDns", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    this.association = new aws.route53.ZoneAssociation(
      `${name}-association`,
      { zoneId: args.zoneId, vpcId: args.vpcId, vpcRegion: args.vpcRegion },
      child,
    );
    this.record = new aws.route53.Record(
      `${name}-replication`,
      {
        zoneId: args.zoneId,
        name: args.hostName,
        type: "CNAME",
        ttl: args.ttlSeconds ?? 60,
        records: [args.target],
      },
      child,
    );
    this.hostName = args.hostName;
    this.registerOutputs({ hostName: this.hostName });
  }
}
