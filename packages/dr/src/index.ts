import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RestrictedNamespace } from "@hcp/kube";
import {
  drContract,
  exportContract,
  kubernetesProvider,
  planSubnets,
  readCluster,
  readData,
  readNetwork,
  regionalLayerContext,
} from "@hcp/platform";
import {
  BackupSchedule,
  CA_ESCROW_PURPOSE,
  DataTierTls,
  dataSecretName,
  dataTierPolicies,
  KUBERNETES_SECRET_NAMES,
  PatroniCluster,
  patroniLabels,
  dataTierCertificates,
  DATA_TIER_TLS_SECRETS,
  dataTierMetricsEndpoints,
  exporterFamily,
  PgbackrestClient,
  PgbackrestExporter,
  PGBOUNCER_LABELS,
  PgbouncerPool,
  PORTS,
  renderArtifacts,
  ReplicationFirewall,
  replicationHostName,
} from "@hcp/postgres";
import { PeeringLink } from "./components/peeringLink";
import { StandbyBackupAccess } from "./components/standbyBackupAccess";
import { StandbyCredentials } from "./components/standbyCredentials";
import { StandbyDns } from "./components/standbyDns";
import { caOf, drMode, peeringRoutes, zonesInUse } from "./plan";

/** ServiceAccount of the backup Jobs (as in the primary region). */
const PGBACKREST_SERVICE_ACCOUNT = "pgbackrest";

/**
 * Program of `hcp-dr` (stacks `<env>-<dr region>`): the inter-region path to the primary (VPC
 * peering, routes, private DNS), the Patroni standby cluster streaming from the primary's replication
 * endpoint (or, with `dr.promotedRegion` naming this region, the same cluster as the writer),
 * PgBouncer in front of its leader, the region's copies of the credentials and the CA, and the
 * pgBackRest access and schedules of the region. Wiring only: `@hcp/postgres`, `@hcp/kube` and the
 * components hold the logic.
 */
