import { z } from "zod";
import type { SchemaMatches } from "../typecheck";
import { drSchema } from "./dr";
import { DEFAULT_CLUSTER_VERSION } from "./eks";
import { guardDutySchema } from "./guardDuty";
import { imageDigest } from "./images";
import { observabilitySchema } from "./observability";
import type { EnvironmentConfig } from "./types";
import { workloadsSchema } from "./workloads";

/**
 * Structural schema of the environment definition. It checks types, enums, ranges and unknown keys
 * and applies defaults; cross-field rules (overlaps, roles, residency, retention classes) live in
 * `validate.ts`, which reports them in the same format. Each `describe()` text is the guidance shown
 * in the "fix" part of a problem about that key.
 */

const nodeGroupSize = z
  .object({
    instanceTypes: z
      .array(z.string().min(1))
      .min(1)
      .describe("list the EC2 instance types, most preferred first"),
    minSize: z
      .number()
      .int()
      .min(0)
      .describe(
        "the fewest nodes; at most desiredSize; the database group's must cover databaseMembers, and a production system group needs 2 or more",
      ),
    desiredSize: z.number().int().min(0).describe("nodes to start with, between minSize and maxSize"),
    maxSize: z.number().int().min(1).describe("the most nodes the group may scale to, at least desiredSize"),
    diskSizeGiB: z
      .number()
      .int()
      .min(20)
      .max(16384)
      .default(50)
      .describe("root volume size of each node in GiB (20 or more; encrypted with the cluster's KMS key)"),
  })
  .strict()
  .describe("one EKS managed node group");

const regionSizes = z
  .object({
    nodeGroups: z
      .object({ system: nodeGroupSize, database: nodeGroupSize, workloads: nodeGroupSize })
      .strict()
      .describe(
        "the three node groups: system (CoreDNS, controllers), database (tainted, Patroni members only) and workloads (the application)",
      ),
    databaseMembers: z
      .number()
      .int()
      .min(1)
      .max(9)
      .describe(
        "Patroni members in the region: 3 in a primary region for a synchronous standby plus one spare (3 or more with synchronousMode strict, 2 or more with on)",
      ),
    pgbouncerReplicas: z
      .number()
      .int()
      .min(2)
      .max(20)
      .default(2)
      .describe("PgBouncer replicas in the region, 2 or more so its PodDisruptionBudget allows a drain"),
    workloadScale: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe("fraction of full application size the region runs, e.g. 0.25 in a DR region"),
  })
  .strict()
  .describe("what the region runs: node groups, database members, PgBouncer replicas, application scale");

const region = z
  .object({
    name: z.string().describe("an AWS region code such as sa-east-1, each region listed once"),
    role: z
      .enum(["primary", "dr"])
      .describe(
        "exactly one region is primary (the writer); the others are dr (standby) and must be in the primary's partition",
      ),
    vpcCidr: z
      .string()
      .describe(
        "an RFC 1918 block from /16 to /21 (small enough for the AZ count) that overlaps no other region's VPC (peered VPCs cannot route overlapping ranges)",
      ),
    serviceCidr: z
      .string()
      .default("172.20.0.0/16")
      .describe("the Kubernetes Service block of the region's cluster; it must not overlap the VPC"),
    azCount: z
      .number()
      .int()
      .min(2)
      .max(6)
      .describe(
        "Availability Zones to spread over: 2 or more, at most what the region offers; a primary region should use 3",
      ),
    natGateways: z
      .enum(["perAz", "single"])
      .describe(
        "perAz in production (losing one zone must not cut the other zones' egress); single is acceptable outside production",
      ),
    sizes: regionSizes,
  })
  .strict()
  .describe("one AWS region of the environment");

const logRetention = z
  .object({
    audit: z
      .number()
      .int()
      .describe(
        "CloudWatch days for audit logs: a value CloudWatch accepts, at least 2557 (7 years is 2557, not 2555)",
      ),
    security: z
      .number()
      .int()
      .describe(
        "CloudWatch days for security logs (flow logs, EKS audit): a value CloudWatch accepts, at least 2557",
      ),
    application: z
      .number()
      .int()
      .describe("CloudWatch days for application logs: a value CloudWatch accepts"),
    diagnostic: z.number().int().describe("CloudWatch days for diagnostic logs: a value CloudWatch accepts"),
  })
  .strict()
  .describe(
    "CloudWatch log retention in days per log class; CloudWatch accepts only 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 and 3653",
  );

