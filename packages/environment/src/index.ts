import {
  drRegions,
  environmentContextFor,
  environmentContract,
  exportContract,
  loadEnvironmentConfig,
  physicalName,
} from "@hcp/platform";
import { AuditTrail } from "./components/auditTrail";
import { CiAccess } from "./components/ciAccess";
import { ContainerRegistry } from "./components/containerRegistry";
import { GitHubConnections } from "./components/githubConnections";
import { PublicZone } from "./components/publicZone";

/**
 * Program of the root project `healthcare-platform` (stack = environment): environment-wide
 * resources in the primary region, and the parsed environment definition every layer reads.
 */
export = () => {
  const topology = loadEnvironmentConfig();
  const ctx = environmentContextFor(topology);
  const primary = { providers: [ctx.aws()] };
  const prefix = ctx.namePrefix;

  const zone = new PublicZone("dns", { domain: topology.dns.domain, protect: ctx.protectStateful }, primary);
  const registry = new ContainerRegistry(
    "ecr",
    {
      repositories: topology.ecr.repositories,
      untaggedImageExpiryDays: topology.ecr.untaggedImageExpiryDays,
      replicaProviders: Object.fromEntries(drRegions(topology).map((r) => [r.name, ctx.aws(r.name)])),
      keyAlias: `hcp/${topology.name}/ecr`,
      protect: ctx.protectStateful,
    },
    primary,
  );
  const audit = new AuditTrail(
    "audit",
    {
      trailName: physicalName("trail", prefix, "audit"),
      bucketPrefix: `${prefix}-audit-`,
      keyAlias: `hcp/${topology.name}/cloudtrail`,
      retentionYears: topology.retention.auditYears,
      protect: ctx.protectStateful,
    },
    primary,
  );
  const ci = new CiAccess(
    "ci",
    {
      github: topology.access.github,
      stateBackend: topology.access.stateBackend,
      namePrefix: prefix,
      auditTrailArn: audit.trailArn,
      auditBucketArn: audit.bucket.arn,
      auditKeyArn: audit.key.arn,
    },
    primary,
  );

  const github = new GitHubConnections(
    "github",
    {
      environment: topology.name,
      providers: Object.fromEntries(topology.regions.map((r) => [r.name, ctx.aws(r.name)])),
    },
    primary,
  );

  return exportContract(environmentContract, {
    topology,
    dns: { zoneId: zone.zone.zoneId, zoneName: zone.zone.name, nameServers: zone.zone.nameServers },
    ecr: {
      repositories: Object.fromEntries(
        Object.entries(registry.repositories).map(([key, repo]) => [
          key,
          { name: repo.name, url: repo.repositoryUrl, arn: repo.arn },
        ]),
      ),
      replicationRegions: Object.keys(registry.replicaKeys),
      kmsKeyArn: registry.key.arn,
    },
    ci: {
      oidcProviderArn: ci.oidcProvider.arn,
      previewRoleArn: ci.previewRole.arn,
      deployRoleArn: ci.deployRole.arn,
      githubConnectionArns: Object.fromEntries(
        Object.entries(github.connections).map(([region, c]) => [region, c.arn]),
      ),
    },
    audit: {
      trailArn: audit.trailArn,
      bucketName: audit.bucket.bucketName,
      bucketArn: audit.bucket.arn,
      kmsKeyArn: audit.key.arn,
    },
  });
};
