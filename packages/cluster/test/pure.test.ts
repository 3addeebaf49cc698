import * as assert from "node:assert/strict";
import { parsePolicy, policyList, repoTopology } from "@hcp/testing";
import { ACCESS_POLICIES, accessGrants, principalKey } from "../src/access";
import { addonPlan, VPC_CNI_CONFIGURATION } from "../src/addons";
import { CONTROL_PLANE_LOG_TYPES, endpointAccessConfig, renderKubeconfig } from "../src/controlPlane";
import {
  checkNodeGroupSizes,
  eksTaintEffect,
  NODE_GROUPS,
  NODE_METADATA_OPTIONS,
  nodePlacement,
} from "../src/nodeGroups";
import {
  autoscalingServiceLinkedRoleArn,
  ebsCsiKmsPolicy,
  ebsKeyStatements,
  loadBalancerControllerPolicy,
  secretsKeyUsePolicy,
  serviceTrustPolicy,
} from "../src/policies";
import {
  certManagerValues,
  DEFAULT_STORAGE_CLASS,
  defaultStorageClass,
  loadBalancerControllerValues,
  metricsServerValues,
  TLS13_SSL_POLICY,
} from "../src/services";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/0123";

describe("control plane", () => {
  it("enables all five log types", () => {
    assert.deepEqual(
      [...CONTROL_PLANE_LOG_TYPES],
      ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    );
  });

  it("private: private endpoint only, no public CIDRs", () => {
    assert.deepEqual(endpointAccessConfig("private", []), {
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      publicAccessCidrs: [],
    });
  });

  it("privateAndPublic: public endpoint limited to the configured CIDRs", () => {
    assert.deepEqual(endpointAccessConfig("privateAndPublic", ["203.0.113.0/24"]), {
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
    });
  });

  it("refuses a public endpoint open to everyone", () => {
    for (const cidrs of [[], ["203.0.113.0/24", "0.0.0.0/0"]]) {
      assert.throws(
        () => endpointAccessConfig("privateAndPublic", cidrs),
        /must be limited to specific CIDRs.*Fix: list the VPN\/office egress ranges/s,
      );
    }
  });

  it("renders an exec-based kubeconfig without credentials", () => {
    const text = renderKubeconfig({
      clusterName: "hcp-production-sa-east-1",
      endpoint: "https://ABC.gr7.sa-east-1.eks.amazonaws.com",
      certificateAuthorityData: "Q0E=",
      region: "sa-east-1",
    });
    assert.deepEqual(JSON.parse(text), {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "hcp-production-sa-east-1",
          cluster: {
            server: "https://ABC.gr7.sa-east-1.eks.amazonaws.com",
            "certificate-authority-data": "Q0E=",
          },
        },
      ],
      contexts: [
        {
          name: "hcp-production-sa-east-1",
          context: { cluster: "hcp-production-sa-east-1", user: "hcp-production-sa-east-1" },
        },
      ],
      "current-context": "hcp-production-sa-east-1",
      users: [
        {
          name: "hcp-production-sa-east-1",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "aws",
              args: [
                "eks",
                "get-token",
                "--cluster-name",
                "hcp-production-sa-east-1",
                "--region",
                "sa-east-1",
                "--output",
                "json",
              ],
              interactiveMode: "Never",
            },
          },
        },
      ],
    });
    assert.doesNotMatch(text, /"token"|password|client-key|client-certificate/);
  });
});

