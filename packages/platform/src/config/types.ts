import type { DrConfig } from "./dr";
import type { GuardDutyConfig } from "./guardDuty";
import type { z } from "zod";
import type { DeepReadonly } from "../typecheck";
import type { observabilitySchema } from "./observability";

/**
 * The environment definition: what the root `Pulumi.<env>.yaml` holds under the
 * `healthcare-platform:` namespace, after parsing and defaults. The environment stack publishes it
 * (as {@link EnvironmentTopology}) and every layer reads it from there, so there is one definition
 * of an environment and one parser.
 */

import type { WorkloadsConfig } from "./workloads";

/** Role of a region in an environment: exactly one `primary` (the writer), any number of `dr`. */
export type RegionRole = "primary" | "dr";

/** How NAT is provisioned for private subnets. */
export type NatGatewayMode =
  /** One NAT gateway per Availability Zone: a zone outage does not cut egress of the others. */
  | "perAz"
  /** One NAT gateway for the whole VPC: cheaper, egress depends on one zone. */
  | "single";

/** Size of one EKS managed node group. */
export interface NodeGroupSize {
  /** EC2 instance types, in order of preference. */
  readonly instanceTypes: readonly string[];
  /** Minimum number of nodes. */
  readonly minSize: number;
  /** Number of nodes at creation. Later changes come from the cluster autoscaler, not from config. */
  readonly desiredSize: number;
  /** Maximum number of nodes. */
  readonly maxSize: number;
  /** Root volume size in GiB (gp3, encrypted). */
  readonly diskSizeGiB: number;
}

/** The three node groups of every cluster. */
export interface NodeGroupSizes {
  /** Cluster add-ons and controllers. */
  readonly system: NodeGroupSize;
  /** Tainted nodes that run only the data tier (Patroni members). */
  readonly database: NodeGroupSize;
  /** Application workloads. */
  readonly workloads: NodeGroupSize;
}

/** Sizes that differ per region (a DR region usually runs scaled down). */
export interface RegionSizes {
  readonly nodeGroups: NodeGroupSizes;
  /** Patroni members in this region (primary cluster or DR standby cluster). */
  readonly databaseMembers: number;
  /** PgBouncer replicas in front of the primary. */
  readonly pgbouncerReplicas: number;
  /** Fraction of the normal application replica count to run here (1 = full size). */
  readonly workloadScale: number;
}

/** One region of an environment. */
export interface RegionConfig {
  /** AWS region code, e.g. `sa-east-1`. */
  readonly name: string;
  /** `primary` holds the writer; `dr` regions hold standbys and backup copies. */
  readonly role: RegionRole;
  /** The VPC's IPv4 block (RFC 1918, /16 to /21). Must not overlap any other region's. */
  readonly vpcCidr: string;
  /** Kubernetes Service IPv4 block of the EKS cluster. Must not overlap the VPC. */
  readonly serviceCidr: string;
  /** Availability Zones to spread subnets and nodes over (2 or more). */
  readonly azCount: number;
  /** NAT gateway layout. */
  readonly natGateways: NatGatewayMode;
  readonly sizes: RegionSizes;
}

/** CloudWatch log retention per log class, in days (each a value CloudWatch accepts). */
export interface LogRetentionDays {
  /** Audit trails (EKS audit, pgaudit shipped to CloudWatch). At least 2557 (7 years). */
  readonly audit: number;
  /** Security telemetry (VPC flow logs, authenticator logs). At least 2557. */
  readonly security: number;
  /** Application logs. */
  readonly application: number;
  /** Short-lived diagnostics. */
  readonly diagnostic: number;
}

/** The log classes of {@link LogRetentionDays}. */
export type LogClass = keyof LogRetentionDays;

/** pgBackRest retention and schedule. */
export interface BackupRetention {
  /** Full backups kept in each repository. */
  readonly fullRetentionCount: number;
  /** Differential backups kept in each repository. */
  readonly diffRetentionCount: number;
}

/** How long things are kept. */
export interface RetentionConfig {
  /** Years audit data is kept (audit hypertables, CloudTrail Object Lock). At least 7 (HIPAA). */
  readonly auditYears: number;
  /** Years clinical-record archives are kept (CFM Resolution 1.821/2007: 20 years). */
  readonly clinicalRecordYears: number;
  readonly logs: LogRetentionDays;
  readonly backups: BackupRetention;
}

