import type { PolicyResource } from "@pulumi/policy";
import {
  containersOf,
  namespaceOf,
  podTemplate,
  WORKLOAD_TYPES,
  workloadEvidence,
  type WorkloadType,
} from "../k8s";
import { type ResourceChecks, type ResourceContext, type Rule, resourceRule, stackRule } from "../policy";
import { dependenciesOf, nonEmpty } from "../read";
import type { ArgsOf } from "../types";
import { Checks, known, UNKNOWN } from "../unknowns";
import { requireCustomerKey } from "./encryptionAtRest";
import { namespaceKey } from "./resilience";

/**
 * Rules for what the workloads and edge layers add: container images pinned (digests in production,
 * never `latest`), a WAF in front of every internet-facing ALB, the ElastiCache replication group
 * encrypted, authenticated and (in production) multi-AZ, and every HorizontalPodAutoscaler scaling
 * a workload that exists. Already covered elsewhere and not repeated here: the Ingress TLS 1.3
 * policy (`k8s-load-balancer-tls13`), internal-only LoadBalancer Services
 * (`k8s-internal-load-balancer`), PodDisruptionBudgets of replicated workloads, HPA-scaled ones
 * included (`pod-disruption-budget`).
 */

/** Reads values so that an unknown one throws the analyzer's unknown-value error (preview). */
function readAll(...reads: Array<() => unknown>): void {
  for (const read of reads) {
    read();
  }
}

// ---------------------------------------------------------------------------------------------
// Container images

