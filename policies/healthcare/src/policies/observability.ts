import type { PolicyResource } from "@pulumi/policy";
import { namespaceOf, type ObjectMeta } from "../k8s";
import { type Rule, resourceRule, stackRule } from "../policy";
import type { ArgsOf, StorageSpecArgs } from "../types";
import { known, UNKNOWN } from "../unknowns";
import { EBS_PROVISIONERS, requireCustomerKey } from "./encryptionAtRest";

/**
 * Rules for what the observability layer adds. SNS topic encryption is `messaging-customer-key`,
 * log group retention and keys are `cloudwatch-log-retention` / `cloudwatch-logs-customer-key`.
 * Grafana (dashboards over the PHI systems' metrics) stays off the internet
 * (`grafana-not-public`), and the volumes of Prometheus, Alertmanager and Grafana are encrypted
 * (`monitoring-pvc-encrypted`).
 */

/** Amazon Managed Service for Prometheus workspaces (metrics of PHI systems) use a customer-managed key. */
export const ampWorkspaceCustomerKey = resourceRule({
  name: "amp-workspace-customer-key",
  concern: "encryption-at-rest",
  description:
    "Amazon Managed Service for Prometheus workspaces must be encrypted with a customer-managed KMS key (kmsKeyArn): series labels can carry identifiers of the systems holding PHI, and the key policy is what governs who can read them.",
  remediationSteps:
    "Set kmsKeyArn to the ARN of a KMS key of the stack (the observability layer's alerting key).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-create-workspace.html"],
  },
  evidence: { properties: { "aws:amp/workspace:Workspace": ["kmsKeyArn"] } },
  checks: {
    "aws:amp/workspace:Workspace": (props, { report }) => {
      requireCustomerKey(() => props.kmsKeyArn, "kmsKeyArn", report);
    },
  },
});

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Indexes of Allow statements granting to everyone (`*`) with no condition narrowing them. */
export function publicAllowStatements(document: unknown): number[] {
  const statements = asList((document as { Statement?: unknown } | null)?.Statement) as Array<{
    Effect?: unknown;
    Principal?: unknown;
    Condition?: unknown;
  }>;
  return statements.flatMap((s, i) => {
    const principal = s.Principal;
    const everyone =
      principal === "*" || asList((principal as { AWS?: unknown } | undefined)?.AWS).includes("*");
    const conditioned =
      typeof s.Condition === "object" && s.Condition !== null && Object.keys(s.Condition).length > 0;
    return s.Effect === "Allow" && everyone && !conditioned ? [i] : [];
  });
}

/** An alert topic's resource policy never opens it to everyone (alerts name the systems holding PHI). */
export const snsTopicPolicyNotPublic = resourceRule({
  name: "sns-topic-policy-not-public",
  concern: "network-security",
  description:
    "SNS topic policies must not allow everyone (Principal '*') without a condition: anyone could publish forged alerts to the on-call team or subscribe to alerts that name the systems holding PHI.",
  remediationSteps:
    "Grant the account (arn:<partition>:iam::<account>:root) and the AWS services that publish (cloudwatch, events) with an aws:SourceAccount or aws:SourceArn condition, never Principal '*' alone.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"],
  },
  evidence: { properties: { "aws:sns/topicPolicy:TopicPolicy": ["policy"] } },
  checks: {
    "aws:sns/topicPolicy:TopicPolicy": (props, { report }) => {
      const policy = known(() => props.policy);
      if (policy === UNKNOWN) return;
      let document: unknown;
      try {
        document = typeof policy === "string" ? JSON.parse(policy) : policy;
      } catch {
        report("policy is not valid JSON.");
        return;
      }
      for (const i of publicAllowStatements(document)) {
        report(`Statement[${i}] allows Principal '*' with no condition.`);
      }
    },
  },
});

// ---------------------------------------------------------------------------------------------
// Grafana not public

