import type { ArgsOf } from "../../src/lib";
import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import type { Fixture } from "../harness";
import { res, secret, unknown } from "../fixtures";
import { deployment, RESTRICTED_CONTAINER } from "./kubernetes";

/** Cases of the rules for what the workloads and edge layers add (src/policies/workloads.ts). */

const DIGEST = `sha256:${"ab12".repeat(16)}`;
const ECR = "111122223333.dkr.ecr.sa-east-1.amazonaws.com/healthcare-app";
const STAGING_IMAGES = { "container-image-pinned": { requireDigest: false } };

const withImage = (image: string) => deployment({}, { container: { image } });

const LABELS = { "app.kubernetes.io/name": "app" };

/** A Deployment whose replica count an HPA owns (no spec.replicas), as @hcp/kube's Workload renders it. */
function scaledDeployment(options: { name?: string; namespace?: string; replicas?: number } = {}): Fixture {
  const name = options.name ?? "app";
  return res("kubernetes:apps/v1:Deployment", name, {
    metadata: { name, namespace: options.namespace ?? "app" },
    spec: {
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      selector: { matchLabels: LABELS },
      template: {
        metadata: { labels: LABELS },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [RESTRICTED_CONTAINER],
        },
      },
    },
  });
}

function hpa(
  target: { kind?: string; name?: string; apiVersion?: string } = {},
  options: { namespace?: string; maxReplicas?: number } = {},
): Fixture {
  return res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "app-hpa", {
    metadata: { name: "app", namespace: options.namespace ?? "app" },
    spec: {
      scaleTargetRef: {
        apiVersion: target.apiVersion ?? "apps/v1",
        kind: target.kind ?? "Deployment",
        name: target.name ?? "app",
      },
      minReplicas: 3,
      maxReplicas: options.maxReplicas ?? 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    },
  });
}

const pdb = () =>
  res("kubernetes:policy/v1:PodDisruptionBudget", "app-pdb", {
    metadata: { name: "app", namespace: "app" },
    spec: { maxUnavailable: 1, selector: { matchLabels: LABELS } },
  });

const ALB = "alb.ingress.kubernetes.io/";
const WEB_ACL = "arn:aws:wafv2:sa-east-1:111122223333:regional/webacl/public/0f1e2d3c";

function ingress(name: string, annotations: Record<string, string>): Fixture {
  return res("kubernetes:networking.k8s.io/v1:Ingress", name, {
    metadata: { name, namespace: "healthcare-platform", annotations },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          host: `${name}.saude.example.com.br`,
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 4000 } } } },
            ],
          },
        },
      ],
    },
  });
}

const PUBLIC = { [`${ALB}scheme`]: "internet-facing", [`${ALB}group.name`]: "healthcare-platform" };

const loadBalancer = (
  props: Partial<ArgsOf<"aws:lb/loadBalancer:LoadBalancer">> = {},
  outputs?: Record<string, unknown>,
) =>
  res(
    "aws:lb/loadBalancer:LoadBalancer",
    "public",
    { internal: false, loadBalancerType: "application", ...props },
    outputs ? { outputs } : {},
  );

const LB_ARN = "arn:aws:elasticloadbalancing:sa-east-1:111122223333:loadbalancer/app/public/50dc6c495c0c9188";

const association = (resourceArn: string, dependsOn: Fixture[] = []) =>
  res(
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "public-waf",
    { resourceArn, webAclArn: WEB_ACL },
    dependsOn.length > 0 ? { dependsOn: { resourceArn: dependsOn } } : {},
  );

