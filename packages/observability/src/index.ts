import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PodIdentityRole, RestrictedNamespace, SystemNamespace } from "@hcp/kube";
import {
  AMP_REGIONS,
  exportContract,
  kubernetesProvider,
  type MetricsEndpoint,
  NODE_AGENTS_EXEMPTION,
  NODE_AGENTS_NAMESPACE,
  networkContract,
  observabilityContract,
  primaryRegion,
  readCluster,
  readContractValue,
  edgeAlarmNamePrefix,
  readData,
  readDr,
  regionalLayerContext,
  ROUTE53_METRICS_REGION,
  stackId,
  workloadsContract,
} from "@hcp/platform";
import { POSTGRES_CONTAINER, POSTGRES_LOG_FORMAT } from "@hcp/postgres";
import { alertmanagerConfig } from "./alertmanager";
import { loadBalancerAlarms, natGatewayAlarms } from "./awsAlarms";
import { AlertingFoundation } from "./components/alertingFoundation";
import { LogShipping } from "./components/logShipping";
import { CloudWatchAlarms } from "./components/cloudWatchAlarms";
import { MonitoringStack } from "./components/monitoringStack";
import { dashboardConfigMaps, dashboardLibrary } from "./dashboards";
import { applicationServices, libraryInputs, renderContext, renderGroups, ruleLibrary } from "./rules";
import {
  FLUENT_BIT,
  fluentBitValues,
  logShippingConfig,
  logShippingPolicy,
  SHIPPED_CLASSES,
} from "./logShipping";
import {
  agentFlows,
  alertmanagerPolicy,
  applicationScrapeTargets,
  DASHBOARD_SIDECAR,
  MONITORING_NAMESPACE,
  MONITORING_NAMESPACE_LABELS,
  monitoringFlows,
  PROMETHEUS_DATASOURCE,
  RELEASE,
  remoteWritePolicy,
  SERVICE_ACCOUNTS,
  stackValues,
} from "./values";

/**
 * Program of `hcp-observability` (stacks `<env>-<region>`, every region): log groups, alert topics and
 * the dead man's switch alarm, kube-prometheus-stack with the tested rule library and Alertmanager
 * routing, monitors for the producers' metrics endpoints, remote write to AMP. Wiring only.
 */