export = async () => {
  const ctx = await regionalLayerContext("dr");
  const { topology } = ctx;
  const region = ctx.region.name;
  const primary = ctx.primary;
  const network = readNetwork(ctx.environment, region);
  const primaryNetwork = readNetwork(ctx.environment, primary.name);
  const cluster = readCluster(ctx.environment, region);
  const data = readData(ctx.environment, primary.name);

  const awsProvider = ctx.aws();
  const primaryAws = ctx.aws(primary.name);
  const k8s = kubernetesProvider("kubernetes", { kubeconfig: cluster.kubeconfig });

  // The role follows the environment file: a standby of the writer, or the writer once promoted.
  const artifacts = renderArtifacts(topology, region);
  const { names, sizing } = artifacts;
  const role = artifacts.inputs.patroni.role;
  const mode = drMode(topology, region);
  const peerCidrs = topology.regions.filter((r) => r.name !== region).map((r) => r.vpcCidr);

  const zones = async (provider: aws.Provider, r: typeof primary) =>
    zonesInUse(
      (await aws.getAvailabilityZones({ state: "available" }, { provider })).names,
      r.azCount,
      r.name,
    );
  const peering = new PeeringLink("peering", {
    requester: {
      region,
      vpcId: network.vpcId,
      provider: awsProvider,
      routeTableIds: network.routeTableIds,
      availabilityZones: network.availabilityZones,
    },
    accepter: {
      region: primary.name,
      vpcId: primaryNetwork.vpcId,
      provider: primaryAws,
      routeTableIds: primaryNetwork.routeTableIds,
      availabilityZones: primaryNetwork.availabilityZones,
      accountId: topology.access.accountId,
    },
    routes: peeringRoutes(
      { region: ctx.region, zones: await zones(awsProvider, ctx.region) },
      { region: primary, zones: await zones(primaryAws, primary) },
    ),
    nameTag: `${ctx.namePrefix}-to-${primary.name}`,
  });

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
    { provider: k8s },
  );
  const ns = namespace.name;

  // The environment's CA, from the data layer's escrow replicated here: every region's certificates
  // chain to it, so each side verifies the other (verify-full) with the ca.crt it already mounts.
  const escrow = aws.secretsmanager.getSecretVersionOutput(
    { secretId: dataSecretName(ctx.environment, CA_ESCROW_PURPOSE) },
    { provider: awsProvider },
  );
  const ca = pulumi.secret(escrow.secretString).apply(caOf);
  const tls = new DataTierTls(
    "tls",
    {
      namespace: ns,
      caCommonName: `${ctx.namePrefix}-data-ca`,
      ca: {
        kind: "existing",
        // The certificate is public (every client mounts it); only the key stays a secret.
        certificatePem: pulumi.unsecret(ca.apply((c) => c.certificatePem)),
        privateKeyPem: pulumi.secret(ca.apply((c) => c.privateKeyPem)),
      },
      certificates: dataTierCertificates(names, replicationHostName(ctx.environment, region)),
    },
    { provider: k8s },
  );
  const certificateSecret = (key: string) => tls.certificates[key].metadata.name;

  const credentials = new StandbyCredentials("credentials", {
    region,
    primarySecretArns: data.secrets.credentialSecretArns,
    namespace: ns,
    pgbouncerUserlist: artifacts.pgbouncer.userlist,
    awsProvider,
    k8sProvider: k8s,
  });

  // This cluster's repositories: the data layer's buckets in this region (and other DR regions),
  // never the primary region's, so a promoted cluster does not depend on the region it replaces.
  const repositories = artifacts.inputs.pgbackrest.repos.map((repo) => {
    if (repo.type !== "s3") {
      throw new Error(`the DR cluster's repository ${repo.index} is not an S3 repository`);
    }
    const bucket = data.backups.repositories.apply((all) => {
      const match = all.find((b) => b.region === repo.region);
      if (!match) {
        throw new Error(
          `the data contract has no pgBackRest bucket in ${repo.region}. Fix: deploy the data stack of ${primary.name} ` +
            "with the current topology (it creates one per DR region).",
        );
      }
      return match;
    });
    return { index: repo.index, region: repo.region, bucket };
  });
  const backupAccess = new StandbyBackupAccess(
    "backups",
    {
      clusterName: cluster.clusterName,
      namespace: ns,
      serviceAccounts: [names.scope, PGBACKREST_SERVICE_ACCOUNT],
      repositories: repositories.map((r) => ({
        index: r.index,
        region: r.region,
        bucketArn: r.bucket.apply((b) => b.bucketArn),
        kmsKeyArn: r.bucket.apply((b) => b.kmsKeyArn),
      })),
    },
    { provider: awsProvider },
  );
  const pgbackrest = pulumi.all(repositories.map((r) => r.bucket)).apply(
    (buckets) =>
      renderArtifacts(topology, region, {
        deployValues: {
          backupBuckets: Object.fromEntries(buckets.map((b) => [b.region, b.bucketName])),
          backupKmsKeyArns: Object.fromEntries(buckets.map((b) => [b.region, b.kmsKeyArn])),
        },
      }).pgbackrest,
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

  // The same exporters as in the primary region (read as the metrics role, whose password the
  // credentials replicate): this region's observability stack watches the standby where it runs.
  const exporters = topology.observability.exporters;
  const monitoringSecret = credentials.kubernetesSecrets.monitoring.metadata.name;

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
      credentialsSecretName: credentials.kubernetesSecrets.patroni.metadata.name,
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
    // The standby leader streams over the peering and reads the repository from its first start.
    { provider: k8s, dependsOn: [peering, backupAccess] },
  );

  const dns = new StandbyDns(
    "replication-dns",
    {
      zoneId: data.replication.privateZoneId,
      vpcId: network.vpcId,
      vpcRegion: region,
      hostName: replicationHostName(ctx.environment, region),
      target: patroni.replicationHost!,
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
      userlistSecretName: credentials.kubernetesSecrets.pgbouncerAuth.metadata.name,
      tlsSecretName: certificateSecret("pgbouncer"),
      metrics: { image: exporters.pgbouncer, credentialsSecretName: monitoringSecret },
    },
    { provider: k8s },
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
    { provider: k8s, dependsOn: [backupAccess] },
  );

  new PgbackrestExporter(
    "pgbackrest-exporter",
    { namespace: ns, pod: jobs.pod, image: exporters.pgbackrest },
    { provider: k8s, dependsOn: [backupAccess] },
  );

  // Backups of this region's own stanza, running only while this region holds the writer. The
  // yearly long-term copy stays with the primary region's archive bucket.
  new BackupSchedule(
    "backup-schedule",
    {
      ...jobs.pod,
      namespace: ns,
      stanza: names.stanza,
      state: mode === "promoted" ? "active" : "suspended",
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
    },
    { provider: k8s, dependsOn: [patroni] },
  );

  const ownBucket = repositories[0].bucket;
  return exportContract(drContract, {
    region,
    primaryRegion: primary.name,
    mode,
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
      credentialSecretArns: credentials.secretArns,
      kubernetesSecretNames: {
        patroni: KUBERNETES_SECRET_NAMES.patroni,
        pgbouncerAuth: KUBERNETES_SECRET_NAMES.pgbouncerAuth,
      },
    },
    tls: { caCertificatePem: tls.caCertificatePem },
    kmsKeyArn: data.kmsKeyArns.replicas.apply((keys) => keys[region]),
    backups: {
      stanza: names.stanza,
      repositoryIndex: repositories[0].index,
      bucketName: ownBucket.apply((b) => b.bucketName),
    },
    peeringConnectionId: peering.connectionId,
    replication: { host: dns.hostName, port: PORTS.postgres },
    metrics: dataTierMetricsEndpoints(names, {
      postgresTlsSecretName: DATA_TIER_TLS_SECRETS.postgres,
      postgresExporterFamily: exporterFamily("postgres_exporter", exporters.postgres),
    }),
  });
};