const ALB = "alb.ingress.kubernetes.io/";
const SCHEME = `${ALB}scheme`;
/** The label the grafana chart puts on its Service and pods (`grafana.selectorLabels`). */
const NAME_LABEL = "app.kubernetes.io/name";
/** The label older grafana charts and hand-written manifests use. */
const LEGACY_NAME_LABEL = "app";
/** Service types that open a Service beyond the cluster network. */
const EXPOSED_SERVICE_TYPES = ["LoadBalancer", "NodePort"];

type Values = Readonly<Record<string, unknown>>;
type ServiceArgs = ArgsOf<"kubernetes:core/v1:Service">;
type IngressArgs = ArgsOf<"kubernetes:networking.k8s.io/v1:Ingress">;

function record(value: unknown): Values | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Values) : undefined;
}

interface GrafanaConfig {
  readonly grafanaNames: string[];
  readonly albIngressClasses: string[];
}

/** `app.kubernetes.io/name=grafana` if the labels name Grafana, else undefined. */
function grafanaLabel(labels: Readonly<Record<string, string>> | undefined, names: readonly string[]) {
  for (const key of [NAME_LABEL, LEGACY_NAME_LABEL]) {
    const value = labels?.[key];
    if (typeof value === "string" && names.includes(value)) {
      return `${key}=${value}`;
    }
  }
  return undefined;
}

/**
 * Why a Service serves Grafana: its selector picks Grafana's pods (what decides where its traffic
 * goes), else its own labels say Grafana; undefined for other Services. The grafana chart (and
 * kube-prometheus-stack's grafana subchart) labels its Service and selects its pods with
 * `app.kubernetes.io/name: <grafana.name>` (`grafana` unless nameOverride); its image renderer is
 * `grafana-image-renderer`, which is not Grafana.
 */
export function grafanaServiceEvidence(props: ServiceArgs, names: readonly string[]): string | undefined {
  const bySelector = grafanaLabel(props.spec?.selector, names);
  if (bySelector) {
    return `its selector has ${bySelector}`;
  }
  const byLabel = grafanaLabel(props.metadata?.labels, names);
  return byLabel ? `it is labelled ${byLabel}` : undefined;
}

/**
 * True for a Service name the grafana chart gives its Service: `<release>-grafana`, or the release
 * name when it contains `grafana` (`grafana.fullname`); so an Ingress of another stack (the Service
 * is not in it) is still recognised by the name it routes to.
 */
export function isGrafanaServiceName(name: string, names: readonly string[]): boolean {
  return names.some((n) => name === n || name.endsWith(`-${n}`));
}

/** The Service names an Ingress routes to: its default backend and every rule's paths. */
export function ingressBackends(props: IngressArgs): string[] {
  const spec = props.spec;
  const names = [
    spec?.defaultBackend?.service?.name,
    ...(spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service?.name)),
  ];
  return [...new Set(names.filter((n): n is string => typeof n === "string" && n !== ""))];
}

/**
 * Why an Ingress is not provably internal, or undefined when it is: an Ingress of the AWS Load
 * Balancer Controller (an ALB class, or `alb.ingress.kubernetes.io/` annotations) that states
 * `scheme: internal`. The controller's own default is `internal`, but an IngressClassParams of the
 * class can set `scheme` for every Ingress of the class, and this pack does not examine those; and
 * another controller (ingress-nginx...) ignores the annotation and publishes through its own,
 * usually internet-facing, load balancer. So only the stated annotation proves it.
 */
export function ingressNotInternal(
  annotations: Readonly<Record<string, string>>,
  ingressClassName: unknown,
  albClasses: readonly string[],
): string | undefined {
  const cls = ingressClassName ?? annotations["kubernetes.io/ingress.class"];
  const isAlb =
    (typeof cls === "string" && albClasses.includes(cls)) ||
    Object.keys(annotations).some((k) => k.startsWith(ALB));
  if (!isAlb) {
    const which =
      typeof cls === "string" ? `class '${cls}'` : "no class (the cluster's default IngressClass serves it)";
    return `it has ${which}, not one of the AWS Load Balancer Controller's (${albClasses.join(", ")}), so nothing proves its load balancer internal`;
  }
  const scheme = annotations[SCHEME];
  if (scheme === "internal") {
    return undefined;
  }
  return scheme === undefined
    ? `it has no ${SCHEME} annotation (the controller defaults to internal, but an IngressClassParams of its class can make it internet-facing)`
    : `${SCHEME} is '${scheme}'`;
}

