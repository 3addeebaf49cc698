import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { BUCKET_TYPES, settingsByBucket } from "../buckets";
import { type Rule, resourceRule, stackRule } from "../policy";
import type { ArgsOf } from "../types";
import { known, UNKNOWN } from "../unknowns";

/**
 * Encryption in transit (HIPAA §164.312(e)(1)): every hop that carries patient data is TLS 1.2 or
 * newer; public entry points negotiate TLS 1.3.
 */

const prefixes = (description: string): PolicyConfigJSONSchema => ({
  type: "array",
  items: { type: "string", minLength: 1 },
  minItems: 1,
  description,
});

function allowedPolicy(name: unknown, allowedPrefixes: readonly string[]): boolean {
  return typeof name === "string" && allowedPrefixes.some((p) => name.startsWith(p));
}

interface ListenerConfig {
  readonly allowedSslPolicyPrefixes: string[];
}

type ListenerArgs = ArgsOf<"aws:lb/listener:Listener">;

function checkListener(props: ListenerArgs, cfg: ListenerConfig, report: (m: string) => void) {
  const protocol = (props.protocol ?? (props.certificateArn ? "HTTPS" : "HTTP")).toUpperCase();
  if (protocol === "GENEVE") {
    return;
  }
  if (protocol === "HTTPS" || protocol === "TLS") {
    if (!allowedPolicy(props.sslPolicy, cfg.allowedSslPolicyPrefixes)) {
      report(
        `sslPolicy ${props.sslPolicy ? `'${props.sslPolicy}'` : "is not set (the ELB default allows TLS 1.0) and"} is not a TLS 1.2+ policy (allowed: ${cfg.allowedSslPolicyPrefixes.join("*, ")}*).`,
      );
    }
    return;
  }
  if (protocol === "HTTP") {
    const actions = props.defaultActions ?? [];
    const redirectsToHttps =
      actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
    if (!redirectsToHttps) {
      report("protocol is HTTP and the default action is not a redirect to HTTPS.");
    }
    return;
  }
  report(`protocol is ${protocol}: use HTTPS (ALB) or TLS (NLB) so traffic is encrypted.`);
}

/** Load balancer listeners terminate TLS 1.2+ (or only redirect HTTP to HTTPS). */
export const lbListenerTls = resourceRule<ListenerConfig>({
  name: "lb-listener-tls",
  concern: "encryption-in-transit",
  description:
    "ALB/NLB listeners must use HTTPS or TLS with a TLS 1.2+ security policy (sslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06 or newer); an HTTP listener may only redirect to HTTPS.",
  remediationSteps:
    "Set protocol 'HTTPS' (ALB) or 'TLS' (NLB), a certificateArn and sslPolicy 'ELBSecurityPolicy-TLS13-1-2-2021-06'; turn port 80 listeners into { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"],
  },
  evidence: {
    properties: {
      "aws:lb/listener:Listener": ["protocol", "sslPolicy", "certificateArn", "defaultActions"],
      "aws:alb/listener:Listener": ["protocol", "sslPolicy", "certificateArn", "defaultActions"],
    },
  },
  config: {
    defaults: {
      allowedSslPolicyPrefixes: [
        "ELBSecurityPolicy-TLS13-1-2-",
        "ELBSecurityPolicy-TLS13-1-3-",
        "ELBSecurityPolicy-TLS-1-2-",
        "ELBSecurityPolicy-FS-1-2-",
      ],
    },
    schema: {
      allowedSslPolicyPrefixes: prefixes(
        "Name prefixes of the ELB security policies that allow only TLS 1.2 or newer.",
      ),
    },
  },
  checks: {
    "aws:lb/listener:Listener": (props, { config, report }) => checkListener(props, config, report),
    "aws:alb/listener:Listener": (props, { config, report }) => checkListener(props, config, report),
  },
});

interface PolicyStatementLike {
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly Action?: unknown;
  readonly Condition?: unknown;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** True if a policy document denies every request that is not sent over TLS. */
export function deniesInsecureTransport(document: unknown): boolean {
  let doc = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return false;
    }
  }
  const statements = asList((doc as { Statement?: unknown } | null)?.Statement) as PolicyStatementLike[];
  return statements.some((s) => {
    if (s.Effect !== "Deny") {
      return false;
    }
    const principal = s.Principal;
    const everyone =
      principal === "*" || asList((principal as { AWS?: unknown } | undefined)?.AWS).includes("*");
    const actions = asList(s.Action);
    const allActions = actions.includes("s3:*") || actions.includes("*");
    const bool = (s.Condition as { Bool?: Record<string, unknown> } | undefined)?.Bool;
    const insecure = bool?.["aws:SecureTransport"];
    return everyone && allActions && (insecure === "false" || insecure === false);
  });
}

