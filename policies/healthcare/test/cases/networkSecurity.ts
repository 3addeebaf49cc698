import type { ArgsOf } from "../../src/lib";
import { type Case, cases, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";

type Ingress = NonNullable<ArgsOf<"aws:ec2/securityGroup:SecurityGroup">["ingress"]>[number];

const sg = (ingress: Ingress[]) =>
  res("aws:ec2/securityGroup:SecurityGroup", "alb", { vpcId: "vpc-1", ingress });

const ingressRule = (props: Partial<ArgsOf<"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule">>) =>
  res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-from-vpc", {
    securityGroupId: "sg-1",
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: "10.20.0.0/16",
    ...props,
  });

const flowLogStack = (trafficType: string, linked = true) => {
  const vpc = res("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.20.0.0/16" });
  const flowLog = res(
    "aws:ec2/flowLog:FlowLog",
    "flow-logs",
    { vpcId: linked ? unknown.string() : "vpc-other", trafficType, logDestinationType: "cloud-watch-logs" },
    linked ? { dependsOn: { vpcId: [vpc] } } : {},
  );
  return [vpc, flowLog];
};

export const networkSecurityCases: Case[] = [
  ...cases("security-group-no-public-ingress", [
    {
      kind: "pass",
      title: "HTTPS from anywhere (public port)",
      resource: sg([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "PostgreSQL from anywhere",
      resource: sg([{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }]),
      expect: violation(/ingress\[0\] opens port 5432 to the internet/),
    },
    {
      kind: "fail",
      title: "all traffic from anywhere over IPv6",
      resource: sg([{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }]),
      expect: violation(/all ports/),
    },
    { kind: "pass", title: "ingress rule from the VPC", resource: ingressRule({}), expect: pass },
    {
      kind: "fail",
      title: "ingress rule for SSH from anywhere",
      resource: ingressRule({ fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }),
      expect: violation(/port 22/),
    },
    {
      kind: "pass",
      title: "default group without rules",
      resource: res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {
        vpcId: "vpc-1",
        ingress: [],
        egress: [],
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "default group with a rule",
      resource: res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {
        vpcId: "vpc-1",
        ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }],
      }),
      expect: violation(/default security group has rules/),
    },
    {
      kind: "unknown",
      title: "source computed from another resource",
      resource: ingressRule({ cidrIpv4: unknown.string() }),
      expect: preview,
    },
  ]),
  ...cases("vpc-flow-logs", [
    { kind: "pass", title: "VPC with an ALL flow log", stack: flowLogStack("ALL"), expect: pass },
    {
      kind: "fail",
      title: "flow log of rejected traffic only",
      stack: flowLogStack("REJECT"),
      expect: violation(/records REJECT traffic only/),
    },
    {
      kind: "fail",
      title: "VPC without a flow log",
      stack: flowLogStack("ALL", false),
      expect: violation(/VPC 'vpc' has no flow log/),
    },
    {
      kind: "unknown",
      title: "flow log whose VPC is unknown and not linked",
      stack: [
        res("aws:ec2/vpc:Vpc", "vpc", {}),
        res("aws:ec2/flowLog:FlowLog", "fl", { vpcId: unknown.string(), trafficType: "ALL" }),
      ],
      expect: preview,
    },
  ]),
  ...cases("secrets-manager-customer-key", [
    {
      kind: "pass",
      title: "secret under a customer key",
      resource: res("aws:secretsmanager/secret:Secret", "db", { kmsKeyId: "arn:aws:kms:sa-east-1:1:key/k" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "secret under aws/secretsmanager",
      resource: res("aws:secretsmanager/secret:Secret", "db", {}),
      expect: violation(/kmsKeyId is not set/),
    },
    {
      kind: "unknown",
      title: "key from the same preview",
      resource: res("aws:secretsmanager/secret:Secret", "db", { kmsKeyId: unknown.string() }),
      expect: pass,
    },
  ]),
];