/** An image reference split into its parts (`registry/repository[:tag][@digest]`). */
export interface ImageReference {
  /** Everything before the tag and digest. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits an image reference; a `:` in the registry part (`host:5000/repo`) is not a tag. */
export function parseImageReference(ref: string): ImageReference {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  const tag = colon > slash ? rest.slice(colon + 1) : undefined;
  const name = colon > slash ? rest.slice(0, colon) : rest;
  return { name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

interface ImageConfig {
  /** Whether images of {@link ImageConfig.digestRequiredImages} must be pinned by digest (production). */
  readonly requireDigest: boolean;
  /** Regular expressions of image references that must carry a digest when it is required. */
  readonly digestRequiredImages: string[];
}

/** What is wrong with one image reference, or nothing. */
export function imageProblems(ref: unknown, config: ImageConfig): string[] {
  if (typeof ref !== "string" || ref.trim() === "") {
    return ["has no image"];
  }
  const image = parseImageReference(ref);
  const problems: string[] = [];
  if (image.digest !== undefined && !DIGEST.test(image.digest)) {
    problems.push(`has a malformed digest '${image.digest}' (expected sha256:<64 hex>)`);
  }
  if (image.tag !== undefined && /^latest$/i.test(image.tag)) {
    problems.push(`uses the tag '${image.tag}', which moves: two pods can run different code`);
  } else if (image.tag === undefined && image.digest === undefined) {
    problems.push("has neither a tag nor a digest, so the runtime pulls 'latest'");
  }
  const digestRequired =
    config.requireDigest && config.digestRequiredImages.some((p) => new RegExp(p).test(ref));
  if (digestRequired && image.digest === undefined) {
    problems.push(
      "is not pinned by digest (@sha256:...), which this environment requires for the platform's images",
    );
  }
  return problems;
}

/**
 * Image overrides in a chart's values: strings under an `image` key and `tag` members of objects,
 * by path. Charts render pods from these, so a `latest` here reaches the rendered Deployment.
 */
export function chartImageProblems(values: unknown, path = "values"): string[] {
  const problems: string[] = [];
  if (Array.isArray(values)) {
    values.forEach((v, i) => problems.push(...chartImageProblems(v, `${path}[${i}]`)));
    return problems;
  }
  if (typeof values !== "object" || values === null) {
    return problems;
  }
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    const where = `${path}.${key}`;
    if (key === "tag" && typeof value === "string" && /^latest$/i.test(value)) {
      problems.push(`${where} is '${value}'`);
    } else if (key === "image" && typeof value === "string") {
      const tag = parseImageReference(value).tag;
      if (tag !== undefined && /^latest$/i.test(tag)) {
        problems.push(`${where} uses the tag '${tag}'`);
      }
    } else {
      problems.push(...chartImageProblems(value, where));
    }
  }
  return problems;
}

/** The default image pattern: images in an ECR registry, i.e. the ones the release pipeline builds. */
export const ECR_IMAGE_PATTERN = "^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/";

function imageChecks(): ResourceChecks<ImageConfig> {
  const checks: Partial<
    Record<WorkloadType, (props: ArgsOf<WorkloadType>, ctx: ResourceContext<ImageConfig>) => void>
  > = {};
  for (const type of WORKLOAD_TYPES) {
    checks[type] = (props, { config, report }) => {
      for (const { container, path, label } of containersOf(podTemplate(type, props))) {
        const problems = imageProblems(container.image, config);
        if (problems.length > 0) {
          report(`${label} (${path}.image) ${problems.join("; ")}.`);
        }
      }
    };
  }
  const chart = (values: unknown, report: (m: string) => void) => {
    const problems = chartImageProblems(values);
    if (problems.length > 0) {
      report(`chart image overrides use latest: ${problems.join(", ")}. Set the release's tag or digest.`);
    }
  };
  return {
    ...checks,
    "kubernetes:helm.sh/v4:Chart": (props, { report }) => chart(props.values, report),
    "kubernetes:helm.sh/v3:Chart": (props, { report }) => chart(props.values, report),
  };
}

/** Containers run exactly the image that was approved. */
export const containerImagePinned = resourceRule<ImageConfig>({
  name: "container-image-pinned",
  concern: "kubernetes-security",
  description:
    "Container images must be pinned: never the tag latest nor an untagged image (which pulls latest), anywhere; where requireDigest is set (production), images matching digestRequiredImages (the platform's own ECR images) must carry a digest (@sha256:<64 hex>). Applies to every container of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs (chart-rendered ones included) and to image overrides in Helm chart values.",
  remediationSteps:
    "Set the service's image.digest in the environment file (the release workflow does for production), or an immutable release tag outside production; in chart values set image.tag to the chart's release, never latest.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(c)(1)", "164.308(a)(1)(ii)(B)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: [
      "https://kubernetes.io/docs/concepts/containers/images/#image-names",
      "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
    ],
  },
  evidence: {
    properties: {
      ...workloadEvidence(["containers[].image", "initContainers[].image", "ephemeralContainers[].image"]),
      "kubernetes:helm.sh/v4:Chart": ["values"],
      "kubernetes:helm.sh/v3:Chart": ["values"],
    },
  },
  config: {
    defaults: { requireDigest: true, digestRequiredImages: [ECR_IMAGE_PATTERN] },
    schema: {
      requireDigest: {
        type: "boolean",
        description: "True where digests are required (tier production, from policyConfigFor).",
      },
      digestRequiredImages: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description:
          "Regular expressions of the image references that must carry a digest (default: images in an ECR registry, which the release pipeline builds and pins).",
      },
    },
  },
  checks: imageChecks(),
});

/** Helm chart types whose rendered children carry the chart in their URN's type chain. */
const CHART_TYPES = ["kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart"] as const;

/** Whether a resource was rendered by a Helm chart component (its URN's parent type chain names one). */
export function renderedByChart(urn: string): boolean {
  // urn:pulumi:<stack>::<project>::<parent type>$<parent type>$<type>::<name>
  const chain = urn.split("::")[2] ?? "";
  return chain
    .split("$")
    .slice(0, -1)
    .some((t) => (CHART_TYPES as readonly string[]).includes(t));
}

interface ThirdPartyImageConfig {
  /** Regular expressions of the platform's own images (the mandatory rule's digestRequiredImages). */
  readonly platformImages: string[];
}

function thirdPartyImageChecks(): ResourceChecks<ThirdPartyImageConfig> {
  const checks: Partial<
    Record<WorkloadType, (props: ArgsOf<WorkloadType>, ctx: ResourceContext<ThirdPartyImageConfig>) => void>
  > = {};
  for (const type of WORKLOAD_TYPES) {
    checks[type] = (props, { config, report, args }) => {
      if (renderedByChart(args.urn)) {
        args.notApplicable("rendered by a pinned Helm chart: the chart version pins its images");
      }
      for (const { container, path, label } of containersOf(podTemplate(type, props))) {
        const ref = container.image;
        if (typeof ref !== "string" || config.platformImages.some((p) => new RegExp(p).test(ref))) {
          continue;
        }
        const image = parseImageReference(ref);
        if (image.digest === undefined && image.tag !== undefined && !/^latest$/i.test(image.tag)) {
          report(
            `${label} (${path}.image) runs the third-party image ${image.name} by its tag '${image.tag}' only: ` +
              "a tag pushed again in its registry changes what runs with no change here. Set the image's digest " +
              "in the environment file (Renovate's pinDigests adds and moves it).",
          );
        }
      }
    };
  }
  return checks;
}

