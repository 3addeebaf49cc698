import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { KmsKey, roleGrantee, SecureBucket } from "@hcp/platform";
import { at, byUrn, ofType, one, parsePolicy, type ProgramRun, runProgram } from "@hcp/testing";
import { PodIdentityRole, podIdentityTrustPolicy } from "../src";

const ACCOUNT = "111122223333";

function provider(): aws.Provider {
  return new aws.Provider("aws-sa-east-1", { region: "sa-east-1", allowedAccountIds: [ACCOUNT] });
}

function run(program: () => unknown): Promise<ProgramRun> {
  return runProgram({ project: "p", stack: "s", searchPaths: [__dirname], accountId: ACCOUNT, program });
}

describe("podIdentityTrustPolicy", () => {
  const scope = {
    accountId: ACCOUNT,
    clusterArn: "arn:aws:eks:sa-east-1:111122223333:cluster/hcp-production-sa-east-1",
    namespace: "hcp-data",
    dnsSuffix: "amazonaws.com",
  };

  it("lets only EKS Pod Identity assume it, for the named service accounts of one namespace and cluster", () => {
    assert.deepEqual(podIdentityTrustPolicy({ ...scope, serviceAccounts: ["pgbackrest", "pg-sa-east-1"] }), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EksPodIdentityForNamedServiceAccounts",
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: {
            StringEquals: {
              "aws:SourceAccount": ACCOUNT,
              "aws:RequestTag/eks-cluster-arn": scope.clusterArn,
              "aws:RequestTag/kubernetes-namespace": "hcp-data",
              "aws:RequestTag/kubernetes-service-account": ["pgbackrest", "pg-sa-east-1"],
            },
          },
        },
      ],
    });
  });

  it("names a single service account as a plain value and uses the partition's DNS suffix", () => {
    const doc = podIdentityTrustPolicy({ ...scope, serviceAccounts: ["a"], dnsSuffix: "amazonaws.com.cn" });
    assert.equal(at(doc, "Statement[0].Principal.Service"), "pods.eks.amazonaws.com.cn");
    assert.equal(
      at(doc, "Statement[0].Condition.StringEquals.aws:RequestTag/kubernetes-service-account"),
      "a",
    );
  });

  it("refuses a role no service account could assume", () => {
    assert.throws(
      () => podIdentityTrustPolicy({ ...scope, serviceAccounts: [] }),
      /no service accounts.*Fix/,
    );
  });
});

