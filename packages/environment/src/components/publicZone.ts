import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link PublicZone}. */
export interface PublicZoneArgs {
  /** Domain of the zone, e.g. `saude.example.com.br`. */
  readonly domain: string;
  /** Protect the zone from deletion (its name servers are delegated from the parent domain). */
  readonly protect: boolean;
}

/** The environment's public Route 53 hosted zone; the DR layer adds failover records to it. */
export class PublicZone extends pulumi.ComponentResource {
  readonly zone: aws.route53.Zone;

  constructor(name: string, args: PublicZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:environment:PublicZone", name, {}, opts);
    this.zone = new aws.route53.Zone(
      name,
      {
        name: args.domain,
        comment: `Public zone of ${args.domain}, managed by the healthcare-platform environment stack`,
        forceDestroy: false,
      },
      { parent: this, protect: args.protect },
    );
    this.registerOutputs({ zoneId: this.zone.zoneId });
  }
}