/** Third-party images the platform configures itself carry a digest (advisory). */
export const thirdPartyImageDigest = resourceRule<ThirdPartyImageConfig>({
  name: "third-party-image-digest",
  concern: "kubernetes-security",
  description:
    "Third-party container images the platform names itself (the TimescaleDB image, the exporters, the AWS CLI; anything outside platformImages and not rendered by a Helm chart) should be pinned by digest: public registry tags are mutable. Advisory, because a digest can only be read from the registry (Renovate pins it); `latest` and untagged images are container-image-pinned's mandatory findings. Images a pinned Helm chart renders are pinned by the chart version and not examined.",
  remediationSteps:
    "Add `digest: sha256:<64 hex>` next to the image's tag in Pulumi.<env>.yaml (data.image, data.backup.archiveCopyImage, observability.exporters.*), or merge Renovate's pin-digest pull request.",
  severity: "medium",
  enforcementLevel: "advisory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(B)"],
    lgpd: ["Art. 46"],
    docs: [
      "https://kubernetes.io/docs/concepts/containers/images/#image-names",
      "https://docs.renovatebot.com/configuration-options/#pindigests",
    ],
  },
  evidence: {
    properties: workloadEvidence([
      "containers[].image",
      "initContainers[].image",
      "ephemeralContainers[].image",
    ]),
  },
  config: {
    defaults: { platformImages: [ECR_IMAGE_PATTERN] },
    schema: {
      platformImages: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description:
          "Regular expressions of the platform's own images (default: images in an ECR registry), which container-image-pinned covers.",
      },
    },
  },
  checks: thirdPartyImageChecks(),
});

// ---------------------------------------------------------------------------------------------
// WAF on internet-facing ALBs

const ALB = "alb.ingress.kubernetes.io/";

interface WafConfig {
  readonly albIngressClasses: string[];
}

type IngressArgs = ArgsOf<"kubernetes:networking.k8s.io/v1:Ingress">;

function isAlbIngress(props: IngressArgs, classes: readonly string[]): boolean {
  const annotations = props.metadata?.annotations ?? {};
  const cls = props.spec?.ingressClassName ?? annotations["kubernetes.io/ingress.class"];
  return (
    (typeof cls === "string" && classes.includes(cls)) ||
    Object.keys(annotations).some((k) => k.startsWith(ALB))
  );
}

const LB_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"] as const;
const ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";

/** The associations whose `resourceArn` is this load balancer (by dependency, else by a known ARN). */
function associationsOf(lb: PolicyResource, associations: readonly PolicyResource[]): PolicyResource[] {
  const arn = known(() => (lb.props as { arn?: unknown }).arn);
  return associations.filter((a) => {
    if (dependenciesOf(a, "resourceArn").some((d) => d.urn === lb.urn)) {
      return true;
    }
    const target = known(() => (a.props as ArgsOf<typeof ASSOCIATION>).resourceArn);
    return typeof arn === "string" && arn !== "" && target === arn;
  });
}