function listener(sslPolicy: string | undefined, link: { dependsOn?: Fixture[]; arn?: string }): Fixture {
  return res(
    "aws:lb/listener:Listener",
    "https",
    {
      loadBalancerArn: link.arn ?? unknown.string(),
      port: 443,
      protocol: "HTTPS",
      certificateArn: "arn:aws:acm:sa-east-1:111122223333:certificate/0a1b2c3d",
      ...(sslPolicy !== undefined ? { sslPolicy } : {}),
      defaultActions: [
        { type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404" } },
      ],
    },
    link.dependsOn ? { dependsOn: { loadBalancerArn: link.dependsOn } } : {},
  );
}

const KEY_ARN = "arn:aws:kms:sa-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

const cache = (props: Partial<ArgsOf<"aws:elasticache/replicationGroup:ReplicationGroup">> = {}) =>
  res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {
    description: "application cache",
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.r7g.large",
    numCacheClusters: 3,
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    atRestEncryptionEnabled: true,
    kmsKeyId: KEY_ARN,
    transitEncryptionEnabled: true,
    authToken: secret("cache-auth-token-0123456789abcdef0123456789abcdef"),
    ...props,
  });

const lbService = (annotations: Record<string, string>) =>
  res("kubernetes:core/v1:Service", "api", {
    metadata: { name: "api", namespace: "healthcare-platform", annotations },
    spec: { type: "LoadBalancer", selector: { app: "api" }, ports: [{ port: 443 }] },
  });

