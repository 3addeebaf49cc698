import { type Case, cases, pass, violation } from "../case";
import { res, unknown } from "../fixtures";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/k";

export const observabilityCases: Case[] = [
  ...cases("amp-workspace-customer-key", [
    {
      kind: "pass",
      title: "workspace with a customer key",
      resource: res("aws:amp/workspace:Workspace", "metrics", { alias: "hcp-metrics", kmsKeyArn: KEY }),
      expect: pass,
    },
    {
      kind: "fail",
      title: "workspace with the AWS-owned key (no kmsKeyArn)",
      resource: res("aws:amp/workspace:Workspace", "metrics", { alias: "hcp-metrics" }),
      expect: violation(/kmsKeyArn is not set/),
    },
    {
      kind: "unknown",
      title: "workspace key from the same preview",
      resource: res("aws:amp/workspace:Workspace", "metrics", {
        alias: "hcp-metrics",
        kmsKeyArn: unknown.string(),
      }),
      expect: pass,
    },
  ]),
];