/** Internet-facing ALBs (Ingress groups of the controller, aws.lb.LoadBalancer) have a WAF web ACL. */
export const albWafAttached = stackRule<WafConfig>({
  name: "alb-waf-attached",
  concern: "network-security",
  description:
    "Every internet-facing Application Load Balancer must have an AWS WAFv2 web ACL: an ALB Ingress with alb.ingress.kubernetes.io/scheme: internet-facing needs alb.ingress.kubernetes.io/wafv2-acl-arn (on it or on another Ingress of its IngressGroup, which shares the ALB), and an aws.lb.LoadBalancer of type application that is not internal needs an aws.wafv2.WebAclAssociation.",
  remediationSteps:
    "Create an aws.wafv2.WebAcl (scope REGIONAL, AWS managed rule groups, a rate limit) and set the Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn to its ARN (PublicIngress of the workloads layer does), or add new aws.wafv2.WebAclAssociation(name, { resourceArn: lb.arn, webAclArn: acl.arn }).",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(B)", "164.312(a)(1)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: [
      "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#addons",
      "https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-associating-aws-resource.html",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:networking.k8s.io/v1:Ingress": [
        "metadata.annotations",
        "metadata.namespace",
        "spec.ingressClassName",
      ],
      "aws:lb/loadBalancer:LoadBalancer": ["internal", "loadBalancerType"],
      "aws:alb/loadBalancer:LoadBalancer": ["internal", "loadBalancerType"],
      "aws:wafv2/webAclAssociation:WebAclAssociation": ["resourceArn", "webAclArn"],
    },
  },
  config: {
    defaults: { albIngressClasses: ["alb"] },
    schema: {
      albIngressClasses: {
        type: "array",
        items: { type: "string" },
        description: "IngressClass names served by the AWS Load Balancer Controller.",
      },
    },
  },
  examines: ["kubernetes:networking.k8s.io/v1:Ingress", ...LB_TYPES, ASSOCIATION],
  validate: (ctx) => {
    // Ingresses by ALB: an IngressGroup shares one ALB; an Ingress without a group has its own.
    const groups = new Map<
      string,
      Array<{ resource: PolicyResource; public: boolean; waf: boolean; label: string }>
    >();
    // Ingresses not read yet (unknown values in a preview): their group may carry the web ACL.
    let unread = 0;
    for (const ing of ctx.ofType("kubernetes:networking.k8s.io/v1:Ingress")) {
      unread += 1;
      ctx.each(() => {
        const props = ing.props;
        if (!isAlbIngress(props, ctx.config.albIngressClasses)) {
          unread -= 1;
          return;
        }
        const annotations = props.metadata?.annotations ?? {};
        const label = `${namespaceOf(props.metadata)}/${props.metadata?.name ?? ing.resource.name}`;
        const group = annotations[`${ALB}group.name`];
        const key = nonEmpty(group) ? `group ${group}` : `ingress ${label}`;
        groups.set(key, [
          ...(groups.get(key) ?? []),
          {
            resource: ing.resource,
            public: annotations[`${ALB}scheme`] === "internet-facing",
            waf: nonEmpty(annotations[`${ALB}wafv2-acl-arn`]),
            label,
          },
        ]);
        unread -= 1;
      });
    }
    for (const [key, members] of unread > 0 ? [] : groups) {
      if (members.some((m) => m.public) && !members.some((m) => m.waf)) {
        for (const m of members.filter((x) => x.public)) {
          ctx.report(
            `Ingress '${m.label}' (${key}) is internet-facing and no Ingress of its ALB sets ${ALB}wafv2-acl-arn.`,
            m.resource.urn,
          );
        }
      }
    }
    const associations = ctx.ofType(ASSOCIATION).map((a) => a.resource);
    for (const lb of ctx.ofType(...LB_TYPES)) {
      ctx.each(() => {
        const props = lb.props as ArgsOf<"aws:lb/loadBalancer:LoadBalancer">;
        if (props.internal === true || (props.loadBalancerType ?? "application") !== "application") {
          return;
        }
        if (associationsOf(lb.resource, associations).length > 0) {
          return;
        }
        // An association whose target is still unknown may be this one: decide once it is known.
        for (const a of associations) {
          if (dependenciesOf(a, "resourceArn").length === 0) {
            readAll(() => (a.props as ArgsOf<typeof ASSOCIATION>).resourceArn);
          }
        }
        ctx.report(
          `Load balancer '${lb.resource.name}' is internet-facing and no aws.wafv2.WebAclAssociation attaches a web ACL to it.`,
          lb.resource.urn,
        );
      });
    }
  },
});

const LISTENER_TYPES = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"] as const;

interface PublicTlsConfig {
  readonly tls13PolicyPrefixes: string[];
}

