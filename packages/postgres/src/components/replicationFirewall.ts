import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";
import { PORTS } from "../render/layout";

/** Arguments of {@link ReplicationFirewall}. */
export interface ReplicationFirewallArgs {
  /** VPC of the replication NLB. */
  readonly vpcId: pulumi.Input<string>;
  /** The VPC's own CIDR: where the NLB's targets (the members' pod addresses) and health checks go. */
  readonly vpcCidr: string;
  /**
   * The other regions' VPC CIDRs, the only sources of replication sessions (over the peering). Plain
   * strings: each becomes a rule named after its block.
   */
  readonly peerCidrs: readonly string[];
  /** Name tag, e.g. `hcp-production-sa-east-1-replication`. */
  readonly nameTag: string;
}

/** `10.30.0.0/16` -> `10-30-0-0-16`: a CIDR block as a name segment. */
export function cidrSlug(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}

/**
 * The frontend security group of a replication NLB (`PatroniCluster`'s `replicationEndpoint`): in,
 * PostgreSQL from the peer VPCs only; out, PostgreSQL and the Patroni REST health check to the VPC's
 * own block only (the targets are the members' pod addresses). The group is created without inline
 * rules and every rule is its own resource named after what it admits, so adding a region adds one
 * rule and renames nothing.
 */
export class ReplicationFirewall extends pulumi.ComponentResource {
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: ReplicationFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    const duplicates = args.peerCidrs.filter((c, i) => args.peerCidrs.indexOf(c) !== i);
    if (duplicates.length > 0 || args.peerCidrs.includes(args.vpcCidr)) {
      throw new Error(
        `ReplicationFirewall ${name}: peer CIDRs [${args.peerCidrs.join(", ")}] ` +
          `${duplicates.length > 0 ? `list ${duplicates.join(", ")} twice` : `include the VPC's own ${args.vpcCidr}`}. ` +
          "Fix: list each other region's VPC block once.",
      );
    }
    super("hcp:postgres:ReplicationFirewall", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "Replication load balancer: PostgreSQL from the peered regions' VPCs only",
        tags: { Name: args.nameTag },
      },
      child,
    );
    this.securityGroupId = this.securityGroup.id;
    for (const cidr of args.peerCidrs) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-postgres-from-${cidrSlug(cidr)}`,
        {
          securityGroupId: this.securityGroup.id,
          description: `PostgreSQL replication from the peered VPC ${cidr}`,
          ipProtocol: "tcp",
          fromPort: PORTS.postgres,
          toPort: PORTS.postgres,
          cidrIpv4: cidr,
        },
        child,
      );
    }
    for (const [purpose, port] of [
      ["postgres", PORTS.postgres],
      ["patroni-api", PORTS.patroniApi],
    ] as const) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${purpose}-to-vpc`,
        {
          securityGroupId: this.securityGroup.id,
          description:
            purpose === "postgres"
              ? "PostgreSQL to the members (targets) in the VPC"
              : "Patroni REST health check (/leader) of the members in the VPC",
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: args.vpcCidr,
        },
        child,
      );
    }
    this.registerOutputs({ securityGroupId: this.securityGroupId });
  }
}