/**
 * The Grafana values of a chart: the grafana chart's own, or kube-prometheus-stack's `grafana`
 * (its subchart, on unless `grafana.enabled: false`); undefined for any other chart. The values are
 * read only for those charts, so another chart's unknown values do not make the rule unknown.
 */
export function grafanaChartValues(
  chart: unknown,
  values: () => unknown,
): { readonly values: Values; readonly path: string } | undefined {
  const name = typeof chart === "string" ? chart.split("/").pop() : undefined;
  if (name === "grafana") {
    return { values: record(values()) ?? {}, path: "values" };
  }
  if (name === "kube-prometheus-stack") {
    const grafana = record(record(values())?.["grafana"]) ?? {};
    return grafana["enabled"] === false ? undefined : { values: grafana, path: "values.grafana" };
  }
  return undefined;
}

/**
 * What Grafana chart values expose: `service.type` LoadBalancer / NodePort (the chart's default is
 * ClusterIP), an enabled `ingress` that is not provably internal (grafana chart
 * templates/service.yaml and templates/ingress.yaml, 12.4.8).
 */
export function grafanaChartProblems(values: Values, path: string, albClasses: readonly string[]): string[] {
  const problems: string[] = [];
  const service = record(values["service"]) ?? {};
  const type = service["type"] ?? "ClusterIP";
  if (service["enabled"] !== false && typeof type === "string" && EXPOSED_SERVICE_TYPES.includes(type)) {
    problems.push(
      `${path}.service.type is '${type}'; allowed: ClusterIP. Set ${path}.service.type: ClusterIP and reach Grafana through kubectl port-forward or an internal ALB Ingress.`,
    );
  }
  const ingress = record(values["ingress"]) ?? {};
  if (ingress["enabled"] === true) {
    const annotations = (record(ingress["annotations"]) ?? {}) as Readonly<Record<string, string>>;
    const why = ingressNotInternal(annotations, ingress["ingressClassName"], albClasses);
    if (why) {
      problems.push(
        `${path}.ingress is enabled and ${why}; allowed: an ALB Ingress annotated ${SCHEME}: internal. Set ${path}.ingress.ingressClassName: alb and ${path}.ingress.annotations["${SCHEME}"]: internal, or ${path}.ingress.enabled: false.`,
      );
    }
  }
  return problems;
}

const CHART_TYPES = ["kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart"] as const;

