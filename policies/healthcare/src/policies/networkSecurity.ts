import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { BUCKET_TYPES, settingsByBucket } from "../buckets";
import { type Rule, resourceRule, stackRule } from "../policy";
import { dependenciesOf } from "../read";
import { known, UNKNOWN } from "../unknowns";
import { ciRunnerRules } from "./ciRunners";

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
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html",
      "https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html",
    ],
  },
  evidence: {
    properties: {
      "aws:ec2/securityGroup:SecurityGroup": ["ingress"],
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": [
        "cidrIpv4",
        "cidrIpv6",
        "fromPort",
        "toPort",
        "ipProtocol",
      ],
      "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ["ingress", "egress"],
    },
  },
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

interface EgressConfig {
  /** Ports connections to anywhere may be opened to (HTTPS). */
  readonly internetPorts: number[];
}

/**
 * Connections to anywhere only on the configured ports: a compromised workload (or a CI job) cannot
 * open arbitrary connections out of the PHI network, e.g. to exfiltrate data over another protocol.
 */
export const securityGroupEgressScoped = resourceRule<EgressConfig>({
  name: "security-group-egress-scoped",
  concern: "network-security",
  description:
    "Security group egress to 0.0.0.0/0 or ::/0 must be TCP on one of the configured ports (default 443); all-protocol or other-port egress to anywhere is refused (destinations inside the VPC or a peer are not limited).",
  remediationSteps:
    "Limit the egress rule to ipProtocol 'tcp' with fromPort = toPort = 443, or to a VPC / peer CIDR or a security group.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"],
  },
  evidence: {
    properties: {
      "aws:ec2/securityGroup:SecurityGroup": ["egress"],
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": [
        "cidrIpv4",
        "cidrIpv6",
        "fromPort",
        "toPort",
        "ipProtocol",
      ],
    },
  },
  config: {
    defaults: { internetPorts: [443] },
    schema: {
      internetPorts: {
        type: "array",
        items: { type: "integer", minimum: 1, maximum: 65535 },
        description: "Ports that connections to anywhere may use.",
      } satisfies PolicyConfigJSONSchema,
    },
  },
  checks: {
    "aws:ec2/securityGroup:SecurityGroup": (props, { config, report }) => {
      (props.egress ?? []).forEach((rule, i) => {
        const destinations = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])];
        if (
          destinations.some((c) => ANYWHERE.includes(c)) &&
          !internetAllowed(rule.fromPort, rule.toPort, rule.protocol, config)
        ) {
          report(`egress[${i}] opens ${openPorts(rule.fromPort, rule.toPort, rule.protocol)} to anywhere.`);
        }
      });
    },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (props, { config, report }) => {
      const destination = props.cidrIpv4 ?? props.cidrIpv6;
      if (
        destination !== undefined &&
        ANYWHERE.includes(destination) &&
        !internetAllowed(props.fromPort, props.toPort, props.ipProtocol, config)
      ) {
        report(`the rule opens ${openPorts(props.fromPort, props.toPort, props.ipProtocol)} to anywhere.`);
      }
    },
  },
});

function internetAllowed(
  from: number | undefined,
  to: number | undefined,
  protocol: string | undefined,
  cfg: EgressConfig,
): boolean {
  return protocol === "tcp" && from !== undefined && from === to && cfg.internetPorts.includes(from);
}

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
  controls: {
    hipaa: ["164.312(b)", "164.308(a)(1)(ii)(D)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html"],
  },
  evidence: {
    properties: {
      "aws:ec2/vpc:Vpc": ["cidrBlock"],
      "aws:ec2/flowLog:FlowLog": ["vpcId", "trafficType"],
    },
  },
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

const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

/** Every bucket blocks all public access. */
export const s3PublicAccessBlocked = stackRule({
  name: "s3-public-access-blocked",
  concern: "network-security",
  description:
    "Every S3 bucket must have an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true, so no ACL or policy can ever expose its objects.",
  remediationSteps:
    "Use SecureBucket from @hcp/platform, or add a BucketPublicAccessBlock for the bucket with the four flags true.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"],
  },
  evidence: {
    properties: {
      "aws:s3/bucket:Bucket": ["bucket"],
      "aws:s3/bucketV2:BucketV2": ["bucket"],
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
        "bucket",
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
      ],
    },
  },
  examines: [...BUCKET_TYPES, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  validate: (ctx) => {
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const blocks = settingsByBucket(ctx, buckets, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    for (const block of ctx.ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")) {
      ctx.each(() => {
        const off = PUBLIC_ACCESS_FLAGS.filter((f) => block.props[f] !== true);
        if (off.length > 0) {
          ctx.report(
            `Public access block '${block.resource.name}' does not set ${off.join(", ")} to true.`,
            block.resource.urn,
          );
        }
      });
    }
    for (const bucket of buckets) {
      if (blocks.of(bucket).length === 0 && !blocks.unresolved) {
        ctx.report(`Bucket '${bucket.resource.name}' has no public access block.`, bucket.resource.urn);
      }
    }
  },
});

interface EndpointConfig {
  readonly requiredLogTypes: string[];
}

/** The EKS API is private (or limited to known CIDRs) and its audit logs are on. */
export const eksControlPlane = resourceRule<EndpointConfig>({
  name: "eks-control-plane",
  concern: "network-security",
  description:
    "EKS clusters must keep the private API endpoint on, expose the public endpoint only to listed CIDRs (never 0.0.0.0/0; EKS turns it on by default), and send the audit and authenticator control-plane logs to CloudWatch.",
  remediationSteps:
    "Set vpcConfig { endpointPrivateAccess: true, endpointPublicAccess: false } (or publicAccessCidrs with the VPN range) and enabledClusterLogTypes including 'audit' and 'authenticator'.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(b)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
      "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
    ],
  },
  evidence: {
    properties: {
      "aws:eks/cluster:Cluster": [
        "vpcConfig.endpointPrivateAccess",
        "vpcConfig.endpointPublicAccess",
        "vpcConfig.publicAccessCidrs",
        "enabledClusterLogTypes",
      ],
    },
  },
  config: {
    defaults: { requiredLogTypes: ["api", "audit", "authenticator"] },
    schema: {
      requiredLogTypes: {
        type: "array",
        items: { type: "string", enum: ["api", "audit", "authenticator", "controllerManager", "scheduler"] },
        uniqueItems: true,
      },
    },
  },
  checks: {
    "aws:eks/cluster:Cluster": (props, { config, report }) => {
      const vpc = props.vpcConfig;
      if (vpc.endpointPrivateAccess !== true) {
        report("vpcConfig.endpointPrivateAccess is not true.");
      }
      if (vpc.endpointPublicAccess !== false) {
        const cidrs = vpc.publicAccessCidrs ?? [];
        if (cidrs.length === 0 || cidrs.some((c) => ANYWHERE.includes(c))) {
          report(
            "the public API endpoint is open to the internet: set endpointPublicAccess false or list publicAccessCidrs.",
          );
        }
      }
      const logs = props.enabledClusterLogTypes ?? [];
      const missing = config.requiredLogTypes.filter((t) => !logs.includes(t));
      if (missing.length > 0) {
        report(`enabledClusterLogTypes lacks ${missing.join(", ")}.`);
      }
    },
  },
});

/** The rules of this concern. */
export const networkSecurityRules: readonly Rule[] = [
  securityGroupNoPublicIngress,
  securityGroupEgressScoped,
  ...ciRunnerRules,
  vpcFlowLogs,
  s3PublicAccessBlocked,
  eksControlPlane,
];
