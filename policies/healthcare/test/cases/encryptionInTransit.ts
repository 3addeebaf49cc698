import type { ArgsOf } from "../../src/lib";
import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import { res, unknown } from "../fixtures";

const CERT = "arn:aws:acm:sa-east-1:111122223333:certificate/abc";

const listener = (props: Partial<ArgsOf<"aws:lb/listener:Listener">>) =>
  res("aws:lb/listener:Listener", "https", {
    loadBalancerArn: "arn:aws:elasticloadbalancing:sa-east-1:111122223333:loadbalancer/app/x/1",
    port: 443,
    protocol: "HTTPS",
    certificateArn: CERT,
    sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    defaultActions: [{ type: "forward", targetGroupArn: "tg" }],
    ...props,
  });

const TLS_DENY = {
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};
const ALLOW_TRAIL = {
  Sid: "CloudTrail",
  Effect: "Allow",
  Principal: { Service: "cloudtrail.amazonaws.com" },
  Action: "s3:PutObject",
  Resource: "arn:aws:s3:::b/*",
};

const bucketWithPolicy = (policy: string | undefined) => {
  const bucket = res("aws:s3/bucket:Bucket", "audit", { bucketPrefix: "hcp-audit-" });
  if (policy === undefined) {
    return [bucket];
  }
  return [
    bucket,
    res(
      "aws:s3/bucketPolicy:BucketPolicy",
      "audit-policy",
      { bucket: unknown.string(), policy },
      { dependsOn: { bucket: [bucket] } },
    ),
  ];
};

const ALB_ANNOTATIONS = {
  "alb.ingress.kubernetes.io/scheme": "internet-facing",
  "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
  "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "alb.ingress.kubernetes.io/certificate-arn": CERT,
};

const ingress = (annotations: Record<string, string>) =>
  res("kubernetes:networking.k8s.io/v1:Ingress", "app", {
    metadata: { name: "app", namespace: "app", annotations },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          host: "app.example.com",
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: "app", port: { number: 443 } } } },
            ],
          },
        },
      ],
    },
  });

const controllerChart = (values: Record<string, unknown>) =>
  res("kubernetes:helm.sh/v4:Chart", "lb-controller", {
    chart: "aws-load-balancer-controller",
    namespace: "kube-system",
    values,
  });

const PATRONI_YAML = [
  "postgresql:",
  "  pg_hba:",
  "    - local all all peer",
  "    - hostssl all all 10.0.0.0/8 scram-sha-256",
  "    - hostssl replication replicator 10.0.0.0/8 scram-sha-256",
  "    - host all all 0.0.0.0/0 reject",
].join("\n");

const configMap = (data: Record<string, string>) =>
  res("kubernetes:core/v1:ConfigMap", "patroni", { metadata: { name: "patroni", namespace: "data" }, data });