describe("access", () => {
  it("keys principals by their resource path", () => {
    assert.equal(
      principalKey("arn:aws:iam::111122223333:role/PlatformBreakGlassAdmin"),
      "role-platformbreakglassadmin",
    );
    assert.equal(principalKey("arn:aws:iam::111122223333:role/ops/On.Call"), "role-ops-on-call");
    assert.equal(principalKey("arn:aws:iam::111122223333:user/alice"), "user-alice");
  });

  it("grants admins the cluster-admin policy and read-only principals the view policy", () => {
    assert.deepEqual(
      accessGrants(
        ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/Admin"],
        ["arn:aws:iam::111122223333:role/Viewer"],
      ),
      [
        { key: "role-admin", principalArn: "arn:aws:iam::111122223333:role/Admin", level: "admin" },
        { key: "role-viewer", principalArn: "arn:aws:iam::111122223333:role/Viewer", level: "readonly" },
      ],
    );
    assert.deepEqual(ACCESS_POLICIES, {
      admin: "AmazonEKSClusterAdminPolicy",
      readonly: "AmazonEKSViewPolicy",
    });
  });

  it("refuses a principal in both lists and colliding keys, listing both", () => {
    assert.throws(
      () =>
        accessGrants(
          ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/a.b"],
          ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/a-b"],
        ),
      (e: Error) =>
        /role\/Admin is in both access.adminPrincipals and access.readonlyPrincipals/.test(e.message) &&
        /role\/a-b and .*role\/a\.b map to the same access entry name 'role-a-b'/.test(e.message),
    );
  });
});

describe("node groups", () => {
  it("labels every group and taints only the database group", () => {
    assert.deepEqual(nodePlacement("system"), { labels: { "hcp.io/node-group": "system" }, taints: [] });
    assert.deepEqual(nodePlacement("workloads"), {
      labels: { "hcp.io/node-group": "workloads" },
      taints: [],
    });
    assert.deepEqual(nodePlacement("database"), {
      labels: { "hcp.io/node-group": "database" },
      taints: [{ key: "hcp.io/dedicated", value: "database", effect: "NoSchedule" }],
    });
    assert.deepEqual([...NODE_GROUPS], ["system", "database", "workloads"]);
  });

  it("spells taint effects the EKS way", () => {
    assert.equal(eksTaintEffect("NoSchedule"), "NO_SCHEDULE");
    assert.equal(eksTaintEffect("NoExecute"), "NO_EXECUTE");
    assert.equal(eksTaintEffect("PreferNoSchedule"), "PREFER_NO_SCHEDULE");
  });

  it("requires IMDSv2 with a hop limit that keeps pods away from the node role", () => {
    assert.deepEqual(NODE_METADATA_OPTIONS, {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: "disabled",
    });
  });

  it("checks sizes, listing every bad group", () => {
    const sizes = repoTopology("production").regions[0].sizes.nodeGroups;
    assert.doesNotThrow(() => checkNodeGroupSizes(sizes));
    assert.throws(
      () =>
        checkNodeGroupSizes({
          ...sizes,
          system: { ...sizes.system, desiredSize: 9 },
          workloads: { ...sizes.workloads, instanceTypes: [] },
        }),
      (e: Error) =>
        /system: minSize 2 <= desiredSize 9 <= maxSize 4 does not hold/.test(e.message) &&
        /workloads: no instance types/.test(e.message),
    );
  });
});

describe("addons", () => {
  it("pins every add-on to the configured version, networking before nodes", () => {
    const versions = repoTopology("production").cluster.addons;
    assert.deepEqual(addonPlan(versions), [
      {
        name: "vpc-cni",
        version: versions.vpcCni,
        phase: "beforeNodes",
        configurationValues: '{"enableNetworkPolicy":"true"}',
      },
      { name: "kube-proxy", version: versions.kubeProxy, phase: "beforeNodes" },
      { name: "eks-pod-identity-agent", version: versions.podIdentityAgent, phase: "beforeNodes" },
      { name: "coredns", version: versions.coredns, phase: "afterNodes" },
      {
        name: "aws-ebs-csi-driver",
        version: versions.ebsCsiDriver,
        phase: "afterNodes",
        podIdentity: {
          namespace: "kube-system",
          serviceAccount: "ebs-csi-controller-sa",
          managedPolicies: ["service-role/AmazonEBSCSIDriverPolicy"],
        },
      },
    ]);
    assert.deepEqual(VPC_CNI_CONFIGURATION, { enableNetworkPolicy: "true" });
  });
});