describe("PodIdentityRole", () => {
  let r: ProgramRun;

  before(async () => {
    r = await run(() => {
      const p = provider();
      const key = new KmsKey("key", { description: "k", alias: "test/key", protect: false }, { provider: p });
      const bucket = new SecureBucket(
        "bucket",
        { kmsKeyArn: key.arn, dataClassification: "phi", bucketPrefix: "test-bucket-", protect: false },
        { provider: p },
      );
      const role = new PodIdentityRole(
        "app-role",
        {
          clusterName: "cluster-1",
          namespace: "apps",
          serviceAccounts: ["api", "worker"],
          description: "the app",
          tags: { DataClassification: "phi" },
          childAliases: { associations: { api: [{ name: "app-identity-0" }] } },
        },
        { provider: p },
      );
      bucket.grantReadWrite(role);
      // Asking again for the same grant returns the policy made before.
      const read = bucket.grantRead(role);
      if (bucket.grantRead(role) !== read) {
        throw new Error("grantRead made a second policy");
      }
      bucket.grantPut(
        roleGrantee("other", new aws.iam.Role("other", { assumeRolePolicy: "{}" }, { provider: p })),
      );
      key.grantEncryptDecrypt(role, { viaService: "s3.sa-east-1.amazonaws.com" });
      key.grantDecrypt(role);
    });
  });

  it("trusts the pods of the named service accounts of this cluster's namespace only", () => {
    const role = one(r.resources, "aws:iam/role:Role", "app-role");
    assert.equal(role.parent, one(r.resources, "hcp:kube:PodIdentityRole").urn);
    const trust = parsePolicy(role.inputs["assumeRolePolicy"]);
    assert.deepEqual(trust.Statement[0].Condition, {
      StringEquals: {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/eks-cluster-arn": `arn:aws:eks:sa-east-1:${ACCOUNT}:cluster/cluster-1`,
        "aws:RequestTag/kubernetes-namespace": "apps",
        "aws:RequestTag/kubernetes-service-account": ["api", "worker"],
      },
    });
    assert.deepEqual(role.inputs["tags"], { DataClassification: "phi" });
    assert.equal(role.inputs["maxSessionDuration"], undefined);
  });

  it("associates each service account under a name keyed by it, with the aliases given", () => {
    const associations = ofType(r.resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
    const role = one(r.resources, "aws:iam/role:Role", "app-role");
    assert.deepEqual(
      associations
        .map((a) => [a.name, a.inputs["serviceAccount"], a.inputs["namespace"], a.inputs["clusterName"]])
        .sort(),
      [
        ["app-role-api", "api", "apps", "cluster-1"],
        ["app-role-worker", "worker", "apps", "cluster-1"],
      ],
    );
    for (const a of associations) {
      assert.equal(a.inputs["roleArn"], at(role.wireOutputs, "arn"));
    }
    const api = associations.find((a) => a.name === "app-role-api")!;
    assert.deepEqual(api.options.aliases, [{ name: "app-identity-0", parent: api.parent }]);
  });

  it("grants bucket access as inline policies named after bucket, access and grantee", () => {
    const policies = ofType(r.resources, "aws:iam/rolePolicy:RolePolicy");
    const bucketComponent = one(r.resources, "hcp:platform:SecureBucket");
    const bucketArn = String(at(one(r.resources, "aws:s3/bucket:Bucket").wireOutputs, "arn"));
    const roleName = at(one(r.resources, "aws:iam/role:Role", "app-role").wireOutputs, "name");
    const byName = Object.fromEntries(policies.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), [
      "bucket-put-other",
      "bucket-read-app-role",
      "bucket-read-write-app-role",
      "key-decrypt-app-role",
      "key-encrypt-decrypt-app-role",
    ]);
    const readWrite = byName["bucket-read-write-app-role"];
    assert.equal(readWrite.parent, bucketComponent.urn);
    assert.equal(readWrite.inputs["role"], roleName);
    assert.deepEqual(parsePolicy(readWrite.inputs["policy"]).Statement, [
      {
        Sid: "ListBucket",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: bucketArn,
      },
      {
        Sid: "ReadWriteObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: `${bucketArn}/*`,
      },
    ]);
    assert.deepEqual(parsePolicy(byName["bucket-read-app-role"].inputs["policy"]).Statement[1], {
      Sid: "ReadObjects",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: `${bucketArn}/*`,
    });
    assert.deepEqual(parsePolicy(byName["bucket-put-other"].inputs["policy"]).Statement, [
      { Sid: "PutObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: `${bucketArn}/*` },
    ]);
    assert.equal(
      byName["bucket-put-other"].inputs["role"],
      at(one(r.resources, "aws:iam/role:Role", "other").wireOutputs, "name"),
    );
  });

  it("grants key use through a service with kms:ViaService, and without it when none is named", () => {
    const key = one(r.resources, "aws:kms/key:Key");
    const keyArn = String(at(key.wireOutputs, "arn"));
    const policies = ofType(r.resources, "aws:iam/rolePolicy:RolePolicy");
    const grant = policies.find((p) => p.name === "key-encrypt-decrypt-app-role")!;
    assert.equal(byUrn(r.resources, grant.parent!)!.type, "hcp:platform:KmsKey");
    assert.deepEqual(parsePolicy(grant.inputs["policy"]).Statement, [
      {
        Sid: "EncryptAndDecryptWithKey",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: keyArn,
        Condition: { StringEquals: { "kms:ViaService": "s3.sa-east-1.amazonaws.com" } },
      },
    ]);
    const decrypt = policies.find((p) => p.name === "key-decrypt-app-role")!;
    assert.deepEqual(parsePolicy(decrypt.inputs["policy"]).Statement, [
      {
        Sid: "DecryptWithKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:DescribeKey"],
        Resource: keyArn,
      },
    ]);
  });

  it("refuses the same grant with other options, and a service account named twice", async () => {
    await assert.rejects(
      run(() => {
        const p = provider();
        const key = new KmsKey("key", { description: "k", alias: "t/k", protect: false }, { provider: p });
        const grantee = { grantName: "g", roleName: "r" };
        key.grantEncryptDecrypt(grantee, { viaService: "s3.sa-east-1.amazonaws.com" });
        key.grantEncryptDecrypt(grantee, { viaService: "secretsmanager.sa-east-1.amazonaws.com" });
      }),
      /encryptDecrypt was already granted to g with options.*Fix: grant once/,
    );
    await assert.rejects(
      run(
        () =>
          new PodIdentityRole("r", {
            clusterName: "c",
            namespace: "n",
            serviceAccounts: ["a", "a"],
            description: "d",
          }),
      ),
      /service accounts \[a, a\] name a twice/,
    );
  });
});
