import type * as aws from "@pulumi/aws";
import { type StatementList } from "@hcp/platform";

/**
 * IAM and key policy documents of the cluster layer as plain data (exactly tested). Partition,
 * account and DNS suffix are parameters: components read them from their provider.
 */

/** A trust policy for an AWS service principal (`eks`, `ec2`, ...). */
export function serviceTrustPolicy(
  service: string,
  dnsSuffix: string,
  actions: readonly string[] = ["sts:AssumeRole"],
): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: `${service}.${dnsSuffix}` }, Action: [...actions] }],
  };
}

/**
 * What the cluster role needs on the secrets key for envelope encryption (the key policy delegates
 * to IAM through the account-root statement).
 */
export function secretsKeyUsePolicy(keyArn: string): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EnvelopeEncryptionOfSecrets",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
        Resource: keyArn,
      },
      {
        Sid: "GrantsForTheControlPlane",
        Effect: "Allow",
        Action: "kms:CreateGrant",
        Resource: keyArn,
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
    ],
  };
}

/** ARN of the EC2 Auto Scaling service-linked role, which launches the managed node groups' instances. */
export function autoscalingServiceLinkedRoleArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
}

/**
 * EBS key statements for the Auto Scaling service-linked role: it creates the nodes' encrypted root
 * volumes, and a service-linked role cannot be given IAM policies, so the key policy must allow it
 * (use the key, and create grants for the EC2 resources it attaches volumes to).
 */
export function ebsKeyStatements(partition: string, accountId: string): aws.iam.PolicyStatement[] {
  const principal = { AWS: autoscalingServiceLinkedRoleArn(partition, accountId) };
  return [
    {
      Sid: "AutoScalingUsesTheKeyForNodeVolumes",
      Effect: "Allow",
      Principal: principal,
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: "*",
    },
    {
      Sid: "AutoScalingCreatesGrantsForAttachedVolumes",
      Effect: "Allow",
      Principal: principal,
      Action: "kms:CreateGrant",
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
  ];
}

/**
 * KMS permissions of the EBS CSI controller on the EBS key: create encrypted volumes from PVCs and
 * let EC2 attach them (grants only for AWS resources).
 */
export function ebsCsiKmsPolicy(keyArn: string): StatementList {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GrantsForVolumeAttachments",
        Effect: "Allow",
        Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        Resource: keyArn,
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      {
        Sid: "EncryptVolumes",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: keyArn,
      },
    ],
  };
}

/**
 * The AWS Load Balancer Controller's IAM policy (v2.14 `iam_policy.json`, as data): describe calls,
 * and create/modify/delete only on load balancers, target groups and security groups tagged for a
 * cluster (`elbv2.k8s.aws/cluster`).
 */
export function loadBalancerControllerPolicy(partition: string): StatementList {
  const elb = (resource: string) => `arn:${partition}:elasticloadbalancing:*:*:${resource}`;
  const securityGroups = `arn:${partition}:ec2:*:*:security-group/*`;
  const taggedForCluster = { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" };
  const balancersAndGroups = [
    elb("targetgroup/*/*"),
    elb("loadbalancer/net/*/*"),
    elb("loadbalancer/app/*/*"),
  ];
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
      {
        Effect: "Allow",
        Action: [
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeTags",
          "ec2:GetCoipPoolUsage",
          "ec2:DescribeCoipPools",
          "ec2:GetSecurityGroupsForVpc",
          "ec2:DescribeIpamPools",
          "ec2:DescribeRouteTables",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeListenerCertificates",
          "elasticloadbalancing:DescribeSSLPolicies",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTrustStores",
          "elasticloadbalancing:DescribeListenerAttributes",
          "elasticloadbalancing:DescribeCapacityReservation",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: [
          "cognito-idp:DescribeUserPoolClient",
          "acm:ListCertificates",
          "acm:DescribeCertificate",
          "iam:ListServerCertificates",
          "iam:GetServerCertificate",
          "waf-regional:GetWebACL",
          "waf-regional:GetWebACLForResource",
          "waf-regional:AssociateWebACL",
          "waf-regional:DisassociateWebACL",
          "wafv2:GetWebACL",
          "wafv2:GetWebACLForResource",
          "wafv2:AssociateWebACL",
          "wafv2:DisassociateWebACL",
          "shield:GetSubscriptionState",
          "shield:DescribeProtection",
          "shield:CreateProtection",
          "shield:DeleteProtection",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: "*",
      },
      { Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: "*" },
      {
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: securityGroups,
        Condition: {
          StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
          Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
        },
      },
      {
        Effect: "Allow",
        Action: ["ec2:CreateTags", "ec2:DeleteTags"],
        Resource: securityGroups,
        Condition: {
          Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", ...taggedForCluster },
        },
      },
      {
        Effect: "Allow",
        Action: [
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:DeleteSecurityGroup",
        ],
        Resource: "*",
        Condition: { Null: taggedForCluster },
      },
      {
        Effect: "Allow",
        Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
        Resource: "*",
        Condition: { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } },
      },
      {
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:DeleteRule",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: balancersAndGroups,
        Condition: {
          Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", ...taggedForCluster },
        },
      },
      {
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: [
          elb("listener/net/*/*/*"),
          elb("listener/app/*/*/*"),
          elb("listener-rule/net/*/*/*"),
          elb("listener-rule/app/*/*/*"),
        ],
      },
      {
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyCapacityReservation",
          "elasticloadbalancing:ModifyIpPools",
        ],
        Resource: "*",
        Condition: { Null: taggedForCluster },
      },
      {
        Effect: "Allow",
        Action: "elasticloadbalancing:AddTags",
        Resource: balancersAndGroups,
        Condition: {
          StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
          Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
        },
      },
      {
        Effect: "Allow",
        Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        Resource: elb("targetgroup/*/*"),
      },
      {
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:SetWebAcl",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:AddListenerCertificates",
          "elasticloadbalancing:RemoveListenerCertificates",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:SetRulePriorities",
        ],
        Resource: "*",
      },
    ],
  };
}
