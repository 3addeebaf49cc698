import { z } from "zod";
import type { SchemaMatches } from "../typecheck";
import { DEFAULT_CLUSTER_VERSION } from "./eks";
import type { EnvironmentConfig } from "./types";

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
    minSize: z.number().int().min(0),
    desiredSize: z.number().int().min(0),
    maxSize: z.number().int().min(1),
    diskSizeGiB: z
      .number()
      .int()
      .min(20)
      .max(16384)
      .default(50)
      .describe("root volume size in GiB (20 or more)"),
  })
  .strict();

const regionSizes = z
  .object({
    nodeGroups: z
      .object({ system: nodeGroupSize, database: nodeGroupSize, workloads: nodeGroupSize })
      .strict(),
    databaseMembers: z
      .number()
      .int()
      .min(1)
      .max(9)
      .describe(
        "Patroni members in the region: 3 in a primary region for a synchronous standby plus one spare",
      ),
    pgbouncerReplicas: z
      .number()
      .int()
      .min(2)
      .max(20)
      .default(2)
      .describe("PgBouncer replicas, 2 or more for a PDB"),
    workloadScale: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe("fraction of full application size, e.g. 0.25 in DR"),
  })
  .strict();

const region = z
  .object({
    name: z.string().describe("an AWS region code such as sa-east-1"),
    role: z.enum(["primary", "dr"]).describe("exactly one region is primary; the others are dr"),
    vpcCidr: z.string().describe("an RFC 1918 block from /16 to /21 that no other region uses"),
    serviceCidr: z
      .string()
      .default("172.20.0.0/16")
      .describe("the Kubernetes Service block; it must not overlap the VPC"),
    azCount: z.number().int().min(2).max(6).describe("2 or more zones; a primary region should use 3"),
    natGateways: z.enum(["perAz", "single"]).describe("perAz in production, single is acceptable in staging"),
    sizes: regionSizes,
  })
  .strict();

const logRetention = z
  .object({
    audit: z.number().int(),
    security: z.number().int(),
    application: z.number().int(),
    diagnostic: z.number().int(),
  })
  .strict();

const retention = z
  .object({
    auditYears: z.number().int().describe("7 or more (HIPAA documentation retention, our posture)"),
    clinicalRecordYears: z
      .number()
      .int()
      .min(20)
      .max(100)
      .default(20)
      .describe("20 or more (CFM Resolution 1.821/2007 keeps medical records 20 years)"),
    logs: logRetention,
    backups: z
      .object({
        fullRetentionCount: z.number().int().min(2).max(52).default(4),
        diffRetentionCount: z.number().int().min(1).max(60).default(14),
      })
      .strict()
      .default({ fullRetentionCount: 4, diffRetentionCount: 14 }),
  })
  .strict();

const country = z
  .string()
  .regex(/^[A-Z]{2}$/)
  .describe("an ISO 3166-1 alpha-2 country code in capitals, e.g. BR");

const residency = z
  .object({
    homeCountry: country,
    allowedRegions: z.array(z.string()).min(1).describe("list every region that may hold patient data"),
    internationalTransfers: z
      .array(
        z
          .object({
            destinationCountry: country,
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
      .default([]),
  })
  .strict();

const dns = z
  .object({
    domain: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/)
      .describe("a lower-case DNS name such as saude.example.com.br"),
  })
  .strict();

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
    adminPrincipals: z.array(iamPrincipal).min(1).describe("at least one break-glass admin role"),
    readonlyPrincipals: z.array(iamPrincipal).default([]),
    github: z
      .object({
        owner: z.string().regex(/^[A-Za-z0-9-]+$/),
        repository: z.string().regex(/^[A-Za-z0-9._-]+$/),
        deployBranch: z.string().min(1).default("main"),
        deployEnvironment: z.string().min(1).describe("the GitHub environment that has required reviewers"),
      })
      .strict(),
    stateBackend: z.discriminatedUnion("type", [
      z
        .object({
          type: z.literal("s3"),
          bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
          kmsKeyAlias: z.string().regex(/^alias\/[A-Za-z0-9/_-]+$/),
        })
        .strict(),
      z.object({ type: z.literal("pulumi-cloud"), organization: z.string().min(1) }).strict(),
    ]),
  })
  .strict();

const ecr = z
  .object({
    repositories: z
      .array(z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/))
      .min(1)
      .describe("lower-case repository names, one per application image"),
    untaggedImageExpiryDays: z.number().int().min(1).max(365).default(14),
  })
  .strict();

const chartPin = z
  .object({
    repository: z.url({ protocol: /^https$/ }).describe("an https Helm repository URL"),
    version: z.string().min(1).describe("an exact chart version, never a range"),
  })
  .strict();