export const encryptionInTransitCases: Case[] = [
  ...cases("lb-listener-tls", [
    { kind: "pass", title: "HTTPS with a TLS 1.3 policy", resource: listener({}), expect: pass },
    {
      kind: "fail",
      title: "HTTPS with the 2016 policy (TLS 1.0)",
      resource: listener({ sslPolicy: "ELBSecurityPolicy-2016-08" }),
      expect: violation(/'ELBSecurityPolicy-2016-08' is not a TLS 1.2\+ policy/),
    },
    {
      kind: "fail",
      title: "HTTPS without sslPolicy",
      resource: listener({ sslPolicy: undefined }),
      expect: violation(/sslPolicy is not set/),
    },
    {
      kind: "fail",
      title: "plain HTTP forwarding",
      resource: listener({ protocol: "HTTP", port: 80, sslPolicy: undefined, certificateArn: undefined }),
      expect: violation(/not a redirect to HTTPS/),
    },
    {
      kind: "pass",
      title: "HTTP redirecting to HTTPS",
      resource: listener({
        protocol: "HTTP",
        port: 80,
        sslPolicy: undefined,
        certificateArn: undefined,
        defaultActions: [
          { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
        ],
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "NLB TCP listener",
      resource: listener({ protocol: "TCP", sslPolicy: undefined }),
      expect: violation(/protocol is TCP/),
    },
    {
      kind: "pass",
      title: "aws.alb.Listener alias type",
      resource: res("aws:alb/listener:Listener", "alb", {
        loadBalancerArn: "arn",
        protocol: "TLS",
        port: 5432,
        sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
        defaultActions: [{ type: "forward" }],
      }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "unknown ssl policy",
      resource: listener({ sslPolicy: unknown.string() }),
      expect: preview,
    },
  ]),
  ...cases("s3-tls-only-bucket-policy", [
    {
      kind: "pass",
      title: "policy with the TLS deny statement",
      stack: bucketWithPolicy(JSON.stringify({ Version: "2012-10-17", Statement: [TLS_DENY, ALLOW_TRAIL] })),
      expect: pass,
    },
    {
      kind: "fail",
      title: "policy without the TLS deny statement",
      stack: bucketWithPolicy(JSON.stringify({ Version: "2012-10-17", Statement: [ALLOW_TRAIL] })),
      expect: violation(/does not deny requests without TLS/),
    },
    {
      kind: "fail",
      title: "TLS deny that allows instead",
      stack: bucketWithPolicy(
        JSON.stringify({ Version: "2012-10-17", Statement: [{ ...TLS_DENY, Effect: "Allow" }] }),
      ),
      expect: violation(/does not deny/),
    },
    {
      kind: "fail",
      title: "bucket without a policy",
      stack: bucketWithPolicy(undefined),
      expect: violation(/has no bucket policy/),
    },
    {
      kind: "unknown",
      title: "policy document computed from unknown ARNs",
      stack: bucketWithPolicy(unknown.string()),
      expect: preview,
    },
  ]),
  ...cases("k8s-load-balancer-tls13", [
    {
      kind: "pass",
      title: "ALB Ingress with TLS 1.3 and HTTPS only",
      resource: ingress(ALB_ANNOTATIONS),
      expect: pass,
    },
    {
      kind: "fail",
      title: "ALB Ingress with a TLS 1.2 policy",
      resource: ingress({
        ...ALB_ANNOTATIONS,
        "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS-1-2-2017-01",
      }),
      expect: violation(/ssl-policy is missing or not a TLS 1.3 policy/),
    },
    {
      kind: "fail",
      title: "ALB Ingress opening HTTP without redirect",
      resource: ingress({
        ...ALB_ANNOTATIONS,
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
      }),
      expect: violation(/opens HTTP without/),
    },
    {
      kind: "pass",
      title: "HTTP with ssl-redirect",
      resource: ingress({
        ...ALB_ANNOTATIONS,
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
      }),
      expect: pass,
    },
    {
      kind: "pass",
      title: "controller chart with a TLS 1.3 default policy",
      resource: controllerChart({
        clusterName: "c",
        defaultSSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "controller chart without defaultSSLPolicy",
      resource: controllerChart({ clusterName: "c" }),
      expect: violation(/defaultSSLPolicy/),
    },
    {
      kind: "pass",
      title: "another chart is not applicable",
      resource: res("kubernetes:helm.sh/v4:Chart", "cm", { chart: "cert-manager", values: {} }),
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "NLB Service with a certificate but an old negotiation policy",
      resource: res("kubernetes:core/v1:Service", "api", {
        metadata: {
          name: "api",
          namespace: "app",
          annotations: {
            "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": CERT,
            "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy":
              "ELBSecurityPolicy-2016-08",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
          },
        },
        spec: { type: "LoadBalancer", ports: [{ port: 443 }] },
      }),
      expect: violation(/ssl-negotiation-policy/),
    },
    { kind: "unknown", title: "unknown annotations", resource: ingress(unknown.object()), expect: preview },
  ]),
  ...cases("postgres-hba-tls-only", [
    {
      kind: "pass",
      title: "Patroni config with hostssl only (and a reject line)",
      resource: configMap({ "patroni.yml": PATRONI_YAML }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a host line accepting non-TLS connections",
      resource: configMap({
        "patroni.yml": PATRONI_YAML.replace("- hostssl all all 10.0.0.0/8", "- host all all 10.0.0.0/8"),
      }),
      expect: violation(
        /data\['patroni.yml'\] has pg_hba entries that accept connections without TLS \(line 4\)/,
      ),
    },
    {
      kind: "fail",
      title: "hostnossl in a rendered pg_hba.conf",
      resource: configMap({ "pg_hba.conf": "local all all peer\nhostnossl all all 10.0.0.0/8 md5\n" }),
      expect: violation(/line 2/),
    },
    {
      kind: "unknown",
      title: "config rendered from unknown values",
      resource: configMap({ "patroni.yml": unknown.string() }),
      expect: preview,
    },
  ]),
  ...cases("generated-tls-key-strength", [
    {
      kind: "pass",
      title: "ECDSA P-256 key",
      resource: res("tls:index/privateKey:PrivateKey", "ca-key", { algorithm: "ECDSA", ecdsaCurve: "P256" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "RSA 2048 key",
      resource: res("tls:index/privateKey:PrivateKey", "ca-key", { algorithm: "RSA", rsaBits: 2048 }),
      expect: violation(/RSA key of 2048 bits: use 3072 or more/),
    },
    {
      kind: "fail",
      title: "ECDSA without a curve (the provider's default is P224)",
      resource: res("tls:index/privateKey:PrivateKey", "ca-key", { algorithm: "ECDSA" }),
      expect: violation(/ECDSA curve P224 is not allowed/),
    },
    {
      kind: "pass",
      title: "CA certificate valid 10 years",
      resource: res("tls:index/selfSignedCert:SelfSignedCert", "ca", {
        privateKeyPem: "k",
        isCaCertificate: true,
        validityPeriodHours: 87660,
        allowedUses: ["cert_signing"],
      }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "CA certificate valid 30 years",
      resource: res("tls:index/selfSignedCert:SelfSignedCert", "ca", {
        privateKeyPem: "k",
        isCaCertificate: true,
        validityPeriodHours: 262980,
        allowedUses: ["cert_signing"],
      }),
      expect: violation(/CA certificate valid for 30\.0 years: at most 10/),
    },
    {
      kind: "unknown",
      title: "key algorithm unknown",
      resource: res("tls:index/privateKey:PrivateKey", "ca-key", { algorithm: unknown.string() }),
      expect: preview,
    },
  ]),
];
