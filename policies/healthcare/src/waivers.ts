/**
 * Resource types no rule of the pack examines, each with the reason that is acceptable. The
 * `policy-coverage` rule reports any type of a stack that is neither examined nor listed here.
 * Keep reasons specific: what the type holds and which control covers it instead.
 */

/** A waived resource type. */
export interface CoverageWaiver {
  readonly type: string;
  readonly reason: string;
}

export const COVERAGE_WAIVERS: readonly CoverageWaiver[] = [
  {
    type: "aws:cloudwatch/metricAlarm:MetricAlarm",
    reason:
      "An alarm definition (metric, threshold, actions); holds no data. Its action topic is examined (messaging-customer-key).",
  },
  {
    type: "aws:cloudwatch/eventRule:EventRule",
    reason:
      "An event pattern (which API calls to react to); holds no data. Its targets' topic is examined (messaging-customer-key, sns-topic-policy-not-public).",
  },
  {
    type: "aws:cloudwatch/eventTarget:EventTarget",
    reason:
      "Routes a rule's matches to a topic with a message template; holds no data. The topic is examined (messaging-customer-key, sns-topic-policy-not-public).",
  },
  {
    type: "aws:sns/topicSubscription:TopicSubscription",
    reason:
      "Delivers a topic's notifications to a team address; the topic is examined (messaging-customer-key) and notifications carry alert summaries, never patient data.",
  },
  {
    type: "aws:elasticache/subnetGroup:SubnetGroup",
    reason:
      "Lists the subnets a replication group's nodes may use; holds no data. Who reaches the nodes is the group's security group (security-group-no-public-ingress), its encryption and authentication the group itself (elasticache-encryption).",
  },
  {
    type: "kubernetes:external-secrets.io/v1:ExternalSecret",
    reason:
      "Names a Secrets Manager secret to sync (no value); the secret is examined (secrets-manager-customer-key) and the synced Kubernetes Secret is envelope-encrypted (eks-secrets-encryption).",
  },
  {
    type: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    reason:
      "Scrape configuration (selector, port, TLS and auth Secret references); holds no data and no credential.",
  },
  {
    type: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    reason:
      "Scrape configuration (selector, port, TLS and auth Secret references); holds no data and no credential.",
  },
  {
    type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    reason:
      "Alerting and recording rules (PromQL); holds no data. Checked by promtool check/test rules in packages/observability.",
  },
  {
    type: "aws:kms/alias:Alias",
    reason: "A name for a key; the key itself is examined (rotation, deletion window, lockout check).",
  },
  {
    type: "aws:iam/role:Role",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/rolePolicy:RolePolicy",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/policy:Policy",
    reason: "Access control, reviewed in code review and by IAM Access Analyzer; holds no data.",
  },
  {
    type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    reason: "Trust anchor for CI / IRSA; the roles trusting it are reviewed; holds no data.",
  },
  {
    type: "aws:codestarconnections/connection:Connection",
    reason:
      "A GitHub App link for the CI runners; holds no token and no data. The projects using it are examined (codebuild-project-isolated, codebuild-webhook-runner-only).",
  },
  {
    type: "aws:route53/zone:Zone",
    reason: "Public DNS names only (no PHI); protected in production by stateful-resources-protected.",
  },
  {
    type: "aws:route53/record:Record",
    reason: "Public DNS names only (no PHI).",
  },
  {
    type: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    reason: "Expires untagged container images; images hold no patient data.",
  },
  {
    type: "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    reason:
      "Replicates container images (no patient data) to DR regions; destinations are encrypted (ecr-customer-key).",
  },
  {
    type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    reason: "Disables ACLs (BucketOwnerEnforced); access is governed by the examined bucket policy.",
  },
  {
    type: "aws:ec2/subnet:Subnet",
    reason:
      "Network plumbing without data or access rules; the address plan is pure logic with exact tests in the network layer.",
  },
  {
    type: "aws:ec2/routeTable:RouteTable",
    reason:
      "Network plumbing without data or access rules; the address plan is pure logic with exact tests in the network layer.",
  },
  {
    type: "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions",
    reason:
      "Only lets each peered VPC resolve the other's private DNS names; the peering itself and its routes are examined (vpc-peering-*).",
  },
  {
    type: "aws:route53/zoneAssociation:ZoneAssociation",
    reason:
      "Joins a VPC to a private hosted zone so it resolves names; it grants no access to data (the records' targets are reachable only through the examined security groups and routes).",
  },
  {
    type: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    reason:
      "Network plumbing without data or access rules; the address plan is pure logic with exact tests in the network layer.",
  },
  {
    type: "aws:ec2/internetGateway:InternetGateway",
    reason:
      "Network plumbing without data or access rules; the address plan is pure logic with exact tests in the network layer.",
  },
  {
    type: "aws:ec2/natGateway:NatGateway",
    reason:
      "Network plumbing without data or access rules; the address plan is pure logic with exact tests in the network layer.",
  },
  {
    type: "aws:ec2/eip:Eip",
    reason: "Public address of a NAT gateway (egress only); no data.",
  },
  {
    type: "aws:ec2/networkAcl:NetworkAcl",
    reason:
      "Subnet-level filter in addition to security groups (which security-group-no-public-ingress examines); its rules are asserted by the network layer tests.",
  },
  {
    type: "aws:ec2/networkAclRule:NetworkAclRule",
    reason:
      "Subnet-level filter in addition to security groups (which security-group-no-public-ingress examines); its rules are asserted by the network layer tests.",
  },
  {
    type: "aws:ec2/vpcEndpoint:VpcEndpoint",
    reason:
      "Private path to AWS services (keeps traffic off the internet); its security group is examined by security-group-no-public-ingress.",
  },
  {
    type: "aws:eks/addon:Addon",
    reason:
      "EKS-managed add-on pinned to a version from the environment config; its pods run in kube-system under AWS's specs.",
  },
  {
    type: "aws:eks/accessEntry:AccessEntry",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "aws:secretsmanager/secretVersion:SecretVersion",
    reason:
      "The secret's value, sent as a Pulumi secret; its encryption is the Secret's key (secrets-manager-customer-key).",
  },
  {
    type: "random:index/randomPassword:RandomPassword",
    reason: "Generates a password as a Pulumi secret in the state; no cloud resource.",
  },
  {
    type: "kubernetes:core/v1:ServiceAccount",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    reason:
      "Access control, reviewed in code review; its grants are asserted by the layer's tests; holds no data.",
  },
  {
    type: "kubernetes:cert-manager.io/v1:Certificate",
    reason:
      "Requests a TLS certificate for in-cluster TLS; the private key lands in a Kubernetes Secret (envelope-encrypted by eks-secrets-encryption).",
  },
  {
    type: "kubernetes:cert-manager.io/v1:Issuer",
    reason:
      "Defines who signs in-cluster TLS certificates; holds no data (its CA key is a Kubernetes Secret).",
  },
  {
    type: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    reason:
      "Defines who signs in-cluster TLS certificates; holds no data (its CA key is a Kubernetes Secret).",
  },
  {
    type: "kubernetes:storage.k8s.io/v1:StorageClassPatch",
    reason:
      "Only removes the is-default-class annotation from EKS's built-in gp2 class so the encrypted, retained class is the default.",
  },
  {
    type: "aws:acm/certificate:Certificate",
    reason:
      "A public TLS certificate (no private key leaves ACM); DNS-validated, EC P-256, CT logging on: asserted by the workloads layer's tests. The ALB's TLS policy is examined on the Ingress (k8s-load-balancer-tls13).",
  },
  {
    type: "aws:acm/certificateValidation:CertificateValidation",
    reason: "A wait for ACM's DNS validation; creates nothing in AWS.",
  },
  {
    type: "random:index/randomBytes:RandomBytes",
    reason:
      "Generated application keys, stored only as secret state and in Secrets Manager (examined: KMS key, recovery window); the value is never an input of another resource in plain text.",
  },
  {
    type: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
    reason:
      "A custom resource, which has no SDK class to type a type-specific check by: examined by the generic check of istio-authorization-no-allow-all (no ALLOW rule that admits everyone); who it admits is proven against the declared intent by the workloads layer's reachability test.",
  },
  {
    type: "kubernetes:security.istio.io/v1:PeerAuthentication",
    reason:
      "The mTLS mode of the application namespace (STRICT, PERMISSIVE only on the declared plain-text ports): asserted by the workloads layer's tests and evaluated by its reachability test; holds no data.",
  },
  {
    type: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    reason:
      "Points the External Secrets Operator at the region's Secrets Manager; holds no secret. What it may read is the operator's Pod Identity role (reviewed with the IAM policies).",
  },
  {
    type: "aws:wafv2/webAcl:WebAcl",
    reason:
      "Request filtering rules of the internet-facing ALB (managed rule groups, rate limit, geo block), asserted by the workloads layer's tests; that every internet-facing ALB has one attached is examined on the Ingress / load balancer (alb-waf-attached).",
  },
  {
    type: "aws:route53/healthCheck:HealthCheck",
    reason:
      "Probes a public HTTPS URL of the platform (readiness path, no data); the edge layer's tests assert HTTPS with SNI on each region's own host name.",
  },
];