const cluster = z
  .object({
    version: z
      .string()
      .regex(/^1\.\d{2}$/)
      .default(DEFAULT_CLUSTER_VERSION)
      .describe("a Kubernetes minor version in EKS standard support, e.g. 1.34"),
    endpointAccess: z.enum(["private", "privateAndPublic"]).describe("private in production"),
    publicAccessCidrs: z.array(z.string()).default([]),
    addons: z
      .object({
        vpcCni: z.string().regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/),
        coredns: z.string().regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/),
        kubeProxy: z.string().regex(/^v\d+\.\d+\.\d+-(minimal-)?eksbuild\.\d+$/),
        podIdentityAgent: z.string().regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/),
        ebsCsiDriver: z.string().regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/),
      })
      .strict()
      .describe("exact add-on versions as listed by `aws eks describe-addon-versions`"),
    charts: z
      .object({
        awsLoadBalancerController: chartPin,
        certManager: chartPin,
        metricsServer: chartPin,
      })
      .strict(),
  })
  .strict();

/** The AWS CLI image of the yearly archive copy when the config names none. */
export const DEFAULT_ARCHIVE_COPY_IMAGE = { repository: "public.ecr.aws/aws-cli/aws-cli", tag: "2.27.50" };

const data = z
  .object({
    image: z
      .object({
        repository: z.string().min(1).describe("timescale/timescaledb-ha or an ECR mirror of it"),
        tag: z.string().min(1).describe("a pg16 tag of the community (TSL) build, e.g. pg16.6-ts2.17.2-all"),
      })
      .strict(),
    databaseName: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("healthcare"),
    storageGiB: z.number().int().min(10).max(16384),
    patroni: z
      .object({
        ttlSeconds: z.number().int().min(20).max(300).describe("20 or more: the Kubernetes API is the DCS"),
        loopWaitSeconds: z.number().int().min(1).max(60),
        retryTimeoutSeconds: z.number().int().min(1).max(60),
        synchronousMode: z.enum(["off", "on", "strict"]),
        maximumLagOnFailoverBytes: z
          .number()
          .int()
          .min(0)
          .default(1048576)
          .describe("bytes of WAL a replica may lag and still be promoted"),
      })
      .strict(),
    pgbouncer: z
      .object({
        maxClientConnections: z.number().int().min(1000).max(100000).default(2000),
        defaultPoolSize: z.number().int().min(5).max(500).default(50),
      })
      .strict()
      .default({ maxClientConnections: 2000, defaultPoolSize: 50 }),
    backup: z
      .object({
        fullSchedule: z
          .string()
          .regex(/^\S+ \S+ \S+ \S+ \S+$/)
          .default("0 3 * * 0"),
        diffSchedule: z
          .string()
          .regex(/^\S+ \S+ \S+ \S+ \S+$/)
          .default("0 3 * * 1-6"),
        archiveTimeoutSeconds: z.number().int().min(1).max(60).default(60),
        archiveCopyImage: z
          .object({
            repository: z.string().min(1).describe("the AWS CLI image or an ECR mirror of it"),
            tag: z
              .string()
              .regex(/^\d+\.\d+\.\d+$/)
              .describe("an exact AWS CLI v2 version such as 2.27.50, never latest"),
          })
          .strict()
          .default(DEFAULT_ARCHIVE_COPY_IMAGE),
      })
      .strict()
      .default({
        fullSchedule: "0 3 * * 0",
        diffSchedule: "0 3 * * 1-6",
        archiveTimeoutSeconds: 60,
        archiveCopyImage: DEFAULT_ARCHIVE_COPY_IMAGE,
      }),
  })
  .strict();

/** Schema of every key under the `healthcare-platform:` namespace. */
export const environmentSchema = z
  .object({
    tier: z.enum(["production", "nonproduction"]).describe("production protects stateful resources"),
    owner: z.string().min(1).describe("the owning team, used as the Owner tag"),
    regions: z.array(region).min(1).describe("list the regions, exactly one with role primary"),
    retention,
    residency,
    dns,
    access,
    ecr,
    cluster,
    data,
  })
  .strict();

/** The keys of the namespace, in documentation order. */
export const ENVIRONMENT_KEYS = Object.keys(environmentSchema.shape) as ReadonlyArray<
  keyof typeof environmentSchema.shape
>;

// Compile-time check that the schema produces exactly the documented interface.
const _schemaMatchesTypes: SchemaMatches<typeof environmentSchema, Omit<EnvironmentConfig, "name">> = true;
void _schemaMatchesTypes;