const retention = z
  .object({
    auditYears: z
      .number()
      .int()
      .describe(
        "years audit records (hypertables, CloudTrail) are kept: 7 or more (HIPAA documentation retention, our posture)",
      ),
    clinicalRecordYears: z
      .number()
      .int()
      .min(20)
      .max(100)
      .default(20)
      .describe(
        "years clinical records are kept: 20 or more (CFM Resolution 1.821/2007 keeps medical records 20 years)",
      ),
    logs: logRetention,
    backups: z
      .object({
        fullRetentionCount: z
          .number()
          .int()
          .min(2)
          .max(52)
          .default(4)
          .describe("pgBackRest full backups kept in each repository (repo1-retention-full)"),
        diffRetentionCount: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(14)
          .describe("pgBackRest differential backups kept (repo1-retention-diff)"),
      })
      .strict()
      .default({ fullRetentionCount: 4, diffRetentionCount: 14 })
      .describe("how many pgBackRest backups each repository keeps (WAL is kept back to the oldest)"),
  })
  .strict()
  .describe("how long audit records, clinical records, logs and backups are kept");

const country = z
  .string()
  .regex(/^[A-Z]{2}$/)
  .describe("an ISO 3166-1 alpha-2 country code in capitals, e.g. BR");

const residency = z
  .object({
    homeCountry: country.describe(
      "the ISO 3166-1 alpha-2 code of the country whose law governs the patient data, e.g. BR",
    ),
    allowedRegions: z
      .array(z.string())
      .min(1)
      .describe("list every region that may hold patient data; every configured region must be in it"),
    internationalTransfers: z
      .array(
        z
          .object({
            destinationCountry: country.describe(
              "the ISO 3166-1 alpha-2 code of the country receiving copies, e.g. US",
            ),
            basis: z
              .enum([
                "adequacy-decision",
                "specific-contractual-clauses",
                "standard-contractual-clauses",
                "global-corporate-rules",
                "anpd-authorization",
                "specific-consent",
              ])
              .describe("the LGPD Art. 33 basis your DPO approved"),
            reference: z
              .string()
              .min(3)
              .describe("the contract, ANPD decision or DPIA that documents the basis"),
          })
          .strict(),
      )
      .default([])
      .describe(
        "one entry per country outside homeCountry that receives copies of patient data (a DR region abroad is an LGPD Art. 33 international transfer)",
      ),
  })
  .strict()
  .describe("where patient data may be stored and the legal basis of every copy abroad");

const dns = z
  .object({
    domain: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/)
      .describe(
        "a lower-case DNS name such as saude.example.com.br; the environment stack creates its public Route 53 zone",
      ),
  })
  .strict()
  .describe("the environment's public DNS");

const iamPrincipal = z
  .string()
  .regex(/^arn:aws(-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/)
  .describe("an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/PlatformAdmin");

const access = z
  .object({
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .describe("the 12-digit AWS account id, quoted so YAML keeps leading zeros"),
    adminPrincipals: z
      .array(iamPrincipal)
      .min(1)
      .describe(
        "IAM role/user ARNs with cluster-admin EKS access entries; at least one break-glass admin role",
      ),
    readonlyPrincipals: z
      .array(iamPrincipal)
      .default([])
      .describe("IAM role/user ARNs with read-only (view) EKS access entries"),
    github: z
      .object({
        owner: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/)
          .describe("the GitHub organization or user owning the repository"),
        repository: z
          .string()
          .regex(/^[A-Za-z0-9._-]+$/)
          .describe("the repository name, without the owner"),
        deployBranch: z
          .string()
          .min(1)
          .default("main")
          .describe("the branch whose workflow runs may assume the deploy role"),
        deployEnvironment: z
          .string()
          .min(1)
          .describe("the GitHub environment that has required reviewers; only its jobs may deploy"),
      })
      .strict()
      .describe(
        "the repository the CI OIDC roles trust (preview role: pull requests; deploy role: the branch and environment)",
      ),
    stateBackend: z
      .discriminatedUnion("type", [
        z
          .object({
            type: z.literal("s3"),
            bucket: z
              .string()
              .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
              .describe("the S3 bucket holding the Pulumi state, in the primary region"),
            kmsKeyAlias: z
              .string()
              .regex(/^alias\/[A-Za-z0-9/_-]+$/)
              .describe(
                "the KMS key alias of the awskms secrets provider, e.g. alias/pulumi-state-production",
              ),
          })
          .strict(),
        z
          .object({
            type: z.literal("pulumi-cloud"),
            organization: z.string().min(1).describe("the Pulumi Cloud organization"),
          })
          .strict(),
      ])
      .describe(
        "where the Pulumi state lives: { type: s3, bucket, kmsKeyAlias } or { type: pulumi-cloud, organization }",
      ),
  })
  .strict()
  .describe("the AWS account, who may administer the clusters, the CI trust and the state backend");