/** Grafana is reachable only from inside the cluster / VPC. */
export const grafanaNotPublic = stackRule<GrafanaConfig>({
  name: "grafana-not-public",
  concern: "network-security",
  description:
    "Grafana must not be reachable from the internet: its dashboards show the metrics of the systems holding PHI (names, volumes, error rates), and its login is one password away from them. A Service serving Grafana (selector or labels app.kubernetes.io/name: grafana) must be ClusterIP, without externalIPs; an Ingress routing to Grafana must be an ALB Ingress annotated alb.ingress.kubernetes.io/scheme: internal; Grafana chart values (grafana, kube-prometheus-stack's grafana) likewise.",
  remediationSteps:
    "Keep grafana.service.type: ClusterIP and grafana.ingress.enabled: false (the observability layer's values), and use kubectl port-forward; if Grafana needs an Ingress, give it spec.ingressClassName: alb and the annotation alb.ingress.kubernetes.io/scheme: internal.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#scheme",
      "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:core/v1:Service": [
        "metadata.namespace",
        "metadata.labels",
        "spec.selector",
        "spec.type",
        "spec.externalIPs",
      ],
      "kubernetes:networking.k8s.io/v1:Ingress": [
        "metadata.namespace",
        "metadata.labels",
        "metadata.annotations",
        "spec.ingressClassName",
        "spec.defaultBackend.service.name",
        "spec.rules[].http.paths",
      ],
      "kubernetes:helm.sh/v4:Chart": ["chart", "values.grafana.service", "values.grafana.ingress"],
      "kubernetes:helm.sh/v3:Chart": ["chart", "values.grafana.service", "values.grafana.ingress"],
    },
  },
  config: {
    defaults: { grafanaNames: ["grafana"], albIngressClasses: ["alb"] },
    schema: {
      grafanaNames: {
        type: "array",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        description:
          "Values of app.kubernetes.io/name (or app) that mean Grafana; the chart's nameOverride, if one is set, belongs here. Service names <release>-<name> are recognised too.",
      },
      albIngressClasses: {
        type: "array",
        items: { type: "string" },
        description: "IngressClass names served by the AWS Load Balancer Controller.",
      },
    },
  },
  examines: ["kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress", ...CHART_TYPES],
  validate: (ctx) => {
    const names = ctx.config.grafanaNames;
    // Grafana Services of this stack (`namespace/name`), so an Ingress naming one is recognised
    // whatever the Service is called.
    const grafanaServices = new Set<string>();
    for (const svc of ctx.ofType("kubernetes:core/v1:Service")) {
      ctx.each(() => {
        const props = svc.props;
        const why = grafanaServiceEvidence(props, names);
        if (!why) {
          return;
        }
        const id = `${namespaceOf(props.metadata)}/${props.metadata?.name ?? svc.resource.name}`;
        grafanaServices.add(id);
        const type = props.spec?.type ?? "ClusterIP";
        if (EXPOSED_SERVICE_TYPES.includes(type)) {
          const opens =
            type === "NodePort" ? "a port on every node" : "a cloud load balancer and a port on every node";
          ctx.report(
            `Service '${id}' serves Grafana (${why}) and spec.type is '${type}', which opens ${opens}; allowed: ClusterIP. Set spec.type: ClusterIP (chart value grafana.service.type) and reach Grafana through kubectl port-forward or an internal ALB Ingress.`,
            svc.resource.urn,
          );
        }
        const externalIPs = props.spec?.externalIPs ?? [];
        if (externalIPs.length > 0) {
          ctx.report(
            `Service '${id}' serves Grafana (${why}) and sets spec.externalIPs (${externalIPs.length} address${externalIPs.length > 1 ? "es" : ""}), which the nodes route to it; allowed: none. Remove spec.externalIPs.`,
            svc.resource.urn,
          );
        }
      });
    }
    for (const ing of ctx.ofType("kubernetes:networking.k8s.io/v1:Ingress")) {
      ctx.each(() => {
        const props = ing.props;
        const ns = namespaceOf(props.metadata);
        const backends = ingressBackends(props).filter(
          (b) => grafanaServices.has(`${ns}/${b}`) || isGrafanaServiceName(b, names),
        );
        const byLabel = grafanaLabel(props.metadata?.labels, names);
        if (backends.length === 0 && !byLabel) {
          return;
        }
        const what =
          backends.length > 0
            ? `routes to the Grafana Service ${backends.map((b) => `'${b}'`).join(", ")}`
            : `is labelled ${byLabel}`;
        const why = ingressNotInternal(
          props.metadata?.annotations ?? {},
          props.spec?.ingressClassName,
          ctx.config.albIngressClasses,
        );
        if (why) {
          const id = `${ns}/${props.metadata?.name ?? ing.resource.name}`;
          ctx.report(
            `Ingress '${id}' ${what} and ${why}; allowed: an ALB Ingress annotated ${SCHEME}: internal. Set spec.ingressClassName: alb and the annotation ${SCHEME}: internal, or remove the Ingress.`,
            ing.resource.urn,
          );
        }
      });
    }
    for (const chart of ctx.ofType(...CHART_TYPES)) {
      ctx.each(() => {
        const props = chart.props as { readonly chart?: unknown; readonly values?: unknown };
        const grafana = grafanaChartValues(props.chart, () => props.values);
        if (!grafana) {
          return;
        }
        for (const problem of grafanaChartProblems(
          grafana.values,
          grafana.path,
          ctx.config.albIngressClasses,
        )) {
          ctx.report(
            `Chart '${chart.resource.name}' (${String(props.chart)}): ${problem}`,
            chart.resource.urn,
          );
        }
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Monitoring volumes encrypted

type StorageClassArgs = ArgsOf<"kubernetes:storage.k8s.io/v1:StorageClass">;

/** One volume claim (or claim template) a resource asks for. */
export interface Claim {
  /** Property path of its storageClassName, for messages (`spec.storage.volumeClaimTemplate.spec.storageClassName`). */
  readonly path: string;
  /** Reads its storageClassName; throws the unknown-value error when it is unknown in a preview. */
  readonly storageClassName: () => unknown;
}

/**
 * The claims of a prometheus-operator StorageSpec: its `volumeClaimTemplate` (one claim per replica
 * of the StatefulSet the operator creates) and an `ephemeral.volumeClaimTemplate`. `emptyDir`, or
 * no storage at all, is node-local and makes no claim (the node's root volume is examined by
 * ebs-encryption-customer-key).
 */
export function storageSpecClaims(storage: StorageSpecArgs | Values | undefined, path: string): Claim[] {
  const spec = record(storage);
  if (!spec) {
    return [];
  }
  const claims: Claim[] = [];
  const template = record(spec["volumeClaimTemplate"]);
  if (template) {
    claims.push({
      path: `${path}.volumeClaimTemplate.spec.storageClassName`,
      storageClassName: () => record(template["spec"])?.["storageClassName"],
    });
  }
  const ephemeral = record(record(spec["ephemeral"])?.["volumeClaimTemplate"]);
  if (ephemeral) {
    claims.push({
      path: `${path}.ephemeral.volumeClaimTemplate.spec.storageClassName`,
      storageClassName: () => record(ephemeral["spec"])?.["storageClassName"],
    });
  }
  return claims;
}

/**
 * The claim Grafana chart values make: with `persistence.enabled` and no `existingClaim`, the chart
 * renders a PersistentVolumeClaim (type `pvc`) or a StatefulSet claim template (type `sts`) with
 * `persistence.storageClassName` (grafana chart 12.4.8 templates/pvc.yaml, statefulset.yaml). An
 * existing claim is examined where it is defined.
 */
function grafanaPersistenceClaims(values: Values, path: string): Claim[] {
  const persistence = record(values["persistence"]) ?? {};
  const existing = persistence["existingClaim"];
  if (persistence["enabled"] !== true || (typeof existing === "string" && existing !== "")) {
    return [];
  }
  return [
    { path: `${path}.persistence.storageClassName`, storageClassName: () => persistence["storageClassName"] },
  ];
}

/** The namespace a chart's objects go to: `namespaceOverride` in its values, else the chart's. */
function chartNamespace(values: Values, chartNamespace: unknown): string {
  const override = values["namespaceOverride"];
  if (typeof override === "string" && override !== "") {
    return override;
  }
  return typeof chartNamespace === "string" && chartNamespace !== "" ? chartNamespace : "default";
}

/**
 * The claims chart values make, by namespace: kube-prometheus-stack's Prometheus
 * (`prometheus.prometheusSpec.storageSpec`), Alertmanager (`alertmanager.alertmanagerSpec.storage`),
 * ThanosRuler (`thanosRuler.thanosRulerSpec.storage`, off by default) and Grafana
 * (`grafana.persistence`); the grafana chart's `persistence`. kube-prometheus-stack copies the
 * storage values verbatim into the custom resources' `spec.storage` (templates/prometheus/prometheus.yaml,
 * templates/alertmanager/alertmanager.yaml, 86.3.2), which the operator turns into claim templates.
 * Charts are examined through their values because an offline plan does not render them; a real
 * preview also registers the rendered custom resources, examined as such.
 */
export function chartClaims(
  chart: unknown,
  namespace: unknown,
  values: () => unknown,
): Array<{ readonly namespace: string; readonly claims: Claim[] }> {
  const name = typeof chart === "string" ? chart.split("/").pop() : undefined;
  if (name === "grafana") {
    const v = record(values()) ?? {};
    return [{ namespace: chartNamespace(v, namespace), claims: grafanaPersistenceClaims(v, "values") }];
  }
  if (name !== "kube-prometheus-stack") {
    return [];
  }
  const v = record(values()) ?? {};
  const ns = chartNamespace(v, namespace);
  const part = (key: string) => record(v[key]) ?? {};
  const claims: Claim[] = [];
  if (part("prometheus")["enabled"] !== false) {
    const storage = record(part("prometheus")["prometheusSpec"])?.["storageSpec"];
    claims.push(...storageSpecClaims(record(storage), "values.prometheus.prometheusSpec.storageSpec"));
  }
  if (part("alertmanager")["enabled"] !== false) {
    const storage = record(part("alertmanager")["alertmanagerSpec"])?.["storage"];
    claims.push(...storageSpecClaims(record(storage), "values.alertmanager.alertmanagerSpec.storage"));
  }
  if (part("thanosRuler")["enabled"] === true) {
    const storage = record(part("thanosRuler")["thanosRulerSpec"])?.["storage"];
    claims.push(...storageSpecClaims(record(storage), "values.thanosRuler.thanosRulerSpec.storage"));
  }
  const out = [{ namespace: ns, claims }];
  const grafana = part("grafana");
  if (grafana["enabled"] !== false) {
    out.push({
      namespace: chartNamespace(grafana, ns),
      claims: grafanaPersistenceClaims(grafana, "values.grafana"),
    });
  }
  return out;
}

/**
 * Why a StorageClass does not encrypt its volumes with a customer key, or undefined: the same
 * requirements as k8s-storage-class-encrypted (an EBS provisioner, `encrypted: "true"`, a
 * `kmsKeyId` that is not AWS-managed; a key unknown in a preview is one of this deployment).
 */
export function storageClassProblem(
  props: StorageClassArgs,
  ebsProvisioners: readonly string[],
): string | undefined {
  if (!ebsProvisioners.includes(props.provisioner)) {
    return `its provisioner '${String(props.provisioner)}' is not an EBS provisioner (${ebsProvisioners.join(", ")})`;
  }
  const params = props.parameters ?? {};
  if (params["encrypted"] !== "true") {
    return 'its parameters.encrypted is not "true"';
  }
  const problems: string[] = [];
  requireCustomerKey(
    () => params["kmsKeyId"],
    "its parameters.kmsKeyId",
    (m) => problems.push(m),
  );
  return problems[0]?.replace(/\.$/, "");
}

interface ClaimConfig {
  readonly namespaces: string[];
  readonly encryptedStorageClasses: string[];
  readonly ebsProvisioners: string[];
}

/** What the classes of the stack say, by name: undefined = encrypted, else the problem. */
type StackClasses = ReadonlyMap<string, string | undefined>;

/**
 * Why a claim's storageClassName is not provably encrypted, or undefined. Allowed: an encrypted
 * StorageClass of this stack, else (no class of that name here) a class of `encryptedStorageClasses`.
 * No storageClassName means the cluster's default class, which this stack cannot see: refused.
 */
export function claimProblem(
  className: unknown,
  path: string,
  stackClasses: StackClasses,
  listed: readonly string[],
): string | undefined {
  if (className === undefined || className === null) {
    return `${path} is not set, so the cluster's default StorageClass provisions the volume, and nothing in this stack proves that class encrypted`;
  }
  if (typeof className !== "string") {
    return `${path} is not a StorageClass name`;
  }
  if (className === "") {
    return `${path} is "" (no class: it binds a pre-provisioned volume, whose encryption nothing proves)`;
  }
  if (stackClasses.has(className)) {
    const problem = stackClasses.get(className);
    return problem === undefined
      ? undefined
      : `${path} is '${className}', a StorageClass of this stack that is not encrypted: ${problem}`;
  }
  return listed.includes(className)
    ? undefined
    : `${path} is '${className}', which is neither an encrypted StorageClass of this stack nor one of encryptedStorageClasses (${listed.join(", ") || "none"})`;
}

/** The claims of a resource of the types the rule examines (not charts). */
function resourceClaims(resource: PolicyResource): Claim[] {
  switch (resource.type) {
    case "kubernetes:core/v1:PersistentVolumeClaim": {
      const props = resource.props as ArgsOf<"kubernetes:core/v1:PersistentVolumeClaim">;
      return [{ path: "spec.storageClassName", storageClassName: () => props.spec?.storageClassName }];
    }
    case "kubernetes:apps/v1:StatefulSet": {
      const props = resource.props as ArgsOf<"kubernetes:apps/v1:StatefulSet">;
      return (props.spec?.volumeClaimTemplates ?? []).map((t, i) => ({
        path: `spec.volumeClaimTemplates[${i}].spec.storageClassName`,
        storageClassName: () => t.spec?.storageClassName,
      }));
    }
    default: {
      const props = resource.props as ArgsOf<"kubernetes:monitoring.coreos.com/v1:Prometheus">;
      return storageSpecClaims(props.spec?.storage, "spec.storage");
    }
  }
}

const CLAIM_TYPES = [
  "kubernetes:core/v1:PersistentVolumeClaim",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:monitoring.coreos.com/v1:Prometheus",
  "kubernetes:monitoring.coreos.com/v1alpha1:PrometheusAgent",
  "kubernetes:monitoring.coreos.com/v1:Alertmanager",
  "kubernetes:monitoring.coreos.com/v1:ThanosRuler",
] as const;

const STORAGE_EVIDENCE = [
  "metadata.namespace",
  "spec.storage.volumeClaimTemplate.spec.storageClassName",
  "spec.storage.ephemeral.volumeClaimTemplate.spec.storageClassName",
] as const;

const CHART_STORAGE_EVIDENCE = [
  "chart",
  "namespace",
  "values.prometheus.prometheusSpec.storageSpec",
  "values.alertmanager.alertmanagerSpec.storage",
  "values.thanosRuler.thanosRulerSpec.storage",
  "values.grafana.persistence",
] as const;

/** The volumes of the monitoring stack are encrypted with a customer key. */
export const monitoringPvcEncrypted = stackRule<ClaimConfig>({
  name: "monitoring-pvc-encrypted",
  concern: "encryption-at-rest",
  description:
    "Volume claims in the monitoring namespaces (PersistentVolumeClaims, StatefulSet volumeClaimTemplates, the storage of prometheus-operator's Prometheus, PrometheusAgent, Alertmanager and ThanosRuler, and the same in kube-prometheus-stack / grafana chart values) must name a StorageClass that is provably encrypted with a customer-managed key: one this stack defines so (as k8s-storage-class-encrypted requires), or one of encryptedStorageClasses (the cluster layer's encrypted gp3 class). Prometheus' TSDB and Alertmanager's notification log hold the PHI systems' series and alerts; a claim without storageClassName gets the cluster's default class, which this stack cannot prove encrypted.",
  remediationSteps:
    "Set storageClassName to the cluster contract's storageClassName (gp3-encrypted: EBS gp3, encrypted with the cluster's key), as the observability layer's stackValues does for prometheusSpec.storageSpec and alertmanagerSpec.storage, or define an encrypted EBS StorageClass in the stack and name it.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: [
      "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#class-1",
      "https://prometheus-operator.dev/docs/platform/storage/",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:core/v1:PersistentVolumeClaim": ["metadata.namespace", "spec.storageClassName"],
      "kubernetes:apps/v1:StatefulSet": [
        "metadata.namespace",
        "spec.volumeClaimTemplates[].spec.storageClassName",
      ],
      "kubernetes:monitoring.coreos.com/v1:Prometheus": STORAGE_EVIDENCE,
      "kubernetes:monitoring.coreos.com/v1alpha1:PrometheusAgent": STORAGE_EVIDENCE,
      "kubernetes:monitoring.coreos.com/v1:Alertmanager": STORAGE_EVIDENCE,
      "kubernetes:monitoring.coreos.com/v1:ThanosRuler": STORAGE_EVIDENCE,
      "kubernetes:storage.k8s.io/v1:StorageClass": [
        "metadata.name",
        "provisioner",
        "parameters.encrypted",
        "parameters.kmsKeyId",
      ],
      "kubernetes:helm.sh/v4:Chart": CHART_STORAGE_EVIDENCE,
      "kubernetes:helm.sh/v3:Chart": CHART_STORAGE_EVIDENCE,
    },
  },
  config: {
    defaults: {
      namespaces: ["monitoring"],
      encryptedStorageClasses: ["gp3-encrypted"],
      ebsProvisioners: [...EBS_PROVISIONERS],
    },
    schema: {
      namespaces: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description: "Namespaces whose claims are examined (the observability layer's monitoring namespace).",
      },
      encryptedStorageClasses: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description:
          "StorageClasses defined encrypted by another stack, accepted by name: the cluster layer's gp3-encrypted (its encryption is k8s-storage-class-encrypted's, in the cluster stack). A class of that name in the examined stack is judged by its own parameters instead.",
      },
      ebsProvisioners: {
        type: "array",
        items: { type: "string" },
        description: "Provisioners that create EBS volumes (as in k8s-storage-class-encrypted).",
      },
    },
  },
  examines: [...CLAIM_TYPES, "kubernetes:storage.k8s.io/v1:StorageClass", ...CHART_TYPES],
  validate: (ctx) => {
    const cfg = ctx.config;
    const classes = new Map<string, string | undefined>();
    // Classes whose name or parameters are unknown in a preview: a claim naming neither a known
    // class nor a listed one waits for them (re-reading one throws its unknown-value error).
    const unread: Array<() => unknown> = [];
    for (const sc of ctx.ofType("kubernetes:storage.k8s.io/v1:StorageClass")) {
      const read = () => {
        const props = sc.props;
        classes.set(
          props.metadata?.name ?? sc.resource.name,
          storageClassProblem(props, cfg.ebsProvisioners),
        );
      };
      ctx.each(() => {
        try {
          read();
        } catch (e) {
          unread.push(read);
          throw e;
        }
      });
    }
    const judge = (label: string, urn: string, claims: readonly Claim[]) => {
      for (const claim of claims) {
        ctx.each(() => {
          const name = claim.storageClassName();
          const problem = claimProblem(name, claim.path, classes, cfg.encryptedStorageClasses);
          if (typeof name === "string" && name !== "" && !classes.has(name)) {
            // An unread class of this stack may be the one it names, and is judged by its own
            // parameters even when the name is listed: decide once it is known.
            unread.forEach((r) => r());
          }
          if (problem === undefined) {
            return;
          }
          ctx.report(
            `${label}: ${problem}; allowed: ${[...cfg.encryptedStorageClasses, "an encrypted StorageClass of this stack"].join(", ")}. Set it to ${cfg.encryptedStorageClasses[0] ?? "an encrypted EBS StorageClass"}.`,
            urn,
          );
        });
      }
    };
    for (const r of ctx.ofType(...CLAIM_TYPES)) {
      ctx.each(() => {
        const metadata = (r.props as { readonly metadata?: ObjectMeta }).metadata;
        const ns = namespaceOf(metadata);
        if (!cfg.namespaces.includes(ns)) {
          return;
        }
        const kind = r.resource.type.split(":").pop() ?? r.resource.type;
        judge(
          `${kind} '${ns}/${metadata?.name ?? r.resource.name}'`,
          r.resource.urn,
          resourceClaims(r.resource),
        );
      });
    }
    for (const chart of ctx.ofType(...CHART_TYPES)) {
      ctx.each(() => {
        const props = chart.props as {
          readonly chart?: unknown;
          readonly namespace?: unknown;
          readonly values?: unknown;
        };
        for (const part of chartClaims(props.chart, props.namespace, () => props.values)) {
          if (cfg.namespaces.includes(part.namespace)) {
            judge(
              `Chart '${chart.resource.name}' (${String(props.chart)}, namespace ${part.namespace})`,
              chart.resource.urn,
              part.claims,
            );
          }
        }
      });
    }
  },
});

export const observabilityRules: readonly Rule[] = [
  ampWorkspaceCustomerKey,
  snsTopicPolicyNotPublic,
  grafanaNotPublic,
  monitoringPvcEncrypted,
];