/** LGPD Art. 33 legal bases for transferring personal data out of the home country. */
export type TransferBasis =
  /** Art. 33 I: the destination has an ANPD adequacy decision. */
  | "adequacy-decision"
  /** Art. 33 II a: contract-specific clauses approved by ANPD. */
  | "specific-contractual-clauses"
  /** Art. 33 II b: ANPD standard contractual clauses (Resolution CD/ANPD 19/2024). */
  | "standard-contractual-clauses"
  /** Art. 33 II c: global corporate rules approved by ANPD. */
  | "global-corporate-rules"
  /** Art. 33 V: specific ANPD authorization. */
  | "anpd-authorization"
  /** Art. 33 VIII: specific and highlighted consent of the data subject. */
  | "specific-consent";

/** A documented legal basis for copying personal data to another country. */
export interface InternationalTransfer {
  /** ISO 3166-1 alpha-2 code of the destination country. */
  readonly destinationCountry: string;
  readonly basis: TransferBasis;
  /** Where the basis is documented (contract id, ANPD decision, DPIA reference). */
  readonly reference: string;
}

/** Where personal data may be. */
export interface ResidencyConfig {
  /** ISO 3166-1 alpha-2 code of the country whose law governs the patient data (BR: LGPD). */
  readonly homeCountry: string;
  /** Regions that may hold personal data. Every configured region must be listed. */
  readonly allowedRegions: readonly string[];
  /** One entry per destination country outside `homeCountry` that receives copies (DR, backups). */
  readonly internationalTransfers: readonly InternationalTransfer[];
}

/** DNS. */
export interface DnsConfig {
  /** Public domain of the environment; the environment stack creates its Route 53 zone. */
  readonly domain: string;
}

/** Where Pulumi state lives, so CI roles get access to exactly that. */
export type StateBackend =
  | {
      readonly type: "s3";
      /** State bucket name. */
      readonly bucket: string;
      /** KMS key alias of the `awskms://` secrets provider, e.g. `alias/pulumi-state`. */
      readonly kmsKeyAlias: string;
    }
  | {
      readonly type: "pulumi-cloud";
      /** Pulumi Cloud organization. */
      readonly organization: string;
    };

/** GitHub repository that deploys this environment through OIDC. */
export interface GitHubConfig {
  readonly owner: string;
  readonly repository: string;
  /** Branch whose workflows may assume the deploy role. */
  readonly deployBranch: string;
  /** GitHub environment (with required reviewers) whose jobs may assume the deploy role. */
  readonly deployEnvironment: string;
}

/** Who may do what. */
export interface AccessConfig {
  /** The AWS account of this environment; providers refuse any other. */
  readonly accountId: string;
  /** IAM role/user ARNs that get cluster-admin access entries. */
  readonly adminPrincipals: readonly string[];
  /** IAM role/user ARNs that get read-only cluster access entries. */
  readonly readonlyPrincipals: readonly string[];
  readonly github: GitHubConfig;
  readonly stateBackend: StateBackend;
}

/** ECR repositories of the application images. */
export interface EcrConfig {
  /** Repository names, one per application image. */
  readonly repositories: readonly string[];
  /** Days after which untagged images expire. */
  readonly untaggedImageExpiryDays: number;
}

/** EKS control plane endpoint exposure. */
export type EndpointAccess =
  /** Private endpoint only: kubectl and CI reach the API from inside the VPC (or a peered network). */
  | "private"
  /** Private endpoint plus a public endpoint limited to `publicAccessCidrs`. */
  | "privateAndPublic";

/** A Helm chart pinned by version. */
export interface ChartPin {
  readonly repository: string;
  readonly version: string;
}

