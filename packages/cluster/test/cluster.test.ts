import * as assert from "node:assert/strict";
import {
  clusterContract,
  type ClusterOutputs,
  environmentContract,
  type EnvironmentOutputs,
  type EnvironmentTopology,
  networkContract,
  type NetworkOutputs,
  isValidCloudWatchRetention,
} from "@hcp/platform";
import {
  assertConventions,
  isRpcSecret,
  ofType,
  matchState,
  one,
  parsePolicy,
  policyList,
  producerValue,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
  withRegions,
} from "@hcp/testing";
import { EKS_ADDON_MANAGEMENT, GUARD_DUTY_AGENT_NAMESPACE, RUNTIME_MONITORING } from "../src/guardDuty";
import { NODE_GROUPS } from "../src/nodeGroups";
import { TLS13_SSL_POLICY } from "../src/services";

interface Case {
  readonly label: string;
  readonly topology: EnvironmentTopology;
  readonly region: string;
}

const production = repoTopology("production");
const staging = repoTopology("staging");

const CASES: readonly Case[] = [
  {
    label: "production sa-east-1 (primary, 3 AZs, private endpoint)",
    topology: production,
    region: "sa-east-1",
  },
  { label: "production us-east-1 (dr, 3 AZs, private endpoint)", topology: production, region: "us-east-1" },
  {
    label: "staging sa-east-1 (primary, 3 AZs, public endpoint limited)",
    topology: staging,
    region: "sa-east-1",
  },
  { label: "staging us-east-1 (dr, 2 AZs, public endpoint limited)", topology: staging, region: "us-east-1" },
];

type Doc = { Statement: Array<Record<string, unknown>> };

function json<T = Doc>(value: unknown): T {
  return JSON.parse(value as string) as T;
}

function out(r: RegisteredResource, key: string): unknown {
  return (r.wireOutputs as Record<string, unknown>)[key];
}

function containsSecret(value: unknown): boolean {
  if (isRpcSecret(value)) {
    return true;
  }
  return typeof value === "object" && value !== null && Object.values(value).some(containsSecret);
}

function byName(res: readonly RegisteredResource[], type: string, name: string): RegisteredResource {
  return one(
    res.filter((r) => r.name === name),
    type,
  );
}

