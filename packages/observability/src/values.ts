import type * as aws from "@pulumi/aws";
import type { Flow, PodFlows } from "@hcp/kube";
import {
  type EnvironmentTopology,
  type MetricsEndpoint,
  NODE_AGENTS_NAMESPACE,
  type WorkloadsOutputs,
} from "@hcp/platform";
import { POD_IDENTITY_AGENT_CIDR } from "@hcp/postgres";
import { FLUENT_BIT } from "./logShipping";
import { NODE_EXPORTER_JOB } from "./rules/catalogue";
import { NOTIFICATION_SECRET } from "./alertmanager";
import type { DashboardSidecar, DatasourceRef } from "./dashboards";

/**
 * Pure builders of the observability layer: chart values, monitor specs and key policy statements,
 * as plain data so tests read them exactly. Components only wire them.
 */

/** Namespace of the monitoring stack. */
export const MONITORING_NAMESPACE = "monitoring";

/** Helm release name; the chart prefixes its objects with it. */
export const RELEASE = "kps";

/** Label every ServiceMonitor / PodMonitor / PrometheusRule of this layer carries; Prometheus selects on it. */
export const SELECTOR_LABELS = { "hcp.io/monitoring": "platform" } as const;

/**
 * The ClusterSecretStore (External Secrets Operator, `external-secrets.io/v1`) backed by this
 * region's Secrets Manager. The workloads layer installs ESO and the store under this name.
 */
export const CLUSTER_SECRET_STORE = "aws-secrets-manager";

/** Kubernetes Secret holding Grafana's admin credentials (synced from Secrets Manager). */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/**
 * The Prometheus datasource the chart provisions (kube-prometheus-stack's datasource ConfigMap takes
 * its uid from `grafana.sidecar.datasources.uid`). Every dashboard query names it by this uid, so a
 * renamed datasource cannot leave panels empty.
 */
export const PROMETHEUS_DATASOURCE: DatasourceRef = { type: "prometheus", uid: "prometheus" };

/**
 * Where Grafana's dashboard sidecar looks: ConfigMaps labelled `grafana_dashboard: "1"` (the
 * kube-prometheus-stack defaults) in the monitoring namespace only, which only this layer writes to;
 * the chart's default is every namespace (`ALL`), which would let any tenant inject dashboards.
 */
export const DASHBOARD_SIDECAR: DashboardSidecar = {
  label: "grafana_dashboard",
  labelValue: "1",
  namespaces: [MONITORING_NAMESPACE],
};

/** Service accounts that call AWS: Prometheus (AMP remote write) and Alertmanager (SNS). */
export const SERVICE_ACCOUNTS = {
  prometheus: `${RELEASE}-prometheus`,
  alertmanager: `${RELEASE}-alertmanager`,
} as const;

/** The non-root identity of the stack's containers (the upstream images run as 65534 / 472). */
const NOBODY = {
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  fsGroup: 65534,
  seccompProfile: { type: "RuntimeDefault" },
};
const CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** What the chart values depend on that only the deployment knows. */
export interface StackValueInputs {
  readonly topology: EnvironmentTopology;
  readonly storageClassName: string;
  /** Alertmanager's configuration object (see alertmanager.ts). */
  readonly alertmanagerConfig: Record<string, unknown>;
  /** AMP remote-write URL (`.../api/v1/remote_write`) and region, or `null` for local TSDB only. */
  readonly remoteWrite: { readonly url: string; readonly region: string } | null;
  /** `cluster` external label: which cluster / region the series come from. */
  readonly clusterName: string;
}

