import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { databaseNaclRules } from "../nacl";

/** Arguments of {@link DatabaseNetworkAcl}. */
export interface DatabaseNetworkAclArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The database subnets the ACL guards. */
  readonly subnetIds: ReadonlyArray<pulumi.Input<string>>;
  /** CIDRs of the VPC's private subnets (the only local sources allowed in). */
  readonly privateSubnetCidrs: readonly string[];
  /** VPC CIDRs of the environment's other regions (DR replication). @default - none */
  readonly peerVpcCidrs?: readonly string[];
  /** `Name` tag. */
  readonly displayName: string;
}

/**
 * The database tier's network ACL: PostgreSQL, PgBouncer and Patroni REST in from the private
 * subnets and peer regions only, replies out to them, everything else denied. One resource per rule
 * (from `databaseNaclRules`), so each is visible to policies and reviewable in a diff.
 */
export class DatabaseNetworkAcl extends pulumi.ComponentResource {
  readonly acl: aws.ec2.NetworkAcl;
  readonly rules: aws.ec2.NetworkAclRule[];

  constructor(name: string, args: DatabaseNetworkAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:network:DatabaseNetworkAcl", name, {}, opts);
    this.acl = new aws.ec2.NetworkAcl(
      name,
      { vpcId: args.vpcId, subnetIds: [...args.subnetIds], tags: { Name: args.displayName } },
      { parent: this },
    );
    this.rules = databaseNaclRules({
      privateSubnetCidrs: args.privateSubnetCidrs,
      peerVpcCidrs: args.peerVpcCidrs ?? [],
    }).map(
      (rule) =>
        new aws.ec2.NetworkAclRule(
          // Named by what the rule admits (service and source block), so adding a peer region does
          // not rename the others; the old names were the rule numbers.
          `${name}-${rule.egress ? "out" : "in"}-${rule.purpose}`,
          {
            networkAclId: this.acl.id,
            ruleNumber: rule.ruleNumber,
            egress: rule.egress,
            protocol: rule.protocol,
            ruleAction: rule.ruleAction,
            cidrBlock: rule.cidrBlock,
            fromPort: rule.fromPort,
            toPort: rule.toPort,
          },
          { parent: this, aliases: [{ name: `${name}-${rule.egress ? "out" : "in"}-${rule.ruleNumber}` }] },
        ),
    );
    this.registerOutputs({ networkAclId: this.acl.id });
  }
}
