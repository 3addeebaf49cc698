import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { type Rule, resourceRule, stackRule } from "../policy";
import { dependenciesOf } from "../read";
import { known, UNKNOWN } from "../unknowns";

/**
 * Network security: traffic of the PHI network is recorded (VPC flow logs, HIPAA §164.312(b) audit
 * controls) and nothing listens to the internet except the allowed public ports.
 */

const ANYWHERE = ["0.0.0.0/0", "::/0"];

interface IngressConfig {
  /** Ports that may be opened to the internet (the public ALB). */
  readonly publicPorts: number[];
}

function openPorts(from: number | undefined, to: number | undefined, protocol: string | undefined): string {
  if (protocol === "-1" || protocol === "all") {
    return "all ports";
  }
  return from === to ? `port ${from}` : `ports ${from}-${to}`;
}

function publicAllowed(
  from: number | undefined,
  to: number | undefined,
  protocol: string | undefined,
  cfg: IngressConfig,
) {
  return (
    protocol !== "-1" &&
    protocol !== "all" &&
    from !== undefined &&
    from === to &&
    cfg.publicPorts.includes(from)
  );
}

/** Security groups do not open ports to the internet, and the default group allows nothing. */
export const securityGroupNoPublicIngress = resourceRule<IngressConfig>({
  name: "security-group-no-public-ingress",
  concern: "network-security",
  description:
    "Security groups must not allow ingress from 0.0.0.0/0 or ::/0 except on the configured public ports (default 443), and a VPC's default security group must have no rules (everything uses explicit groups).",
  remediationSteps:
    "Restrict the rule's source to the VPC CIDR, a peer CIDR or a security group; give DefaultSecurityGroup ingress: [] and egress: [].",
  severity: "critical",
  enforcementLevel: "mandatory",
  config: {
    defaults: { publicPorts: [443] },
    schema: {
      publicPorts: {
        type: "array",
        items: { type: "integer", minimum: 1, maximum: 65535 },
        description: "Ports that may accept traffic from anywhere.",
      } satisfies PolicyConfigJSONSchema,
    },
  },
  checks: {
    "aws:ec2/securityGroup:SecurityGroup": (props, { config, report }) => {
      (props.ingress ?? []).forEach((rule, i) => {
        const sources = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])];
        if (
          sources.some((c) => ANYWHERE.includes(c)) &&
          !publicAllowed(rule.fromPort, rule.toPort, rule.protocol, config)
        ) {
          report(
            `ingress[${i}] opens ${openPorts(rule.fromPort, rule.toPort, rule.protocol)} to the internet.`,
          );
        }
      });
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (props, { config, report }) => {
      const source = props.cidrIpv4 ?? props.cidrIpv6;
      if (
        source !== undefined &&
        ANYWHERE.includes(source) &&
        !publicAllowed(props.fromPort, props.toPort, props.ipProtocol, config)
      ) {
        report(
          `the rule opens ${openPorts(props.fromPort, props.toPort, props.ipProtocol)} to the internet.`,
        );
      }
    },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (props, { report }) => {
      if ((props.ingress ?? []).length > 0 || (props.egress ?? []).length > 0) {
        report("the default security group has rules; set ingress: [] and egress: [] (CIS AWS 5.4).");
      }
    },
  },
});

/** Every VPC records all its traffic in flow logs. */
export const vpcFlowLogs = stackRule({
  name: "vpc-flow-logs",
  concern: "network-security",
  description:
    "Every VPC must have a flow log (aws.ec2.FlowLog with vpcId of the VPC) recording trafficType ALL, so access to the PHI network can be audited.",
  remediationSteps:
    "Add the network layer's FlowLogs component (trafficType 'ALL', to a KMS-encrypted log group kept per retention.logs.security).",
  severity: "high",
  enforcementLevel: "mandatory",
  examines: ["aws:ec2/vpc:Vpc", "aws:ec2/flowLog:FlowLog"],
  validate: (ctx) => {
    const vpcs = ctx.ofType("aws:ec2/vpc:Vpc");
    const logged = new Set<string>();
    let unresolved = false;
    for (const flowLog of ctx.ofType("aws:ec2/flowLog:FlowLog")) {
      ctx.each(() => {
        if (flowLog.props.trafficType !== "ALL") {
          ctx.report(
            `Flow log '${flowLog.resource.name}' records ${flowLog.props.trafficType} traffic only; use ALL.`,
            flowLog.resource.urn,
          );
          return;
        }
        const linked = dependenciesOf(flowLog.resource, "vpcId").map((d) => d.urn);
        if (linked.length > 0) {
          linked.forEach((u) => logged.add(u));
          return;
        }
        const vpcId = known(() => flowLog.props.vpcId);
        if (vpcId === UNKNOWN) {
          unresolved = true;
          ctx.each(() => flowLog.props.vpcId);
          return;
        }
        for (const vpc of vpcs) {
          const id = known(() => (vpc.props as { id?: unknown }).id);
          if (id !== UNKNOWN && id === vpcId) {
            logged.add(vpc.resource.urn);
          }
        }
      });
    }
    for (const vpc of vpcs) {
      if (!logged.has(vpc.resource.urn) && !unresolved) {
        ctx.report(`VPC '${vpc.resource.name}' has no flow log recording ALL traffic.`, vpc.resource.urn);
      }
    }
  },
});

/** The rules of this concern. */
export const networkSecurityRules: readonly Rule[] = [securityGroupNoPublicIngress, vpcFlowLogs];