/** kube-prometheus-stack values: Prometheus, Alertmanager and Grafana sized and secured from config. */
export function stackValues(i: StackValueInputs): Record<string, unknown> {
  const o = i.topology.observability;
  const pvc = (gib: number) => ({
    volumeClaimTemplate: {
      spec: {
        storageClassName: i.storageClassName,
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: `${gib}Gi` } },
      },
    },
  });
  const selector = { matchLabels: { ...SELECTOR_LABELS } };
  return {
    // The rule library replaces the chart's default rules; its alerts are tested, the defaults are not.
    defaultRules: { create: false },
    // EKS manages the control plane: its scheduler, controller manager and etcd are not reachable.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    prometheusOperator: {
      securityContext: NOBODY,
      containerSecurityContext: CONTAINER,
      admissionWebhooks: { patch: { securityContext: NOBODY } },
    },
    prometheus: {
      serviceAccount: { create: true, name: SERVICE_ACCOUNTS.prometheus },
      prometheusSpec: {
        replicas: o.prometheus.replicas,
        retention: `${o.prometheus.retentionDays}d`,
        retentionSize: `${o.prometheus.retentionSizeGiB}GB`,
        scrapeInterval: `${o.prometheus.scrapeIntervalSeconds}s`,
        evaluationInterval: `${o.prometheus.evaluationIntervalSeconds}s`,
        externalLabels: { cluster: i.clusterName, environment: i.topology.name },
        // Only this layer's monitors and rules, never whatever a chart drops into the cluster.
        serviceMonitorSelector: selector,
        podMonitorSelector: selector,
        ruleSelector: selector,
        serviceMonitorNamespaceSelector: {},
        podMonitorNamespaceSelector: {},
        ruleNamespaceSelector: {},
        securityContext: NOBODY,
        storageSpec: pvc(o.prometheus.storageGiB),
        ...(i.remoteWrite
          ? { remoteWrite: [{ url: i.remoteWrite.url, sigv4: { region: i.remoteWrite.region } }] }
          : {}),
      },
    },
    alertmanager: {
      serviceAccount: { create: true, name: SERVICE_ACCOUNTS.alertmanager },
      config: i.alertmanagerConfig,
      alertmanagerSpec: {
        replicas: o.alertmanager.replicas,
        secrets: [NOTIFICATION_SECRET],
        securityContext: NOBODY,
        storage: pvc(o.alertmanager.storageGiB),
      },
    },
    grafana: {
      // Reached through kubectl port-forward or the internal ingress of the workloads layer; never public.
      service: { type: "ClusterIP" },
      ingress: { enabled: false },
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 472,
        runAsGroup: 472,
        fsGroup: 472,
        seccompProfile: { type: "RuntimeDefault" },
      },
      // The chart's own dashboards read the recording rules of its default rules (off, see
      // defaultRules): they would be empty. The layer ships its own.
      defaultDashboardsEnabled: false,
      sidecar: {
        dashboards: {
          enabled: true,
          label: DASHBOARD_SIDECAR.label,
          labelValue: DASHBOARD_SIDECAR.labelValue,
          // k8s-sidecar's NAMESPACE: a comma-separated list (the chart joins a list the same way).
          searchNamespace: DASHBOARD_SIDECAR.namespaces.join(","),
        },
        datasources: { enabled: true, defaultDatasourceEnabled: true, uid: PROMETHEUS_DATASOURCE.uid },
      },
    },
    "kube-state-metrics": { securityContext: NOBODY, containerSecurityContext: CONTAINER },
    nodeExporter: { enabled: true },
    "prometheus-node-exporter": nodeExporterValues(),
  };
}

/**
 * node-exporter: the job its targets get (what the rules select), its port, and the pods' name
 * label (the subchart's `prometheus-node-exporter.selectorLabels`).
 */
export const NODE_EXPORTER = {
  job: NODE_EXPORTER_JOB,
  port: 9100,
  podLabels: { "app.kubernetes.io/name": "prometheus-node-exporter" },
} as const;

/**
 * The prometheus-node-exporter subchart's values (chart 4.55.0, the dependency of
 * kube-prometheus-stack 86.3.2): in the node agents' namespace (`namespaceOverride`, which the
 * subchart uses for its DaemonSet, Service and ServiceMonitor), host PID and network (its chart
 * defaults, stated because the namespace's exemption rests on them: the node's processes and
 * interfaces, `/proc`, `/sys` and `/` read-only), as nobody with every capability dropped. Its
 * ServiceMonitor carries the label Prometheus selects and, like this layer's own monitors, sets
 * `job` literally: the chart's `jobLabel: jobLabel` takes the job from the Service's label, which
 * the monitor's selector does not pin.
 */
