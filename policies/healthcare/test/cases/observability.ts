import { type Case, cases, pass, violation } from "../case";
import { res, unknown } from "../fixtures";

const KEY = "arn:aws:kms:sa-east-1:111122223333:key/k";
const TOPIC = "arn:aws:sns:sa-east-1:111122223333:hcp-production-alerts";
const topicPolicy = (statements: unknown[]) =>
  res("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {
    arn: TOPIC,
    policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  });

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
  ...cases("sns-topic-policy-not-public", [
    {
      kind: "pass",
      title: "the account and the publishing services with source conditions",
      resource: topicPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "sns:Publish",
          Resource: TOPIC,
        },
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sns:Publish",
          Resource: TOPIC,
          Condition: { ArnEquals: { "aws:SourceArn": ["arn:aws:events:sa-east-1:111122223333:rule/r"] } },
        },
        // Everyone, but only for this account's resources: narrowed by the condition.
        {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "sns:Publish",
          Resource: TOPIC,
          Condition: { StringEquals: { "AWS:SourceOwner": "111122223333" } },
        },
      ]),
      expect: pass,
    },
    {
      kind: "fail",
      title: "Principal '*' with no condition",
      resource: topicPolicy([{ Effect: "Allow", Principal: "*", Action: "sns:Subscribe", Resource: TOPIC }]),
      expect: violation(/Statement\[0\] allows Principal '\*' with no condition/),
    },
    {
      kind: "unknown",
      title: "policy computed from the topic's ARN in the same preview",
      resource: res("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {
        arn: TOPIC,
        policy: unknown.string(),
      }),
      expect: pass,
    },
  ]),
];