export = async () => {
  const ctx = await regionalLayerContext("observability");
  const { topology } = ctx;
  const region = ctx.region.name;
  const o = topology.observability;
  const cluster = readCluster(ctx.environment, region);
  const isPrimary = primaryRegion(topology).name === region;
  // The application of this region, read as a value: its endpoints decide the rules' services and
  // the monitoring namespace's egress (NetworkPolicies and rules are not built from outputs).
  const workloads = await readContractValue(workloadsContract, stackId("workloads", ctx.environment, region));
  // The database tier of this region: the data layer's in the primary region, the DR layer's
  // (standby, or the writer once promoted) in a DR region; then the application's.
  const tier = isPrimary ? readData(ctx.environment, region) : readDr(ctx.environment, region);
  const endpoints: pulumi.Output<readonly MetricsEndpoint[]> = pulumi
    .all([cluster.metrics, tier.metrics])
    .apply(([c, d]) => [...c, ...d, ...workloads.metrics]);

  const awsProvider = ctx.aws();
  const k8s = kubernetesProvider("kubernetes", { kubeconfig: cluster.kubeconfig });
  const randomProvider = new random.Provider("random", {});

  const foundation = new AlertingFoundation(
    "alerting",
    {
      namePrefix: ctx.namePrefix,
      aliasPrefix: `hcp/${ctx.environment}/${region}`,
      region,
      logRetentionDays: topology.retention.logs,
      emailAddresses: o.notifications.emailAddresses,
      protect: ctx.protectStateful,
      ...(region === ROUTE53_METRICS_REGION
        ? { routedAlarmNamePrefix: edgeAlarmNamePrefix(ctx.environment) }
        : {}),
    },
    { provider: awsProvider },
  );

  // What Prometheus cannot see (src/awsAlarms.ts): the NAT gateways (read as a value: one pair of
  // alarms per gateway, named by its zone) and the ALB the controller created for the workloads
  // (from the workloads contract read above).
  const network = await readContractValue(networkContract, stackId("network", ctx.environment, region));
  new CloudWatchAlarms(
    "aws-alarms",
    {
      alarms: [
        ...natGatewayAlarms(ctx.namePrefix, network.natGateways),
        ...loadBalancerAlarms(ctx.namePrefix, workloads.loadBalancer.arnSuffix),
      ],
      alertTopicArn: foundation.alertTopic.arn,
    },
    { provider: awsProvider },
  );

  const namespace = new RestrictedNamespace(
    "namespace",
    {
      name: MONITORING_NAMESPACE,
      kubernetesVersion: topology.cluster.version,
      labels: { ...MONITORING_NAMESPACE_LABELS },
      policies: monitoringFlows(ctx.region.vpcCidr, applicationScrapeTargets(workloads)),
    },
    { provider: k8s },
  );

  // node-exporter and Fluent Bit need the node; the policy pack exempts exactly this namespace.
  const agents = new SystemNamespace(
    "agents-namespace",
    {
      name: NODE_AGENTS_NAMESPACE,
      kubernetesVersion: topology.cluster.version,
      podSecurity: "privileged",
      reason: NODE_AGENTS_EXEMPTION.reason,
      policies: agentFlows(),
    },
    { provider: k8s },
  );

  const adminPassword = new random.RandomPassword(
    "grafana-admin",
    { length: 32, special: false },
    { provider: randomProvider },
  );
  const grafanaAdmin = new aws.secretsmanager.Secret(
    "grafana-admin",
    { name: `${ctx.namePrefix}/observability/grafana-admin`, kmsKeyId: foundation.alertingKey.arn },
    { provider: awsProvider, protect: ctx.protectStateful },
  );
  new aws.secretsmanager.SecretVersion(
    "grafana-admin",
    {
      secretId: grafanaAdmin.id,
      secretString: pulumi.secret(
        adminPassword.result.apply((p) => JSON.stringify({ "admin-user": "admin", "admin-password": p })),
      ),
    },
    { provider: awsProvider },
  );
  // The on-call team puts the PagerDuty routing keys and Slack webhooks here (README, "Notification keys").
  const notificationKeys = new aws.secretsmanager.Secret(
    "notification-keys",
    { name: `${ctx.namePrefix}/observability/notification-keys`, kmsKeyId: foundation.alertingKey.arn },
    { provider: awsProvider, protect: ctx.protectStateful },
  );

  const remoteWriteOn = o.remoteWrite === "amp" && AMP_REGIONS.has(region);
  const workspace = remoteWriteOn
    ? new aws.amp.Workspace(
        "metrics",
        { alias: `${ctx.namePrefix}-metrics`, kmsKeyArn: foundation.alertingKey.arn },
        { provider: awsProvider, protect: ctx.protectStateful },
      )
    : undefined;
  if (workspace) {
    new PodIdentityRole(
      "prometheus-identity",
      {
        clusterName: cluster.clusterName,
        namespace: MONITORING_NAMESPACE,
        serviceAccounts: [SERVICE_ACCOUNTS.prometheus],
        description: "Prometheus remote write to the region's AMP workspace",
        inlinePolicy: () => workspace.arn.apply(remoteWritePolicy),
      },
      { provider: awsProvider },
    );
  }
  new PodIdentityRole(
    "alertmanager-identity",
    {
      clusterName: cluster.clusterName,
      namespace: MONITORING_NAMESPACE,
      serviceAccounts: [SERVICE_ACCOUNTS.alertmanager],
      description: "Alertmanager publishing to the alert and heartbeat topics",
      inlinePolicy: () =>
        pulumi
          .all([foundation.alertTopic.arn, foundation.heartbeatTopic.arn, foundation.alertingKey.arn])
          .apply(([alerts, heartbeat, key]) => alertmanagerPolicy([alerts, heartbeat], key)),
    },
    { provider: awsProvider },
  );

  const inputs = libraryInputs(topology, applicationServices(workloads.metrics));
  const groups = renderGroups(ruleLibrary(inputs), renderContext(topology));
  const values = pulumi
    .all([
      cluster.storageClassName,
      cluster.clusterName,
      foundation.alertTopic.arn,
      foundation.heartbeatTopic.arn,
      workspace ? workspace.prometheusEndpoint : pulumi.output(undefined),
    ])
    .apply(([storageClassName, clusterName, alertTopicArn, heartbeatTopicArn, ampEndpoint]) =>
      stackValues({
        topology,
        storageClassName,
        clusterName,
        alertmanagerConfig: alertmanagerConfig({
          alertTopicArn,
          heartbeatTopicArn,
          region,
          environment: ctx.environment,
        }),
        remoteWrite: ampEndpoint ? { url: `${ampEndpoint}api/v1/remote_write`, region } : null,
      }),
    );
  new MonitoringStack(
    "monitoring",
    {
      namespace: namespace.name,
      chart: o.charts.kubePrometheusStack,
      values,
      ruleGroups: groups,
      endpoints,
      scrapeIntervalSeconds: o.prometheus.scrapeIntervalSeconds,
      dashboards: dashboardConfigMaps(dashboardLibrary(inputs), PROMETHEUS_DATASOURCE, DASHBOARD_SIDECAR),
      secretNames: { grafanaAdmin: grafanaAdmin.name, notificationKeys: notificationKeys.name },
    },
    { provider: k8s, dependsOn: [namespace, agents] },
  );

  const shipped = SHIPPED_CLASSES.map((c) => foundation.logGroups[c]);
  new PodIdentityRole(
    "fluent-bit-identity",
    {
      clusterName: cluster.clusterName,
      namespace: NODE_AGENTS_NAMESPACE,
      serviceAccounts: [FLUENT_BIT.serviceAccount],
      description: "Fluent Bit shipping container logs to the layer's log groups",
      inlinePolicy: () => pulumi.all(shipped.map((g) => g.arn)).apply(logShippingPolicy),
    },
    { provider: awsProvider },
  );
  new LogShipping(
    "logs",
    {
      namespace: agents.name,
      chart: o.charts.fluentBit,
      values: pulumi
        .all([
          workloads.namespaces,
          tier.namespace,
          foundation.logGroups.audit.name,
          foundation.logGroups.application.name,
          foundation.logGroups.diagnostic.name,
        ])
        .apply(([applicationNamespaces, dataNamespace, audit, application, diagnostic]) =>
          fluentBitValues(
            logShippingConfig({
              region,
              logGroups: { audit, application, diagnostic },
              applicationNamespaces,
              dataNamespace,
              postgresContainer: POSTGRES_CONTAINER,
              postgresLog: POSTGRES_LOG_FORMAT,
            }),
          ),
        ),
    },
    { provider: k8s, dependsOn: [agents] },
  );

  const svc = (name: string, port: number) => `http://${RELEASE}-${name}.${MONITORING_NAMESPACE}.svc:${port}`;
  return exportContract(observabilityContract, {
    namespace: MONITORING_NAMESPACE,
    prometheusUrl: svc("prometheus", 9090),
    alertmanagerUrl: svc("alertmanager", 9093),
    grafanaUrl: `http://${RELEASE}-grafana.${MONITORING_NAMESPACE}.svc:80`,
    alertTopicArn: foundation.alertTopic.arn,
    logGroupNames: pulumi
      .all(Object.entries(foundation.logGroups).map(([c, g]) => g.name.apply((n) => [c, n] as const)))
      .apply((pairs) => Object.fromEntries(pairs)),
    kmsKeyArns: { logs: foundation.logsKey.arn, alerting: foundation.alertingKey.arn },
    remoteWrite: workspace
      ? pulumi
          .all([workspace.arn, workspace.prometheusEndpoint])
          .apply(([workspaceArn, endpoint]) => ({ workspaceArn, url: `${endpoint}api/v1/remote_write` }))
      : null,
  });
};
