import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATA_TIER_ACCESS_LABELS, labelMap, podLabelsOf, RestrictedNamespace, Workload } from "@hcp/kube";
import {
  bucketGrantStatements,
  BucketReplication,
  dataContract,
  drRegions,
  drContract,
  environmentContract,
  exportContract,
  type Grantee,
  grantPolicy,
  keyGrantStatements,
  KmsKey,
  kubernetesProvider,
  namePrefix,
  planSubnets,
  primaryRegion,
  readCluster,
  readContractValue,
  readNetwork,
  regionCacheNodes,
  regionalLayerContext,
  SecureBucket,
  stackId,
  workloadsContract,
} from "@hcp/platform";
import { type DocumentsSetting, documentsGrant } from "./documents";
import { CACHE_PORT, CACHE_SECRET_PROPERTIES, RegionalCache } from "./components/cache";
import { externalSecretManifest } from "./components/externalSecrets";
import { PublicIngress } from "./components/publicIngress";
import { SecretsOperator } from "./components/secretsOperator";
import {
  DATABASE_CA,
  databaseCredential,
  databaseUrlTemplate,
  hostNames,
  migrationSpec,
  redisUrlTemplate,
  PLATFORM_ENV_CONFIGMAP,
  platformEnv,
  type RegionInputs,
  replicaRepositoryUrl,
  secretNames,
  serviceSpec,
} from "./services";

/**
 * Program of `hcp-workloads` (stacks `<env>-<region>`, every region): the application services of
 * the `workloads` config section as `@hcp/kube` Workloads in a restricted namespace, their database
 * access through the data tier's (primary) or DR tier's (DR regions) endpoints and External
 * Secrets, the region's ElastiCache (REDIS_URL), the documents and LGPD export buckets, the ALB
 * ingress with WAF, and the migration Job (primary only). Wiring only: `./services` and the
 * components hold the logic.
 */
