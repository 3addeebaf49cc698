import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";

/** One service behind the region's ALB. */
export interface IngressBackend {
  /** Kubernetes Service (and Ingress) name. */
  readonly service: string;
  readonly port: number;
  /** Public and regional host names (both on the certificate and in the rules). */
  readonly hosts: ReadonlyArray<{ readonly hostname: string; readonly regionalHostname: string }>;
  readonly paths: ReadonlyArray<{ readonly path: string; readonly pathType: "Prefix" | "Exact" }>;
}

/** WAF settings (`workloads.ingress.waf`). */
export interface WafSettings {
  readonly rateLimit: { readonly limit: number; readonly windowSeconds: number };
  /** ISO 3166 alpha-2 codes blocked outright. */
  readonly blockedCountries: readonly string[];
}

/** Arguments of {@link PublicIngress}. */
export interface PublicIngressArgs {
  readonly namespace: pulumi.Input<string>;
  /** IngressGroup name: every service shares the region's one ALB. */
  readonly groupName: string;
  /**
   * Physical name of the EKS cluster, as the AWS Load Balancer Controller is configured with it (its
   * `clusterName`): the controller tags the ALB with it, which is how the ALB is looked up.
   */
  readonly clusterName: pulumi.Input<string>;
  readonly backends: readonly IngressBackend[];
  /** The environment's public hosted zone (ACM DNS validation and the regional alias records). */
  readonly zoneId: pulumi.Input<string>;
  /** A TLS 1.3 ELB security policy (`workloads.ingress.sslPolicy`). */
  readonly sslPolicy: string;
  readonly waf: WafSettings;
  readonly accessLogExpiryDays: number;
  /** Prefix of the access-log bucket's name (S3 appends a suffix), at most 37 characters. */
  readonly bucketPrefix: string;
  /** Production: ALB deletion protection, and the log bucket protected from `pulumi destroy`. */
  readonly protect: boolean;
}

/** The AWS managed rule groups every web ACL evaluates, in priority order. */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesSQLiRuleSet",
] as const;

/** The web ACL's rules: managed groups, the per-IP rate limit, then (when configured) the geo block. */
export function wafRules(waf: WafSettings, metricPrefix: string): aws.types.input.wafv2.WebAclRule[] {
  const visibility = (metric: string) => ({
    cloudwatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName: `${metricPrefix}-${metric}`,
  });
  const rules: aws.types.input.wafv2.WebAclRule[] = MANAGED_RULE_GROUPS.map((group, i) => ({
    name: group,
    priority: i,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
    visibilityConfig: visibility(group),
  }));
  rules.push({
    name: "rate-limit-per-ip",
    priority: rules.length,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit: waf.rateLimit.limit,
        evaluationWindowSec: waf.rateLimit.windowSeconds,
        aggregateKeyType: "IP",
      },
    },
    visibilityConfig: visibility("rate-limit"),
  });
  if (waf.blockedCountries.length > 0) {
    rules.push({
      name: "geo-block",
      priority: rules.length,
      action: { block: {} },
      statement: { geoMatchStatement: { countryCodes: [...waf.blockedCountries] } },
      visibilityConfig: visibility("geo-block"),
    });
  }
  return rules;
}

/**
 * The load balancer attributes the controller sets: access logs, deletion protection in production,
 * the strictest HTTP desync mitigation, invalid header fields dropped.
 */
export function loadBalancerAttributes(logBucket: string, protect: boolean): string {
  return [
    "access_logs.s3.enabled=true",
    `access_logs.s3.bucket=${logBucket}`,
    "access_logs.s3.prefix=alb",
    `deletion_protection.enabled=${protect}`,
    "routing.http.desync_mitigation_mode=strictest",
    "routing.http.drop_invalid_header_fields.enabled=true",
  ].join(",");
}

/**
 * The tags the AWS Load Balancer Controller puts on the ALB of an explicit IngressGroup, which
 * identify it among every load balancer of the account and region: `elbv2.k8s.aws/cluster` (the
 * controller's cluster name), `ingress.k8s.aws/stack` (the group name) and
 * `ingress.k8s.aws/resource: LoadBalancer` (controller source, `pkg/deploy/tracking/provider.go`).
 * The controller also finds its existing ALB by these tags, not by name, so the lookup works for an
 * ALB it created under its generated `k8s-<group>-<hash>` name.
 */
