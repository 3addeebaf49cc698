import {
  clusterContract,
  exportContract,
  KmsKey,
  kubernetesProvider,
  physicalName,
  readEnvironment,
  readNetwork,
  regionalLayerContext,
} from "@hcp/platform";
import { addonPlan } from "./addons";
import { ClusterAccess } from "./components/clusterAccess";
import { EksAddons } from "./components/eksAddons";
import { EksCluster } from "./components/eksCluster";
import { LoadBalancerController } from "./components/loadBalancerController";
import { NodeGroups } from "./components/nodeGroups";
import { PinnedChart } from "./components/pinnedChart";
import { RuntimeSecurity } from "./components/runtimeSecurity";
import { StorageClasses } from "./components/storageClasses";
import { ebsCsiKmsPolicy, ebsKeyStatements } from "./policies";
import { certManagerMetrics, certManagerValues, metricsServerValues } from "./services";

/**
 * Program of `hcp-cluster` (stack `<env>-<region>`): the region's EKS cluster, node groups, add-ons
 * and cluster services, exported as the `cluster` contract.
 */
export = async () => {
  const ctx = await regionalLayerContext("cluster");
  const region = ctx.region;
  const config = ctx.topology.cluster;
  const network = readNetwork(ctx.environment, region.name);
  const environment = readEnvironment(ctx.environment);
  const awsOnly = { providers: [ctx.aws()] };
  const clusterName = physicalName("eksCluster", ctx.namePrefix);
  const alias = (purpose: string) => `hcp/${ctx.environment}/${region.name}/${purpose}`;
  const privateSubnets = network.subnetIds.apply((ids) => [...ids.private]);

  const secretsKey = new KmsKey(
    "secrets-key",
    {
      description: `Envelope encryption of Kubernetes Secrets in ${clusterName}`,
      alias: alias("eks-secrets"),
      protect: ctx.protectStateful,
    },
    awsOnly,
  );
  const ebsKey = new KmsKey(
    "ebs-key",
    {
      description: `EBS volumes of ${clusterName} (node root volumes and persistent volumes)`,
      alias: alias("ebs"),
      serviceStatements: ebsKeyStatements,
      protect: ctx.protectStateful,
    },
    awsOnly,
  );

  const eks = new EksCluster(
    "eks",
    {
      clusterName,
      version: config.version,
      vpcId: network.vpcId,
      vpcCidr: network.vpcCidr,
      subnetIds: privateSubnets,
      serviceCidr: region.serviceCidr,
      endpointAccess: config.endpointAccess,
      publicAccessCidrs: config.publicAccessCidrs,
      secretsKeyArn: secretsKey.arn,
      logsKeyArn: network.kmsKeyArn,
      logRetentionDays: ctx.topology.retention.logs.audit,
      protect: ctx.protectStateful,
    },
    awsOnly,
  );
  const access = new ClusterAccess(
    "access",
    {
      clusterName: eks.clusterName,
      adminPrincipals: ctx.topology.access.adminPrincipals,
      readonlyPrincipals: ctx.topology.access.readonlyPrincipals,
      deployRoleArn: environment.ci.apply((ci) => ci.deployRoleArn),
      previewRoleArn: environment.ci.apply((ci) => ci.previewRoleArn),
    },
    awsOnly,
  );

  const plan = addonPlan(config.addons);
  const networking = new EksAddons(
    "addons-networking",
    { clusterName: eks.clusterName, addons: plan.filter((a) => a.phase === "beforeNodes") },
    awsOnly,
  );
  const nodes = new NodeGroups(
    "nodes",
    {
      clusterName: eks.clusterName,
      namePrefix: clusterName,
      version: config.version,
      subnetIds: privateSubnets,
      securityGroupIds: [eks.clusterSecurityGroupId, eks.nodeSecurityGroup.id],
      ebsKeyArn: ebsKey.arn,
      sizes: region.sizes.nodeGroups,
      instanceTags: ctx.tags,
    },
    { ...awsOnly, dependsOn: [networking] },
  );
  const addons = new EksAddons(
    "addons",
    {
      clusterName: eks.clusterName,
      addons: plan.filter((a) => a.phase === "afterNodes"),
      podIdentityPolicies: { "aws-ebs-csi-driver": () => ebsKey.arn.apply(ebsCsiKmsPolicy) },
    },
    { ...awsOnly, dependsOn: [nodes] },
  );

  // One detector per account and region: owned here or the account's (cluster.guardDuty.detector).
  new RuntimeSecurity(
    "runtime-security",
    { guardDuty: config.guardDuty, protect: ctx.protectStateful },
    awsOnly,
  );

  const kubernetes = kubernetesProvider(
    "k8s",
    { kubeconfig: eks.kubeconfig },
    { dependsOn: [access, addons] },
  );
  const storage = new StorageClasses("storage", { ebsKeyArn: ebsKey.arn }, { providers: [kubernetes] });
  const loadBalancers = new LoadBalancerController(
    "lb-controller",
    { clusterName: eks.clusterName, vpcId: network.vpcId, pin: config.charts.awsLoadBalancerController },
    { providers: [ctx.aws(), kubernetes] },
  );
  // After the controller: its webhooks intercept the Services these charts create.
  new PinnedChart(
    "cert-manager",
    {
      chart: "cert-manager",
      pin: config.charts.certManager,
      namespace: "cert-manager",
      namespaceMode: "create",
      values: certManagerValues(),
    },
    { providers: [kubernetes], dependsOn: [loadBalancers] },
  );
  new PinnedChart(
    "metrics-server",
    {
      chart: "metrics-server",
      pin: config.charts.metricsServer,
      namespace: "kube-system",
      values: metricsServerValues(),
    },
    { providers: [kubernetes], dependsOn: [loadBalancers] },
  );

  return exportContract(clusterContract, {
    clusterName: eks.clusterName,
    version: eks.cluster.version,
    endpoint: eks.endpoint,
    certificateAuthorityData: eks.certificateAuthorityData,
    kubeconfig: eks.kubeconfig,
    oidcIssuerUrl: eks.oidcIssuerUrl,
    oidcProviderArn: eks.oidcProvider.arn,
    clusterSecurityGroupId: eks.clusterSecurityGroupId,
    nodeSecurityGroupId: eks.nodeSecurityGroup.id,
    storageClassName: storage.defaultClassName,
    kmsKeyArns: { secrets: secretsKey.arn, ebs: ebsKey.arn },
    databaseNodes: nodes.placements.database,
    metrics: [certManagerMetrics("cert-manager")],
  });
};