export function nodeExporterValues(): Record<string, unknown> {
  return {
    namespaceOverride: NODE_AGENTS_NAMESPACE,
    hostNetwork: true,
    hostPID: true,
    hostIPC: false,
    securityContext: { ...NOBODY },
    containerSecurityContext: { ...CONTAINER },
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    prometheus: {
      monitor: {
        enabled: true,
        additionalLabels: { ...SELECTOR_LABELS },
        jobLabel: "jobLabel",
        relabelings: [{ action: "replace", targetLabel: "job", replacement: NODE_EXPORTER.job }],
      },
    },
  };
}

/**
 * The ServiceMonitor the subchart renders from {@link nodeExporterValues} (its
 * `templates/servicemonitor.yaml` at 4.55.0: name `<release>-prometheus-node-exporter`, labels the
 * chart's plus `additionalLabels`, `jobLabel`, the selector labels, one endpoint on
 * `service.portName` with the `relabelings`), as the job derivation and the selector tests read it.
 */
export function nodeExporterMonitor(values: Record<string, unknown>): {
  readonly kind: "ServiceMonitor";
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
  };
  readonly spec: Record<string, unknown>;
} {
  const sub = values["prometheus-node-exporter"] as {
    namespaceOverride: string;
    prometheus: {
      monitor: { additionalLabels: Record<string, string>; jobLabel: string; relabelings: unknown[] };
    };
  };
  const selector = { ...NODE_EXPORTER.podLabels, "app.kubernetes.io/instance": RELEASE };
  const monitor = sub.prometheus.monitor;
  return {
    kind: "ServiceMonitor",
    metadata: {
      name: `${RELEASE}-prometheus-node-exporter`,
      namespace: sub.namespaceOverride,
      labels: { ...selector, "app.kubernetes.io/component": "metrics", ...monitor.additionalLabels },
    },
    spec: {
      jobLabel: monitor.jobLabel,
      selector: { matchLabels: selector },
      // kube-prometheus-stack sets the subchart's service.portName.
      endpoints: [{ port: "http-metrics", scheme: "http", relabelings: monitor.relabelings }],
    },
  };
}

/** prometheus-operator endpoint fields (ServiceMonitor `endpoints[]` / PodMonitor `podMetricsEndpoints[]`). */
function endpointSpec(e: MetricsEndpoint, interval: string): Record<string, unknown> {
  return {
    port: e.port,
    path: e.path,
    scheme: e.scheme,
    interval,
    relabelings: [jobRelabeling(e)],
    ...(e.tls
      ? {
          tlsConfig: {
            ca: { secret: { name: e.tls.ca.name, key: e.tls.ca.key } },
            serverName: e.tls.serverName,
          },
        }
      : {}),
    ...(e.basicAuth
      ? {
          basicAuth: {
            username: { name: e.basicAuth.username.name, key: e.basicAuth.username.key },
            password: { name: e.basicAuth.password.name, key: e.basicAuth.password.key },
          },
        }
      : {}),
  };
}

/**
 * The relabeling that sets a target's `job` label to the endpoint's name. prometheus-operator names
 * a PodMonitor's job `<namespace>/<monitor name>` and a ServiceMonitor's after the Service (which the
 * contract does not carry), then applies the endpoint's own `relabelings` after its defaults
 * (pkg/prometheus/promcfg.go, `generatePodMonitorConfig` / `generateServiceMonitorConfig`): one
 * literal replacement gives every monitor kind the same stable job, the contract's `name`, so the
 * rule library and the dashboards select `job="<name>"` in every namespace and region.
 */
export function jobRelabeling(e: MetricsEndpoint): Record<string, string> {
  return { action: "replace", targetLabel: "job", replacement: e.name };
}

/** The monitor object (kind, spec) of a producer's metrics endpoint. */
export function monitorObject(
  e: MetricsEndpoint,
  scrapeIntervalSeconds: number,
): {
  readonly apiVersion: string;
  readonly kind: "ServiceMonitor" | "PodMonitor";
  readonly spec: Record<string, unknown>;
} {
  const interval = `${scrapeIntervalSeconds}s`;
  const common = {
    selector: { matchLabels: { ...e.selector } },
    namespaceSelector: { matchNames: [e.namespace] },
  };
  return e.kind === "service"
    ? {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        spec: { ...common, endpoints: [endpointSpec(e, interval)] },
      }
    : {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        spec: { ...common, podMetricsEndpoints: [endpointSpec(e, interval)] },
      };
}