export const workloadsCases: Case[] = [
  ...cases("third-party-image-digest", [
    {
      kind: "pass",
      title: "a third-party image with tag and digest",
      resource: withImage(`quay.io/prometheuscommunity/postgres-exporter:v0.17.1@${DIGEST}`),
      expect: pass,
    },
    {
      kind: "pass",
      title: "a platform (ECR) image by tag: container-image-pinned's concern, not this rule's",
      resource: withImage(`${ECR}:1.4.2`),
      expect: pass,
    },
    {
      kind: "pass",
      title: "latest is container-image-pinned's mandatory finding, not repeated here",
      resource: withImage("docker.io/library/redis:latest"),
      expect: pass,
    },
    {
      kind: "pass",
      title: "a Deployment rendered by a pinned Helm chart is not examined",
      resource: res(
        "kubernetes:apps/v1:Deployment",
        "chart-deployment",
        {
          metadata: { namespace: "monitoring" },
          spec: {
            selector: { matchLabels: LABELS },
            template: {
              metadata: { labels: LABELS },
              spec: {
                containers: [{ ...RESTRICTED_CONTAINER, image: "quay.io/prometheus/prometheus:v3.5.0" }],
              },
            },
          },
        },
        { parentTypes: ["hcp:observability:MonitoringStack", "kubernetes:helm.sh/v4:Chart"] },
      ),
      expect: notApplicable,
    },
    {
      kind: "fail",
      title: "a third-party image by tag only, in a component of the platform (not a chart)",
      resource: res(
        "kubernetes:apps/v1:Deployment",
        "pgbouncer",
        {
          metadata: { namespace: "hcp-data" },
          spec: {
            selector: { matchLabels: LABELS },
            template: {
              metadata: { labels: LABELS },
              spec: {
                containers: [
                  { ...RESTRICTED_CONTAINER, image: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all" },
                  {
                    ...RESTRICTED_CONTAINER,
                    name: "exporter",
                    image: "quay.io/prometheuscommunity/pgbouncer-exporter:v0.10.2",
                  },
                ],
              },
            },
          },
        },
        { parentTypes: ["hcp:postgres:PgbouncerPool"] },
      ),
      expect: violation(
        /containers 'exporter' \(spec\.template\.spec\.containers\[1\]\.image\) runs the third-party image quay\.io\/prometheuscommunity\/pgbouncer-exporter by its tag 'v0\.10\.2' only/,
        { level: "advisory" },
      ),
    },
    {
      kind: "unknown",
      title: "an image not known at preview",
      resource: withImage(unknown.string()),
      expect: preview,
    },
  ]),
  ...cases("container-image-pinned", [
    {
      kind: "pass",
      title: "platform image pinned by digest",
      resource: withImage(`${ECR}@${DIGEST}`),
      expect: pass,
    },
    {
      kind: "pass",
      title: "tag and digest",
      resource: withImage(`${ECR}:1.4.2@${DIGEST}`),
      expect: pass,
    },
    {
      kind: "pass",
      title: "a third-party image with a release tag (not a platform image)",
      resource: withImage("quay.io/prometheuscommunity/postgres-exporter:v0.17.1"),
      expect: pass,
    },
    {
      kind: "pass",
      title: "a release tag where digests are not required (staging)",
      resource: withImage(`${ECR}:1.4.2`),
      config: STAGING_IMAGES,
      expect: pass,
    },
    {
      kind: "fail",
      title: "a platform image by tag where digests are required",
      resource: withImage(`${ECR}:1.4.2`),
      expect: violation(
        /containers 'app' \(spec\.template\.spec\.containers\[0\]\.image\) is not pinned by digest/,
        {
          count: 1,
        },
      ),
    },
    {
      kind: "fail",
      title: "latest, even where digests are not required",
      resource: withImage(`${ECR}:latest`),
      config: STAGING_IMAGES,
      expect: violation(/uses the tag 'latest'/),
    },
    {
      kind: "fail",
      title: "LATEST in capitals on a third-party image",
      resource: withImage("docker.io/library/redis:LATEST"),
      expect: violation(/uses the tag 'LATEST'/),
    },
    {
      kind: "fail",
      title: "an untagged image (pulls latest)",
      resource: withImage("docker.io/library/busybox"),
      config: STAGING_IMAGES,
      expect: violation(/neither a tag nor a digest/),
    },
    {
      kind: "fail",
      title: "a registry port is not a tag",
      resource: withImage("registry.internal:5000/tools/migrate"),
      config: STAGING_IMAGES,
      expect: violation(/neither a tag nor a digest/),
    },
    {
      kind: "fail",
      title: "a malformed digest",
      resource: withImage(`${ECR}@sha256:1234`),
      expect: violation(/malformed digest/),
    },
    {
      kind: "fail",
      title: "an init container of a CronJob",
      resource: res("kubernetes:batch/v1:CronJob", "report", {
        metadata: { namespace: "app" },
        spec: {
          schedule: "0 3 * * *",
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  containers: [{ ...RESTRICTED_CONTAINER, image: `${ECR}@${DIGEST}` }],
                  initContainers: [{ ...RESTRICTED_CONTAINER, name: "init", image: "busybox:latest" }],
                },
              },
            },
          },
        },
      }),
      expect: violation(
        /initContainers 'init' \(spec\.jobTemplate\.spec\.template\.spec\.initContainers\[0\]\.image\)/,
        {
          count: 1,
        },
      ),
    },
    {
      kind: "fail",
      title: "a DaemonSet without an image",
      resource: res("kubernetes:apps/v1:DaemonSet", "agent", {
        metadata: { namespace: "observability" },
        spec: {
          selector: { matchLabels: LABELS },
          template: { metadata: { labels: LABELS }, spec: { containers: [{ name: "agent" }] } },
        },
      }),
      expect: violation(/containers 'agent' .* has no image/),
    },
    {
      kind: "fail",
      title: "a chart whose values override an image with latest",
      resource: res("kubernetes:helm.sh/v4:Chart", "eso", {
        chart: "external-secrets",
        version: "2.10.0",
        values: {
          image: { repository: "ghcr.io/external-secrets/external-secrets", tag: "latest" },
          webhook: { image: "x/y:latest" },
        },
      }),
      expect: violation(/values\.image\.tag is 'latest', values\.webhook\.image uses the tag 'latest'/),
    },
    {
      kind: "pass",
      title: "a chart with release tags in its values",
      resource: res("kubernetes:helm.sh/v4:Chart", "eso", {
        chart: "external-secrets",
        version: "2.10.0",
        values: { image: { tag: "v0.17.0" } },
      }),
      expect: pass,
    },
    {
      kind: "unknown",
      title: "an image computed during the preview",
      resource: withImage(unknown.string()),
      expect: preview,
    },
  ]),
  ...cases("alb-waf-attached", [
    {
      kind: "pass",
      title: "internet-facing Ingress with a web ACL",
      stack: [ingress("app", { ...PUBLIC, [`${ALB}wafv2-acl-arn`]: WEB_ACL })],
      expect: pass,
    },
    {
      kind: "pass",
      title: "the web ACL on another Ingress of the same IngressGroup (one ALB)",
      stack: [ingress("app", { ...PUBLIC, [`${ALB}wafv2-acl-arn`]: WEB_ACL }), ingress("mcp", PUBLIC)],
      expect: pass,
    },
    {
      kind: "fail",
      title: "internet-facing Ingress without a web ACL",
      stack: [ingress("app", PUBLIC)],
      expect: violation(
        /Ingress 'healthcare-platform\/app' \(group healthcare-platform\) is internet-facing and no Ingress of its ALB sets alb\.ingress\.kubernetes\.io\/wafv2-acl-arn/,
        { count: 1 },
      ),
    },
    {
      kind: "fail",
      title: "a web ACL on an Ingress of another group does not cover this ALB",
      stack: [
        ingress("app", { ...PUBLIC, [`${ALB}group.name`]: "other", [`${ALB}wafv2-acl-arn`]: WEB_ACL }),
        ingress("mcp", PUBLIC),
      ],
      expect: violation(/'healthcare-platform\/mcp'/, { count: 1 }),
    },
    {
      kind: "pass",
      title: "an internal Ingress needs none (the controller's default scheme is internal)",
      stack: [ingress("admin", { [`${ALB}group.name`]: "internal" })],
      expect: pass,
    },
    {
      kind: "fail",
      title: "an internet-facing aws.lb.LoadBalancer without an association",
      stack: [loadBalancer()],
      expect: violation(/Load balancer 'public' is internet-facing and no aws\.wafv2\.WebAclAssociation/),
    },
    {
      kind: "fail",
      title: "internal unset is internet-facing",
      stack: [res("aws:lb/loadBalancer:LoadBalancer", "public", {})],
      expect: violation(/Load balancer 'public'/),
    },
    {
      kind: "pass",
      title: "association linked by dependency while the ARN is unknown",
      stack: (() => {
        const lb = loadBalancer();
        return [lb, association(unknown.string(), [lb])];
      })(),
      expect: pass,
    },
    {
      kind: "pass",
      title: "association linked by the known ARN",
      stack: [loadBalancer({}, { arn: LB_ARN }), association(LB_ARN)],
      expect: pass,
    },
    {
      kind: "fail",
      title: "an association of another load balancer",
      stack: [loadBalancer({}, { arn: LB_ARN }), association(`${LB_ARN}0`)],
      expect: violation(/Load balancer 'public'/),
    },
    {
      kind: "pass",
      title: "internal and network load balancers need none",
      stack: [
        loadBalancer({ internal: true }),
        res("aws:lb/loadBalancer:LoadBalancer", "nlb", { internal: false, loadBalancerType: "network" }),
      ],
      expect: pass,
    },
    {
      kind: "unknown",
      title: "Ingress annotations computed during the preview",
      stack: [ingress("app", unknown.object())],
      expect: preview,
    },
    {
      kind: "unknown",
      title: "an association whose target is unknown and not linked",
      stack: [loadBalancer(), association(unknown.string())],
      expect: preview,
    },
  ]),
  ...cases("public-lb-listener-tls13", [
    {
      kind: "pass",
      title: "TLS 1.3 policy on the internet-facing ALB's HTTPS listener",
      stack: (() => {
        const lb = loadBalancer();
        return [lb, listener("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", { dependsOn: [lb] })];
      })(),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a TLS 1.2-only policy on the internet-facing ALB",
      stack: (() => {
        const lb = loadBalancer();
        return [lb, listener("ELBSecurityPolicy-TLS-1-2-2017-01", { dependsOn: [lb] })];
      })(),
      expect: violation(
        /HTTPS listener 'https' of internet-facing load balancer 'public' has sslPolicy 'ELBSecurityPolicy-TLS-1-2-2017-01', not a TLS 1\.3 policy/,
      ),
    },
    {
      kind: "fail",
      title: "no policy, linked by the known ARN",
      stack: [loadBalancer({}, { arn: LB_ARN }), listener(undefined, { arn: LB_ARN })],
      expect: violation(/has sslPolicy unset/),
    },
    {
      kind: "pass",
      title: "an internal load balancer may keep a TLS 1.2 policy",
      stack: (() => {
        const lb = loadBalancer({ internal: true });
        return [lb, listener("ELBSecurityPolicy-TLS-1-2-2017-01", { dependsOn: [lb] })];
      })(),
      expect: pass,
    },
    {
      kind: "pass",
      title: "a listener of a load balancer of another stack",
      stack: [listener("ELBSecurityPolicy-TLS-1-2-2017-01", { arn: LB_ARN })],
      expect: pass,
    },
    {
      kind: "unknown",
      title: "a policy computed during the preview",
      stack: (() => {
        const lb = loadBalancer();
        return [lb, listener(unknown.string(), { dependsOn: [lb] })];
      })(),
      expect: preview,
    },
    {
      kind: "unknown",
      title: "a listener not linked while its load balancer ARN is unknown",
      stack: [loadBalancer(), listener("ELBSecurityPolicy-TLS-1-2-2017-01", { arn: unknown.string() })],
      expect: preview,
    },
  ]),
  ...cases("elasticache-encryption", [
    { kind: "pass", title: "encrypted, TLS required, AUTH token", resource: cache(), expect: pass },
    {
      kind: "pass",
      title: "RBAC user groups instead of a token",
      resource: cache({ authToken: undefined, userGroupIds: ["app-users"] }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "no encryption at rest",
      resource: cache({ atRestEncryptionEnabled: false }),
      expect: violation(/atRestEncryptionEnabled is not true/, { count: 1 }),
    },
    {
      kind: "fail",
      title: "the AWS-managed key",
      resource: cache({ kmsKeyId: "alias/aws/elasticache" }),
      expect: violation(/AWS-managed key alias/),
    },
    {
      kind: "fail",
      title: "no key",
      resource: cache({ kmsKeyId: undefined }),
      expect: violation(/kmsKeyId is not set/),
    },
    {
      kind: "fail",
      title: "TLS preferred (plain text still accepted)",
      resource: cache({ transitEncryptionMode: "preferred" }),
      expect: violation(/transitEncryptionMode is 'preferred'/),
    },
    {
      kind: "fail",
      title: "every gap reported at once",
      resource: cache({
        atRestEncryptionEnabled: undefined,
        transitEncryptionEnabled: false,
        authToken: undefined,
      }),
      expect: violation(undefined, { count: 3 }),
    },
    {
      kind: "unknown",
      title: "a token computed during the preview",
      resource: cache({ authToken: unknown.string() }),
      expect: preview,
    },
    {
      kind: "unknown",
      title: "an unknown token does not hide plain-text transit",
      resource: cache({ authToken: unknown.string(), transitEncryptionEnabled: false }),
      expect: violation(/transitEncryptionEnabled is not true/, { count: 1 }),
    },
  ]),
  ...cases("elasticache-high-availability", [
    { kind: "pass", title: "three nodes, failover, multi-AZ", resource: cache(), expect: pass },
    {
      kind: "pass",
      title: "cluster mode with a replica per shard",
      resource: cache({ numCacheClusters: undefined, numNodeGroups: 2, replicasPerNodeGroup: 1 }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "a single node",
      resource: cache({ numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: false }),
      expect: violation(/lacks automaticFailoverEnabled: true, multiAzEnabled: true, a replica/),
    },
    {
      kind: "fail",
      title: "replicas without automatic failover",
      resource: cache({ automaticFailoverEnabled: undefined }),
      expect: violation(/lacks automaticFailoverEnabled: true\.$/m),
    },
    {
      kind: "pass",
      title: "not required outside production",
      resource: cache({ numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: false }),
      config: { "elasticache-high-availability": { requireMultiAz: false } },
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "node count computed during the preview",
      resource: cache({ numCacheClusters: unknown.number() }),
      expect: preview,
    },
  ]),
  ...cases("hpa-target-exists", [
    {
      kind: "pass",
      title: "HPA of a Deployment without replicas",
      stack: [scaledDeployment(), hpa()],
      expect: pass,
    },
    {
      kind: "fail",
      title: "HPA of a Deployment the stack does not define",
      stack: [scaledDeployment(), hpa({ name: "healthcare-ap" })],
      expect: violation(/scales Deployment 'healthcare-ap', which this stack does not define/),
    },
    {
      kind: "fail",
      title: "target in another namespace",
      stack: [scaledDeployment({ namespace: "other" }), hpa()],
      expect: violation(/which this stack does not define in its namespace/),
    },
    {
      kind: "fail",
      title: "the target sets spec.replicas",
      stack: [scaledDeployment({ replicas: 3 }), hpa()],
      expect: violation(
        /Deployment 'app' sets spec\.replicas \(3\) while HorizontalPodAutoscaler 'app-hpa' scales it/,
      ),
    },
    {
      kind: "fail",
      title: "a kind this rule cannot check",
      stack: [scaledDeployment(), hpa({ apiVersion: "argoproj.io/v1alpha1", kind: "Rollout" })],
      expect: violation(/scales argoproj\.io\/v1alpha1 Rollout/),
    },
    {
      kind: "unknown",
      title: "HPA namespace unknown and not linked",
      stack: [
        scaledDeployment(),
        res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "app-hpa", {
          metadata: { namespace: unknown.string() },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "app" },
            maxReplicas: 3,
          },
        }),
      ],
      expect: preview,
    },
  ]),
  // The PDB rule counts the replicas an HPA may run (the Deployment then has no spec.replicas).
  ...cases("pod-disruption-budget", [
    {
      kind: "pass",
      title: "HPA-scaled Deployment with a matching PDB",
      stack: [scaledDeployment(), hpa(), pdb()],
      expect: pass,
    },
    {
      kind: "fail",
      title: "HPA-scaled Deployment without a PDB",
      stack: [scaledDeployment(), hpa()],
      expect: violation(/Deployment 'app' runs up to 10 replicas without a PodDisruptionBudget/),
    },
    {
      kind: "pass",
      title: "an HPA that never runs more than one pod",
      stack: [scaledDeployment(), hpa({}, { maxReplicas: 1 })],
      expect: pass,
    },
    {
      kind: "fail",
      title: "an HPA in another namespace does not count",
      stack: [scaledDeployment({ replicas: 2 }), hpa({}, { namespace: "other", maxReplicas: 10 })],
      expect: violation(/Deployment 'app' runs 2 replicas/),
    },
  ]),
  // The Load Balancer Controller reads the scheme annotation before the deprecated one.
  ...cases("k8s-internal-load-balancer", [
    {
      kind: "fail",
      title: "scheme internet-facing wins over the deprecated internal annotation",
      resource: lbService({
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
      }),
      expect: violation(/'healthcare-platform\/api' is internet-facing/),
    },
    {
      kind: "pass",
      title: "the deprecated internal annotation alone",
      resource: lbService({ "service.beta.kubernetes.io/aws-load-balancer-internal": "true" }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "no scheme annotation at all",
      resource: lbService({}),
      expect: violation(/is internet-facing/),
    },
  ]),
];