export = async () => {
  const ctx = await regionalLayerContext("workloads");
  const { topology } = ctx;
  const config = topology.workloads;
  const region = ctx.region.name;
  const primary = ctx.region.role === "primary";
  const env = await readContractValue(environmentContract, stackId("environment", ctx.environment));
  const db = primary
    ? await readContractValue(dataContract, stackId("data", ctx.environment, region))
    : await readContractValue(drContract, stackId("dr", ctx.environment, region));
  // One region writes: the primary, or the DR region the environment file says was promoted. Every
  // other region's database is a standby of it (the old primary too, after a promotion), so its
  // services run read-only.
  const writer = topology.dr.promotedRegion ?? primaryRegion(topology).name;
  const mode = region === writer ? "readWrite" : "readOnly";
  const credentials = db.secrets.credentialSecretArns;
  const dbKeyArn = "kmsKeyArn" in db ? db.kmsKeyArn : db.kmsKeyArns.primary;
  const cluster = readCluster(ctx.environment, region);
  const network = readNetwork(ctx.environment, region);
  const privateSubnetCidrs = planSubnets(ctx.region.vpcCidr, ctx.region.azCount)
    .filter((s) => s.tier === "private")
    .map((s) => s.cidr);

  const awsProvider = ctx.aws();
  const kube = kubernetesProvider("kubernetes", { kubeconfig: cluster.kubeconfig });

  const inputs: RegionInputs = {
    region,
    role: ctx.region.role,
    mode,
    workloadScale: ctx.region.sizes.workloadScale,
    repositoryUrls: Object.fromEntries(
      Object.entries(env.ecr.repositories).map(([name, r]) => [name, replicaRepositoryUrl(r.url, region)]),
    ),
    database: {
      namespace: db.namespace,
      host: db.endpoints.pgbouncerHost,
      port: db.endpoints.pgbouncerPort,
      databaseName: db.databaseName,
    },
    loadBalancerSubnetCidrs: planSubnets(ctx.region.vpcCidr, ctx.region.azCount)
      .filter((s) => s.tier === "public")
      .map((s) => s.cidr),
    cache: { subnetCidrs: privateSubnetCidrs, port: CACHE_PORT },
  };
  const specs = config.services.map((s) => ({ service: s, spec: serviceSpec(s, config, inputs) }));
  const migrations = config.services.flatMap((s) => {
    const spec = migrationSpec(s, config, inputs);
    return spec ? [{ service: s, spec }] : [];
  });

  const namespace = new RestrictedNamespace(
    "namespace",
    {
      name: config.namespace,
      kubernetesVersion: topology.cluster.version,
      labels: { ...labelMap(DATA_TIER_ACCESS_LABELS.databaseClients), "hcp.io/data-classification": "phi" },
    },
    { provider: kube },
  );
  const ns = config.namespace;

  // Application secrets: created (and replicated to the DR regions) by the primary's stack.
  const appSecretNames = primary
    ? Object.fromEntries(config.secrets.map((s) => [s.name, `hcp/${ctx.environment}/workloads/${s.name}`]))
    : (
        await readContractValue(
          workloadsContract,
          stackId("workloads", ctx.environment, topology.regions.find((r) => r.role === "primary")!.name),
        )
      ).appSecretNames;
  const accountId = aws.getCallerIdentityOutput({}, { provider: awsProvider }).accountId;
  const appSecretArns: pulumi.Output<string>[] = [];
  const randomProvider = new random.Provider("random", {});
  if (primary) {
    const replicaKeys = "kmsKeyArns" in db ? db.kmsKeyArns.replicas : {};
    for (const s of config.secrets) {
      const secret = new aws.secretsmanager.Secret(
        `app-secret-${s.name.toLowerCase().replace(/_/g, "-")}`,
        {
          name: appSecretNames[s.name],
          description: `${s.name} of the application services (${s.source === "generated" ? "generated" : "set by the operator"})`,
          kmsKeyId: dbKeyArn,
          recoveryWindowInDays: 30,
          replicas: Object.entries(replicaKeys).map(([r, kmsKeyId]) => ({ region: r, kmsKeyId })),
          tags: { DataClassification: "confidential" },
        },
        { provider: awsProvider, protect: ctx.protectStateful },
      );
      appSecretArns.push(secret.arn);
      if (s.source === "generated") {
        const value = new random.RandomBytes(
          `app-secret-${s.name.toLowerCase().replace(/_/g, "-")}`,
          { length: s.bytes },
          { provider: randomProvider },
        );
        new aws.secretsmanager.SecretVersion(
          `app-secret-${s.name.toLowerCase().replace(/_/g, "-")}`,
          { secretId: secret.id, secretString: value.base64 },
          { provider: awsProvider },
        );
      }
    }
  } else {
    const partition = aws.getPartitionOutput({}, { provider: awsProvider }).partition;
    for (const name of Object.values(appSecretNames)) {
      appSecretArns.push(
        pulumi.interpolate`arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}-??????`,
      );
    }
  }

  // The region's own cache: sessions and recomputable entries are not replicated data, so a DR
  // region does not copy the primary's; it gets its own group, key and token.
  const cacheConfig = config.cache;
  const cache = new RegionalCache(
    "cache",
    {
      replicationGroupId: `${ctx.namePrefix}-cache`,
      engine: cacheConfig.engine,
      engineVersion: cacheConfig.engineVersion,
      nodeType: cacheConfig.nodeType,
      nodes: regionCacheNodes(cacheConfig, topology.tier, ctx.region.sizes.workloadScale),
      snapshotRetentionDays: cacheConfig.snapshotRetentionDays,
      snapshotWindow: cacheConfig.snapshotWindow,
      maintenanceWindow: cacheConfig.maintenanceWindow,
      vpcId: network.vpcId,
      subnetIds: network.subnetIds.apply((ids) => [...ids.private]),
      clients: { "cluster-nodes": cluster.nodeSecurityGroupId },
      keyAlias: `hcp/${ctx.environment}/${region}/cache`,
      secretName: `${ctx.namePrefix}/workloads/cache`,
      dataClassification: "phi",
      protect: ctx.protectStateful,
    },
    { providers: [awsProvider, randomProvider] },
  );

  const operator = new SecretsOperator(
    "external-secrets",
    {
      chart: config.charts.externalSecrets,
      kubernetesVersion: topology.cluster.version,
      clusterName: cluster.clusterName,
      region,
      secretArns: [...Object.values(credentials), ...appSecretArns, cache.secret.arn],
      kmsKeyArns: [dbKeyArn, cache.key.arn],
      privateSubnetCidrs,
    },
    { providers: [awsProvider, kube] },
  );

  // Documents (PHI) and LGPD exports: one customer key of the region for both.
  const key = new KmsKey(
    "objects-key",
    {
      description: `Application objects (documents, LGPD exports) of ${ctx.namePrefix}`,
      alias: `hcp/${ctx.environment}/${region}/workloads`,
      protect: ctx.protectStateful,
    },
    { provider: awsProvider },
  );
  // The documents bucket is the primary region's; each DR region uses a replica of it. S3 keeps one
  // replication configuration per source bucket and a primary stack never reads a DR stack, so the
  // primary's stack owns the replicas too (each through its region's provider, with a key of its
  // region) and the one configuration with a rule per DR region; DR stacks read the replica of their
  // region from the primary's export.
  const documentsBucket = primary
    ? new SecureBucket(
        "documents",
        {
          kmsKeyArn: key.arn,
          dataClassification: "phi",
          bucketPrefix: `${ctx.namePrefix}-documents-`.slice(0, 37),
          protect: ctx.protectStateful,
        },
        { provider: awsProvider },
      )
    : undefined;
  const replicas = documentsBucket
    ? drRegions(topology).map((r) => {
        const provider = ctx.aws(r.name);
        const replicaKey = new KmsKey(
          `documents-replica-${r.name}-key`,
          {
            description: `Replica of the documents of ${ctx.namePrefix} in ${r.name}`,
            alias: `hcp/${ctx.environment}/${r.name}/documents-replica`,
            protect: ctx.protectStateful,
          },
          { provider },
        );
        const bucket = new SecureBucket(
          `documents-replica-${r.name}`,
          {
            kmsKeyArn: replicaKey.arn,
            dataClassification: "phi",
            bucketPrefix: `${namePrefix(ctx.environment, r.name)}-doc-replica-`.slice(0, 37),
            protect: ctx.protectStateful,
          },
          { provider },
        );
        return { region: r.name, bucket, key: replicaKey };
      })
    : [];
  if (documentsBucket && replicas.length > 0) {
    new BucketReplication(
      "documents-replication",
      { sourceRegion: region, source: documentsBucket, sourceKey: key, destinations: replicas },
      { provider: awsProvider },
    );
  }
  const documentsReplica = primary
    ? undefined
    : (
        await readContractValue(
          workloadsContract,
          stackId("workloads", ctx.environment, primaryRegion(topology).name),
        )
      ).buckets.documents.replicas[region];
  if (!primary && documentsReplica === undefined) {
    throw new Error(
      `The primary's workloads stack exports no documents replica for ${region}. Fix: update the ` +
        `primary region's workloads stack (it creates the replicas of every DR region) before this one.`,
    );
  }
  const documents = {
    name: documentsBucket?.bucketName ?? pulumi.output(documentsReplica!.name),
    arn: documentsBucket?.arn ?? pulumi.output(documentsReplica!.arn),
  };
  /** Grants a service's documents access: on the bucket of this region and its key. */
  const grantDocuments = (role: Grantee, setting: DocumentsSetting) => {
    const grant = documentsGrant(setting, mode);
    if (!grant) {
      return;
    }
    const viaService = `s3.${region}.amazonaws.com`;
    if (documentsBucket) {
      documentsBucket.grant(role, grant.bucket);
      return;
    }
    const opts = { provider: awsProvider };
    grantPolicy(
      "documents-replica",
      grant.bucket,
      role,
      bucketGrantStatements(documents.arn, grant.bucket),
      opts,
    );
    grantPolicy(
      "documents-replica-key",
      grant.key,
      role,
      keyGrantStatements(documentsReplica!.kmsKeyArn, grant.key, { viaService }),
      opts,
    );
  };
  const exportsBucket = new SecureBucket(
    "exports",
    {
      kmsKeyArn: key.arn,
      dataClassification: "phi",
      bucketPrefix: `${ctx.namePrefix}-exports-`.slice(0, 37),
      lifecycleRules: [
        {
          id: "expire-lgpd-exports",
          status: "Enabled",
          filter: { prefix: "" },
          expiration: { days: config.exports.expiryDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
      ],
      protect: ctx.protectStateful,
    },
    { provider: awsProvider },
  );

  const shared = [namespace, operator];
  new k8s.core.v1.ConfigMap(
    "platform-env",
    {
      metadata: { name: PLATFORM_ENV_CONFIGMAP, namespace: ns },
      data: {
        ...platformEnv(inputs),
        DOCUMENTS_BUCKET: documents.name,
        EXPORTS_BUCKET: exportsBucket.bucketName,
      },
    },
    { provider: kube, dependsOn: [namespace] },
  );
  new k8s.core.v1.ConfigMap(
    "database-ca",
    {
      metadata: { name: DATABASE_CA.configMapName, namespace: ns },
      data: { [DATABASE_CA.key]: db.tls.caCertificatePem },
    },
    { provider: kube, dependsOn: [namespace] },
  );

  const databaseSecret = (name: string, credential: string, labels: Record<string, string>) => {
    const arn = credentials[credential];
    if (arn === undefined) {
      throw new Error(
        `The ${primary ? "data" : "dr"} stack exports no '${credential}' credential (has: ${Object.keys(credentials).join(", ")}).`,
      );
    }
    return new k8s.apiextensions.CustomResource(
      `${name}-database`,
      externalSecretManifest({
        name: secretNames(name).database,
        namespace: ns,
        labels,
        values: [
          { secretKey: "username", key: arn, property: "username" },
          { secretKey: "password", key: arn, property: "password" },
        ],
        template: { DATABASE_URL: databaseUrlTemplate(inputs.database) },
      }),
      { provider: kube, dependsOn: shared },
    );
  };

  const migrationJobs = migrations.map(({ spec }) => {
    const secret = databaseSecret(spec.name, "admin", podLabelsOf(spec));
    return new Workload(spec.name, { spec }, { provider: kube, dependsOn: [...shared, secret] });
  });

  const workloads = specs.map(({ service, spec }) => {
    const before: pulumi.Resource[] = [...shared, ...migrationJobs];
    if (service.database.access !== "none") {
      before.push(
        databaseSecret(service.name, databaseCredential(service.database.access, mode), podLabelsOf(spec)),
      );
    }
    if (service.secrets.length > 0) {
      before.push(
        new k8s.apiextensions.CustomResource(
          `${service.name}-app-secrets`,
          externalSecretManifest({
            name: secretNames(service.name).app,
            namespace: ns,
            labels: podLabelsOf(spec),
            values: service.secrets.map((s) => ({ secretKey: s, key: appSecretNames[s] })),
          }),
          { provider: kube, dependsOn: shared },
        ),
      );
    }
    if (service.cache === "readWrite") {
      const arn = cache.secret.arn;
      before.push(
        new k8s.apiextensions.CustomResource(
          `${service.name}-cache`,
          externalSecretManifest({
            name: secretNames(service.name).cache,
            namespace: ns,
            labels: podLabelsOf(spec),
            values: Object.values(CACHE_SECRET_PROPERTIES).map((property) => ({
              secretKey: property,
              key: arn,
              property,
            })),
            template: { REDIS_URL: redisUrlTemplate() },
          }),
          { provider: kube, dependsOn: [...shared, cache] },
        ),
      );
    }
    const aws_ = service.objectStorage.documents !== "none" || service.objectStorage.exports !== "none";
    const workload = new Workload(
      service.name,
      {
        spec,
        ...(aws_
          ? {
              podIdentity: {
                clusterName: cluster.clusterName,
                description: `${service.name}: application objects`,
              },
            }
          : {}),
      },
      { providers: [awsProvider, kube], dependsOn: before },
    );
    if (workload.role) {
      grantDocuments(workload.role, service.objectStorage.documents);
      if (service.objectStorage.exports === "readWrite") {
        exportsBucket.grantReadWrite(workload.role);
      }
      key.grantEncryptDecrypt(workload.role, { viaService: `s3.${region}.amazonaws.com` });
    }
    return { service, spec, workload };
  });

  const backends = workloads.flatMap(({ service }) =>
    service.ingress && service.ports.http !== undefined
      ? [
          {
            service: service.name,
            port: service.ports.http,
            hosts: service.ingress.hosts.map((h) => hostNames(h, region, env.dns.zoneName)),
            paths: service.ingress.paths,
            readinessPath: service.probes?.readiness.path ?? "/",
          },
        ]
      : [],
  );
  const ingress = new PublicIngress(
    "public",
    {
      namespace: ns,
      groupName: config.namespace,
      clusterName: cluster.clusterName,
      backends,
      zoneId: env.dns.zoneId,
      sslPolicy: config.ingress.sslPolicy,
      waf: config.ingress.waf,
      accessLogExpiryDays: config.ingress.accessLogExpiryDays,
      bucketPrefix: `${ctx.namePrefix}-alb-logs-`.slice(0, 37),
      protect: ctx.protectStateful,
    },
    { providers: [awsProvider, kube], dependsOn: workloads.map((w) => w.workload) },
  );

  return exportContract(workloadsContract, {
    region,
    mode,
    namespaces: [ns],
    services: Object.fromEntries(
      workloads.map(({ service, spec }) => [
        service.name,
        {
          ...(service.ports.http !== undefined
            ? { host: `${service.name}.${ns}.svc.cluster.local`, port: service.ports.http }
            : {}),
          ...(service.ports.metrics !== undefined ? { metricsPort: service.ports.metrics } : {}),
          kind: service.kind,
          podLabels: podLabelsOf(spec),
        },
      ]),
    ),
    publicEndpoints: backends.flatMap((b) =>
      b.hosts.map((h) => ({
        hostname: h.hostname,
        regionalHostname: h.regionalHostname,
        service: b.service,
        loadBalancerDnsName: ingress.loadBalancerDnsName,
        loadBalancerZoneId: ingress.loadBalancerZoneId,
        healthCheckPath: b.readinessPath,
      })),
    ),
    loadBalancer: {
      dnsName: ingress.loadBalancerDnsName,
      zoneId: ingress.loadBalancerZoneId,
      arn: ingress.loadBalancerArn,
      arnSuffix: ingress.loadBalancerArnSuffix,
      webAclArn: ingress.webAcl.arn,
      accessLogBucketName: ingress.logBucket.bucket,
    },
    buckets: {
      documents: {
        ...documents,
        replicas: Object.fromEntries(
          replicas.map((r) => [
            r.region,
            { name: r.bucket.bucketName, arn: r.bucket.arn, kmsKeyArn: r.key.arn },
          ]),
        ),
      },
      exports: { name: exportsBucket.bucketName, arn: exportsBucket.arn },
    },
    appSecretNames,
  });
};