/** Key policy statements of the logs key: CloudWatch Logs of this account and region only. */
export function logsKeyStatements(
  partition: string,
  accountId: string,
  region: string,
  dnsSuffix: string,
): aws.iam.PolicyStatement[] {
  return [
    {
      Sid: "CloudWatchLogsOfThisAccountAndRegion",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.${dnsSuffix}` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*`,
        },
      },
    },
  ];
}

/**
 * Key policy statements of the alerting key: CloudWatch alarms and EventBridge rules publishing to
 * the encrypted topics (SNS uses the key on their behalf), for this account only.
 */
export function alertingKeyStatements(
  _partition: string,
  accountId: string,
  dnsSuffix: string,
): aws.iam.PolicyStatement[] {
  return [
    {
      Sid: "CloudWatchAlarmsPublishToEncryptedTopics",
      Effect: "Allow",
      Principal: { Service: `cloudwatch.${dnsSuffix}` },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
    {
      Sid: "EventBridgeRulesPublishToEncryptedTopics",
      Effect: "Allow",
      Principal: { Service: `events.${dnsSuffix}` },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  ];
}

/** Prometheus' identity policy: remote write to the region's AMP workspace only. */
export function remoteWritePolicy(workspaceArn: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "RemoteWrite", Effect: "Allow", Action: ["aps:RemoteWrite"], Resource: workspaceArn }],
  };
}

/** Alertmanager's identity policy: publish to the two topics, with their key. */
export function alertmanagerPolicy(topicArns: readonly string[], keyArn: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: [...topicArns] },
      {
        Sid: "EncryptedTopics",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: keyArn,
      },
    ],
  };
}

/** Namespace label the data tier's NetworkPolicies admit for scraping (`@hcp/kube` DATA_TIER_ACCESS_LABELS). */
export const MONITORING_NAMESPACE_LABELS = { "hcp.io/monitoring": "true" } as const;

/**
 * Ports Prometheus scrapes in other namespaces: postgres_exporter 9187, pgbouncer_exporter 9127,
 * pgbackrest_exporter 9854, Patroni's REST API 8008, cert-manager 9402; on the nodes (VPC): kubelet
 * 10250 and node-exporter 9100 (host network: its targets are the nodes' addresses).
 */
export const SCRAPE_PORTS = {
  pods: [9187, 9127, 9854, 8008, 9402],
  nodes: [10250, NODE_EXPORTER.port],
} as const;

/** The EKS Pod Identity agent on every node, where the SDKs get a Pod Identity role's credentials. */
const POD_IDENTITY_AGENT: Flow = { peers: [{ cidr: POD_IDENTITY_AGENT_CIDR }], ports: [80] };

/** An application namespace Prometheus scrapes and the metrics ports of its pods there. */
export interface ApplicationScrapeTargets {
  readonly namespace: string;
  readonly ports: readonly number[];
}

/**
 * Where Prometheus scrapes the application services: per namespace of the workloads contract's
 * metrics endpoints, the `metricsPort` of the service each endpoint is named after (the endpoint
 * names its port, the NetworkPolicy needs the number). Refuses an endpoint whose service exports no
 * metrics port: its monitor would scrape a port the egress policy does not open.
 */
export function applicationScrapeTargets(
  workloads: Pick<WorkloadsOutputs, "services" | "metrics">,
): ApplicationScrapeTargets[] {
  const byNamespace = new Map<string, Set<number>>();
  for (const e of workloads.metrics) {
    const port = workloads.services[e.name]?.metricsPort;
    if (port === undefined) {
      throw new Error(
        `The workloads contract's metrics endpoint '${e.name}' names no service with a metricsPort ` +
          `(services with one: ${
            Object.entries(workloads.services)
              .filter(([, s]) => s.metricsPort !== undefined)
              .map(([n]) => n)
              .join(", ") || "none"
          }). Fix: the workloads layer names each endpoint after its service (metricsEndpoints).`,
      );
    }
    byNamespace.set(e.namespace, (byNamespace.get(e.namespace) ?? new Set()).add(port));
  }
  return [...byNamespace]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([namespace, ports]) => ({ namespace, ports: [...ports].sort((a, b) => a - b) }));
}

