import * as assert from "node:assert/strict";
import { checkContract, drRegions, primaryRegion, stackId, workloadsContract } from "@hcp/platform";
import {
  assertConventions,
  at,
  byUrn,
  ofType,
  one,
  parsePolicy,
  producerValue,
  promotedTopology,
  type ProgramRun,
  type RegisteredResource,
  repoTopology,
  runLayer,
} from "@hcp/testing";
import { documentsGrant } from "../src/documents";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  configMap: "kubernetes:core/v1:ConfigMap",
  component: "hcp:platform:BucketReplication",
} as const;

const providerRegion = (r: RegisteredResource) =>
  /::pulumi:providers:aws::aws-([a-z0-9-]+)(?:::|$)/.exec(r.provider ?? "")?.[1];
const arnOf = (r: RegisteredResource) => r.wireOutputs.arn as string;
function named(run: ProgramRun, type: string, name: string): RegisteredResource {
  const found = ofType(run.resources, type).filter((r) => r.name === name);
  assert.equal(found.length, 1, `one ${type} named ${name}`);
  return found[0];
}

function platformEnv(run: ProgramRun): Record<string, unknown> {
  const found = ofType(run.resources, T.configMap).filter(
    (r) => at(r.inputs, "metadata.name") === "hcp-platform",
  );
  assert.equal(found.length, 1);
  return found[0].inputs.data as Record<string, unknown>;
}

/** The statements of the inline policies attached to the role named `roleName`. */
function statementsOn(run: ProgramRun, roleName: string) {
  return ofType(run.resources, T.rolePolicy)
    .filter((p) => p.inputs.role === roleName)
    .flatMap((p) => parsePolicy(p.inputs.policy).Statement);
}