export function controllerLoadBalancerTags(clusterName: string, groupName: string): Record<string, string> {
  return {
    "elbv2.k8s.aws/cluster": clusterName,
    "ingress.k8s.aws/stack": groupName,
    "ingress.k8s.aws/resource": "LoadBalancer",
  };
}

/** The AWS Load Balancer Controller annotations of every Ingress of the group. */
export function ingressAnnotations(args: {
  readonly groupName: string;
  readonly certificateArn: string;
  readonly webAclArn: string;
  readonly sslPolicy: string;
  readonly logBucket: string;
  readonly protect: boolean;
}): Record<string, string> {
  return {
    "alb.ingress.kubernetes.io/scheme": "internet-facing",
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/group.name": args.groupName,
    "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
    "alb.ingress.kubernetes.io/certificate-arn": args.certificateArn,
    "alb.ingress.kubernetes.io/ssl-policy": args.sslPolicy,
    "alb.ingress.kubernetes.io/wafv2-acl-arn": args.webAclArn,
    "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
    "alb.ingress.kubernetes.io/load-balancer-attributes": loadBalancerAttributes(
      args.logBucket,
      args.protect,
    ),
  };
}

/**
 * The region's internet-facing entry: an ACM certificate for every public and regional host name,
 * validated in the environment's zone; a WAFv2 web ACL (AWS managed rule groups, per-IP rate limit,
 * optional geo block); the access-log bucket; one Ingress per service, all in one IngressGroup (one
 * ALB, HTTP redirected to HTTPS, TLS 1.3 policy), and the regional alias records Route 53 health
 * checks probe.
 *
 * ALB access logs can only be delivered to a bucket encrypted with SSE-S3 (Amazon S3 managed keys):
 * ELB's log delivery cannot use a KMS key, so this bucket is the platform's one SSE-S3 bucket and
 * holds no PHI (request lines, client addresses, TLS details).
 */
export class PublicIngress extends pulumi.ComponentResource {
  readonly certificate: aws.acm.Certificate;
  readonly webAcl: aws.wafv2.WebAcl;
  readonly logBucket: aws.s3.Bucket;
  readonly ingresses: Readonly<Record<string, k8s.networking.v1.Ingress>>;
  /** DNS name of the ALB the controller created for the group. */
  readonly loadBalancerDnsName: pulumi.Output<string>;
  /** Its canonical hosted zone id. */
  readonly loadBalancerZoneId: pulumi.Output<string>;
  /** Its ARN. */
  readonly loadBalancerArn: pulumi.Output<string>;
  /** Its ARN suffix (`app/<name>/<id>`): the `LoadBalancer` dimension of its CloudWatch metrics. */
  readonly loadBalancerArnSuffix: pulumi.Output<string>;

  constructor(name: string, args: PublicIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:workloads:PublicIngress", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const names = args.backends.flatMap((b) => b.hosts.flatMap((h) => [h.hostname, h.regionalHostname]));
    if (names.length === 0) {
      throw new pulumi.ResourceError(
        `PublicIngress ${name}: no host names. Give at least one service an 'ingress' with hosts.`,
        this,
      );
    }
    this.certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      {
        domainName: names[0],
        subjectAlternativeNames: names.slice(1),
        validationMethod: "DNS",
        keyAlgorithm: "EC_prime256v1",
        options: { certificateTransparencyLoggingPreference: "ENABLED" },
      },
      { ...child, deleteBeforeReplace: false },
    );
    const option = (host: string) =>
      this.certificate.domainValidationOptions.apply((options) => {
        const o = options.find((v) => v.domainName === host);
        if (!o) {
          throw new Error(`ACM returned no validation record for ${host}`);
        }
        return o;
      });
    const records = names.map(
      (host) =>
        new aws.route53.Record(
          `${name}-validation-${host}`,
          {
            zoneId: args.zoneId,
            allowOverwrite: true,
            ttl: 300,
            name: option(host).apply((o) => o.resourceRecordName),
            type: option(host).apply((o) => o.resourceRecordType),
            records: [option(host).apply((o) => o.resourceRecordValue)],
          },
          child,
        ),
    );
    const validation = new aws.acm.CertificateValidation(
      `${name}-validation`,
      { certificateArn: this.certificate.arn, validationRecordFqdns: records.map((r) => r.fqdn) },
      child,
    );