/** Every bucket's policy denies non-TLS requests (stack: the policy is a separate resource). */
export const s3TlsOnlyBucketPolicy = stackRule({
  name: "s3-tls-only-bucket-policy",
  concern: "encryption-in-transit",
  description:
    "Every S3 bucket must have a bucket policy that denies all requests without TLS: a statement { Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }.",
  remediationSteps:
    "Use SecureBucket from @hcp/platform, or add an aws.s3.BucketPolicy for the bucket that starts with tlsOnlyStatements(bucketArn, objectsArn) from @hcp/platform.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule",
      "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
    ],
  },
  evidence: {
    properties: {
      "aws:s3/bucket:Bucket": ["bucket", "policy"],
      "aws:s3/bucketV2:BucketV2": ["bucket", "policy"],
      "aws:s3/bucketPolicy:BucketPolicy": ["bucket", "policy"],
    },
  },
  examines: [...BUCKET_TYPES, "aws:s3/bucketPolicy:BucketPolicy"],
  validate: (ctx) => {
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const policies = settingsByBucket(ctx, buckets, "aws:s3/bucketPolicy:BucketPolicy");
    for (const bucket of buckets) {
      ctx.each(() => {
        const attached = policies.of(bucket);
        const inline = (bucket.props as ArgsOf<"aws:s3/bucket:Bucket">).policy;
        if (attached.length === 0 && inline === undefined) {
          if (policies.unresolved) {
            return;
          }
          ctx.report(`Bucket '${bucket.resource.name}' has no bucket policy.`, bucket.resource.urn);
          return;
        }
        const documents = [
          ...attached.map((p) => () => p.props.policy),
          ...(inline === undefined ? [] : [() => inline]),
        ];
        const results = documents.map((read) => known(() => deniesInsecureTransport(read())));
        if (results.includes(true)) {
          return;
        }
        if (policies.unresolved) {
          return;
        }
        if (results.includes(UNKNOWN)) {
          // Cannot decide before the document is known: rethrow its unknown-value error.
          documents.forEach((read) => deniesInsecureTransport(read()));
        }
        ctx.report(
          `The policy of bucket '${bucket.resource.name}' does not deny requests without TLS (aws:SecureTransport false).`,
          bucket.resource.urn,
        );
      });
    }
  },
});

interface K8sTlsConfig {
  readonly tls13PolicyPrefixes: string[];
  readonly albIngressClasses: string[];
}

const ALB = "alb.ingress.kubernetes.io/";
const NLB = "service.beta.kubernetes.io/aws-load-balancer-";

function listenPorts(text: string | undefined): Array<Record<string, number>> | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as Array<Record<string, number>>) : undefined;
  } catch {
    return undefined;
  }
}

type ChartValues = Readonly<Record<string, unknown>> | undefined;

function checkControllerChart(
  chart: unknown,
  values: ChartValues,
  cfg: K8sTlsConfig,
  report: (m: string) => void,
) {
  if (typeof chart !== "string" || !chart.includes("aws-load-balancer-controller")) {
    return false;
  }
  const policy = values?.["defaultSSLPolicy"];
  if (!allowedPolicy(policy, cfg.tls13PolicyPrefixes)) {
    report(
      "values.defaultSSLPolicy of the AWS Load Balancer Controller is not a TLS 1.3 policy (the controller's default, ELBSecurityPolicy-2016-08, allows TLS 1.0).",
    );
  }
  return true;
}