describe("hcp-cluster program", () => {
  for (const c of CASES) {
    describe(c.label, () => {
      const config = c.topology.regions.find((r) => r.name === c.region)!;
      let net: NetworkOutputs;
      let env: EnvironmentOutputs;
      const clusterName = `hcp-${c.topology.name}-${c.region}`;
      const isProduction = c.topology.tier === "production";
      let run: ProgramRun;
      let res: readonly RegisteredResource[];
      let cluster: ClusterOutputs;
      let eks: RegisteredResource;

      before(async () => {
        net = await producerValue(networkContract, c.topology, c.region);
        env = await producerValue(environmentContract, c.topology);
        run = await runLayer({ layer: "cluster", topology: c.topology, region: c.region });
        res = run.resources;
        cluster = clusterContract.schema.parse(run.outputs["cluster"]) as unknown as ClusterOutputs;
        eks = one(res, "aws:eks/cluster:Cluster");
      });

      it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
        assertConventions(run, { tier: c.topology.tier });
      });

      it("exports the cluster contract with the kubeconfig as the only secret", () => {
        assert.deepEqual(run.secretOutputNames, ["cluster"]);
        const wire = run.wireOutputs["cluster"] as Record<string, unknown>;
        assert.ok(isRpcSecret(wire["kubeconfig"]), "kubeconfig is secret");
        for (const field of Object.keys(wire).filter((f) => f !== "kubeconfig")) {
          assert.ok(!containsSecret(wire[field]), `${field} is not secret`);
        }
        assert.equal(cluster.clusterName, clusterName);
        assert.equal(cluster.version, c.topology.cluster.version);
        assert.equal(cluster.endpoint, out(eks, "endpoint"));
        assert.equal(
          cluster.certificateAuthorityData,
          (out(eks, "certificateAuthority") as { data: string }).data,
        );
        assert.equal(
          cluster.clusterSecurityGroupId,
          (out(eks, "vpcConfig") as Record<string, string>)["clusterSecurityGroupId"],
        );
        assert.equal(
          cluster.nodeSecurityGroupId,
          byName(res, "aws:ec2/securityGroup:SecurityGroup", "eks-nodes").id,
        );
        const oidc = one(res, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        assert.equal(cluster.oidcIssuerUrl, oidc.inputs["url"]);
        assert.equal(cluster.oidcProviderArn, out(oidc, "arn"));
        assert.deepEqual(oidc.inputs["clientIdLists"], ["sts.amazonaws.com"]);
        assert.equal(cluster.storageClassName, "gp3-encrypted");
        assert.equal(cluster.kmsKeyArns.secrets, out(byName(res, "aws:kms/key:Key", "secrets-key"), "arn"));
        assert.equal(cluster.kmsKeyArns.ebs, out(byName(res, "aws:kms/key:Key", "ebs-key"), "arn"));
      });

      it("exports an exec-based kubeconfig for this cluster and region", () => {
        const kubeconfig = json<{
          clusters: Array<{ cluster: { server: string } }>;
          users: Array<{ user: { exec: { command: string; args: string[] } } }>;
        }>(cluster.kubeconfig);
        assert.equal(kubeconfig.clusters[0].cluster.server, cluster.endpoint);
        assert.equal(kubeconfig.users[0].user.exec.command, "aws");
        assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 6), [
          "eks",
          "get-token",
          "--cluster-name",
          clusterName,
          "--region",
          c.region,
        ]);
        const provider = one(res, "pulumi:providers:kubernetes");
        assert.ok(
          provider.secretInputPaths.includes("kubeconfig"),
          "the Kubernetes provider gets it as a secret",
        );
      });

      it("runs the configured version in standard support, API auth, no creator admin", () => {
        assert.equal(eks.inputs["name"], clusterName);
        assert.equal(eks.inputs["version"], c.topology.cluster.version);
        assert.deepEqual(eks.inputs["upgradePolicy"], { supportType: "STANDARD" });
        assert.deepEqual(eks.inputs["accessConfig"], {
          authenticationMode: "API",
          bootstrapClusterCreatorAdminPermissions: false,
        });
        assert.deepEqual(eks.inputs["kubernetesNetworkConfig"], {
          ipFamily: "ipv4",
          serviceIpv4Cidr: config.serviceCidr,
        });
        assert.deepEqual(
          (eks.inputs["vpcConfig"] as Record<string, unknown>)["subnetIds"],
          net.subnetIds.private,
        );
        assert.equal(eks.options.protect, isProduction);
        assert.equal(eks.inputs["deletionProtection"], isProduction);
      });

      it(`exposes the API ${c.topology.cluster.endpointAccess === "private" ? "privately only" : "publicly only to the configured CIDRs"}`, () => {
        const vpc = eks.inputs["vpcConfig"] as Record<string, unknown>;
        assert.equal(vpc["endpointPrivateAccess"], true);
        if (c.topology.cluster.endpointAccess === "private") {
          assert.equal(vpc["endpointPublicAccess"], false);
          assert.equal(vpc["publicAccessCidrs"], undefined);
        } else {
          assert.equal(vpc["endpointPublicAccess"], true);
          assert.deepEqual(vpc["publicAccessCidrs"], c.topology.cluster.publicAccessCidrs);
          assert.ok(!(vpc["publicAccessCidrs"] as string[]).includes("0.0.0.0/0"));
        }
        const rules = ofType(res, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        assert.deepEqual(
          rules.map((r) => [
            r.inputs["securityGroupId"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs["cidrIpv4"],
          ]),
          [[cluster.clusterSecurityGroupId, 443, 443, net.vpcCidr]],
        );
      });

      it("envelope-encrypts Secrets with a dedicated rotating key the control plane may use", () => {
        const key = byName(res, "aws:kms/key:Key", "secrets-key");
        assert.equal(key.inputs["enableKeyRotation"], true);
        assert.equal(key.inputs["deletionWindowInDays"], 30);
        assert.equal(key.options.protect, isProduction);
        assert.deepEqual(eks.inputs["encryptionConfig"], {
          provider: { keyArn: cluster.kmsKeyArns.secrets },
          resources: ["secrets"],
        });
        const role = byName(res, "aws:iam/role:Role", "eks-role");
        assert.equal(eks.inputs["roleArn"], out(role, "arn"));
        const keyUse = ofType(res, "aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs["role"] === role.id);
        assert.ok(keyUse);
        assert.ok(
          json(keyUse.inputs["policy"]).Statement.every((s) => s["Resource"] === cluster.kmsKeyArns.secrets),
        );
        assert.notEqual(cluster.kmsKeyArns.secrets, cluster.kmsKeyArns.ebs);
      });

      it("ships all five control-plane logs to a pre-created encrypted log group with audit retention", () => {
        assert.deepEqual(eks.inputs["enabledClusterLogTypes"], [
          "api",
          "audit",
          "authenticator",
          "controllerManager",
          "scheduler",
        ]);
        const group = one(res, "aws:cloudwatch/logGroup:LogGroup");
        assert.equal(group.inputs["name"], `/aws/eks/${clusterName}/cluster`);
        assert.equal(group.inputs["kmsKeyId"], net.kmsKeyArn, "the network layer's regional logs key");
        assert.equal(group.inputs["retentionInDays"], c.topology.retention.logs.audit);
        assert.ok(isValidCloudWatchRetention(group.inputs["retentionInDays"]));
        assert.equal(group.options.protect, isProduction);
        assert.ok(eks.dependencies.includes(group.urn), "log group created before the cluster");
      });

      it("grants access entries to admins, read-only principals and the CI deploy and preview roles only", () => {
        const entries = ofType(res, "aws:eks/accessEntry:AccessEntry");
        const associations = ofType(res, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
        const expected = new Map<string, string>([
          ...c.topology.access.adminPrincipals.map((p) => [p, "AmazonEKSClusterAdminPolicy"] as const),
          ...c.topology.access.readonlyPrincipals.map((p) => [p, "AmazonEKSViewPolicy"] as const),
          [env.ci.deployRoleArn, "AmazonEKSClusterAdminPolicy"],
          // Pull-request previews of the Kubernetes layers read the cluster, never its Secrets.
          [env.ci.previewRoleArn, "AmazonEKSViewPolicy"],
        ]);
        assert.deepEqual(entries.map((e) => e.inputs["principalArn"]).sort(), [...expected.keys()].sort());
        assert.ok(
          entries.every((e) => e.inputs["clusterName"] === clusterName && e.inputs["type"] === "STANDARD"),
        );
        assert.equal(associations.length, expected.size);
        for (const a of associations) {
          assert.equal(
            a.inputs["policyArn"],
            `arn:aws:eks::aws:cluster-access-policy/${expected.get(a.inputs["principalArn"] as string)}`,
          );
          assert.deepEqual(a.inputs["accessScope"], { type: "cluster" });
        }
        const provider = one(res, "pulumi:providers:kubernetes");
        for (const a of associations) {
          assert.ok(provider.dependencies.includes(a.urn), "Kubernetes resources wait for access to exist");
        }
      });

      it("encrypts the EBS key's volumes and lets the Auto Scaling service-linked role use it", () => {
        const key = byName(res, "aws:kms/key:Key", "ebs-key");
        assert.equal(key.inputs["enableKeyRotation"], true);
        assert.equal(key.options.protect, isProduction);
        const policy = json(key.inputs["policy"]);
        const slr = `arn:aws:iam::${c.topology.access.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
        const forSlr = policy.Statement.filter(
          (s) => JSON.stringify(s["Principal"]) === JSON.stringify({ AWS: slr }),
        );
        assert.deepEqual(
          forSlr.map((s) => s["Action"]),
          [
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "kms:CreateGrant",
          ],
        );
        assert.deepEqual(forSlr[1]["Condition"], { Bool: { "kms:GrantIsForAWSResource": "true" } });
      });

      it("launches every node group from a template: encrypted gp3, IMDSv2 required (hop 1), no SSH", () => {
        const templates = ofType(res, "aws:ec2/launchTemplate:LaunchTemplate");
        const groups = ofType(res, "aws:eks/nodeGroup:NodeGroup");
        assert.equal(templates.length, 3);
        assert.equal(groups.length, 3);
        for (const group of NODE_GROUPS) {
          const size = config.sizes.nodeGroups[group];
          const lt = byName(res, "aws:ec2/launchTemplate:LaunchTemplate", `nodes-${group}`);
          const ng = byName(res, "aws:eks/nodeGroup:NodeGroup", `nodes-${group}`);
          assert.deepEqual(lt.inputs["metadataOptions"], {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: 1,
            instanceMetadataTags: "disabled",
          });
          assert.deepEqual(lt.inputs["blockDeviceMappings"], [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: size.diskSizeGiB,
                volumeType: "gp3",
                encrypted: "true",
                kmsKeyId: cluster.kmsKeyArns.ebs,
                deleteOnTermination: "true",
              },
            },
          ]);
          assert.equal(lt.inputs["keyName"], undefined, "no SSH key");
          assert.deepEqual(lt.inputs["vpcSecurityGroupIds"], [
            cluster.clusterSecurityGroupId,
            cluster.nodeSecurityGroupId,
          ]);
          assert.equal(ng.inputs["remoteAccess"], undefined, "no remote access");
          assert.deepEqual(ng.inputs["launchTemplate"], { id: lt.id, version: "1" });
          assert.deepEqual(ng.inputs["scalingConfig"], {
            minSize: size.minSize,
            desiredSize: size.desiredSize,
            maxSize: size.maxSize,
          });
          assert.deepEqual(ng.inputs["instanceTypes"], size.instanceTypes);
          assert.deepEqual(ng.inputs["subnetIds"], net.subnetIds.private, "spread over every zone");
          assert.equal(ng.inputs["version"], c.topology.cluster.version);
          assert.equal(ng.inputs["nodeGroupName"], `${clusterName}-${group}`);
          assert.deepEqual(ng.options.ignoreChanges, ["scalingConfig.desiredSize"]);
          assert.deepEqual(ng.inputs["labels"], { "hcp.io/node-group": group });
          assert.deepEqual(
            ng.inputs["taints"],
            group === "database"
              ? [{ key: "hcp.io/dedicated", value: "database", effect: "NO_SCHEDULE" }]
              : [],
          );
        }
      });

      it("exports the database group's placement exactly as the nodes get it", () => {
        const ng = byName(res, "aws:eks/nodeGroup:NodeGroup", "nodes-database");
        assert.deepEqual(cluster.databaseNodes.labels, ng.inputs["labels"]);
        assert.deepEqual(
          cluster.databaseNodes.taints.map((t) => ({
            ...t,
            effect: t.effect === "NoSchedule" ? "NO_SCHEDULE" : t.effect,
          })),
          ng.inputs["taints"],
        );
      });

      it("installs the add-ons at the configured versions, networking before nodes", () => {
        const addons = ofType(res, "aws:eks/addon:Addon");
        const versions = c.topology.cluster.addons;
        assert.deepEqual(
          Object.fromEntries(addons.map((a) => [a.inputs["addonName"], a.inputs["addonVersion"]])),
          {
            "vpc-cni": versions.vpcCni,
            "kube-proxy": versions.kubeProxy,
            "eks-pod-identity-agent": versions.podIdentityAgent,
            coredns: versions.coredns,
            "aws-ebs-csi-driver": versions.ebsCsiDriver,
          },
        );
        const cni = addons.find((a) => a.inputs["addonName"] === "vpc-cni")!;
        assert.deepEqual(json<Record<string, string>>(cni.inputs["configurationValues"]), {
          enableNetworkPolicy: "true",
        });
        const groups = ofType(res, "aws:eks/nodeGroup:NodeGroup");
        for (const a of addons) {
          const name = a.inputs["addonName"] as string;
          if (["vpc-cni", "kube-proxy", "eks-pod-identity-agent"].includes(name)) {
            assert.ok(
              groups.every((g) => g.dependencies.includes(a.urn)),
              `nodes wait for ${name}`,
            );
          } else {
            assert.ok(
              groups.every((g) => a.dependencies.includes(g.urn)),
              `${name} waits for nodes`,
            );
          }
        }
        assert.equal(eks.inputs["bootstrapSelfManagedAddons"], false);
      });

      it("keeps the state of the Pod Identity roles it had before @hcp/kube had the component", () => {
        const urn = (chain: string, name: string) =>
          `urn:pulumi:${c.topology.name}-${c.region}::hcp-cluster::${chain}::${name}`;
        const before: string[] = [];
        for (const [parent, parentName, name] of [
          ["hcp:cluster:EksAddons", "addons", "addons-aws-ebs-csi-driver"],
          ["hcp:cluster:LoadBalancerController", "lb-controller", "lb-controller-role"],
        ]) {
          const component = `${parent}$hcp:cluster:PodIdentityRole`;
          before.push(
            urn(parent, parentName),
            urn(component, name),
            urn(`${component}$aws:iam/role:Role`, name),
            // The association was named like the role.
            urn(`${component}$aws:eks/podIdentityAssociation:PodIdentityAssociation`, name),
          );
        }
        const { matches, deleted, conflicts } = matchState(res, before);
        assert.deepEqual(conflicts, []);
        assert.deepEqual(deleted, []);
        const renamed = matches.filter((m) => m.kind === "alias").map((m) => m.urn.split("::").pop());
        assert.ok(renamed.includes("addons-aws-ebs-csi-driver-ebs-csi-controller-sa"));
        assert.ok(renamed.includes("lb-controller-role-aws-load-balancer-controller"));
      });

      it("gives the EBS CSI driver a Pod Identity role with KMS rights on the EBS key", () => {
        const association = ofType(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find(
          (a) => a.inputs["serviceAccount"] === "ebs-csi-controller-sa",
        );
        assert.ok(association);
        assert.equal(association.inputs["namespace"], "kube-system");
        const role = ofType(res, "aws:iam/role:Role").find(
          (r) => out(r, "arn") === association.inputs["roleArn"],
        );
        assert.ok(role);
        const trust = json(role.inputs["assumeRolePolicy"]);
        assert.deepEqual(trust.Statement[0]["Condition"], {
          StringEquals: {
            "aws:SourceAccount": c.topology.access.accountId,
            // The ARN the role computes from its provider is the cluster's own.
            "aws:RequestTag/eks-cluster-arn": out(one(res, "aws:eks/cluster:Cluster"), "arn"),
            "aws:RequestTag/kubernetes-namespace": "kube-system",
            "aws:RequestTag/kubernetes-service-account": "ebs-csi-controller-sa",
          },
        });
        const inline = ofType(res, "aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs["role"] === role.id);
        assert.ok(inline);
        const statements = parsePolicy(inline.inputs["policy"]).Statement;
        assert.ok(statements.every((s) => s.Resource === cluster.kmsKeyArns.ebs));
        assert.ok(
          statements.some((s) => ([] as string[]).concat(s.Action ?? []).includes("kms:CreateGrant")),
        );
        assert.ok(
          ofType(res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").some(
            (a) =>
              a.inputs["role"] === role.id &&
              a.inputs["policyArn"] === "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
          ),
        );
        const addon = ofType(res, "aws:eks/addon:Addon").find(
          (a) => a.inputs["addonName"] === "aws-ebs-csi-driver",
        )!;
        assert.ok(addon.dependencies.includes(association.urn), "credentials exist before the driver starts");
      });

      it("makes gp3-encrypted (cluster EBS key, Retain, WaitForFirstConsumer) the only default class", () => {
        const sc = one(res, "kubernetes:storage.k8s.io/v1:StorageClass");
        assert.deepEqual(sc.inputs["metadata"], {
          name: "gp3-encrypted",
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        });
        assert.equal(sc.inputs["provisioner"], "ebs.csi.aws.com");
        assert.deepEqual(sc.inputs["parameters"], {
          type: "gp3",
          encrypted: "true",
          kmsKeyId: cluster.kmsKeyArns.ebs,
          "csi.storage.k8s.io/fstype": "ext4",
        });
        assert.equal(sc.inputs["reclaimPolicy"], "Retain");
        assert.equal(sc.inputs["volumeBindingMode"], "WaitForFirstConsumer");
        const gp2 = one(res, "kubernetes:storage.k8s.io/v1:StorageClassPatch");
        assert.deepEqual(gp2.inputs["metadata"], {
          name: "gp2",
          annotations: {
            "storageclass.kubernetes.io/is-default-class": "false",
            "pulumi.com/patchForce": "true",
          },
        });
      });

      it("installs the charts with helm v4 at the configured versions, LB controller on a TLS 1.3 policy", () => {
        assert.deepEqual(ofType(res, "kubernetes:helm.sh/v3:Release"), []);
        assert.deepEqual(ofType(res, "kubernetes:helm.sh/v3:Chart"), []);
        const charts = ofType(res, "kubernetes:helm.sh/v4:Chart");
        const pins = c.topology.cluster.charts;
        assert.deepEqual(
          charts
            .map((ch) => [
              ch.inputs["chart"],
              ch.inputs["version"],
              (ch.inputs["repositoryOpts"] as { repo: string }).repo,
            ])
            .sort(),
          [
            [
              "aws-load-balancer-controller",
              pins.awsLoadBalancerController.version,
              pins.awsLoadBalancerController.repository,
            ],
            ["cert-manager", pins.certManager.version, pins.certManager.repository],
            ["metrics-server", pins.metricsServer.version, pins.metricsServer.repository],
          ],
        );
        const lb = charts.find((ch) => ch.inputs["chart"] === "aws-load-balancer-controller")!;
        const values = lb.inputs["values"] as Record<string, unknown>;
        assert.equal(values["defaultSSLPolicy"], TLS13_SSL_POLICY);
        assert.equal(values["clusterName"], clusterName);
        assert.equal(values["region"], c.region);
        assert.equal(values["vpcId"], net.vpcId);
        const certManager = charts.find((ch) => ch.inputs["chart"] === "cert-manager")!;
        assert.deepEqual((certManager.inputs["values"] as Record<string, unknown>)["crds"], {
          enabled: true,
          keep: true,
        });
        const ns = one(res, "kubernetes:core/v1:Namespace");
        assert.equal(certManager.inputs["namespace"], "cert-manager");
        assert.equal(
          (ns.inputs["metadata"] as { labels: Record<string, string> }).labels[
            "pod-security.kubernetes.io/enforce"
          ],
          "restricted",
        );
      });

      it("gives the load balancer controller its IAM policy through Pod Identity", () => {
        const association = ofType(res, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find(
          (a) => a.inputs["serviceAccount"] === "aws-load-balancer-controller",
        );
        assert.ok(association);
        assert.equal(association.inputs["namespace"], "kube-system");
        const role = ofType(res, "aws:iam/role:Role").find(
          (r) => out(r, "arn") === association.inputs["roleArn"],
        )!;
        const inline = ofType(res, "aws:iam/rolePolicy:RolePolicy").find(
          (p) => p.inputs["role"] === role.id,
        )!;
        const actions = parsePolicy(inline.inputs["policy"]).Statement.flatMap((s) => policyList(s.Action));
        for (const a of [
          "elasticloadbalancing:CreateLoadBalancer",
          "elasticloadbalancing:DescribeSSLPolicies",
          "ec2:DescribeSubnets",
        ]) {
          assert.ok(actions.includes(a), a);
        }
        const lb = ofType(res, "kubernetes:helm.sh/v4:Chart").find(
          (ch) => ch.inputs["chart"] === "aws-load-balancer-controller",
        )!;
        assert.ok(lb.dependencies.includes(association.urn), "the controller starts with credentials");
      });

      it("owns the region's GuardDuty detector with Runtime Monitoring and the managed EKS agent", () => {
        assert.equal(c.topology.cluster.guardDuty.detector, "managed");
        const detector = one(res, "aws:guardduty/detector:Detector");
        assert.equal(detector.inputs["enable"], true);
        assert.equal(
          detector.inputs["findingPublishingFrequency"],
          c.topology.cluster.guardDuty.findingPublishingFrequency,
        );
        assert.equal(detector.options.protect, isProduction, "its findings go with it");
        assert.equal(detector.inputs["datasources"], undefined, "features, not the deprecated datasources");
        const feature = one(res, "aws:guardduty/detectorFeature:DetectorFeature");
        assert.equal(feature.inputs["detectorId"], detector.id);
        assert.ok(feature.dependencies.includes(detector.urn));
        assert.equal(feature.inputs["name"], RUNTIME_MONITORING);
        assert.equal(feature.inputs["status"], "ENABLED");
        assert.deepEqual(feature.inputs["additionalConfigurations"], [
          { name: EKS_ADDON_MANAGEMENT, status: "ENABLED" },
        ]);
      });

      it("leaves the GuardDuty agent's namespace to EKS; its own namespaces enforce restricted", () => {
        const namespaces = ofType(res, "kubernetes:core/v1:Namespace");
        const meta = (r: RegisteredResource) =>
          r.inputs["metadata"] as { name: string; labels?: Record<string, string> };
        assert.ok(!namespaces.some((n) => meta(n).name === GUARD_DUTY_AGENT_NAMESPACE));
        for (const n of namespaces) {
          assert.equal(meta(n).labels?.["pod-security.kubernetes.io/enforce"], "restricted", meta(n).name);
        }
      });

      it("uses explicit providers: the region's AWS provider and the cluster's Kubernetes provider", () => {
        const aws = one(res, "pulumi:providers:aws");
        const k8s = one(res, "pulumi:providers:kubernetes");
        assert.equal(aws.inputs["region"], c.region);
        for (const r of res) {
          if (r.type.startsWith("aws:")) {
            assert.equal(r.provider, aws.urn, `${r.type} ${r.name}`);
          } else if (r.type.startsWith("kubernetes:")) {
            assert.equal(r.provider, k8s.urn, `${r.type} ${r.name}`);
          }
        }
      });
    });
  }

  it("with guardDuty.detector existing, enables Runtime Monitoring on the account's detector", async () => {
    const topology: EnvironmentTopology = {
      ...production,
      cluster: {
        ...production.cluster,
        guardDuty: { ...production.cluster.guardDuty, detector: "existing" },
      },
    };
    const run = await runLayer({ layer: "cluster", topology, region: "us-east-1" });
    assert.deepEqual(ofType(run.resources, "aws:guardduty/detector:Detector"), []);
    const feature = one(run.resources, "aws:guardduty/detectorFeature:DetectorFeature");
    // The id the aws.guardduty.getDetector lookup returned (a detector id), not one of this stack's.
    assert.match(String(feature.inputs["detectorId"]), /^[0-9a-f]{32}$/);
    assert.ok(!run.resources.some((r) => r.id === feature.inputs["detectorId"]));
    assert.equal(feature.inputs["name"], RUNTIME_MONITORING);
    assert.deepEqual(feature.inputs["additionalConfigurations"], [
      { name: EKS_ADDON_MANAGEMENT, status: "ENABLED" },
    ]);
    assertConventions(run, { tier: topology.tier });
  });

  it("reads the network from a 2-AZ production variant", async () => {
    const topology = withRegions(production, (r) => ({ ...r, azCount: 2 }));
    const run = await runLayer({ layer: "cluster", topology, region: "sa-east-1" });
    const subnets = (await producerValue(networkContract, topology, "sa-east-1")).subnetIds.private;
    assert.equal(subnets.length, 2);
    const eks = one(run.resources, "aws:eks/cluster:Cluster");
    assert.deepEqual((eks.inputs["vpcConfig"] as Record<string, unknown>)["subnetIds"], subnets);
    for (const ng of ofType(run.resources, "aws:eks/nodeGroup:NodeGroup")) {
      assert.deepEqual(ng.inputs["subnetIds"], subnets);
    }
  });
});
