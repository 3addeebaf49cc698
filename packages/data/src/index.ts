import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tlsSdk from "@pulumi/tls";
import { RestrictedNamespace } from "@hcp/kube";
import {
  dataContract,
  drRegions,
  exportContract,
  kubernetesProvider,
  namePrefix,
  planSubnets,
  readCluster,
  readNetwork,
  regionalLayerContext,
} from "@hcp/platform";
import {
  BackupSchedule,
  BootstrapJob,
  CA_ESCROW_PURPOSE,
  DatabaseSecrets,
  dataSecretName,
  dataTierMetricsEndpoints,
  exporterFamily,
  PgbackrestExporter,
  DataTierTls,
  dataTierPolicies,
  KUBERNETES_SECRET_NAMES,
  DATA_TIER_TLS_SECRETS,
  dataTierCertificates,
  PgbackrestClient,
  PGBOUNCER_LABELS,
  PgbouncerPool,
  PatroniCluster,
  patroniLabels,
  PORTS,
  renderArtifacts,
  ReplicationFirewall,
  dataPrivateZoneName,
  replicationHostName,
  s3Endpoint,
  SYSTEM_USERS,
} from "@hcp/postgres";
import { BackupStorage } from "./components/backupStorage";
import { DataKeys } from "./components/dataKeys";
import { ReplicationDns } from "./components/replicationDns";

/** cert-manager Secret of the PostgreSQL server certificate (its `ca.crt` also verifies Patroni's REST API). */

/** ServiceAccount of the bootstrap and backup Jobs. */
const PGBACKREST_SERVICE_ACCOUNT = "pgbackrest";

/**
 * The component's type before it moved into `@hcp/kube` / `@hcp/postgres` (or was renamed after its
 * class): its state, and its children's, live under URNs with this type.
 */
function formerType(type: string): { aliases: pulumi.Alias[] } {
  return { aliases: [{ type }] };
}

/**
 * Program of `hcp-data` (stacks `<env>-<primary region>`): the Patroni + TimescaleDB cluster,
 * PgBouncer, pgBackRest repositories in every region, the long-term archive, TLS, secrets and the
 * bootstrap SQL. Wiring only: `@hcp/postgres`, `@hcp/kube` and the components hold the logic.
 */