describe("documentsGrant", () => {
  it("gives a service its setting in a writable region and at most read in a read-only one", () => {
    assert.equal(documentsGrant("none", "readWrite"), undefined);
    assert.equal(documentsGrant("none", "readOnly"), undefined);
    assert.deepEqual(documentsGrant("readWrite", "readWrite"), {
      bucket: "readWrite",
      key: "encryptDecrypt",
    });
    assert.deepEqual(documentsGrant("readWrite", "readOnly"), { bucket: "read", key: "decrypt" });
    assert.deepEqual(documentsGrant("read", "readWrite"), { bucket: "read", key: "decrypt" });
    assert.deepEqual(documentsGrant("read", "readOnly"), { bucket: "read", key: "decrypt" });
  });
});

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const primary = primaryRegion(topology).name;
  const drs = drRegions(topology).map((r) => r.name);
  const users = topology.workloads.services.filter((s) => s.objectStorage.documents !== "none");

  describe(`documents: hcp-workloads ${env}-${primary} (primary)`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runLayer({ layer: "workloads", topology, region: primary });
    });

    it("keeps the documents bucket in the primary region and a replica per DR region, each with a key of its region", () => {
      assertConventions(run, { tier: topology.tier });
      const source = named(run, T.bucket, "documents");
      assert.equal(providerRegion(source), primary);
      assert.equal(at(source.inputs, "tags.DataClassification"), "phi");
      for (const dr of drs) {
        const bucket = named(run, T.bucket, `documents-replica-${dr}`);
        const key = named(run, T.key, `documents-replica-${dr}-key`);
        assert.equal(providerRegion(bucket), dr);
        assert.equal(providerRegion(key), dr);
        assert.equal(at(bucket.inputs, "tags.DataClassification"), "phi");
        assert.equal(bucket.options.protect, source.options.protect);
        assert.equal(key.options.protect, topology.tier === "production");
        assert.equal(
          at(named(run, T.alias, `documents-replica-${dr}-key-alias`).inputs, "name"),
          `alias/hcp/${env}/${dr}/documents-replica`,
        );
        // The SecureBucket baseline on the replica: its own key, versioning, no public access, TLS only.
        const sse = named(run, T.sse, `documents-replica-${dr}-encryption`);
        assert.equal(at(sse.inputs, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), arnOf(key));
        assert.equal(
          at(
            named(run, T.versioning, `documents-replica-${dr}-versioning`).inputs,
            "versioningConfiguration.status",
          ),
          "Enabled",
        );
        assert.equal(
          named(run, T.publicAccess, `documents-replica-${dr}-public-access`).inputs.restrictPublicBuckets,
          true,
        );
        assert.match(
          String(named(run, T.bucketPolicy, `documents-replica-${dr}-policy`).inputs.policy),
          /aws:SecureTransport/,
        );
      }
    });

    it("replicates with one configuration on the source: a rule per DR region to its replica, under its key", () => {
      const config = one(run.resources, T.replication);
      const source = named(run, T.bucket, "documents");
      assert.equal(config.inputs.bucket, source.id);
      assert.equal(providerRegion(config), primary);
      assert.equal(byUrn(run.resources, config.parent!)?.type, T.component);
      const rules = config.inputs.rules as Array<Record<string, unknown>>;
      assert.deepEqual(
        rules.map((r) => r.id),
        [...drs].sort().map((dr) => `to-${dr}`),
      );
      for (const dr of drs) {
        const rule = rules.find((r) => r.id === `to-${dr}`)!;
        assert.equal(at(rule, "destination.bucket"), arnOf(named(run, T.bucket, `documents-replica-${dr}`)));
        assert.equal(
          at(rule, "destination.encryptionConfiguration.replicaKmsKeyId"),
          arnOf(named(run, T.key, `documents-replica-${dr}-key`)),
        );
        assert.equal(at(rule, "deleteMarkerReplication.status"), "Enabled");
        assert.equal(at(rule, "sourceSelectionCriteria.sseKmsEncryptedObjects.status"), "Enabled");
        assert.deepEqual(at(rule, "filter"), {});
        assert.equal(at(rule, "destination.replicationTime.time.minutes"), 15);
        assert.equal(at(rule, "destination.metrics.eventThreshold.minutes"), 15);
      }
      // S3 refuses replication between unversioned buckets: the configuration waits for both sides.
      const versionings = ["documents", ...drs.map((dr) => `documents-replica-${dr}`)].map(
        (b) => named(run, T.versioning, `${b}-versioning`).urn,
      );
      for (const v of versionings) {
        assert.ok(config.dependencies.includes(v), `replication depends on ${v}`);
      }
    });

    it("lets S3 alone assume the replication role, with the guide's permissions on exactly these buckets and keys", () => {
      const role = named(run, T.role, "documents-replication-role");
      assert.deepEqual(parsePolicy(role.inputs.assumeRolePolicy).Statement, [
        {
          Sid: "S3Replication",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ]);
      const config = one(run.resources, T.replication);
      assert.equal(config.inputs.role, role.wireOutputs.arn);
      const statements = statementsOn(run, role.wireOutputs.name as string);
      const source = arnOf(named(run, T.bucket, "documents"));
      const sourceKey = arnOf(named(run, T.key, "objects-key"));
      const find = (sid: string, resource: unknown) =>
        statements.filter((s) => s.Sid === sid && JSON.stringify(s.Resource) === JSON.stringify(resource));
      assert.equal(find("ReplicationConfiguration", source).length, 1);
      assert.equal(find("ReplicationSourceObjects", `${source}/*`).length, 1);
      const decrypt = find("DecryptReplicationSource", sourceKey);
      assert.deepEqual(decrypt[0]?.Condition, {
        StringEquals: { "kms:ViaService": `s3.${primary}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:s3:arn": [source, `${source}/*`] },
      });
      for (const dr of drs) {
        const replica = arnOf(named(run, T.bucket, `documents-replica-${dr}`));
        const replicaKey = arnOf(named(run, T.key, `documents-replica-${dr}-key`));
        assert.deepEqual(find("ReplicateObjects", `${replica}/*`)[0]?.Action, [
          "s3:ReplicateObject",
          "s3:ReplicateDelete",
          "s3:ReplicateTags",
        ]);
        assert.deepEqual(find("EncryptReplicas", replicaKey)[0]?.Condition, {
          StringEquals: { "kms:ViaService": `s3.${dr}.amazonaws.com` },
          StringLike: { "kms:EncryptionContext:aws:s3:arn": [replica, `${replica}/*`] },
        });
      }
      // Nothing else: no wildcard resource, no other action.
      assert.equal(statements.length, 3 + 2 * drs.length);
      assert.ok(statements.every((s) => s.Resource !== "*"));
    });

    it("exports the replicas by DR region in the contract", () => {
      const out = checkContract(workloadsContract, stackId("workloads", env, primary), run.outputs.workloads);
      assert.equal(out.buckets.documents.arn, arnOf(named(run, T.bucket, "documents")));
      assert.deepEqual(Object.keys(out.buckets.documents.replicas).sort(), [...drs].sort());
      for (const dr of drs) {
        const bucket = named(run, T.bucket, `documents-replica-${dr}`);
        assert.deepEqual(out.buckets.documents.replicas[dr], {
          name: bucket.wireOutputs.bucket,
          arn: arnOf(bucket),
          kmsKeyArn: arnOf(named(run, T.key, `documents-replica-${dr}-key`)),
        });
      }
      assert.equal(platformEnv(run).DOCUMENTS_BUCKET, out.buckets.documents.name);
    });
  });

  for (const dr of drs) {
    for (const mode of ["standby", "promoted"] as const) {
      describe(`documents: hcp-workloads ${env}-${dr} (DR, database ${mode})`, () => {
        let run: ProgramRun;
        let replica: { name: string; arn: string; kmsKeyArn: string };
        const t = mode === "standby" ? topology : promotedTopology(topology, dr);
        before(async () => {
          run = await runLayer({ layer: "workloads", topology: t, region: dr });
          replica = (await producerValue(workloadsContract, t, primary)).buckets.documents.replicas[dr];
        });

        it("creates no documents bucket, key or replication of its own: its services use the primary's replica", () => {
          assertConventions(run, { tier: topology.tier });
          assert.deepEqual(
            ofType(run.resources, T.bucket)
              .map((b) => b.name)
              .filter((n) => n.startsWith("documents")),
            [],
          );
          assert.equal(ofType(run.resources, T.replication).length, 0);
          assert.equal(ofType(run.resources, T.component).length, 0);
          assert.equal(platformEnv(run).DOCUMENTS_BUCKET, replica.name);
          const out = checkContract(workloadsContract, stackId("workloads", env, dr), run.outputs.workloads);
          assert.deepEqual(out.buckets.documents, { name: replica.name, arn: replica.arn, replicas: {} });
        });

        it(`grants the services ${mode === "standby" ? "read only" : "their access"} on the replica and its key, through S3 of the region`, () => {
          assert.ok(users.length > 0, "the environment has services that use the documents");
          for (const s of users) {
            const grant = documentsGrant(
              s.objectStorage.documents,
              mode === "standby" ? "readOnly" : "readWrite",
            )!;
            const policies = ofType(run.resources, T.rolePolicy).filter(
              (p) => p.name.endsWith(`-${s.name}`) || p.name.includes(`-${s.name}-`),
            );
            const statements = policies.flatMap((p) => parsePolicy(p.inputs.policy).Statement);
            const onReplica = statements.filter((st) => JSON.stringify(st.Resource).includes(replica.arn));
            const actions = onReplica.flatMap((st) => [st.Action].flat());
            assert.equal(actions.includes("s3:GetObject"), true, s.name);
            assert.equal(actions.includes("s3:PutObject"), grant.bucket === "readWrite", s.name);
            const key = statements.find((st) => st.Resource === replica.kmsKeyArn);
            assert.deepEqual(
              key?.Condition,
              { StringEquals: { "kms:ViaService": `s3.${dr}.amazonaws.com` } },
              s.name,
            );
            assert.equal(
              [key?.Action].flat().includes("kms:GenerateDataKey*"),
              grant.key === "encryptDecrypt",
              s.name,
            );
          }
        });
      });
    }
  }
}
