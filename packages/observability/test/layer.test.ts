import * as assert from "node:assert/strict";
import {
  checkContract,
  clusterContract,
  dataContract,
  drContract,
  edgeContract,
  LOG_CLASSES,
  NODE_AGENTS_EXEMPTION,
  NODE_AGENTS_NAMESPACE,
  networkContract,
  observabilityContract,
  primaryRegion,
  ROUTE53_METRICS_REGION,
  stackId,
  stacksOf,
  workloadsContract,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  ofType,
  one,
  producerValue,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
} from "@hcp/testing";
import { parse } from "yaml";
import {
  configMapProblems,
  dashboardLibrary,
  datasourceProblems,
  type GrafanaDashboard,
} from "../src/dashboards";
import { producedJobs } from "../src/monitorJobs";
import { parseClassic } from "../src/logShipping";
import { routeFile } from "../src/logRouting";
import { nodeExporterMonitor, SELECTOR_LABELS } from "../src/values";
import { HEALTHCARE_APP, libraryInputs } from "../src/rules";

const T = {
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  kmsKey: "aws:kms/key:Key",
  workspace: "aws:amp/workspace:Workspace",
  smSecret: "aws:secretsmanager/secret:Secret",
  chart: "kubernetes:helm.sh/v4:Chart",
  prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
  externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  configMap: "kubernetes:core/v1:ConfigMap",
  namespace: "kubernetes:core/v1:Namespace",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  association: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
} as const;

const HEX = "0123456789abcdef".repeat(4);

/** A container log file of `pod` / `namespace` / `container` with CRI lines. */
const logFile = (pod: string, namespace: string, container: string, lines: readonly string[]) => ({
  path: `/var/log/containers/${pod}_${namespace}_${container}-${HEX}.log`,
  lines: lines.map((l) => `2026-12-03T06:20:05.220123456Z stderr F ${l}`),
});

const cases = ["production", "staging"].flatMap((env) => {
  const topology = repoTopology(env);
  return stacksOf(topology)
    .filter((s) => s.layer === "observability")
    .map((s) => ({ env, topology, region: s.region! }));
});

/** `namePrefix` of an environment (what the layers' physical names start with). */
function ctxPrefix(env: string): string {
  return `hcp-${env}`;
}

/** A CloudWatch alarm state change as EventBridge delivers it (the parts the pattern reads). */
function alarmEvent(alarmName: string, state: string): Record<string, unknown> {
  return {
    source: "aws.cloudwatch",
    "detail-type": "CloudWatch Alarm State Change",
    detail: { alarmName, state: { value: state } },
  };
}

/**
 * EventBridge matching for the pattern features this layer uses: arrays of exact values or
 * `{ prefix }`, nested objects; a field the pattern names must be present in the event.
 */
function eventMatches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((p) =>
      typeof p === "object" && p !== null && "prefix" in p
        ? typeof event === "string" && event.startsWith(String((p as { prefix: unknown }).prefix))
        : Object.is(p, event),
    );
  }
  if (typeof pattern === "object" && pattern !== null) {
    if (typeof event !== "object" || event === null) return false;
    return Object.entries(pattern).every(([k, v]) => eventMatches(v, (event as Record<string, unknown>)[k]));
  }
  return false;
}

