import type * as pulumi from "@pulumi/pulumi";

/**
 * IAM / resource policy documents as plain data, serialized with `pulumi.jsonStringify`, so they are
 * visible to tests and policies without a provider call.
 */

/** One statement of an IAM policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?:
    "*" | Readonly<Record<string, pulumi.Input<string> | ReadonlyArray<pulumi.Input<string>>>>;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: pulumi.Input<string> | ReadonlyArray<pulumi.Input<string>>;
  readonly NotResource?: pulumi.Input<string> | ReadonlyArray<pulumi.Input<string>>;
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, pulumi.Input<string> | ReadonlyArray<pulumi.Input<string>>>>>
  >;
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** `arn:<partition>:iam::<account>:root`, the account principal. */
export function accountRoot(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** Statements every bucket policy of the platform carries: TLS only, TLS 1.2 or newer. */
export function tlsOnlyStatements(
  bucketArn: pulumi.Input<string>,
  objectsArn: pulumi.Input<string>,
): PolicyStatement[] {
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