/** Kubernetes-managed load balancers negotiate TLS 1.3. */
export const k8sLoadBalancerTls13 = resourceRule<K8sTlsConfig>({
  name: "k8s-load-balancer-tls13",
  concern: "encryption-in-transit",
  description:
    "Load balancers created from Kubernetes must negotiate TLS 1.3: ALB Ingresses need the annotation alb.ingress.kubernetes.io/ssl-policy: ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS13 policy) and HTTPS listen-ports (HTTP only with ssl-redirect); NLB Services with a certificate need aws-load-balancer-ssl-negotiation-policy set likewise; the AWS Load Balancer Controller chart needs values.defaultSSLPolicy set likewise.",
  remediationSteps:
    "Add the ssl-policy / ssl-negotiation-policy annotations (or the chart's defaultSSLPolicy) with ELBSecurityPolicy-TLS13-1-2-2021-06; set alb.ingress.kubernetes.io/listen-ports '[{\"HTTPS\":443}]'.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/",
      "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:networking.k8s.io/v1:Ingress": ["metadata.annotations", "spec.ingressClassName"],
      "kubernetes:core/v1:Service": ["metadata.annotations", "spec.type"],
      "kubernetes:helm.sh/v4:Chart": ["chart", "values.defaultSSLPolicy"],
      "kubernetes:helm.sh/v3:Chart": ["chart", "values.defaultSSLPolicy"],
      "kubernetes:helm.sh/v3:Release": ["chart", "values.defaultSSLPolicy"],
    },
  },
  config: {
    defaults: { tls13PolicyPrefixes: ["ELBSecurityPolicy-TLS13-"], albIngressClasses: ["alb"] },
    schema: {
      tls13PolicyPrefixes: prefixes("Name prefixes of ELB security policies that negotiate TLS 1.3."),
      albIngressClasses: {
        type: "array",
        items: { type: "string" },
        description: "IngressClass names served by the AWS Load Balancer Controller.",
      },
    },
  },
  checks: {
    "kubernetes:networking.k8s.io/v1:Ingress": (props, { config, report, args }) => {
      const annotations = props.metadata?.annotations ?? {};
      const cls = props.spec?.ingressClassName ?? annotations["kubernetes.io/ingress.class"];
      const isAlb =
        (typeof cls === "string" && config.albIngressClasses.includes(cls)) ||
        Object.keys(annotations).some((k) => k.startsWith(ALB));
      if (!isAlb) {
        args.notApplicable("not an ALB Ingress");
      }
      if (!allowedPolicy(annotations[`${ALB}ssl-policy`], config.tls13PolicyPrefixes)) {
        report(`annotation ${ALB}ssl-policy is missing or not a TLS 1.3 policy.`);
      }
      const ports = listenPorts(annotations[`${ALB}listen-ports`]);
      if (!ports) {
        report(
          `annotation ${ALB}listen-ports is missing or not JSON: without it the controller opens HTTP:80.`,
        );
        return;
      }
      const protocols = ports.flatMap((p) => Object.keys(p));
      if (!protocols.includes("HTTPS")) {
        report(`annotation ${ALB}listen-ports has no HTTPS listener.`);
      }
      if (protocols.includes("HTTP") && annotations[`${ALB}ssl-redirect`] === undefined) {
        report(`annotation ${ALB}listen-ports opens HTTP without ${ALB}ssl-redirect.`);
      }
    },
    "kubernetes:core/v1:Service": (props, { config, report, args }) => {
      const annotations = props.metadata?.annotations ?? {};
      if (props.spec?.type !== "LoadBalancer" || annotations[`${NLB}ssl-cert`] === undefined) {
        args.notApplicable("not a TLS-terminating load balancer Service");
      }
      if (!allowedPolicy(annotations[`${NLB}ssl-negotiation-policy`], config.tls13PolicyPrefixes)) {
        report(`annotation ${NLB}ssl-negotiation-policy is missing or not a TLS 1.3 policy.`);
      }
    },
    "kubernetes:helm.sh/v4:Chart": (props, { config, report, args }) => {
      if (!checkControllerChart(props.chart, props.values, config, report)) {
        args.notApplicable("not the AWS Load Balancer Controller chart");
      }
    },
    "kubernetes:helm.sh/v3:Chart": (props, { config, report, args }) => {
      const chart = "chart" in props ? props.chart : undefined;
      if (!checkControllerChart(chart, props.values, config, report)) {
        args.notApplicable("not the AWS Load Balancer Controller chart");
      }
    },
    "kubernetes:helm.sh/v3:Release": (props, { config, report, args }) => {
      if (!checkControllerChart(props.chart, props.values, config, report)) {
        args.notApplicable("not the AWS Load Balancer Controller chart");
      }
    },
  },
});

/**
 * pg_hba lines that accept connections without TLS: `host` (TLS optional) and `hostnossl`, unless
 * their method is `reject`. Works on a rendered pg_hba.conf and on Patroni's YAML list entries.
 */
