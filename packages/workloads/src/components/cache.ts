import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { inheritedDependsOn } from "@hcp/kube";
import { KmsKey } from "@hcp/platform";

/** The port of the cache (Valkey / Redis OSS default). */
export const CACHE_PORT = 6379;

/** Longest replication group identifier ElastiCache accepts. */
const MAX_ID_LENGTH = 40;

/** JSON properties of the cache's Secrets Manager secret (what the ExternalSecrets read). */
export const CACHE_SECRET_PROPERTIES = {
  authToken: "authToken",
  host: "host",
  port: "port",
} as const;

/** Arguments of {@link RegionalCache}. */
export interface RegionalCacheArgs {
  /**
   * Replication group identifier, also the subnet group's name: 1-40 characters, a letter first,
   * letters, digits and single hyphens (ElastiCache stores it in lower case). Changing it replaces
   * the group, so it comes from the stack's name prefix, never from anything that moves.
   */
  readonly replicationGroupId: string;
  /** `valkey`, or `redis` (Redis OSS). */
  readonly engine: "valkey" | "redis";
  /** Engine major.minor version, e.g. `8.0`. */
  readonly engineVersion: string;
  /** Node type of every node, e.g. `cache.r7g.large`. */
  readonly nodeType: string;
  /**
   * Nodes (primary + replicas). Two or more turn on multi-AZ with automatic failover: a replica in
   * another zone is promoted when the primary's node or zone fails.
   */
  readonly nodes: number;
  /** Days automatic daily snapshots are kept (0: none). */
  readonly snapshotRetentionDays: number;
  /** Daily snapshot window, `hh:mm-hh:mm` UTC. */
  readonly snapshotWindow: string;
  /** Weekly maintenance window, `ddd:hh:mm-ddd:hh:mm` UTC. */
  readonly maintenanceWindow: string;
  /** VPC of the security group. */
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the nodes (the private subnets, one per zone). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security groups admitted on {@link CACHE_PORT}, by identity (the rule's name): the cluster's node
   * group. Pods use their node's ENI security groups (VPC CNI), so this admits the cluster's pods.
   */
  readonly clients: Readonly<Record<string, pulumi.Input<string>>>;
  /** Alias of the cache's customer-managed key, without `alias/`. */
  readonly keyAlias: string;
  /** Secrets Manager name of the AUTH token secret (JSON: authToken, host, port). */
  readonly secretName: string;
  /** Data classification tag: what the services may put in the cache. */
  readonly dataClassification: "phi" | "confidential";
  /** Protect the group, its key and its secret from deletion by Pulumi (production). */
  readonly protect: boolean;
}

/**
 * The region's ElastiCache (Valkey / Redis OSS) replication group, cluster mode disabled: TLS
 * required in transit, at rest with its own customer-managed key, a generated AUTH token kept only
 * in Secrets Manager (encrypted with the same key), nodes in the private subnets behind a security
 * group that admits only the listed clients on the cache port, automatic failover across zones with
 * two or more nodes, daily snapshots and a maintenance window from config.
 *
 * Every region has its own: a cache holds sessions and recomputable entries, not data of record, so
 * it is not replicated to the DR regions (a DR region that takes over starts with an empty cache, its
 * users sign in again). Default parameter group (`default.valkey8` / `default.redis7`): cluster mode
 * off, `maxmemory-policy volatile-lru`, which evicts only keys with a TTL.
 *
 * API: pulumi-aws `aws.elasticache.ReplicationGroup` 7.48 (authToken "can be specified only if
 * transitEncryptionEnabled = true"; multiAzEnabled needs automaticFailoverEnabled; numCacheClusters
 * at least 2 for either); ElastiCache user guide, "At-Rest Encryption" (customer managed keys via
 * grants the deploying principal creates: the key policy's account statement suffices) and
 * "In-transit encryption" / "Authenticating with the Valkey and Redis OSS AUTH command".
 */
export class RegionalCache extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  readonly key: KmsKey;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly subnetGroup: aws.elasticache.SubnetGroup;
  /** The AUTH token's secret (JSON with authToken, host and port). */
  readonly secret: aws.secretsmanager.Secret;
  /** Host name of the primary (read-write) node; follows a failover. */
  readonly primaryEndpoint: pulumi.Output<string>;
  readonly port: number;

