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

const pabStack = (
  flags: Partial<ArgsOf<"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock">> | undefined,
) => {
  const bucket = res("aws:s3/bucket:Bucket", "data", { bucketPrefix: "hcp-data-" });
  if (!flags) {
    return [bucket];
  }
  return [
    bucket,
    res(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "data-public-access",
      {
        bucket: unknown.string(),
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
        ...flags,
      },
      { dependsOn: { bucket: [bucket] } },
    ),
  ];
};

const egressRule = (props: Partial<ArgsOf<"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule">>) =>
  res("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "https-out", {
    securityGroupId: "sg-1",
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: "0.0.0.0/0",
    ...props,
  });

type ProjectArgs = ArgsOf<"aws:codebuild/project:Project">;
const project = (change: (p: ProjectArgs) => Partial<ProjectArgs> = () => ({})) => {
  const base: ProjectArgs = {
    name: "hcp-production-sa-east-1-ci-runner",
    serviceRole: "arn:aws:iam::1:role/runner",
    source: {
      type: "GITHUB",
      location: "https://github.com/example-health/healthcare-platform.git",
      auth: { type: "CODECONNECTIONS", resource: "arn:aws:codeconnections:sa-east-1:1:connection/c" },
    },
    artifacts: { type: "NO_ARTIFACTS" },
    environment: {
      type: "LINUX_CONTAINER",
      computeType: "BUILD_GENERAL1_MEDIUM",
      image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
      privilegedMode: false,
    },
    vpcConfig: { vpcId: "vpc-1", subnets: ["subnet-1", "subnet-2"], securityGroupIds: ["sg-1"] },
    logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: "/hcp/production/sa-east-1/ci-runner" } },
  };
  return res("aws:codebuild/project:Project", "ci-runner", { ...base, ...change(base) });
};

type WebhookArgs = ArgsOf<"aws:codebuild/webhook:Webhook">;
const webhook = (filterGroups: WebhookArgs["filterGroups"]) =>
  res("aws:codebuild/webhook:Webhook", "ci-runner-webhook", { projectName: "p", filterGroups });

type VpcConfig = ArgsOf<"aws:eks/cluster:Cluster">["vpcConfig"];
const cluster = (vpcConfig: Partial<VpcConfig>, enabledClusterLogTypes = ["api", "audit", "authenticator"]) =>
  res("aws:eks/cluster:Cluster", "eks", {
    roleArn: "arn:aws:iam::1:role/eks",
    vpcConfig: {
      subnetIds: ["subnet-1"],
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      ...vpcConfig,
    },
    enabledClusterLogTypes,
  });

export const networkSecurityCases: Case[] = [
  ...cases("s3-public-access-blocked", [
    { kind: "pass", title: "all four flags on", stack: pabStack({}), expect: pass },
    {
      kind: "fail",
      title: "public policies allowed",
      stack: pabStack({ blockPublicPolicy: false }),
      expect: violation(/does not set blockPublicPolicy to true/),
    },
    {
      kind: "fail",
      title: "no public access block",
      stack: pabStack(undefined),
      expect: violation(/Bucket 'data' has no public access block/),
    },
    {
      kind: "unknown",
      title: "a flag computed from another resource",
      stack: pabStack({ restrictPublicBuckets: unknown.boolean() }),
      expect: preview,
    },
  ]),
  ...cases("eks-control-plane", [
    { kind: "pass", title: "private endpoint, audit logs", resource: cluster({}), expect: pass },
    {
      kind: "pass",
      title: "public endpoint limited to the VPN range",
      resource: cluster({ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "public endpoint open to the internet (EKS default)",
      resource: cluster({ endpointPublicAccess: undefined }),
      expect: violation(/public API endpoint is open to the internet/),
    },
    {
      kind: "fail",
      title: "no audit logs",
      resource: cluster({}, ["api"]),
      expect: violation(/lacks audit, authenticator/),
    },
    {
      kind: "unknown",
      title: "public CIDRs computed from another resource",
      resource: cluster({ endpointPublicAccess: true, publicAccessCidrs: unknown.array() }),
      expect: preview,
    },
  ]),
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
  ...cases("security-group-egress-scoped", [
    { kind: "pass", title: "HTTPS to anywhere", resource: egressRule({}), expect: pass },
    {
      kind: "pass",
      title: "PostgreSQL to the peer VPC",
      resource: egressRule({ fromPort: 5432, toPort: 5432, cidrIpv4: "10.30.0.0/16" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "all traffic to anywhere",
      resource: egressRule({ ipProtocol: "-1", fromPort: undefined, toPort: undefined }),
      expect: violation(/opens all ports to anywhere/),
    },
    {
      kind: "fail",
      title: "inline egress of SSH to anywhere over IPv6",
      resource: res("aws:ec2/securityGroup:SecurityGroup", "sg", {
        vpcId: "vpc-1",
        egress: [{ protocol: "tcp", fromPort: 22, toPort: 22, ipv6CidrBlocks: ["::/0"] }],
      }),
      expect: violation(/egress\[0\] opens port 22 to anywhere/),
    },
    {
      kind: "unknown",
      title: "destination computed from another resource",
      resource: egressRule({ fromPort: 22, toPort: 22, cidrIpv4: unknown.string() }),
      expect: preview,
    },
  ]),
  ...cases("codebuild-project-isolated", [
    { kind: "pass", title: "the CI runner project", resource: project(), expect: pass },
    {
      kind: "fail",
      title: "no VPC",
      resource: project(() => ({ vpcConfig: undefined })),
      expect: violation(/runs outside the VPC|builds run outside the VPC/),
    },
    {
      kind: "fail",
      title: "privileged mode",
      resource: project((p) => ({ environment: { ...p.environment, privilegedMode: true } })),
      expect: violation(/privilegedMode is true/),
    },
    {
      kind: "fail",
      title: "a personal access token (no referenced credential)",
      resource: project((p) => ({ source: { type: p.source.type, location: p.source.location } })),
      expect: violation(/source.auth is not set/),
    },
    {
      kind: "fail",
      title: "logs disabled",
      resource: project(() => ({ logsConfig: { cloudwatchLogs: { status: "DISABLED" } } })),
      expect: violation(/cloudwatchLogs is not enabled/),
    },
    {
      kind: "unknown",
      title: "subnets computed from the VPC",
      resource: project(() => ({
        vpcConfig: { vpcId: "vpc-1", subnets: unknown.array(), securityGroupIds: ["sg-1"] },
      })),
      expect: preview,
    },
  ]),
  ...cases("codebuild-webhook-runner-only", [
    {
      kind: "pass",
      title: "queued workflow jobs only",
      resource: webhook([{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "builds on pushes too",
      resource: webhook([{ filters: [{ type: "EVENT", pattern: "PUSH, WORKFLOW_JOB_QUEUED" }] }]),
      expect: violation(/builds on PUSH/),
    },
    {
      kind: "fail",
      title: "no filter groups",
      resource: webhook(undefined),
      expect: violation(/no filter groups/),
    },
    {
      kind: "unknown",
      title: "event pattern computed from another resource",
      resource: webhook([{ filters: [{ type: "EVENT", pattern: unknown.string() }] }]),
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