export function insecureHbaLines(text: string): number[] {
  const lines: number[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw
      .replace(/#.*$/, "")
      .trim()
      .replace(/^-\s*/, "")
      .replace(/^["']|["']$/g, "")
      .trim();
    const tokens = line.split(/\s+/);
    if ((tokens[0] === "host" || tokens[0] === "hostnossl") && tokens.length >= 4) {
      const method = tokens.length >= 5 ? tokens[4] : tokens[3];
      if (method !== "reject" && !tokens.slice(3).includes("reject")) {
        lines.push(i + 1);
      }
    }
  });
  return lines;
}

function checkHba(
  data: Readonly<Record<string, string>> | undefined,
  field: string,
  report: (m: string) => void,
) {
  for (const key of Object.keys(data ?? {})) {
    const value = data?.[key];
    if (typeof value !== "string") {
      continue;
    }
    const bad = insecureHbaLines(value);
    if (bad.length > 0) {
      report(
        `${field}['${key}'] has pg_hba entries that accept connections without TLS (line ${bad.join(", ")}): use hostssl.`,
      );
    }
  }
}

/** PostgreSQL accepts only TLS connections (visible where pg_hba is rendered into a ConfigMap/Secret). */
export const postgresHbaTlsOnly = resourceRule({
  name: "postgres-hba-tls-only",
  concern: "encryption-in-transit",
  description:
    "Rendered PostgreSQL/Patroni pg_hba rules must only accept TLS connections: use hostssl lines (host and hostnossl lines are allowed only with method reject).",
  remediationSteps:
    "Change host lines to hostssl in the Patroni pg_hba list (or pg_hba.conf) rendered into the ConfigMap.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://www.postgresql.org/docs/16/auth-pg-hba-conf.html",
      "https://patroni.readthedocs.io/en/latest/yaml_configuration.html",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:core/v1:ConfigMap": ["data"],
      "kubernetes:core/v1:Secret": ["stringData"],
    },
  },
  checks: {
    "kubernetes:core/v1:ConfigMap": (props, { report }) => checkHba(props.data, "data", report),
    "kubernetes:core/v1:Secret": (props, { report }) => checkHba(props.stringData, "stringData", report),
  },
});

interface TlsKeyConfig {
  readonly minimumRsaBits: number;
  readonly allowedEcdsaCurves: string[];
  readonly maximumCaValidityYears: number;
}

/**
 * Keys and CA certificates a program generates (the data tier's CA) are strong enough for the TLS
 * that protects patient data in transit, and a CA does not outlive a reasonable rotation period.
 */
export const generatedTlsKeyStrength = resourceRule<TlsKeyConfig>({
  name: "generated-tls-key-strength",
  concern: "encryption-in-transit",
  description:
    "TLS keys generated by a program must be ECDSA on P-256 or P-384 (or RSA of 3072 bits or more), and a generated CA certificate must be valid for at most 10 years.",
  remediationSteps:
    "Create the key with algorithm 'ECDSA' and ecdsaCurve 'P256' (or RSA with rsaBits 3072+), and give the CA's SelfSignedCert validityPeriodHours of at most 10 years with earlyRenewalHours so it is rotated.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://www.pulumi.com/registry/packages/tls/api-docs/privatekey/",
      "https://www.pulumi.com/registry/packages/tls/api-docs/selfsignedcert/",
    ],
  },
  evidence: {
    properties: {
      "tls:index/privateKey:PrivateKey": ["algorithm", "rsaBits", "ecdsaCurve"],
      "tls:index/selfSignedCert:SelfSignedCert": ["isCaCertificate", "validityPeriodHours"],
    },
  },
  config: {
    defaults: { minimumRsaBits: 3072, allowedEcdsaCurves: ["P256", "P384"], maximumCaValidityYears: 10 },
    schema: {
      minimumRsaBits: { type: "integer", minimum: 2048, description: "Smallest RSA key accepted, bits." },
      allowedEcdsaCurves: prefixes("ECDSA curves accepted (tls provider names: P224, P256, P384, P521)."),
      maximumCaValidityYears: {
        type: "integer",
        minimum: 1,
        maximum: 30,
        description: "Longest validity of a generated CA certificate, years.",
      },
    },
  },
  checks: {
    "tls:index/privateKey:PrivateKey": (props, { config, report }) => {
      if (props.algorithm === "RSA") {
        const bits = props.rsaBits ?? 2048;
        if (bits < config.minimumRsaBits) {
          report(`RSA key of ${bits} bits: use ${config.minimumRsaBits} or more, or ECDSA.`);
        }
      } else if (props.algorithm === "ECDSA") {
        const curve = props.ecdsaCurve ?? "P224";
        if (!config.allowedEcdsaCurves.includes(curve)) {
          report(`ECDSA curve ${curve} is not allowed (allowed: ${config.allowedEcdsaCurves.join(", ")}).`);
        }
      } else {
        report(`algorithm ${String(props.algorithm)} is not an allowed TLS key algorithm (ECDSA or RSA).`);
      }
    },
    "tls:index/selfSignedCert:SelfSignedCert": (props, { config, report }) => {
      const years = props.validityPeriodHours / 8766;
      if (props.isCaCertificate && years > config.maximumCaValidityYears) {
        report(
          `CA certificate valid for ${years.toFixed(1)} years: at most ${config.maximumCaValidityYears} (validityPeriodHours ${config.maximumCaValidityYears * 8766}).`,
        );
      }
    },
  },
});

/** The rules of this concern. */
export const encryptionInTransitRules: readonly Rule[] = [
  generatedTlsKeyStrength,
  lbListenerTls,
  s3TlsOnlyBucketPolicy,
  k8sLoadBalancerTls13,
  postgresHbaTlsOnly,
];
