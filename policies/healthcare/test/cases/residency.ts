import type { PolicyPackConfigJson } from "../../src/lib";
import { type Case, cases, notApplicable, pass, preview, violation } from "../case";
import { awsProvider, res, unknown } from "../fixtures";

const BR = awsProvider("sa-east-1", "phi");
const US = awsProvider("us-east-1", "phi");

/** The residency of the repository's environments: BR home, US DR copy under SCCs. */
const withUsTransfer = (rule: string): PolicyPackConfigJson => ({
  [rule]: { homeCountry: "BR", allowedRegions: ["sa-east-1", "us-east-1"], transferBasisCountries: ["US"] },
});
const usAllowedNoBasis = (rule: string): PolicyPackConfigJson => ({
  [rule]: { homeCountry: "BR", allowedRegions: ["sa-east-1", "us-east-1"], transferBasisCountries: [] },
});

const phiBucket = (name: string, provider = BR) =>
  res("aws:s3/bucket:Bucket", name, { bucketPrefix: `hcp-${name}-` }, { provider });

const volume = (provider = BR, region?: string) =>
  res(
    "aws:ebs/volume:Volume",
    "pgdata",
    { availabilityZone: "x", size: 10, encrypted: true, kmsKeyId: "k", region },
    { provider },
  );

const replicationStack = (destinationProvider = US) => {
  const source = phiBucket("backup", BR);
  const destination = phiBucket("backup-dr", destinationProvider);
  return [
    source,
    destination,
    res(
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "backup-replication",
      {
        bucket: unknown.string(),
        role: unknown.string(),
        rules: [
          {
            id: "dr",
            status: "Enabled",
            filter: {},
            destination: { bucket: unknown.string(), storageClass: "STANDARD" },
            deleteMarkerReplication: { status: "Enabled" },
          },
        ],
      },
      { provider: BR, dependsOn: { bucket: [source], rules: [destination] } },
    ),
  ];
};

/**
 * One replication configuration with a rule per DR region (S3 allows one per source bucket), as the
 * workloads layer's documents replication has it: each rule's destination is checked on its own.
 */
const multiRegionReplicationStack = () => {
  const source = phiBucket("documents", BR);
  const us = phiBucket("documents-replica-us-east-1", US);
  const eu = phiBucket("documents-replica-eu-west-1", awsProvider("eu-west-1", "phi"));
  const rule = (region: string) => ({
    id: `to-${region}`,
    status: "Enabled",
    filter: {},
    destination: { bucket: unknown.string(), encryptionConfiguration: { replicaKmsKeyId: unknown.string() } },
    deleteMarkerReplication: { status: "Enabled" },
    sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
  });
  return [
    source,
    us,
    eu,
    res(
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "documents-replication",
      { bucket: unknown.string(), role: unknown.string(), rules: [rule("eu-west-1"), rule("us-east-1")] },
      { provider: BR, dependsOn: { bucket: [source], rules: [eu, us] } },
    ),
  ];
};
const usAndEuAllowed = (transferBasisCountries: string[]): PolicyPackConfigJson => ({
  "phi-cross-border-copy": {
    homeCountry: "BR",
    allowedRegions: ["sa-east-1", "us-east-1", "eu-west-1"],
    transferBasisCountries,
  },
});

const pgbackrestConf = (repo2Region: string) =>
  res("kubernetes:core/v1:ConfigMap", "pgbackrest", {
    metadata: { name: "pgbackrest", namespace: "data" },
    data: {
      "pgbackrest.conf": `[global]\nrepo1-type=s3\nrepo1-s3-region=sa-east-1\nrepo2-type=s3\nrepo2-s3-region=${repo2Region}\n`,
    },
  });