describe("cluster policies", () => {
  it("trusts one AWS service", () => {
    assert.deepEqual(serviceTrustPolicy("eks", "amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]), {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
      ],
    });
  });

  it("gives the control plane envelope-encryption rights on its key only", () => {
    const doc = secretsKeyUsePolicy(KEY);
    assert.deepEqual(
      doc.Statement.map((s) => [s.Action, s.Resource, s.Condition]),
      [
        [["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"], KEY, undefined],
        ["kms:CreateGrant", KEY, { Bool: { "kms:GrantIsForAWSResource": "true" } }],
      ],
    );
  });

  it("lets the Auto Scaling service-linked role use the EBS key and create grants for AWS resources", () => {
    const slr =
      "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
    assert.equal(autoscalingServiceLinkedRoleArn("aws", "111122223333"), slr);
    assert.deepEqual(ebsKeyStatements("aws", "111122223333"), [
      {
        Sid: "AutoScalingUsesTheKeyForNodeVolumes",
        Effect: "Allow",
        Principal: { AWS: slr },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
      },
      {
        Sid: "AutoScalingCreatesGrantsForAttachedVolumes",
        Effect: "Allow",
        Principal: { AWS: slr },
        Action: "kms:CreateGrant",
        Resource: "*",
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
    ]);
    assert.match(
      JSON.stringify(ebsKeyStatements("aws-us-gov", "111122223333")),
      /arn:aws-us-gov:iam::111122223333:role\/aws-service-role/,
    );
  });

  it("gives the EBS CSI controller the KMS rights it needs on the EBS key", () => {
    assert.deepEqual(ebsCsiKmsPolicy(KEY), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "GrantsForVolumeAttachments",
          Effect: "Allow",
          Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
          Resource: KEY,
          Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
        {
          Sid: "EncryptVolumes",
          Effect: "Allow",
          Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
          Resource: KEY,
        },
      ],
    });
  });

  it("scopes the load balancer controller's destructive actions to cluster-tagged resources", () => {
    const text = JSON.stringify(loadBalancerControllerPolicy("aws-us-gov"));
    const doc = parsePolicy(text);
    assert.doesNotMatch(text, /arn:aws:/, "ARNs follow the partition");
    const destructive = [
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "ec2:DeleteSecurityGroup",
    ];
    for (const action of destructive) {
      const statements = doc.Statement.filter((s) => policyList(s.Action).includes(action));
      assert.ok(statements.length > 0, action);
      for (const s of statements) {
        assert.deepEqual(s.Condition?.["Null"], { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" }, action);
      }
    }
    const creates = doc.Statement.find((s) =>
      policyList(s.Action).includes("elasticloadbalancing:CreateLoadBalancer"),
    );
    assert.deepEqual(creates?.Condition, { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } });
    assert.ok(doc.Statement.every((s) => s.Effect === "Allow"));
  });
});

describe("cluster services", () => {
  it("makes gp3, encrypted with the cluster key, Retain and WaitForFirstConsumer the default class", () => {
    assert.deepEqual(defaultStorageClass(KEY), {
      metadata: {
        name: DEFAULT_STORAGE_CLASS,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", kmsKeyId: KEY, "csi.storage.k8s.io/fstype": "ext4" },
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
    assert.equal(DEFAULT_STORAGE_CLASS, "gp3-encrypted");
  });

  it("defaults load balancer listeners to a TLS 1.3 policy and names region and VPC explicitly", () => {
    assert.equal(TLS13_SSL_POLICY, "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert.deepEqual(
      loadBalancerControllerValues({ clusterName: "c", region: "sa-east-1", vpcId: "vpc-1" }),
      {
        clusterName: "c",
        region: "sa-east-1",
        vpcId: "vpc-1",
        replicaCount: 2,
        defaultSSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        serviceAccount: { create: true, name: "aws-load-balancer-controller" },
        nodeSelector: { "hcp.io/node-group": "system" },
        podDisruptionBudget: { maxUnavailable: 1 },
      },
    );
  });

  it("installs cert-manager with its CRDs and keeps both services on system nodes", () => {
    assert.deepEqual(certManagerValues().crds, { enabled: true, keep: true });
    assert.deepEqual(certManagerValues().nodeSelector, { "hcp.io/node-group": "system" });
    assert.deepEqual(metricsServerValues(), {
      replicas: 2,
      nodeSelector: { "hcp.io/node-group": "system" },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
    });
  });
});