const ecr = z
  .object({
    repositories: z
      .array(z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/))
      .min(1)
      .describe("lower-case repository names, one per application image (replicated to every DR region)"),
    untaggedImageExpiryDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(14)
      .describe("days after which untagged images expire (lifecycle policy)"),
  })
  .strict()
  .describe("the ECR repositories of the application images");

const chartPin = z
  .object({
    repository: z.url({ protocol: /^https$/ }).describe("an https Helm repository URL"),
    version: z.string().min(1).describe("an exact chart version, never a range"),
  })
  .strict()
  .describe("a Helm chart pinned to a repository and an exact version");

const cluster = z
  .object({
    version: z
      .string()
      .regex(/^1\.\d{2}$/)
      .default(DEFAULT_CLUSTER_VERSION)
      .describe(
        "a Kubernetes minor version in EKS standard support on the day you plan, e.g. 1.35 (the kube-proxy add-on must match it)",
      ),
    endpointAccess: z
      .enum(["private", "privateAndPublic"])
      .describe("private in production; privateAndPublic needs publicAccessCidrs"),
    publicAccessCidrs: z
      .array(z.string())
      .default([])
      .describe(
        "office/VPN egress CIDRs allowed to the public API endpoint (prefix /8 or longer, never 0.0.0.0/0); only with privateAndPublic",
      ),
    addons: z
      .object({
        vpcCni: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe("the vpc-cni add-on build, e.g. v1.20.4-eksbuild.2"),
        coredns: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe("the coredns add-on build, e.g. v1.12.4-eksbuild.1"),
        kubeProxy: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-(minimal-)?eksbuild\.\d+$/)
          .describe(
            "the kube-proxy add-on build of the cluster's Kubernetes version, e.g. v1.35.0-eksbuild.2",
          ),
        podIdentityAgent: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe("the eks-pod-identity-agent add-on build, e.g. v1.3.9-eksbuild.3"),
        ebsCsiDriver: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe("the aws-ebs-csi-driver add-on build, e.g. v1.50.1-eksbuild.1"),
      })
      .strict()
      .describe("exact add-on versions as listed by `aws eks describe-addon-versions`"),
    charts: z
      .object({
        awsLoadBalancerController: chartPin,
        certManager: chartPin,
        metricsServer: chartPin,
      })
      .strict()
      .describe(
        "the Helm charts the cluster layer installs: aws-load-balancer-controller, cert-manager, metrics-server",
      ),
    guardDuty: guardDutySchema,
  })
  .strict()
  .describe(
    "the EKS cluster of every region: version, API endpoint, add-ons, charts and GuardDuty runtime monitoring",
  );

/** The AWS CLI image of the yearly archive copy when the config names none. */
export const DEFAULT_ARCHIVE_COPY_IMAGE = { repository: "public.ecr.aws/aws-cli/aws-cli", tag: "2.27.50" };