  constructor(name: string, args: RegionalCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:workloads:RegionalCache", name, {}, opts);
    const problems = validate(args);
    if (problems.length > 0) {
      throw new pulumi.ResourceError(`RegionalCache ${name}: ${problems.join("; ")}`, this);
    }
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const tags = { DataClassification: args.dataClassification };
    this.port = CACHE_PORT;

    this.key = new KmsKey(
      `${name}-key`,
      {
        description: `ElastiCache ${args.replicationGroupId}: data at rest and its AUTH token secret`,
        alias: args.keyAlias,
        protect: args.protect,
      },
      child,
    );

    this.subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      {
        name: args.replicationGroupId,
        description: `Private subnets of ${args.replicationGroupId}`,
        subnetIds: args.subnetIds,
        tags,
      },
      child,
    );

    // No egress rule: the provider removes the default allow-all egress of a new VPC security group
    // (pulumi-aws aws.ec2.SecurityGroup, "NOTE on Egress rules"), and the nodes open no connections.
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-security-group`,
      {
        vpcId: args.vpcId,
        description: `ElastiCache ${args.replicationGroupId}: cache port from the cluster's nodes only`,
        tags: { ...tags, Name: args.replicationGroupId },
      },
      child,
    );
    for (const [identity, sourceSecurityGroupId] of Object.entries(args.clients)) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-${identity}`,
        {
          securityGroupId: this.securityGroup.id,
          description: `${identity}: TLS to the cache`,
          ipProtocol: "tcp",
          fromPort: CACHE_PORT,
          toPort: CACHE_PORT,
          referencedSecurityGroupId: sourceSecurityGroupId,
        },
        child,
      );
    }

    // ElastiCache AUTH tokens are 16-128 printable characters with only ! & # $ ^ < > - allowed
    // besides letters and digits ("Authenticating with the Valkey and Redis OSS AUTH command");
    // letters and digits only, three classes, as it recommends, and nothing a rediss:// URL escapes.
    const token = new random.RandomPassword(
      `${name}-auth-token`,
      { length: 64, special: false, minUpper: 4, minLower: 4, minNumeric: 4 },
      child,
    );

    const failover = args.nodes >= 2;
    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      name,
      {
        replicationGroupId: args.replicationGroupId,
        description: `Application cache of ${args.replicationGroupId} (sessions, recomputable entries)`,
        engine: args.engine,
        engineVersion: args.engineVersion,
        nodeType: args.nodeType,
        numCacheClusters: args.nodes,
        port: CACHE_PORT,
        automaticFailoverEnabled: failover,
        multiAzEnabled: failover,
        atRestEncryptionEnabled: true,
        kmsKeyId: this.key.arn,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: token.result,
        // A new token is added next to the old one (clients pick it up at their next ExternalSecret
        // refresh and restart); an operator retires the old one with SET once every pod has the new.
        authTokenUpdateStrategy: "ROTATE",
        subnetGroupName: this.subnetGroup.name,
        securityGroupIds: [this.securityGroup.id],
        snapshotRetentionLimit: args.snapshotRetentionDays,
        ...(args.snapshotRetentionDays > 0 ? { snapshotWindow: args.snapshotWindow } : {}),
        maintenanceWindow: args.maintenanceWindow,
        autoMinorVersionUpgrade: true,
        applyImmediately: false,
        tags,
      },
      { ...child, protect: args.protect },
    );
    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;

    this.secret = new aws.secretsmanager.Secret(
      `${name}-auth`,
      {
        name: args.secretName,
        description: `AUTH token and endpoint of ElastiCache ${args.replicationGroupId}`,
        kmsKeyId: this.key.arn,
        recoveryWindowInDays: 30,
        tags: { DataClassification: "confidential" },
      },
      { ...child, protect: args.protect },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-auth`,
      {
        secretId: this.secret.id,
        secretString: pulumi.jsonStringify({
          engine: args.engine,
          [CACHE_SECRET_PROPERTIES.authToken]: token.result,
          [CACHE_SECRET_PROPERTIES.host]: this.primaryEndpoint,
          [CACHE_SECRET_PROPERTIES.port]: CACHE_PORT,
        }),
      },
      child,
    );

    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      port: this.port,
      secretArn: this.secret.arn,
    });
  }
}

/** What makes the group's identity or shape invalid (a config check reports the same with key paths). */
function validate(args: RegionalCacheArgs): string[] {
  const problems: string[] = [];
  const id = args.replicationGroupId;
  if (id.length > MAX_ID_LENGTH || !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(id)) {
    problems.push(
      `replicationGroupId '${id}' must be 1-${MAX_ID_LENGTH} lower-case letters, digits and single hyphens, starting with a letter (shorten the environment or region name prefix)`,
    );
  }
  if (!Number.isInteger(args.nodes) || args.nodes < 1 || args.nodes > 6) {
    problems.push(`nodes ${args.nodes} must be 1 to 6 (a primary and up to five replicas)`);
  }
  if (Object.keys(args.clients).length === 0) {
    problems.push("clients is empty: nothing could reach the cache");
  }
  return problems;
}