/**
 * The monitoring namespace's flows besides DNS (each a NetworkPolicy of `RestrictedNamespace`):
 * Prometheus scrapes pods of every namespace on the exporters' ports, the application namespaces on
 * their services' metrics ports only, and the nodes in the VPC (kubelet, node-exporter), and reaches
 * the API server / AMP on 443; Alertmanager gossips with its peers and reaches SNS on 443; both get
 * their Pod Identity credentials from the node's agent; Grafana reads Prometheus and Alertmanager;
 * the operator and kube-state-metrics talk to the API server, the operator's admission webhook is
 * called from the control plane's ENIs in the VPC.
 *
 * @param vpcCidr the region's VPC (nodes, control-plane ENIs)
 * @param applications the application namespaces and their metrics ports
 *   ({@link applicationScrapeTargets}); @default - none: no application port is opened
 */
export function monitoringFlows(
  vpcCidr: string,
  applications: readonly ApplicationScrapeTargets[] = [],
): Readonly<Record<string, PodFlows>> {
  const https: Flow = { peers: [{ cidr: "0.0.0.0/0" }], ports: [443] };
  const prometheus = { "app.kubernetes.io/name": "prometheus" };
  const alertmanager = { "app.kubernetes.io/name": "alertmanager" };
  const grafana = { "app.kubernetes.io/name": "grafana" };
  const ksm = { "app.kubernetes.io/name": "kube-state-metrics" };
  const gossip = [9094, { port: 9094, protocol: "UDP" as const }];
  return {
    prometheus: {
      pods: prometheus,
      ingress: [{ peers: [{ pods: grafana }], ports: [9090] }],
      egress: [
        { peers: [{ namespaces: {} }], ports: [...SCRAPE_PORTS.pods] },
        { peers: [{ pods: alertmanager }], ports: [9093] },
        { peers: [{ pods: ksm }], ports: [8080] },
        { peers: [{ cidr: vpcCidr }], ports: [...SCRAPE_PORTS.nodes] },
        https,
        POD_IDENTITY_AGENT,
        // The application's ports differ per service: opened in its own namespace only (last, so
        // a new namespace appends a rule and leaves the others where they are).
        ...applications.map((a): Flow => ({
          peers: [{ namespaces: { "kubernetes.io/metadata.name": a.namespace } }],
          ports: [...a.ports],
        })),
      ],
    },
    alertmanager: {
      pods: alertmanager,
      ingress: [
        { peers: [{ pods: prometheus }, { pods: grafana }], ports: [9093] },
        { peers: [{ pods: alertmanager }], ports: gossip },
      ],
      egress: [{ peers: [{ pods: alertmanager }], ports: gossip }, https, POD_IDENTITY_AGENT],
    },
    grafana: {
      pods: grafana,
      egress: [
        { peers: [{ pods: prometheus }], ports: [9090] },
        { peers: [{ pods: alertmanager }], ports: [9093] },
        https,
      ],
    },
    "kube-state-metrics": {
      pods: ksm,
      ingress: [{ peers: [{ pods: prometheus }], ports: [8080] }],
      egress: [https],
    },
    operator: {
      pods: { app: "kube-prometheus-stack-operator" },
      ingress: [{ peers: [{ cidr: vpcCidr }], ports: [10250] }],
      egress: [https],
    },
  };
}

/**
 * The node agents' namespace flows besides DNS: node-exporter accepts Prometheus' scrapes (it is on
 * the host network, where NetworkPolicies do not reach with the VPC CNI; the policy states the one
 * flow it serves, for a CNI that enforces on host-network pods); Fluent Bit reaches the API server
 * (pod metadata) and CloudWatch Logs on 443 and the node's Pod Identity agent, and accepts nothing.
 */
export function agentFlows(): Readonly<Record<string, PodFlows>> {
  return {
    "node-exporter": {
      pods: { ...NODE_EXPORTER.podLabels },
      ingress: [
        {
          peers: [
            {
              namespaces: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE },
              pods: { "app.kubernetes.io/name": "prometheus" },
            },
          ],
          ports: [NODE_EXPORTER.port],
        },
      ],
    },
    "fluent-bit": {
      pods: { ...FLUENT_BIT.podLabels },
      egress: [{ peers: [{ cidr: "0.0.0.0/0" }], ports: [443] }, POD_IDENTITY_AGENT],
    },
  };
}
