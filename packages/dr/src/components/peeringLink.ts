import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";
import type { PeeringRoute } from "../plan";

/** One side of the peering. */
export interface PeeringSide {
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** The side's AWS provider (its region). */
  readonly provider: aws.Provider;
  /** Route table ids by tier, ordered by zone (the network contract's `routeTableIds`). */
  readonly routeTableIds: pulumi.Input<{
    readonly private: readonly string[];
    readonly database: readonly string[];
  }>;
  /** Zones of those tables, as the network contract lists them (checked against each route's zone). */
  readonly availabilityZones: pulumi.Input<readonly string[]>;
}

/** Arguments of {@link PeeringLink}. */
export interface PeeringLinkArgs {
  /** The DR VPC: it requests the peering. */
  readonly requester: PeeringSide;
  /** The primary VPC: it accepts (same account, another region). */
  readonly accepter: PeeringSide & { readonly accountId: string };
  /** The routes to create ({@link peeringRoutes}): peer CIDR only, private and database tables. */
  readonly routes: readonly PeeringRoute[];
  /** `Name` tag of the connection, e.g. `hcp-production-us-east-1-to-sa-east-1`. */
  readonly nameTag: string;
}

/**
 * The inter-region path between a DR VPC and the primary VPC: a VPC peering connection requested
 * from the DR region and accepted with the primary region's provider (cross-region peering cannot be
 * auto-accepted by the requester), DNS resolution of the other VPC's private host names enabled on
 * both sides, and routes for exactly the peer VPC's block in both VPCs' private and database route
 * tables. Nothing routes 0.0.0.0/0 or any other block over the peering, and peering is not
 * transitive, so only the two VPCs can talk over it.
 */
export class PeeringLink extends pulumi.ComponentResource {
  readonly connection: aws.ec2.VpcPeeringConnection;
  readonly accepter: aws.ec2.VpcPeeringConnectionAccepter;
  readonly connectionId: pulumi.Output<string>;
  readonly routes: readonly aws.ec2.Route[];

  constructor(name: string, args: PeeringLinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:dr:PeeringLink", name, {}, opts);
    const on = (provider: aws.Provider, ...after: pulumi.Resource[]) => ({
      parent: this,
      provider,
      dependsOn: inheritedDependsOn(opts, ...after),
    });
    const { requester, accepter } = args;
    this.connection = new aws.ec2.VpcPeeringConnection(
      `${name}-connection`,
      {
        vpcId: requester.vpcId,
        peerVpcId: accepter.vpcId,
        peerRegion: accepter.region,
        peerOwnerId: accepter.accountId,
        // Cross-region: only the accepter can accept, through its own region's API.
        autoAccept: false,
        tags: { Name: args.nameTag, Side: "requester" },
      },
      on(requester.provider),
    );
    this.accepter = new aws.ec2.VpcPeeringConnectionAccepter(
      `${name}-accepter`,
      {
        vpcPeeringConnectionId: this.connection.id,
        autoAccept: true,
        tags: { Name: args.nameTag, Side: "accepter" },
      },
      on(accepter.provider),
    );
    this.connectionId = this.accepter.vpcPeeringConnectionId;
    // Each side's options are set through that side's region once the connection is active.
    new aws.ec2.PeeringConnectionOptions(
      `${name}-requester-options`,
      { vpcPeeringConnectionId: this.connectionId, requester: { allowRemoteVpcDnsResolution: true } },
      on(requester.provider, this.accepter),
    );
    new aws.ec2.PeeringConnectionOptions(
      `${name}-accepter-options`,
      { vpcPeeringConnectionId: this.connectionId, accepter: { allowRemoteVpcDnsResolution: true } },
      on(accepter.provider, this.accepter),
    );
    this.routes = args.routes.map((route) => {
      const side = route.side === "requester" ? requester : accepter;
      const tableId = pulumi.all([side.routeTableIds, side.availabilityZones]).apply(([tables, zones]) => {
        if (zones[route.index] !== route.zone) {
          throw new Error(
            `PeeringLink ${name}: the ${route.tier} route table at position ${route.index} of ${side.region} is in ` +
              `${String(zones[route.index])}, not ${route.zone}. Fix: deploy the network stack of ${side.region} ` +
              "with the current code (its zones must be the first azCount zones in name order).",
          );
        }
        return tables[route.tier][route.index];
      });
      return new aws.ec2.Route(
        `${name}-${route.side}-${route.tier}-${route.zone}`,
        {
          routeTableId: tableId,
          destinationCidrBlock: route.destinationCidr,
          vpcPeeringConnectionId: this.connectionId,
        },
        on(side.provider, this.accepter),
      );
    });
    this.registerOutputs({ connectionId: this.connectionId });
  }
}