const data = z
  .object({
    image: z
      .object({
        repository: z.string().min(1).describe("timescale/timescaledb-ha or an ECR mirror of it"),
        tag: z
          .string()
          .min(1)
          .describe(
            "a pg16 tag of the community (TSL) build, e.g. pg16.6-ts2.17.2-all; -oss tags lack retention, compression and continuous aggregates",
          ),
        digest: imageDigest,
      })
      .strict()
      .describe(
        "the PostgreSQL image: timescale/timescaledb-ha (it bundles Patroni, TimescaleDB and pgBackRest)",
      ),
    databaseName: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("healthcare")
      .describe("the application database: a lower-case PostgreSQL identifier"),
    storageGiB: z
      .number()
      .int()
      .min(10)
      .max(16384)
      .describe("the volume of each Patroni member in GiB (gp3, encrypted, reclaimPolicy Retain)"),
    patroni: z
      .object({
        ttlSeconds: z
          .number()
          .int()
          .min(20)
          .max(300)
          .describe(
            "leader lock TTL: 20 or more (the Kubernetes API is the DCS); node-loss recovery takes about this long; at least loopWaitSeconds + 2 × retryTimeoutSeconds",
          ),
        loopWaitSeconds: z
          .number()
          .int()
          .min(1)
          .max(60)
          .describe(
            "seconds between Patroni's HA loop runs; loopWaitSeconds + 2 × retryTimeoutSeconds ≤ ttlSeconds",
          ),
        retryTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(60)
          .describe(
            "seconds Patroni retries the DCS and PostgreSQL before demoting; loopWaitSeconds + 2 × retryTimeoutSeconds ≤ ttlSeconds",
          ),
        synchronousMode: z
          .enum(["off", "on", "strict"])
          .describe(
            "synchronous replication: on or strict in production (strict refuses writes without a synchronous standby; on needs 2+ members, strict 3+)",
          ),
        maximumLagOnFailoverBytes: z
          .number()
          .int()
          .min(0)
          .default(1048576)
          .describe("bytes of WAL a replica may lag and still be promoted"),
      })
      .strict()
      .describe("Patroni's failover timing and replication mode (DESIGN §7 has the measured recovery times)"),
    pgbouncer: z
      .object({
        maxClientConnections: z
          .number()
          .int()
          .min(1000)
          .max(100000)
          .default(2000)
          .describe("client connections each PgBouncer accepts (1000 or more)"),
        defaultPoolSize: z
          .number()
          .int()
          .min(5)
          .max(500)
          .default(50)
          .describe("server connections per database/user pair (transaction pooling)"),
      })
      .strict()
      .default({ maxClientConnections: 2000, defaultPoolSize: 50 })
      .describe("the PgBouncer pool in front of the primary"),
    backup: z
      .object({
        fullSchedule: z
          .string()
          .regex(/^\S+ \S+ \S+ \S+ \S+$/)
          .default("0 3 * * 0")
          .describe("a five-field cron schedule (UTC) of the full pgBackRest backups"),
        diffSchedule: z
          .string()
          .regex(/^\S+ \S+ \S+ \S+ \S+$/)
          .default("0 3 * * 1-6")
          .describe("a five-field cron schedule (UTC) of the differential backups"),
        archiveTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(60)
          .describe(
            "PostgreSQL archive_timeout: at most 60 s of WAL can be lost with the primary region (RPO)",
          ),
        archiveCopyImage: z
          .object({
            repository: z.string().min(1).describe("the AWS CLI image or an ECR mirror of it"),
            tag: z
              .string()
              .regex(/^\d+\.\d+\.\d+$/)
              .describe("an exact AWS CLI v2 version such as 2.27.50, never latest"),
            digest: imageDigest,
          })
          .strict()
          .default(DEFAULT_ARCHIVE_COPY_IMAGE)
          .describe("the image of the yearly copy of backups into the locked long-term archive bucket"),
      })
      .strict()
      .default({
        fullSchedule: "0 3 * * 0",
        diffSchedule: "0 3 * * 1-6",
        archiveTimeoutSeconds: 60,
        archiveCopyImage: DEFAULT_ARCHIVE_COPY_IMAGE,
      })
      .describe("pgBackRest schedules and WAL archiving (repo1 in the region, repo2 in the DR region)"),
  })
  .strict()
  .describe("the PostgreSQL / TimescaleDB tier: image, size, Patroni, PgBouncer and backups");

/** Schema of every key under the `healthcare-platform:` namespace. */
export const environmentSchema = z
  .object({
    tier: z
      .enum(["production", "nonproduction"])
      .describe(
        "production protects stateful resources and applies the strictest policy thresholds; nonproduction for everything else",
      ),
    owner: z.string().min(1).describe("the owning team, used as the Owner tag"),
    regions: z
      .array(region)
      .min(1)
      .describe(
        "list the regions, exactly one with role primary; the first stacks of a new region are its network and cluster",
      ),
    retention,
    residency,
    dns,
    access,
    ecr,
    cluster,
    data,
    dr: drSchema,
    workloads: workloadsSchema,
    observability: observabilitySchema,
  })
  .strict();

/** The keys of the namespace, in documentation order. */
export const ENVIRONMENT_KEYS = Object.keys(environmentSchema.shape) as ReadonlyArray<
  keyof typeof environmentSchema.shape
>;

// Compile-time check that the schema produces exactly the documented interface.
const _schemaMatchesTypes: SchemaMatches<typeof environmentSchema, Omit<EnvironmentConfig, "name">> = true;
void _schemaMatchesTypes;