export const residencyCases: Case[] = [
  ...cases("phi-allowed-regions", [
    { kind: "pass", title: "PHI volume in sa-east-1", resource: volume(), expect: pass },
    {
      kind: "fail",
      title: "PHI volume in us-east-1 with the default (Brazil only) config",
      resource: volume(US),
      expect: violation(/region us-east-1 is not an allowed region/),
    },
    {
      kind: "pass",
      title: "PHI volume in us-east-1 allowed by the environment",
      resource: volume(US),
      config: withUsTransfer("phi-allowed-regions"),
      expect: pass,
    },
    {
      kind: "fail",
      title: "resource-level region override to eu-west-1",
      resource: volume(BR, "eu-west-1"),
      config: withUsTransfer("phi-allowed-regions"),
      expect: violation(/region eu-west-1/),
    },
    {
      kind: "fail",
      title: "PHI resource without an explicit provider",
      resource: res(
        "aws:ebs/volume:Volume",
        "v",
        { availabilityZone: "x", tags: { DataClassification: "phi" } },
        { provider: null },
      ),
      expect: violation(/region cannot be determined/),
    },
    {
      kind: "pass",
      title: "PHI from the provider's JSON-encoded defaultTags",
      resource: volume(awsProvider("sa-east-1", "phi", { encoding: "json" })),
      expect: pass,
    },
    {
      kind: "fail",
      title: "PHI from JSON-encoded defaultTags in a disallowed region",
      resource: volume(awsProvider("us-east-1", "phi", { encoding: "json" })),
      expect: violation(/us-east-1/),
    },
    {
      kind: "pass",
      title: "non-PHI resource anywhere",
      resource: volume(awsProvider("us-east-1", "internal")),
      expect: notApplicable,
    },
    {
      kind: "unknown",
      title: "provider region unknown",
      resource: volume({ ...BR, props: { ...BR.props, region: unknown.string() } }),
      expect: preview,
    },
  ]),
  ...cases("phi-international-transfer", [
    { kind: "pass", title: "PHI in the home country", resource: volume(), expect: pass },
    {
      kind: "pass",
      title: "PHI in the US with a US transfer basis",
      resource: volume(US),
      config: withUsTransfer("phi-international-transfer"),
      expect: pass,
    },
    {
      kind: "fail",
      title: "PHI in the US without a transfer basis",
      resource: volume(US),
      config: usAllowedNoBasis("phi-international-transfer"),
      expect: violation(/us-east-1 is in US, outside BR, and no transfer basis is configured for US/),
    },
    {
      kind: "unknown",
      title: "DataClassification tag unknown",
      resource: res(
        "aws:ebs/volume:Volume",
        "v",
        { availabilityZone: "x", tags: { DataClassification: unknown.string() } },
        { provider: US },
      ),
      expect: preview,
    },
  ]),
  ...cases("phi-cross-border-copy", [
    {
      kind: "pass",
      title: "replication to the US with a US basis",
      stack: replicationStack(),
      config: withUsTransfer("phi-cross-border-copy"),
      expect: pass,
    },
    {
      kind: "fail",
      title: "replication to the US without a basis",
      stack: replicationStack(),
      config: usAllowedNoBasis("phi-cross-border-copy"),
      expect: violation(
        /Replication 'backup-replication' to bucket 'backup-dr'.*no transfer basis is configured for US/,
      ),
    },
    {
      kind: "fail",
      title: "replication to a region that is not allowed",
      stack: replicationStack(awsProvider("eu-west-1", "phi")),
      config: withUsTransfer("phi-cross-border-copy"),
      expect: violation(/eu-west-1 is not an allowed region/),
    },
    {
      kind: "pass",
      title: "one replication configuration with a rule per region, each with a basis",
      stack: multiRegionReplicationStack(),
      config: usAndEuAllowed(["US", "IE"]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "one replication configuration with a rule per region, one region without a basis",
      stack: multiRegionReplicationStack(),
      config: usAndEuAllowed(["US"]),
      // Only the Irish destination is reported: the US rule has its basis.
      expect: violation(
        /Replication 'documents-replication' to bucket 'documents-replica-eu-west-1'.*eu-west-1 is in IE, outside BR, and no transfer basis is configured for IE/,
        { count: 1 },
      ),
    },
    {
      kind: "pass",
      title: "pgBackRest repo2 in the US with a basis",
      stack: [pgbackrestConf("us-east-1")],
      config: withUsTransfer("phi-cross-border-copy"),
      expect: pass,
    },
    {
      kind: "fail",
      title: "pgBackRest repo2 in the US without a basis",
      stack: [pgbackrestConf("us-east-1")],
      config: usAllowedNoBasis("phi-cross-border-copy"),
      expect: violation(/pgBackRest repo2 .* no transfer basis is configured for US/),
    },
    {
      kind: "unknown",
      title: "replication destination neither linked nor known",
      stack: [
        phiBucket("backup"),
        res(
          "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
          "r",
          {
            bucket: "hcp-backup-x",
            role: "r",
            rules: [{ status: "Enabled", destination: { bucket: unknown.string() } }],
          },
          { provider: BR },
        ),
      ],
      expect: preview,
    },
  ]),
];
