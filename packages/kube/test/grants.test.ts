import * as assert from "node:assert/strict";
import { accessSlug, bucketGrantStatements, keyGrantStatements } from "@hcp/platform";
import { unwrap } from "@hcp/testing";

const BUCKET = "arn:aws:s3:::hcp-production-sa-east-1-pgbackrest-abc";
const KEY = "arn:aws:kms:sa-east-1:111122223333:key/mrk-1";

describe("grant statements", () => {
  it("gives each bucket access level exactly its actions, on the bucket or its objects", async () => {
    const list = {
      Sid: "ListBucket",
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:GetBucketLocation"],
      Resource: BUCKET,
    };
    const objects = (Sid: string, Action: string[]) => ({
      Sid,
      Effect: "Allow",
      Action,
      Resource: `${BUCKET}/*`,
    });
    assert.deepEqual(await unwrap(bucketGrantStatements(BUCKET, "read")), [
      list,
      objects("ReadObjects", ["s3:GetObject"]),
    ]);
    assert.deepEqual(await unwrap(bucketGrantStatements(BUCKET, "put")), [
      objects("PutObjects", ["s3:PutObject"]),
    ]);
    assert.deepEqual(await unwrap(bucketGrantStatements(BUCKET, "write")), [
      objects("WriteObjects", ["s3:PutObject", "s3:DeleteObject"]),
    ]);
    assert.deepEqual(await unwrap(bucketGrantStatements(BUCKET, "readWrite")), [
      list,
      objects("ReadWriteObjects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    ]);
  });

  it("gives each key access level exactly its actions, through the named services only", () => {
    assert.deepEqual(keyGrantStatements(KEY, "decrypt"), [
      { Sid: "DecryptWithKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: KEY },
    ]);
    assert.deepEqual(
      keyGrantStatements([KEY, "k2"], "encrypt", {
        viaService: ["s3.a.amazonaws.com", "s3.b.amazonaws.com"],
      }),
      [
        {
          Sid: "EncryptWithKey",
          Effect: "Allow",
          Action: ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
          Resource: [KEY, "k2"],
          Condition: { StringEquals: { "kms:ViaService": ["s3.a.amazonaws.com", "s3.b.amazonaws.com"] } },
        },
      ],
    );
    assert.deepEqual(
      keyGrantStatements(KEY, "encryptDecrypt", { viaService: "s3.a.amazonaws.com" })[0].Condition,
      {
        StringEquals: { "kms:ViaService": "s3.a.amazonaws.com" },
      },
    );
  });

  it("refuses an empty viaService list, which would allow nothing", () => {
    assert.throws(
      () => keyGrantStatements(KEY, "decrypt", { viaService: [] }),
      /viaService is an empty list.*Fix/,
    );
  });

  it("spells access levels in logical names as kebab-case", () => {
    assert.equal(accessSlug("readWrite"), "read-write");
    assert.equal(accessSlug("encryptDecrypt"), "encrypt-decrypt");
    assert.equal(accessSlug("read"), "read");
  });
});