/** EKS settings shared by every region of the environment. */
export interface ClusterConfig {
  /** Kubernetes minor version, e.g. `1.34`; must be in EKS standard support. */
  readonly version: string;
  readonly endpointAccess: EndpointAccess;
  /** CIDRs allowed to reach the public endpoint (only with `privateAndPublic`). */
  readonly publicAccessCidrs: readonly string[];
  /** EKS managed add-on versions. */
  readonly addons: {
    readonly vpcCni: string;
    readonly coredns: string;
    readonly kubeProxy: string;
    readonly podIdentityAgent: string;
    readonly ebsCsiDriver: string;
  };
  /** Helm charts of the cluster services. */
  readonly charts: {
    readonly awsLoadBalancerController: ChartPin;
    readonly certManager: ChartPin;
    readonly metricsServer: ChartPin;
  };
  /** GuardDuty Runtime Monitoring: who owns the account's detector in each region. */
  readonly guardDuty: GuardDutyConfig;
}

/** A container image reference. */
export interface ImageRef {
  readonly repository: string;
  /** The release tag (kept with a digest: it says which release the digest is). */
  readonly tag: string;
  /**
   * Content digest (`sha256:<64 hex>`). With it, pods run exactly this image even if the tag is
   * pushed again; Renovate pins it and moves it with the tag.
   * @default - the tag alone
   */
  readonly digest?: string;
}

/** Patroni synchronous replication posture. */
export type SynchronousMode =
  /** Asynchronous replication: a failover may lose the commits not yet replicated. */
  | "off"
  /**
   * Synchronous while a standby is healthy; Patroni drops to async when none is, so a promoted
   * member acknowledges commits alone until a standby catches up.
   */
  | "on"
  /** Never acknowledge a commit without a synchronous standby; writes stall with one member left. */
  | "strict";

/** Patroni DCS timing and replication settings. */
export interface PatroniSettings {
  /** Leader lock TTL. `loopWaitSeconds + 2 * retryTimeoutSeconds` must not exceed it. */
  readonly ttlSeconds: number;
  readonly loopWaitSeconds: number;
  readonly retryTimeoutSeconds: number;
  readonly synchronousMode: SynchronousMode;
  /** A replica further behind than this is not promoted. */
  readonly maximumLagOnFailoverBytes: number;
}

/** Data tier settings shared by every region. */
export interface DataConfig {
  /** TimescaleDB HA image (community/TSL build; `-oss` images lack retention/compression). */
  readonly image: ImageRef;
  readonly databaseName: string;
  /** Data volume per member, GiB. */
  readonly storageGiB: number;
  readonly patroni: PatroniSettings;
  readonly pgbouncer: {
    readonly maxClientConnections: number;
    readonly defaultPoolSize: number;
  };
  readonly backup: {
    /** Cron schedule of full backups (UTC). */
    readonly fullSchedule: string;
    /** Cron schedule of differential backups (UTC). */
    readonly diffSchedule: string;
    /** Upper bound on how long a WAL segment waits before it is archived. At most 60. */
    readonly archiveTimeoutSeconds: number;
    /**
     * Image with the AWS CLI that copies the yearly full backup into the Object-Locked long-term
     * archive bucket (pgBackRest cannot write a locked bucket it would later expire from).
     */
    readonly archiveCopyImage: ImageRef;
  };
}

/**
 * How an environment is treated: `production` protects stateful resources from deletion, requires
 * approvals in CI and is held to the strictest policy thresholds.
 */
export type EnvironmentTier = "production" | "nonproduction";

/** The parsed environment definition. */
export interface EnvironmentConfig {
  /** Environment name, which is also the root stack name (e.g. `production`). */
  readonly name: string;
  readonly tier: EnvironmentTier;
  /** Team that owns the environment (the `Owner` tag). */
  readonly owner: string;
  /** Regions, exactly one of them `primary`. */
  readonly regions: readonly RegionConfig[];
  readonly retention: RetentionConfig;
  readonly residency: ResidencyConfig;
  readonly dns: DnsConfig;
  readonly access: AccessConfig;
  readonly ecr: EcrConfig;
  readonly cluster: ClusterConfig;
  readonly data: DataConfig;
  readonly dr: DrConfig;
  readonly workloads: WorkloadsConfig;
  readonly observability: ObservabilityConfig;
}

/** The `observability` section (its schema, with every key documented, is `config/observability.ts`). */
export type ObservabilityConfig = DeepReadonly<z.output<typeof observabilitySchema>>;

/**
 * What the environment stack publishes as `environment.topology`: the parsed definition. It is plain
 * JSON with no secrets, so it can cross a stack reference unchanged.
 */
export type EnvironmentTopology = EnvironmentConfig;
