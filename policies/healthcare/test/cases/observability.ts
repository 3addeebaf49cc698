import { type Case, cases, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";
import type { Fixture } from "../harness";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/k";
const TOPIC = "arn:aws:sns:sa-east-1:111122223333:hcp-production-alerts";
const topicPolicy = (statements: unknown[]) =>
  res("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {
    arn: TOPIC,
    policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  });

const ALB = "alb.ingress.kubernetes.io/";
const NS = "monitoring";
/** What kube-prometheus-stack's grafana subchart labels its Service and pods with (release kps). */
const GRAFANA = { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kps" };

/** The Service the grafana chart renders (templates/service.yaml), of the given type. */
const grafanaService = (spec: { type?: string; externalIPs?: string[] } = {}, name = "kps-grafana") =>
  res("kubernetes:core/v1:Service", name, {
    metadata: { name, namespace: NS, labels: { ...GRAFANA, "app.kubernetes.io/version": "12.2.1" } },
    spec: { ...spec, selector: GRAFANA, ports: [{ name: "http-web", port: 80, targetPort: "grafana" }] },
  });

const ingressTo = (
  service: string,
  annotations: Record<string, string>,
  options: { readonly ingressClassName?: string; readonly name?: string } = {},
): Fixture => {
  const name = options.name ?? "grafana";
  return res("kubernetes:networking.k8s.io/v1:Ingress", name, {
    metadata: { name, namespace: NS, annotations },
    spec: {
      ingressClassName: options.ingressClassName ?? "alb",
      rules: [
        {
          host: "grafana.internal.saude.example.com.br",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: service, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
};

const INTERNAL = {
  [`${ALB}scheme`]: "internal",
  [`${ALB}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
};

/** kube-prometheus-stack as the observability layer deploys it (values.ts stackValues, trimmed). */
const kps = (values: Record<string, unknown>, namespace = NS) =>
  res("kubernetes:helm.sh/v4:Chart", "monitoring-chart", {
    chart: "kube-prometheus-stack",
    version: "86.3.2",
    name: "kps",
    namespace,
    repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
    values,
  });

const claimTemplate = (storageClassName?: string) => ({
  volumeClaimTemplate: {
    spec: {
      ...(storageClassName !== undefined ? { storageClassName } : {}),
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "50Gi" } },
    },
  },
});

/** The values the layer renders: Prometheus and Alertmanager on the cluster's encrypted class. */
const LAYER_VALUES = {
  prometheus: { prometheusSpec: { replicas: 2, storageSpec: claimTemplate("gp3-encrypted") } },
  alertmanager: { alertmanagerSpec: { replicas: 3, storage: claimTemplate("gp3-encrypted") } },
  grafana: { service: { type: "ClusterIP" }, ingress: { enabled: false } },
};

/** A prometheus-operator custom resource as kube-prometheus-stack renders it (spec.storage copied from the values). */
const operatorResource = (
  kind: "Prometheus" | "Alertmanager",
  storage: Record<string, unknown> | undefined,
  namespace = NS,
) => {
  const name = `kps-${kind.toLowerCase()}`;
  const apiVersion = "monitoring.coreos.com/v1";
  const meta = {
    name,
    namespace,
    labels: { app: `kube-prometheus-stack-${kind.toLowerCase()}`, release: "kps" },
  };
  return kind === "Prometheus"
    ? res("kubernetes:monitoring.coreos.com/v1:Prometheus", name, {
        apiVersion,
        kind,
        metadata: meta,
        spec: storage ? { storage } : {},
      })
    : res("kubernetes:monitoring.coreos.com/v1:Alertmanager", name, {
        apiVersion,
        kind,
        metadata: meta,
        spec: storage ? { storage } : {},
      });
};

const storageClass = (name: string, parameters: Record<string, string>) =>
  res("kubernetes:storage.k8s.io/v1:StorageClass", name, {
    metadata: { name },
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", ...parameters },
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
  });

const pvc = (storageClassName: string | undefined, namespace = NS) =>
  res("kubernetes:core/v1:PersistentVolumeClaim", "scratch", {
    metadata: { name: "scratch", namespace },
    spec: {
      ...(storageClassName !== undefined ? { storageClassName } : {}),
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "10Gi" } },
    },
  });

export const observabilityCases: Case[] = [
  ...cases("amp-workspace-customer-key", [
    {
      kind: "pass",
      title: "workspace with a customer key",
      resource: res("aws:amp/workspace:Workspace", "metrics", { alias: "hcp-metrics", kmsKeyArn: KEY }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "workspace with the AWS-owned key (no kmsKeyArn)",
      resource: res("aws:amp/workspace:Workspace", "metrics", { alias: "hcp-metrics" }),
      expect: violation(/kmsKeyArn is not set/),
    },
    {
      kind: "unknown",
      title: "workspace key from the same preview",
      resource: res("aws:amp/workspace:Workspace", "metrics", {
        alias: "hcp-metrics",
        kmsKeyArn: unknown.string(),
      }),
      expect: pass,
    },
  ]),
  ...cases("sns-topic-policy-not-public", [
    {
      kind: "pass",
      title: "the account and the publishing services with source conditions",
      resource: topicPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "sns:Publish",
          Resource: TOPIC,
        },
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sns:Publish",
          Resource: TOPIC,
          Condition: { ArnEquals: { "aws:SourceArn": ["arn:aws:events:sa-east-1:111122223333:rule/r"] } },
        },
        // Everyone, but only for this account's resources: narrowed by the condition.
        {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "sns:Publish",
          Resource: TOPIC,
          Condition: { StringEquals: { "AWS:SourceOwner": "111122223333" } },
        },
      ]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "Principal '*' with no condition",
      resource: topicPolicy([{ Effect: "Allow", Principal: "*", Action: "sns:Subscribe", Resource: TOPIC }]),
      expect: violation(/Statement\[0\] allows Principal '\*' with no condition/),
    },
    {
      kind: "unknown",
      title: "policy computed from the topic's ARN in the same preview",
      resource: res("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {
        arn: TOPIC,
        policy: unknown.string(),
      }),
      expect: pass,
    },
  ]),
  ...cases("grafana-not-public", [
    {
      kind: "pass",
      title: "the layer's Grafana: ClusterIP Service, no ingress in the values, an internal ALB Ingress",
      stack: [
        grafanaService({ type: "ClusterIP" }),
        kps(LAYER_VALUES),
        ingressTo("kps-grafana", INTERNAL),
        // Another service's public Ingress is not Grafana's concern.
        ingressTo("healthcare-app", { [`${ALB}scheme`]: "internet-facing" }, { name: "app" }),
      ],
      expect: pass,
    },
    {
      kind: "pass",
      title: "another chart's values are not read (unknown there does not matter)",
      stack: [
        res("kubernetes:helm.sh/v4:Chart", "metrics-server", {
          chart: "metrics-server",
          version: "3.13.0",
          values: unknown.object(),
        }),
        // The image renderer is grafana-image-renderer, not Grafana.
        res("kubernetes:core/v1:Service", "kps-grafana-image-renderer", {
          metadata: { name: "kps-grafana-image-renderer", namespace: NS },
          spec: { type: "NodePort", selector: { "app.kubernetes.io/name": "grafana-image-renderer" } },
        }),
      ],
      expect: pass,
    },
    {
      kind: "fail",
      title: "Grafana's Service as a LoadBalancer",
      stack: [grafanaService({ type: "LoadBalancer" })],
      expect: violation(
        /Service 'monitoring\/kps-grafana' serves Grafana \(its selector has app\.kubernetes\.io\/name=grafana\) and spec\.type is 'LoadBalancer'.*allowed: ClusterIP\. Set spec\.type: ClusterIP/,
        { count: 1 },
      ),
    },
    {
      kind: "fail",
      title: "Grafana's Service as a NodePort",
      stack: [grafanaService({ type: "NodePort" })],
      expect: violation(/spec\.type is 'NodePort', which opens a port on every node/, { count: 1 }),
    },
    {
      kind: "fail",
      title: "Grafana's ClusterIP Service with externalIPs",
      stack: [grafanaService({ type: "ClusterIP", externalIPs: ["203.0.113.10"] })],
      expect: violation(/sets spec\.externalIPs \(1 address\).*Remove spec\.externalIPs/, { count: 1 }),
    },
    {
      kind: "fail",
      title: "an internet-facing ALB Ingress to Grafana (recognised by the chart's Service name)",
      stack: [ingressTo("kps-grafana", { [`${ALB}scheme`]: "internet-facing" })],
      expect: violation(
        /Ingress 'monitoring\/grafana' routes to the Grafana Service 'kps-grafana' and alb\.ingress\.kubernetes\.io\/scheme is 'internet-facing'; allowed: an ALB Ingress annotated alb\.ingress\.kubernetes\.io\/scheme: internal/,
        { count: 1 },
      ),
    },
    {
      kind: "fail",
      title: "an ALB Ingress to Grafana that does not state its scheme",
      stack: [ingressTo("kps-grafana", {})],
      expect: violation(/has no alb\.ingress\.kubernetes\.io\/scheme annotation/, { count: 1 }),
    },
    {
      kind: "fail",
      title: "an Ingress to a renamed Grafana Service (fullnameOverride) of the stack, by its selector",
      stack: [
        grafanaService({ type: "ClusterIP" }, "dashboards"),
        ingressTo("dashboards", { [`${ALB}scheme`]: "internet-facing" }),
      ],
      expect: violation(/routes to the Grafana Service 'dashboards'/, { count: 1 }),
    },
    {
      kind: "fail",
      title: "an ingress-nginx Ingress to Grafana (its scheme annotation means nothing there)",
      stack: [ingressTo("kps-grafana", {}, { ingressClassName: "nginx" })],
      expect: violation(/it has class 'nginx', not one of the AWS Load Balancer Controller's \(alb\)/, {
        count: 1,
      }),
    },
    {
      kind: "fail",
      title: "chart values: grafana.service.type LoadBalancer and a public grafana.ingress",
      stack: [
        kps({
          ...LAYER_VALUES,
          grafana: {
            service: { type: "LoadBalancer" },
            ingress: {
              enabled: true,
              ingressClassName: "alb",
              annotations: { [`${ALB}scheme`]: "internet-facing" },
            },
          },
        }),
      ],
      expect: violation(
        /Chart 'monitoring-chart' \(kube-prometheus-stack\): values\.grafana\.(service\.type is 'LoadBalancer'|ingress is enabled and alb\.ingress\.kubernetes\.io\/scheme is 'internet-facing')/,
        { count: 2 },
      ),
    },
    {
      kind: "unknown",
      title: "kube-prometheus-stack values computed from stack references (preview)",
      stack: [kps(unknown.object())],
      expect: preview,
    },
    {
      kind: "unknown",
      title: "a Grafana Service whose type is unknown",
      stack: [grafanaService({ type: unknown.string() })],
      expect: preview,
    },
  ]),
  ...cases("monitoring-pvc-encrypted", [
    {
      kind: "pass",
      title: "the layer's values: Prometheus and Alertmanager on the cluster's gp3-encrypted class",
      stack: [kps(LAYER_VALUES)],
      expect: pass,
    },
    {
      kind: "pass",
      title: "the custom resources kube-prometheus-stack renders from those values",
      stack: [
        operatorResource("Prometheus", claimTemplate("gp3-encrypted")),
        operatorResource("Alertmanager", claimTemplate("gp3-encrypted")),
      ],
      expect: pass,
    },
    {
      kind: "pass",
      title: "a claim naming an encrypted StorageClass of the same stack",
      stack: [
        storageClass("monitoring-gp3", {
          encrypted: "true",
          kmsKeyId: "arn:aws:kms:sa-east-1:111122223333:key/k",
        }),
        pvc("monitoring-gp3"),
      ],
      expect: pass,
    },
    {
      kind: "pass",
      title: "claims outside the monitoring namespaces, and node-local emptyDir storage, are not examined",
      stack: [pvc(undefined, "scratch"), operatorResource("Prometheus", { emptyDir: { medium: "Memory" } })],
      expect: pass,
    },
    {
      kind: "fail",
      title: "a Prometheus claim template without storageClassName (the default class)",
      stack: [operatorResource("Prometheus", claimTemplate())],
      expect: violation(
        /Prometheus 'monitoring\/kps-prometheus': spec\.storage\.volumeClaimTemplate\.spec\.storageClassName is not set, so the cluster's default StorageClass provisions the volume.*allowed: gp3-encrypted, an encrypted StorageClass of this stack\. Set it to gp3-encrypted/,
        { count: 1 },
      ),
    },
    {
      kind: "fail",
      title: "a claim naming EKS's unlisted gp2 class",
      stack: [pvc("gp2")],
      expect: violation(
        /PersistentVolumeClaim 'monitoring\/scratch': spec\.storageClassName is 'gp2', which is neither an encrypted StorageClass of this stack nor one of encryptedStorageClasses \(gp3-encrypted\)/,
        { count: 1 },
      ),
    },
    {
      kind: "fail",
      title: "a class of the stack named like the listed one but unencrypted (its own parameters decide)",
      stack: [storageClass("gp3-encrypted", { encrypted: "false" }), pvc("gp3-encrypted")],
      expect: violation(
        /'gp3-encrypted', a StorageClass of this stack that is not encrypted: its parameters\.encrypted is not "true"/,
        {
          count: 1,
        },
      ),
    },
    {
      kind: "fail",
      title: "a class of the stack encrypted with the AWS-managed key",
      stack: [
        storageClass("monitoring-gp3", { encrypted: "true", kmsKeyId: "alias/aws/ebs" }),
        pvc("monitoring-gp3"),
      ],
      expect: violation(/not encrypted: its parameters\.kmsKeyId names an AWS-managed key alias/, {
        count: 1,
      }),
    },
    {
      kind: "fail",
      title: "a StatefulSet's second claim template on gp2, and an empty class",
      stack: [
        res("kubernetes:apps/v1:StatefulSet", "kps-grafana", {
          metadata: { name: "kps-grafana", namespace: NS },
          spec: {
            serviceName: "kps-grafana-headless",
            selector: { matchLabels: GRAFANA },
            template: {
              metadata: { labels: GRAFANA },
              spec: { containers: [{ name: "grafana", image: "grafana/grafana:12.2.1" }] },
            },
            volumeClaimTemplates: [
              { metadata: { name: "storage" }, spec: { storageClassName: "gp3-encrypted" } },
              { metadata: { name: "plugins" }, spec: { storageClassName: "gp2" } },
              { metadata: { name: "cache" }, spec: { storageClassName: "" } },
            ],
          },
        }),
      ],
      expect: violation(
        /spec\.volumeClaimTemplates\[(1\]\.spec\.storageClassName is 'gp2'|2\]\.spec\.storageClassName is "")/,
        {
          count: 2,
        },
      ),
    },
    {
      kind: "fail",
      title: "chart values: Alertmanager storage and Grafana persistence without a class",
      stack: [
        kps({
          ...LAYER_VALUES,
          alertmanager: { alertmanagerSpec: { storage: claimTemplate() } },
          grafana: { persistence: { enabled: true, type: "sts", size: "10Gi" } },
        }),
      ],
      expect: violation(
        /Chart 'monitoring-chart' \(kube-prometheus-stack, namespace monitoring\): values\.(alertmanager\.alertmanagerSpec\.storage\.volumeClaimTemplate\.spec\.storageClassName|grafana\.persistence\.storageClassName) is not set/,
        { count: 2 },
      ),
    },
    {
      kind: "unknown",
      title: "kube-prometheus-stack values computed from stack references (preview)",
      stack: [kps(unknown.object())],
      expect: preview,
    },
    {
      kind: "unknown",
      title: "a claim naming a class whose name the stack computes",
      stack: [
        res("kubernetes:storage.k8s.io/v1:StorageClass", "computed", {
          metadata: { name: unknown.string() },
          provisioner: "ebs.csi.aws.com",
          parameters: { encrypted: "true", kmsKeyId: "arn:aws:kms:sa-east-1:111122223333:key/k" },
        }),
        pvc("monitoring-gp3"),
      ],
      expect: preview,
    },
    {
      kind: "unknown",
      title: "a claim whose storageClassName is unknown",
      stack: [pvc(unknown.string())],
      expect: preview,
    },
  ]),
];