for (const c of cases) {
  describe(`hcp-observability ${c.env}-${c.region}`, () => {
    let run: ProgramRun;
    let resources: readonly RegisteredResource[];
    const isPrimary = primaryRegion(c.topology).name === c.region;

    before(async () => {
      run = await runLayer({
        layer: "observability",
        topology: c.topology,
        region: c.region,
      });
      resources = run.resources;
    });

    it("keeps the component conventions (tokens, child names, providers, protection, dependsOn)", () => {
      assertConventions(run, { tier: c.topology.tier });
    });

    it("creates one log group per log class with the configured retention and the logs key", () => {
      const groups = ofType(resources, T.logGroup);
      assert.deepEqual(
        groups.map((g) => g.inputs["retentionInDays"]),
        LOG_CLASSES.map((k) => c.topology.retention.logs[k]),
      );
      for (const g of groups) assert.ok(g.inputs["kmsKeyId"], `${g.name} has no KMS key`);
      const logsKey = ofType(resources, T.kmsKey).find((k) =>
        String(k.inputs["description"]).startsWith("CloudWatch Logs"),
      );
      const policy = JSON.parse(String(logsKey?.inputs["policy"])) as {
        Statement: Array<{ Principal?: { Service?: string } }>;
      };
      assert.ok(policy.Statement.some((s) => s.Principal?.Service === `logs.${c.region}.amazonaws.com`));
    });

    it("encrypts both topics and alarms on missing Watchdog heartbeats into the alert topic", () => {
      const topics = ofType(resources, T.topic);
      assert.equal(topics.length, 2);
      for (const t of topics) assert.ok(t.inputs["kmsMasterKeyId"], `${t.name} is not encrypted`);
      const alarm = ofType(resources, T.alarm).find((a) => a.name.endsWith("watchdog-missing"))!;
      assert.equal(alarm.inputs["treatMissingData"], "breaching");
      assert.equal(alarm.inputs["metricName"], "NumberOfMessagesPublished");
      assert.equal(
        ofType(resources, T.subscription).length,
        c.topology.observability.notifications.emailAddresses.length,
      );
    });

    it("alarms on every NAT gateway of its network and on its ALB's 5xx, into the alert topic", async () => {
      const network = await producerValue(networkContract, c.topology, c.region);
      const workloads = await producerValue(workloadsContract, c.topology, c.region);
      const alertTopic = ofType(resources, T.topic).find((t) =>
        String(t.inputs["name"]).endsWith("-alerts"),
      )!;
      const alarms = ofType(resources, T.alarm).filter((a) => !a.name.endsWith("watchdog-missing"));
      const dimensionsOf = (a: RegisteredResource) =>
        [
          a.inputs["dimensions"],
          ...(
            (a.inputs["metricQueries"] as Array<{ metric?: { dimensions: unknown } }> | undefined) ?? []
          ).map((q) => q.metric?.dimensions),
        ].filter((d) => d !== undefined);
      // Two per NAT gateway, each on that gateway only.
      assert.ok(network.natGateways.length > 0);
      for (const g of network.natGateways) {
        const own = alarms.filter((a) =>
          dimensionsOf(a).some((d) => (d as Record<string, string>)["NatGatewayId"] === g.id),
        );
        assert.deepEqual(own.map((a) => a.inputs["name"]).sort(), [
          `${ctxPrefix(c.env)}-${c.region}-nat-${g.availabilityZone}-packet-drops`,
          `${ctxPrefix(c.env)}-${c.region}-nat-${g.availabilityZone}-port-allocation`,
        ]);
        for (const a of own) {
          assert.ok(
            dimensionsOf(a).every((d) => JSON.stringify(d) === JSON.stringify({ NatGatewayId: g.id })),
          );
        }
      }
      // Two on the ALB, by the ARN suffix the workloads stack exports.
      const alb = alarms.filter((a) =>
        dimensionsOf(a).some((d) => (d as Record<string, string>)["LoadBalancer"] !== undefined),
      );
      assert.deepEqual(alb.map((a) => a.inputs["name"]).sort(), [
        `${ctxPrefix(c.env)}-${c.region}-alb-elb-5xx`,
        `${ctxPrefix(c.env)}-${c.region}-alb-target-5xx`,
      ]);
      for (const a of alb) {
        assert.ok(
          dimensionsOf(a).every(
            (d) => JSON.stringify(d) === JSON.stringify({ LoadBalancer: workloads.loadBalancer.arnSuffix }),
          ),
        );
      }
      assert.equal(alarms.length, 2 * network.natGateways.length + 2, "no alarm on anything else");
      for (const a of alarms) {
        assert.deepEqual(a.inputs["alarmActions"], [alertTopic.wireOutputs["arn"]], `${a.name} alarm action`);
        assert.deepEqual(a.inputs["okActions"], [alertTopic.wireOutputs["arn"]], `${a.name} OK action`);
        assert.equal(a.inputs["treatMissingData"], "notBreaching");
      }
    });

    it(`${c.region === ROUTE53_METRICS_REGION ? "routes" : "leaves to the us-east-1 stack"} the edge health-check alarms' state changes`, async () => {
      const rules = ofType(resources, T.eventRule).filter((r) => r.name.endsWith("-edge-alarms"));
      if (c.region !== ROUTE53_METRICS_REGION) {
        assert.deepEqual(rules, [], "an SNS target must be in the rule's region: only us-east-1 routes them");
        return;
      }
      const rule = one(rules, T.eventRule);
      const pattern = JSON.parse(String(rule.inputs["eventPattern"])) as Record<string, unknown>;
      // Every alarm the edge layer of this environment exports matches, in either state.
      const edge = await producerValue(edgeContract, c.topology);
      assert.ok(edge.healthChecks.length > 0);
      for (const h of edge.healthChecks) {
        assert.equal(h.alarmRegion, c.region, `${h.alarmName} lives where it is routed`);
        for (const state of ["ALARM", "OK"]) {
          assert.ok(
            eventMatches(pattern, alarmEvent(h.alarmName, state)),
            `${h.alarmName} -> ${state} is not routed`,
          );
        }
        assert.ok(!eventMatches(pattern, alarmEvent(h.alarmName, "INSUFFICIENT_DATA")));
      }
      // Not another layer's alarm, nor another environment's edge alarm.
      assert.ok(
        !eventMatches(pattern, alarmEvent(`${ctxPrefix(c.env)}-${c.region}-watchdog-missing`, "ALARM")),
      );
      const other = c.env === "production" ? "staging" : "production";
      assert.ok(
        !eventMatches(pattern, alarmEvent(edge.healthChecks[0].alarmName.replace(c.env, other), "ALARM")),
      );
      const alertTopic = ofType(resources, T.topic).find((t) =>
        String(t.inputs["name"]).endsWith("-alerts"),
      )!;
      const target = ofType(resources, T.eventTarget).find((t) => t.inputs["rule"] === rule.inputs["name"])!;
      assert.equal(target.inputs["arn"], alertTopic.wireOutputs["arn"]);
      assert.match(String(at(target.inputs, "inputTransformer.inputTemplate")), /docs\/runbooks\/dr\.md/);
      const policy = JSON.parse(String(one(resources, T.topicPolicy).inputs["policy"])) as {
        Statement: Array<{
          Principal: { Service?: string };
          Condition?: { ArnEquals?: Record<string, string[]> };
        }>;
      };
      const events = policy.Statement.find((x) => x.Principal.Service === "events.amazonaws.com");
      assert.ok(events?.Condition?.ArnEquals?.["aws:SourceArn"]?.includes(String(rule.wireOutputs["arn"])));
    });

    it("raises KMS keys disabled or scheduled for deletion into the alert topic, which EventBridge and the key allow", () => {
      const rule = ofType(resources, T.eventRule).find((r) =>
        String(r.inputs["name"]).endsWith("-kms-key-state"),
      )!;
      const guardDuty = ofType(resources, T.eventRule).find((r) =>
        String(r.inputs["name"]).endsWith("-guardduty-findings"),
      )!;
      const pattern = JSON.parse(String(rule.inputs["eventPattern"])) as {
        source: string[];
        detail: { eventName: string[] };
      };
      assert.deepEqual(pattern.source, ["aws.kms"]);
      assert.deepEqual([...pattern.detail.eventName].sort(), ["DisableKey", "ScheduleKeyDeletion"]);
      const alertTopic = ofType(resources, T.topic).find((t) =>
        String(t.inputs["name"]).endsWith("-alerts"),
      )!;
      for (const r of [rule, guardDuty]) {
        const target = ofType(resources, T.eventTarget).find((t) => t.inputs["rule"] === r.inputs["name"]);
        assert.equal(target?.inputs["arn"], alertTopic.wireOutputs["arn"], String(r.inputs["name"]));
      }
      const topicPolicy = ofType(resources, T.topicPolicy)[0];
      assert.equal(topicPolicy.inputs["arn"], alertTopic.wireOutputs["arn"]);
      const statements = (
        JSON.parse(String(topicPolicy.inputs["policy"])) as {
          Statement: Array<{
            Principal: { Service?: string };
            Condition?: { ArnEquals?: Record<string, string[]> };
          }>;
        }
      ).Statement;
      const events = statements.find((x) => x.Principal.Service === "events.amazonaws.com");
      assert.ok(events?.Condition?.ArnEquals?.["aws:SourceArn"]?.includes(String(rule.wireOutputs["arn"])));
      // Only this layer's rules publish for the events service.
      assert.deepEqual(
        [...(events?.Condition?.ArnEquals?.["aws:SourceArn"] ?? [])].sort(),
        ofType(resources, T.eventRule)
          .map((r) => String(r.wireOutputs["arn"]))
          .sort(),
      );
      const alertingKey = ofType(resources, T.kmsKey).find((k) =>
        String(k.inputs["description"]).startsWith("Alert topics"),
      );
      const keyPolicy = JSON.parse(String(alertingKey?.inputs["policy"])) as {
        Statement: Array<{ Principal?: { Service?: string }; Action?: string[] }>;
      };
      const grant = keyPolicy.Statement.find((x) => x.Principal?.Service === "events.amazonaws.com");
      assert.deepEqual(grant?.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
    });

    it("raises GuardDuty findings of Medium severity and above into the alert topic with a readable message", () => {
      const rule = ofType(resources, T.eventRule).find((r) =>
        String(r.inputs["name"]).endsWith("-guardduty-findings"),
      )!;
      assert.deepEqual(JSON.parse(String(rule.inputs["eventPattern"])), {
        source: ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        detail: { severity: [{ numeric: [">=", 4] }] },
      });
      const target = ofType(resources, T.eventTarget).find((t) => t.inputs["rule"] === rule.inputs["name"])!;
      const transformer = target.inputs["inputTransformer"] as {
        inputPaths: Record<string, string>;
        inputTemplate: string;
      };
      // Every placeholder of the message has a path into the finding event, and every path is used.
      const placeholders = [...transformer.inputTemplate.matchAll(/<([a-zA-Z]+)>/g)].map((m) => m[1]).sort();
      assert.deepEqual([...new Set(placeholders)], Object.keys(transformer.inputPaths).sort());
      assert.equal(transformer.inputPaths["severity"], "$.detail.severity");
      assert.equal(transformer.inputPaths["type"], "$.detail.type");
    });

    it("installs the pinned chart with the tested Alertmanager routing, encrypted storage and no public Grafana", async () => {
      const chart = ofType(resources, T.chart).find((x) => x.inputs["chart"] === "kube-prometheus-stack")!;
      assert.equal(chart.inputs["version"], c.topology.observability.charts.kubePrometheusStack.version);
      const values = chart.inputs["values"] as Record<string, unknown>;
      const cluster = await producerValue(clusterContract, c.topology, c.region);
      assert.equal(
        at(values, "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName"),
        cluster.storageClassName,
      );
      assert.equal(
        at(values, "prometheus.prometheusSpec.retention"),
        `${c.topology.observability.prometheus.retentionDays}d`,
      );
      assert.equal(
        at(values, "alertmanager.alertmanagerSpec.replicas"),
        c.topology.observability.alertmanager.replicas,
      );
      assert.equal(at(values, "grafana.service.type"), "ClusterIP");
      assert.equal(at(values, "grafana.ingress.enabled"), false);
      assert.equal(at(values, "kubeControllerManager.enabled"), false);
      assert.equal(at(values, "defaultRules.create"), false);
      const route = parse(JSON.stringify(at(values, "alertmanager.config"))) as { receivers: unknown[] };
      assert.ok(route.receivers.length > 4);
      const remoteWrite = at(values, "prometheus.prometheusSpec.remoteWrite") as unknown[] | undefined;
      assert.equal(remoteWrite !== undefined, c.topology.observability.remoteWrite === "amp");
    });

    it("renders the rule library into one PrometheusRule Prometheus selects", () => {
      const rule = ofType(resources, T.prometheusRule)[0];
      const groups = at(rule.inputs, "spec.groups") as Array<{ rules: unknown[] }>;
      assert.ok(groups.length > 8);
      assert.deepEqual(at(rule.inputs, "metadata.labels"), { "hcp.io/monitoring": "platform" });
    });

    it(`creates a monitor per producer metrics endpoint (the cluster's, the ${isPrimary ? "data" : "dr"} layer's and the workloads')`, async () => {
      const cluster = await producerValue(clusterContract, c.topology, c.region);
      const database = isPrimary
        ? (await producerValue(dataContract, c.topology, c.region)).metrics
        : (await producerValue(drContract, c.topology, c.region)).metrics;
      const workloads = (await producerValue(workloadsContract, c.topology, c.region)).metrics;
      assert.ok(database.length > 0, "the region's database tier exports its endpoints");
      assert.ok(workloads.length > 0, "the region's application exports its endpoints");
      const expected = [...cluster.metrics, ...database, ...workloads];
      const monitors = [...ofType(resources, T.serviceMonitor), ...ofType(resources, T.podMonitor)];
      assert.deepEqual(
        monitors
          .map(
            (m) => `${String(at(m.inputs, "metadata.namespace"))}/${String(at(m.inputs, "metadata.name"))}`,
          )
          .sort(),
        expected.map((e) => `${e.namespace}/${e.name}`).sort(),
      );
      // Every target's job is the endpoint's name (the rules and dashboards select it).
      for (const m of monitors) {
        assert.deepEqual(
          producedJobs({
            kind: m.type === T.podMonitor ? "PodMonitor" : "ServiceMonitor",
            metadata: {
              name: String(at(m.inputs, "metadata.name")),
              namespace: String(at(m.inputs, "metadata.namespace")),
            },
            spec: at(m.inputs, "spec") as Record<string, unknown>,
          }),
          [{ job: String(at(m.inputs, "metadata.name")) }],
        );
      }
      for (const e of expected.filter((x) => x.tls)) {
        const m = monitors.find((x) => at(x.inputs, "metadata.name") === e.name)!;
        const ep = (
          at(m.inputs, e.kind === "service" ? "spec.endpoints" : "spec.podMetricsEndpoints") as Array<
            Record<string, unknown>
          >
        )[0];
        assert.equal(at(ep, "tlsConfig.serverName"), e.tls!.serverName);
      }
    });

    it("ships the dashboards as ConfigMaps the chart's Grafana sidecar loads, querying the datasource it provisions", () => {
      const values = ofType(resources, T.chart).find((x) => x.inputs["chart"] === "kube-prometheus-stack")!
        .inputs["values"] as Record<string, unknown>;
      const cms = ofType(resources, T.configMap).filter((r) => r.name.startsWith("monitoring-dashboard-"));
      const expected = dashboardLibrary(libraryInputs(c.topology, [HEALTHCARE_APP])).map((d) => d.uid);
      assert.deepEqual(
        cms.map((r) => String(at(r.inputs, "metadata.name"))).sort(),
        expected.map((uid) => `dashboard-${uid}`).sort(),
      );
      const manifests = cms.map((r) => ({
        apiVersion: "v1" as const,
        kind: "ConfigMap" as const,
        metadata: {
          name: String(at(r.inputs, "metadata.name")),
          namespace: String(at(r.inputs, "metadata.namespace")),
          labels: at(r.inputs, "metadata.labels") as Record<string, string>,
        },
        data: at(r.inputs, "data") as Record<string, string>,
      }));
      assert.deepEqual(
        configMapProblems(manifests, {
          enabled: at(values, "grafana.sidecar.dashboards.enabled"),
          label: at(values, "grafana.sidecar.dashboards.label"),
          labelValue: at(values, "grafana.sidecar.dashboards.labelValue"),
          searchNamespace: at(values, "grafana.sidecar.dashboards.searchNamespace"),
        }),
        [],
      );
      const uid = String(at(values, "grafana.sidecar.datasources.uid"));
      const dashboards = manifests.flatMap((m) =>
        Object.values(m.data).map((t) => JSON.parse(t) as GrafanaDashboard),
      );
      assert.deepEqual(datasourceProblems(dashboards, uid), []);
    });

    it("delivers Grafana's admin credentials and the notification keys through External Secrets from Secrets Manager", () => {
      const externals = ofType(resources, T.externalSecret);
      assert.deepEqual(externals.map((e) => at(e.inputs, "spec.target.name")).sort(), [
        "alertmanager-notification-keys",
        "grafana-admin",
      ]);
      for (const s of ofType(resources, T.smSecret))
        assert.ok(s.inputs["kmsKeyId"], `${s.name} is not KMS-encrypted`);
    });

    it("runs the node agents in the one exempt namespace: privileged, default-deny, exactly their flows", () => {
      const ns = ofType(resources, T.namespace).find(
        (n) => at(n.inputs, "metadata.name") === NODE_AGENTS_NAMESPACE,
      );
      assert.ok(ns, "no node agents' namespace");
      const labels = at(ns.inputs, "metadata.labels") as Record<string, string>;
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "privileged");
      assert.equal(labels["pod-security.kubernetes.io/enforce-version"], `v${c.topology.cluster.version}`);
      assert.deepEqual(at(ns.inputs, "metadata.annotations"), {
        "hcp.io/pod-security-exemption": NODE_AGENTS_EXEMPTION.reason,
      });
      const policies = ofType(resources, T.networkPolicy);
      const inAgents = policies.filter((p) => at(p.inputs, "metadata.namespace") === NODE_AGENTS_NAMESPACE);
      assert.deepEqual(inAgents.map((p) => at(p.inputs, "metadata.name")).sort(), [
        "allow-dns",
        "default-deny",
        "fluent-bit",
        "node-exporter",
      ]);
      const exporter = inAgents.find((p) => at(p.inputs, "metadata.name") === "node-exporter")!;
      assert.deepEqual(at(exporter.inputs, "spec.ingress"), [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 9100 }],
        },
      ]);
      const fluentBit = inAgents.find((p) => at(p.inputs, "metadata.name") === "fluent-bit")!;
      assert.deepEqual(at(fluentBit.inputs, "spec.ingress"), undefined, "Fluent Bit accepts no connection");
      // Prometheus' side: node-exporter listens on the nodes' addresses (host network), in the VPC.
      const prometheus = policies.find(
        (p) =>
          at(p.inputs, "metadata.namespace") === "monitoring" &&
          at(p.inputs, "metadata.name") === "prometheus",
      )!;
      const egress = at(prometheus.inputs, "spec.egress") as Array<{
        to: Array<{ ipBlock?: { cidr: string } }>;
        ports: Array<{ port: number }>;
      }>;
      const vpc = c.topology.regions.find((r) => r.name === c.region)!.vpcCidr;
      assert.ok(
        egress.some((e) => e.to.some((t) => t.ipBlock?.cidr === vpc) && e.ports.some((p) => p.port === 9100)),
        JSON.stringify(egress),
      );
    });

    it("enables node-exporter in the agents' namespace with a ServiceMonitor Prometheus selects, job node-exporter", () => {
      const values = ofType(resources, T.chart).find((x) => x.inputs["chart"] === "kube-prometheus-stack")!
        .inputs["values"] as Record<string, unknown>;
      assert.equal(at(values, "nodeExporter.enabled"), true);
      assert.equal(at(values, "prometheus-node-exporter.namespaceOverride"), NODE_AGENTS_NAMESPACE);
      assert.equal(at(values, "prometheus-node-exporter.hostNetwork"), true);
      assert.equal(at(values, "prometheus-node-exporter.hostPID"), true);
      assert.equal(at(values, "prometheus-node-exporter.securityContext.runAsUser"), 65534);
      const monitor = nodeExporterMonitor(values);
      const selector = at(values, "prometheus.prometheusSpec.serviceMonitorSelector.matchLabels") as Record<
        string,
        string
      >;
      assert.deepEqual(selector, SELECTOR_LABELS);
      for (const [k, v] of Object.entries(selector)) assert.equal(monitor.metadata.labels[k], v);
      assert.deepEqual(at(values, "prometheus.prometheusSpec.serviceMonitorNamespaceSelector"), {});
      assert.deepEqual(producedJobs({ ...monitor }), [{ job: "node-exporter" }]);
    });

    it("ships container logs with the pinned Fluent Bit chart: pgaudit to audit, the application to application, the rest to diagnostic", async () => {
      const chart = ofType(resources, T.chart).find((x) => x.inputs["chart"] === "fluent-bit");
      assert.ok(chart, "no fluent-bit chart");
      assert.equal(chart.inputs["version"], c.topology.observability.charts.fluentBit.version);
      assert.equal(
        chart.inputs["repositoryOpts"] && at(chart.inputs, "repositoryOpts.repo"),
        c.topology.observability.charts.fluentBit.repository,
      );
      assert.equal(chart.inputs["namespace"], NODE_AGENTS_NAMESPACE);
      const values = chart.inputs["values"] as Record<string, unknown>;
      assert.equal(values["kind"], "DaemonSet");
      const volumes = values["daemonSetVolumes"] as Array<Record<string, unknown>>;
      assert.ok(volumes.every((v) => v["emptyDir"] === undefined));
      assert.deepEqual(
        volumes.map((v) => at(v, "hostPath.path")),
        ["/var/log", "/var/fluent-bit"],
      );
      const config = values["config"] as Record<string, string>;
      const main = parseClassic(
        [config["service"], config["inputs"], config["filters"], config["outputs"]].join("\n"),
      );
      const parsers = parseClassic(config["customParsers"]);
      const groups: Record<string, string> = Object.fromEntries(
        ofType(resources, T.logGroup).map((g): [string, string] => [
          String(g.inputs["name"]).split("/").pop() ?? "",
          String(g.inputs["name"]),
        ]),
      );
      const dataNamespace = isPrimary
        ? (await producerValue(dataContract, c.topology, c.region)).namespace
        : (await producerValue(drContract, c.topology, c.region)).namespace;
      const route = (file: ReturnType<typeof logFile>) =>
        routeFile(main, parsers, file).map((r) => r.logGroup);
      const audit =
        "2026-12-03 06:20:05.220 UTC [2571] healthcare_app@healthcare app=api client=10.0.1.5 LOG:  AUDIT: SESSION,3,1,WRITE,INSERT,TABLE,public.t,INSERT INTO t VALUES (1),<not logged>";
      assert.deepEqual(route(logFile("pg-0", dataNamespace, "postgres", [audit])), [groups["audit"]]);
      const [appNamespace] = (await producerValue(workloadsContract, c.topology, c.region)).namespaces;
      assert.deepEqual(
        route(logFile("api-7d9f", appNamespace, "api", ['{"level":"info","msg":"GET /health"}'])),
        [groups["application"]],
      );
      // The data tier's other lines (PgBouncer, Patroni's own) are diagnostics.
      assert.deepEqual(route(logFile("pgbouncer-0", dataNamespace, "pgbouncer", ["LOG stats: 0 xacts/s"])), [
        groups["diagnostic"],
      ]);
      assert.deepEqual(route(logFile("coredns-1", "kube-system", "coredns", ["[INFO] plugin/reload"])), [
        groups["diagnostic"],
      ]);
    });

    it("gives Fluent Bit a Pod Identity role allowed only to create streams in and put events to the shipped groups", () => {
      const association = ofType(resources, T.association).find(
        (a) => a.inputs["serviceAccount"] === "fluent-bit",
      );
      assert.ok(association);
      assert.equal(association.inputs["namespace"], NODE_AGENTS_NAMESPACE);
      const inline = ofType(resources, T.rolePolicy).find((p) => p.name === "fluent-bit-identity-inline");
      assert.ok(inline);
      const doc = JSON.parse(String(inline.inputs["policy"])) as {
        Statement: Array<{ Action: string[]; Resource: string[] }>;
      };
      assert.deepEqual(
        doc.Statement.map((st) => st.Action),
        [["logs:CreateLogStream", "logs:PutLogEvents"]],
      );
      const resourcesAllowed = doc.Statement.flatMap((st) => st.Resource);
      for (const cls of ["audit", "application", "diagnostic"]) {
        assert.ok(
          resourcesAllowed.some((r) => r.includes(`/${cls}`)),
          `${cls} group missing: ${resourcesAllowed.join(", ")}`,
        );
      }
      assert.ok(
        !resourcesAllowed.some((r) => r.includes("/security")),
        "the security group is not Fluent Bit's",
      );
      assert.ok(!resourcesAllowed.some((r) => r.includes("*:*") || r === "*"));
    });

    it("exports the observability contract", () => {
      const value = checkContract(
        observabilityContract,
        stackId("observability", c.env, c.region),
        run.outputs["observability"],
      );
      assert.deepEqual(Object.keys(value.logGroupNames).sort(), [...LOG_CLASSES].sort());
      assert.equal(value.remoteWrite !== null, ofType(resources, T.workspace).length === 1);
    });
  });
}