    this.webAcl = new aws.wafv2.WebAcl(
      `${name}-waf`,
      {
        scope: "REGIONAL",
        description: `Internet-facing ALB of ${args.groupName}`,
        defaultAction: { allow: {} },
        rules: wafRules(args.waf, args.groupName),
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          sampledRequestsEnabled: true,
          metricName: `${args.groupName}-web-acl`,
        },
      },
      child,
    );

    this.logBucket = new aws.s3.Bucket(
      `${name}-logs`,
      { bucketPrefix: args.bucketPrefix, forceDestroy: !args.protect },
      { ...child, protect: args.protect },
    );
    const bucketChild = { parent: this, dependsOn: inheritedDependsOn(opts, this.logBucket) };
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-logs-encryption`,
      {
        bucket: this.logBucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      bucketChild,
    );
    new aws.s3.BucketPublicAccessBlock(
      `${name}-logs-public-access`,
      {
        bucket: this.logBucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      bucketChild,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-logs-ownership`,
      { bucket: this.logBucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      bucketChild,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-logs-lifecycle`,
      {
        bucket: this.logBucket.id,
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: args.accessLogExpiryDays },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
          },
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      bucketChild,
    );
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const elbAccount = aws.elb.getServiceAccountOutput({}, { parent: this }).arn;
    const logPolicy = new aws.s3.BucketPolicy(
      `${name}-logs-policy`,
      {
        bucket: this.logBucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.logBucket.arn, pulumi.interpolate`${this.logBucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
              // ELB delivers from its regional account (regions opened before August 2022).
              Sid: "ElbLogDelivery",
              Effect: "Allow",
              Principal: { AWS: elbAccount },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${this.logBucket.arn}/alb/AWSLogs/${accountId}/*`,
            },
          ],
        }),
      },
      bucketChild,
    );

    const annotations = pulumi
      .all([validation.certificateArn, this.webAcl.arn, this.logBucket.bucket])
      .apply(([certificateArn, webAclArn, logBucket]) =>
        ingressAnnotations({
          groupName: args.groupName,
          certificateArn,
          webAclArn,
          sslPolicy: args.sslPolicy,
          logBucket,
          protect: args.protect,
        }),
      );
    this.ingresses = Object.fromEntries(
      args.backends.map((b) => [
        b.service,
        new k8s.networking.v1.Ingress(
          `${name}-${b.service}`,
          {
            metadata: { name: b.service, namespace: args.namespace, annotations },
            spec: {
              ingressClassName: "alb",
              tls: [{ hosts: b.hosts.flatMap((h) => [h.hostname, h.regionalHostname]) }],
              rules: b.hosts.flatMap((h) =>
                [h.hostname, h.regionalHostname].map((host) => ({
                  host,
                  http: {
                    paths: b.paths.map((p) => ({
                      path: p.path,
                      pathType: p.pathType,
                      backend: { service: { name: b.service, port: { number: b.port } } },
                    })),
                  },
                })),
              ),
            },
          },
          { parent: this, dependsOn: inheritedDependsOn(opts, logPolicy) },
        ),
      ]),
    );
    const first = this.ingresses[args.backends[0].service];
    this.loadBalancerDnsName = first.status.apply((s) => {
      const hostname = s?.loadBalancer?.ingress?.[0]?.hostname;
      if (!hostname) {
        throw new Error(`Ingress ${args.backends[0].service} has no load balancer address yet`);
      }
      return hostname;
    });
    this.loadBalancerZoneId = aws.elb.getHostedZoneIdOutput({}, { parent: this }).id;
    // The controller creates the ALB, so Pulumi can only look it up, and only once it exists: the
    // tags are derived from the Ingress's address, so the lookup waits for the controller to report
    // one (and stays unknown in the preview of a first deployment instead of failing).
    const loadBalancer = aws.lb.getLoadBalancerOutput(
      {
        tags: pulumi
          .all([this.loadBalancerDnsName, args.clusterName])
          .apply(([, clusterName]) => controllerLoadBalancerTags(clusterName, args.groupName)),
      },
      { parent: this },
    );
    this.loadBalancerArn = loadBalancer.arn;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
    for (const b of args.backends) {
      for (const h of b.hosts) {
        new aws.route53.Record(
          `${name}-regional-${h.regionalHostname}`,
          {
            zoneId: args.zoneId,
            name: h.regionalHostname,
            type: "A",
            aliases: [
              {
                name: this.loadBalancerDnsName,
                zoneId: this.loadBalancerZoneId,
                evaluateTargetHealth: true,
              },
            ],
          },
          child,
        );
      }
    }
    this.registerOutputs({});
  }
}