export = async () => {
  const ctx = await regionalLayerContext("data");
  const { topology } = ctx;
  const region = ctx.region.name;
  const network = readNetwork(ctx.environment, region);
  const cluster = readCluster(ctx.environment, region);
  const dr = drRegions(topology);

  const awsProvider = ctx.aws();
  const k8s = kubernetesProvider("kubernetes", { kubeconfig: cluster.kubeconfig });
  const randomProvider = new random.Provider("random", {});
  const tlsProvider = new tlsSdk.Provider("tls", {});

  // Everything but the pgBackRest files is known before deployment.
  const artifacts = renderArtifacts(topology, region);
  const { names, sizing } = artifacts;
  // Normally the writer; once a DR region is promoted (dr.promotedRegion) a standby cluster of it, so
  // a returning old primary follows the new writer instead of accepting writes of its own.
  const role = artifacts.inputs.patroni.role;
  const peers = topology.regions.filter((r) => r.name !== region);
  const peerCidrs = peers.map((r) => r.vpcCidr);

  const namespace = new RestrictedNamespace(
    "namespace",
    {
      name: names.namespace,
      kubernetesVersion: topology.cluster.version,
      labels: { "hcp.io/data-classification": "phi" },
      policies: dataTierPolicies({
        patroniLabels: patroniLabels(names.scope),
        pgbouncerLabels: PGBOUNCER_LABELS,
        replicationSourceCidrs: peerCidrs,
        replicationTargetCidrs: peerCidrs,
        loadBalancerSubnetCidrs: planSubnets(ctx.region.vpcCidr, ctx.region.azCount)
          .filter((s) => s.tier === "private")
          .map((s) => s.cidr),
        metrics: true,
      }),
    },
    { provider: k8s, ...formerType("hcp:data:Namespace") },
  );
  const ns = namespace.name;

  const keys = new DataKeys(
    "data-key",
    {
      region,
      alias: `hcp/${ctx.environment}/${region}/data`,
      replicaProviders: Object.fromEntries(dr.map((r) => [r.name, ctx.aws(r.name)])),
      protect: ctx.protectStateful,
    },
    { provider: awsProvider, ...formerType("hcp:data:Keys") },
  );
  const keyArns = keys.arnsByRegion;

  const storage = new BackupStorage(
    "backups",
    {
      namePrefix: ctx.namePrefix,
      repositories: [ctx.region, ...dr].map((r, i) => ({
        region: r.name,
        index: i + 1,
        namePrefix: namePrefix(ctx.environment, r.name),
        provider: ctx.aws(r.name),
        kmsKeyArn: keyArns.apply((arns) => arns[r.name]),
      })),
      archiveKmsKeyArn: keys.primary.arn,
      archiveRetentionYears: topology.retention.clinicalRecordYears,
      clusterName: cluster.clusterName,
      namespace: ns,
      serviceAccounts: [names.scope, PGBACKREST_SERVICE_ACCOUNT],
      protect: ctx.protectStateful,
    },
    { provider: awsProvider },
  );
  // pgBackRest reaches the keys only through S3, each region's copy through that region's S3.
  const keyGrants = keys.grantEncryptDecrypt(storage.role, { viaService: s3Endpoint });
  const backupAccess = [storage, ...keyGrants];

  const bucketsByRegion = pulumi
    .all(storage.repositories.map((r) => r.bucket.bucketName))
    .apply((buckets) => Object.fromEntries(storage.repositories.map((r, i) => [r.region, buckets[i]])));
  const pgbackrest = pulumi
    .all([bucketsByRegion, keyArns])
    .apply(
      ([backupBuckets, backupKmsKeyArns]) =>
        renderArtifacts(topology, region, { deployValues: { backupBuckets, backupKmsKeyArns } }).pgbackrest,
    );

  const tls = new DataTierTls(
    "tls",
    {
      namespace: ns,
      caCommonName: `${ctx.namePrefix}-data-ca`,
      certificates: dataTierCertificates(names, replicationHostName(ctx.environment, region)),
      // The DR stacks read the CA from the escrow's replica to sign their own certificates, so a
      // standby verifies the primary and, after a promotion, the old primary verifies the new writer.
      caEscrow: {
        secretName: dataSecretName(ctx.environment, CA_ESCROW_PURPOSE),
        kmsKeyArn: keys.primary.arn,
        replicas: Object.fromEntries(dr.map((r) => [r.name, keyArns.apply((arns) => arns[r.name])])),
        protect: ctx.protectStateful,
      },
    },
    { providers: [k8s, tlsProvider, awsProvider], ...formerType("hcp:data:Tls") },
  );
  const certificateSecret = (key: string) => tls.certificates[key].metadata.name;

  const secrets = new DatabaseSecrets(
    "credentials",
    {
      namespace: ns,
      secretNamePrefix: `hcp/${ctx.environment}/data`,
      kmsKeyArn: keys.primary.arn,
      replicaRegions: Object.fromEntries(dr.map((r) => [r.name, keyArns.apply((arns) => arns[r.name])])),
      databaseName: topology.data.databaseName,
      endpoints: {
        app: { host: names.hosts.pgbouncer, port: PORTS.pgbouncer },
        admin: { host: names.hosts.pgbouncer, port: PORTS.pgbouncer },
        reader: { host: names.hosts.pgbouncer, port: PORTS.pgbouncer },
        monitoring: { host: names.hosts.primary, port: PORTS.postgres },
        superuser: { host: names.hosts.primary, port: PORTS.postgres },
      },
      pgbouncerUserlist: artifacts.pgbouncer.userlist,
      protect: ctx.protectStateful,
    },
    { providers: [awsProvider, k8s, randomProvider], ...formerType("hcp:data:Secrets") },
  );

  const firewall = new ReplicationFirewall(
    "replication-firewall",
    {
      vpcId: network.vpcId,
      vpcCidr: ctx.region.vpcCidr,
      peerCidrs,
      nameTag: `${ctx.namePrefix}-replication`,
    },
    { provider: awsProvider },
  );
  // Exporters next to the database pods (read as the metrics role); observability scrapes them.
  const exporters = topology.observability.exporters;
  const monitoringSecret = secrets.kubernetesSecrets.monitoring.metadata.name;

  const patroni = new PatroniCluster(
    "patroni",
    {
      role: role.kind,
      standbySource: role.kind === "standby" ? role.source : undefined,
      names,
      namespace: ns,
      members: ctx.region.sizes.databaseMembers,
      image: topology.data.image,
      patroni: artifacts.patroni,
      pgbackrestConf: pgbackrest.conf,
      container: sizing.container,
      storage: { storageClassName: cluster.storageClassName, sizeGiB: topology.data.storageGiB },
      placement: cluster.databaseNodes,
      credentialsSecretName: secrets.kubernetesSecrets.patroni.metadata.name,
      tlsSecretName: certificateSecret("postgres"),
      readinessLagBytes: topology.data.patroni.maximumLagOnFailoverBytes,
      metrics: { image: exporters.postgres, credentialsSecretName: monitoringSecret },
      replicationEndpoint: {
        subnetIds: network.subnetIds.private,
        sourceCidrs: peerCidrs,
        securityGroupIds: [firewall.securityGroupId],
      },
      protect: ctx.protectStateful,
    },
    // The members archive WAL from their first start: buckets, role and grants come first.
    { provider: k8s, dependsOn: backupAccess, ...formerType("hcp:data:PatroniCluster") },
  );

  const replicationDns = new ReplicationDns(
    "replication-dns",
    {
      zoneName: dataPrivateZoneName(ctx.environment),
      hostName: replicationHostName(ctx.environment, region),
      vpcId: network.vpcId,
      vpcRegion: region,
      target: patroni.replicationHost!,
      protect: ctx.protectStateful,
    },
    { provider: awsProvider },
  );

  new PgbouncerPool(
    "pgbouncer",
    {
      namespace: ns,
      serviceName: names.services.pgbouncer,
      replicas: ctx.region.sizes.pgbouncerReplicas,
      image: topology.data.image,
      ini: artifacts.pgbouncer.ini,
      userlistSecretName: secrets.kubernetesSecrets.pgbouncerAuth.metadata.name,
      tlsSecretName: certificateSecret("pgbouncer"),
      metrics: { image: exporters.pgbouncer, credentialsSecretName: monitoringSecret },
    },
    { provider: k8s, ...formerType("hcp:data:PgbouncerPool") },
  );

  const jobs = new PgbackrestClient(
    "pgbackrest-jobs",
    {
      namespace: ns,
      serviceAccountName: PGBACKREST_SERVICE_ACCOUNT,
      conf: pgbackrest.apply((p) => p.backupJobConf!),
      image: topology.data.image,
      clientTlsSecretName: certificateSecret("pgbackrestClient"),
    },
    { provider: k8s, dependsOn: backupAccess, ...formerType("hcp:data:PgbackrestClient") },
  );

  new PgbackrestExporter(
    "pgbackrest-exporter",
    { namespace: ns, pod: jobs.pod, image: exporters.pgbackrest },
    { provider: k8s, dependsOn: backupAccess },
  );

  new BootstrapJob(
    "bootstrap",
    {
      ...jobs.pod,
      namespace: ns,
      sql: artifacts.sql,
      databaseName: topology.data.databaseName,
      primaryHost: names.hosts.primary,
      stanza: names.stanza,
      credentialsSecretName: secrets.kubernetesSecrets.bootstrap.metadata.name,
    },
    { provider: k8s, dependsOn: [patroni], ...formerType("hcp:data:BootstrapJob") },
  );

  new BackupSchedule(
    "backup-schedule",
    {
      ...jobs.pod,
      namespace: ns,
      stanza: names.stanza,
      backups: {
        full: {
          schedule: topology.data.backup.fullSchedule,
          command: artifacts.pgbackrest.backupCommands.full,
        },
        diff: {
          schedule: topology.data.backup.diffSchedule,
          command: artifacts.pgbackrest.backupCommands.diff,
        },
      },
      // A standby's leader has nothing to back up: the schedules wait for the failback.
      state: role.kind === "primary" ? "active" : "suspended",
      archiveCopy: {
        image: topology.data.backup.archiveCopyImage,
        sourceBucket: storage.repositories[0].bucket.bucketName,
        sourcePath: artifacts.inputs.pgbackrest.repos[0].path,
        archiveBucket: storage.archive.bucketName,
        archiveKmsKeyArn: keys.primary.arn,
        region,
      },
    },
    { provider: k8s, dependsOn: [patroni], ...formerType("hcp:data:BackupSchedule") },
  );

  return exportContract(dataContract, {
    namespace: ns,
    patroniScope: names.scope,
    databaseName: topology.data.databaseName,
    endpoints: {
      primaryHost: names.hosts.primary,
      replicasHost: names.hosts.replicas,
      pgbouncerHost: names.hosts.pgbouncer,
      port: PORTS.postgres,
      pgbouncerPort: PORTS.pgbouncer,
    },
    secrets: {
      appCredentialsSecretArn: secrets.secretArns.apply((a) => a.app),
      credentialSecretArns: secrets.secretArns,
      kubernetesSecretNames: { ...KUBERNETES_SECRET_NAMES },
    },
    kmsKeyArns: {
      primary: keys.primary.arn,
      replicas: keyArns.apply((arns) => Object.fromEntries(dr.map((r) => [r.name, arns[r.name]]))),
    },
    backups: {
      stanza: names.stanza,
      repositories: storage.repositories.map((r) => ({
        index: r.index,
        region: r.region,
        bucketName: r.bucket.bucketName,
        bucketArn: r.bucket.arn,
        kmsKeyArn: keyArns.apply((arns) => arns[r.region]),
      })),
      archiveBucketName: storage.archive.bucketName,
      archiveBucketArn: storage.archive.arn,
    },
    tls: { caCertificatePem: tls.caCertificatePem },
    replication: {
      host: replicationDns.hostName,
      privateZoneId: replicationDns.zone.zoneId,
      port: PORTS.postgres,
      user: SYSTEM_USERS.replication,
      passwordSecretArn: secrets.secretArns.apply((a) => a.replication),
    },
    metrics: dataTierMetricsEndpoints(names, {
      postgresTlsSecretName: DATA_TIER_TLS_SECRETS.postgres,
      postgresExporterFamily: exporterFamily("postgres_exporter", exporters.postgres),
    }),
  });
};
