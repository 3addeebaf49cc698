import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/**
 * IAM / resource policy documents are `@pulumi/aws`'s own `aws.iam.PolicyDocument` and
 * `aws.iam.PolicyStatement`, built as plain data and serialized with `pulumi.jsonStringify`, so they
 * are visible to tests and policies without a provider call.
 */

/** A policy document whose statement list is a plain array (what the pure builders return). */
export type StatementList = Omit<aws.iam.PolicyDocument, "Statement"> & {
  readonly Statement: aws.iam.PolicyStatement[];
};

/** A document of `statements` in the current policy language version. */
export function policyDocument(statements: aws.iam.PolicyStatement[]): StatementList {
  return { Version: "2012-10-17", Statement: statements };
}

/** `arn:<partition>:iam::<account>:root`, the account principal. */
export function accountRoot(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** Statements every bucket policy of the platform carries: TLS only, TLS 1.2 or newer. */
export function tlsOnlyStatements(
  bucketArn: pulumi.Input<string>,
  objectsArn: pulumi.Input<string>,
): aws.iam.PolicyStatement[] {
  return [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucketArn, objectsArn],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      Sid: "DenyOutdatedTls",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucketArn, objectsArn],
      Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
    },
  ];
}
