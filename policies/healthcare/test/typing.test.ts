import * as assert from "node:assert/strict";
import { res, unknown } from "./fixtures";

/**
 * Fixtures are typed by the SDK: each `@ts-expect-error` below must be an error, or `tsc -b` fails
 * with "Unused '@ts-expect-error' directive". The fixtures are built, not analyzed.
 */
describe("typed fixtures", () => {
  it("reject misspelt properties, wrong shapes and unknown type tokens at compile time", () => {
    const built = [
      // @ts-expect-error - misspelt property (bucketPrefx)
      res("aws:s3/bucket:Bucket", "b", { bucketPrefx: "hcp-" }),
      res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "e", {
        bucket: "b",
        // @ts-expect-error - wrong shape: rules is a list
        rules: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
      }),
      // @ts-expect-error - wrong type: retentionInDays is a number
      res("aws:cloudwatch/logGroup:LogGroup", "l", { retentionInDays: "2557" }),
      // @ts-expect-error - not a type token of the pack
      res("aws:s3/bucket:Buckett", "b", {}),
      // @ts-expect-error - Kubernetes shapes too: containers is a list
      res("kubernetes:core/v1:Pod", "p", { spec: { containers: { name: "x" } } }),
      // An unknown value fits any property.
      res("aws:kms/key:Key", "k", {
        enableKeyRotation: unknown.boolean(),
        deletionWindowInDays: unknown.number(),
      }),
    ];
    assert.equal(built.length, 6);
  });
});