/** The load balancers a listener belongs to (by dependency, else by a known ARN). */
function loadBalancersOf(listener: PolicyResource, lbs: readonly PolicyResource[]): PolicyResource[] {
  const deps = new Set(dependenciesOf(listener, "loadBalancerArn").map((d) => d.urn));
  const byDependency = lbs.filter((lb) => deps.has(lb.urn));
  if (byDependency.length > 0) {
    return byDependency;
  }
  const arn = known(() => (listener.props as ArgsOf<"aws:lb/listener:Listener">).loadBalancerArn);
  return lbs.filter((lb) => {
    const own = known(() => (lb.props as { arn?: unknown }).arn);
    return typeof arn === "string" && arn !== "" && own === arn;
  });
}

/** Internet-facing load balancers of the stack negotiate TLS 1.3 (aws.lb listeners). */
export const publicLbListenerTls13 = stackRule<PublicTlsConfig>({
  name: "public-lb-listener-tls13",
  concern: "encryption-in-transit",
  description:
    "HTTPS and TLS listeners of an internet-facing aws.lb.LoadBalancer of the stack (internal not true) must use a TLS 1.3 security policy (sslPolicy ELBSecurityPolicy-TLS13-*), as the Ingress-managed ALB does (k8s-load-balancer-tls13); lb-listener-tls already requires TLS 1.2+ on every listener.",
  remediationSteps:
    "Set sslPolicy 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' (TLS 1.3, and TLS 1.2 for clients such as Route 53 health checkers) on the listener.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
    lgpd: ["Art. 46"],
    docs: ["https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"],
  },
  evidence: {
    properties: {
      "aws:lb/listener:Listener": ["loadBalancerArn", "protocol", "certificateArn", "sslPolicy"],
      "aws:alb/listener:Listener": ["loadBalancerArn", "protocol", "certificateArn", "sslPolicy"],
      "aws:lb/loadBalancer:LoadBalancer": ["internal"],
      "aws:alb/loadBalancer:LoadBalancer": ["internal"],
    },
  },
  config: {
    defaults: { tls13PolicyPrefixes: ["ELBSecurityPolicy-TLS13-"] },
    schema: {
      tls13PolicyPrefixes: {
        type: "array",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        description: "Name prefixes of ELB security policies that negotiate TLS 1.3.",
      },
    },
  },
  examines: [...LISTENER_TYPES, ...LB_TYPES],
  validate: (ctx) => {
    const lbs = ctx.ofType(...LB_TYPES).map((lb) => lb.resource);
    for (const listener of ctx.ofType(...LISTENER_TYPES)) {
      ctx.each(() => {
        const props = listener.props as ArgsOf<"aws:lb/listener:Listener">;
        const protocol = (props.protocol ?? (props.certificateArn ? "HTTPS" : "HTTP")).toUpperCase();
        if (protocol !== "HTTPS" && protocol !== "TLS") {
          return;
        }
        const owners = loadBalancersOf(listener.resource, lbs);
        if (owners.length === 0 && dependenciesOf(listener.resource, "loadBalancerArn").length === 0) {
          // Not linked: decide once the ARN is known (rethrows while it is unknown).
          readAll(() => props.loadBalancerArn);
        }
        // A load balancer of another stack: whether it is internet-facing is not known here.
        const publicOwner = owners.find(
          (lb) => (lb.props as ArgsOf<"aws:lb/loadBalancer:LoadBalancer">).internal !== true,
        );
        if (!publicOwner) {
          return;
        }
        const policy = props.sslPolicy;
        if (typeof policy !== "string" || !ctx.config.tls13PolicyPrefixes.some((p) => policy.startsWith(p))) {
          ctx.report(
            `${protocol} listener '${listener.resource.name}' of internet-facing load balancer '${publicOwner.name}' has sslPolicy ${policy ? `'${policy}'` : "unset"}, not a TLS 1.3 policy (${ctx.config.tls13PolicyPrefixes.join("*, ")}*).`,
            listener.resource.urn,
          );
        }
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// ElastiCache

type CacheArgs = ArgsOf<"aws:elasticache/replicationGroup:ReplicationGroup">;

/** The cache (sessions, cached records) is encrypted at rest and in transit and needs credentials. */
export const elasticacheEncryption = resourceRule({
  name: "elasticache-encryption",
  concern: "encryption-at-rest",
  description:
    "ElastiCache replication groups must encrypt at rest with a customer-managed KMS key (atRestEncryptionEnabled: true, kmsKeyId), encrypt in transit with TLS required (transitEncryptionEnabled: true, transitEncryptionMode not 'preferred') and require authentication (authToken / authTokenWo, which the SDK stores as secrets, or RBAC userGroupIds).",
  remediationSteps:
    "Set atRestEncryptionEnabled: true, kmsKeyId: key.arn, transitEncryptionEnabled: true (transitEncryptionMode 'required' or unset) and authToken from a random.RandomPassword (or authTokenWo, or userGroupIds) on the aws.elasticache.ReplicationGroup.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(2)(iv)", "164.312(e)(1)", "164.312(e)(2)(ii)", "164.312(d)"],
    lgpd: ["Art. 46", "Art. 48 §3"],
    docs: [
      "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html",
      "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html",
      "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html",
    ],
  },
  evidence: {
    properties: {
      "aws:elasticache/replicationGroup:ReplicationGroup": [
        "atRestEncryptionEnabled",
        "kmsKeyId",
        "transitEncryptionEnabled",
        "transitEncryptionMode",
        "authToken",
        "authTokenWo",
        "userGroupIds",
      ],
    },
  },
  checks: {
    "aws:elasticache/replicationGroup:ReplicationGroup": (props: CacheArgs, { report }) => {
      // Independent checks: one unknown value must not hide another's violation.
      const run = new Checks();
      run.run(() => {
        if (props.atRestEncryptionEnabled !== true) {
          report("atRestEncryptionEnabled is not true.");
        } else {
          requireCustomerKey(() => props.kmsKeyId, "kmsKeyId", report);
        }
      });
      run.run(() => {
        if (props.transitEncryptionEnabled !== true) {
          report("transitEncryptionEnabled is not true: clients and replicas talk in plain text.");
        } else if (props.transitEncryptionMode === "preferred") {
          report("transitEncryptionMode is 'preferred', which still accepts unencrypted connections.");
        }
      });
      run.run(() => {
        const token = known(() => props.authToken);
        const tokenWo = known(() => props.authTokenWo);
        const groups = known(() => props.userGroupIds);
        if (nonEmpty(token) || nonEmpty(tokenWo) || (Array.isArray(groups) && groups.length > 0)) {
          return;
        }
        if (token === UNKNOWN || tokenWo === UNKNOWN || groups === UNKNOWN) {
          // Cannot decide before the values are known: rethrow the unknown-value error.
          readAll(
            () => props.authToken,
            () => props.authTokenWo,
            () => props.userGroupIds,
          );
        }
        report("no authToken, authTokenWo or userGroupIds: any client that reaches the port may connect.");
      });
      run.finish();
    },
  },
});

interface CacheHaConfig {
  readonly requireMultiAz: boolean;
}

/** In production the cache survives a node or zone failure. */
export const elasticacheHighAvailability = resourceRule<CacheHaConfig>({
  name: "elasticache-high-availability",
  concern: "resilience",
  description:
    "Where requireMultiAz is set (production), ElastiCache replication groups must run at least one replica (numCacheClusters 2+ or replicasPerNodeGroup 1+) with automaticFailoverEnabled: true and multiAzEnabled: true, so losing the primary's node or zone promotes a replica in another zone.",
  remediationSteps:
    "Set numCacheClusters: 2 or more (workloads.cache.nodes), automaticFailoverEnabled: true and multiAzEnabled: true on the aws.elasticache.ReplicationGroup.",
  severity: "medium",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.306(a)(1)", "164.308(a)(7)(ii)(B)"],
    lgpd: ["Art. 46", "Art. 49"],
    docs: ["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html"],
  },
  evidence: {
    properties: {
      "aws:elasticache/replicationGroup:ReplicationGroup": [
        "numCacheClusters",
        "replicasPerNodeGroup",
        "automaticFailoverEnabled",
        "multiAzEnabled",
      ],
    },
  },
  config: {
    defaults: { requireMultiAz: true },
    schema: {
      requireMultiAz: {
        type: "boolean",
        description: "True for production environments (tier production, from policyConfigFor).",
      },
    },
  },
  checks: {
    "aws:elasticache/replicationGroup:ReplicationGroup": (props: CacheArgs, { config, report, args }) => {
      if (!config.requireMultiAz) {
        args.notApplicable("multi-AZ not required in this environment");
      }
      const missing: string[] = [];
      if (props.automaticFailoverEnabled !== true) {
        missing.push("automaticFailoverEnabled: true");
      }
      if (props.multiAzEnabled !== true) {
        missing.push("multiAzEnabled: true");
      }
      const replicas =
        props.replicasPerNodeGroup !== undefined
          ? props.replicasPerNodeGroup
          : Math.max(0, (props.numCacheClusters ?? 1) - 1);
      if (replicas < 1) {
        missing.push("a replica (numCacheClusters 2 or more)");
      }
      if (missing.length > 0) {
        report(`lacks ${missing.join(", ")}.`);
      }
    },
  },
});

// ---------------------------------------------------------------------------------------------
// HorizontalPodAutoscalers

/** Kinds an HPA can scale here, by `scaleTargetRef.kind`. */
const SCALABLE = {
  Deployment: "kubernetes:apps/v1:Deployment",
  StatefulSet: "kubernetes:apps/v1:StatefulSet",
  ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
} as const;

/** Every HPA scales a workload of the stack, and that workload leaves its replica count to the HPA. */
export const hpaTargetExists = stackRule({
  name: "hpa-target-exists",
  concern: "resilience",
  description:
    "Every HorizontalPodAutoscaler must scale a Deployment, StatefulSet or ReplicaSet (apps/v1) that the stack defines in the HPA's namespace under scaleTargetRef.name, and that workload must not set spec.replicas (each deployment would reset the count the HPA chose).",
  remediationSteps:
    "Point scaleTargetRef at the workload ({ apiVersion: 'apps/v1', kind: 'Deployment', name: <its metadata.name> }) in the same namespace, and remove spec.replicas from the workload (the HPA's minReplicas is the floor).",
  severity: "medium",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.306(a)(1)"],
    lgpd: ["Art. 49"],
    docs: [
      "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling",
    ],
  },
  evidence: {
    properties: {
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ["metadata.namespace", "spec.scaleTargetRef"],
      "kubernetes:apps/v1:Deployment": ["metadata.namespace", "metadata.name", "spec.replicas"],
      "kubernetes:apps/v1:StatefulSet": ["metadata.namespace", "metadata.name", "spec.replicas"],
      "kubernetes:apps/v1:ReplicaSet": ["metadata.namespace", "metadata.name", "spec.replicas"],
    },
  },
  examines: ["kubernetes:autoscaling/v2:HorizontalPodAutoscaler", ...Object.values(SCALABLE)],
  validate: (ctx) => {
    for (const hpa of ctx.ofType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")) {
      ctx.each(() => {
        const ref = hpa.props.spec?.scaleTargetRef;
        const ns = namespaceKey(hpa.resource, () => hpa.props.metadata);
        const kind = ref?.kind as keyof typeof SCALABLE | undefined;
        const label = `HorizontalPodAutoscaler '${hpa.resource.name}'`;
        if (!ref || !kind || !(kind in SCALABLE) || ref.apiVersion !== "apps/v1") {
          ctx.report(
            `${label} scales ${ref?.apiVersion ?? "?"} ${ref?.kind ?? "?"}: only apps/v1 Deployment, StatefulSet or ReplicaSet are checked here.`,
            hpa.resource.urn,
          );
          return;
        }
        const targets = ctx.ofType(SCALABLE[kind]).filter((w) => {
          const props = w.props as ArgsOf<"kubernetes:apps/v1:Deployment">;
          return props.metadata?.name === ref.name && namespaceKey(w.resource, () => props.metadata) === ns;
        });
        if (targets.length === 0) {
          ctx.report(
            `${label} scales ${kind} '${ref.name}', which this stack does not define in its namespace.`,
            hpa.resource.urn,
          );
          return;
        }
        for (const t of targets) {
          const replicas = (t.props as ArgsOf<"kubernetes:apps/v1:Deployment">).spec?.replicas;
          if (replicas !== undefined) {
            ctx.report(
              `${kind} '${t.resource.name}' sets spec.replicas (${String(replicas)}) while ${label} scales it.`,
              t.resource.urn,
            );
          }
        }
      });
    }
  },
});

/** The rules of the workloads and edge layers. */
export const workloadsRules: readonly Rule[] = [
  containerImagePinned,
  thirdPartyImageDigest,
  albWafAttached,
  publicLbListenerTls13,
  elasticacheEncryption,
  elasticacheHighAvailability,
  hpaTargetExists,
];
