import type * as aws from "@pulumi/aws";

/**
 * What Prometheus cannot see, raised on the AWS side into the alert topic. A KMS key disabled or
 * scheduled for deletion takes down whatever it encrypts (a disabled EKS secrets key degrades the
 * cluster; EBS volumes, database backups and log groups stop being readable), and no exporter in
 * the cluster notices until things fail. The events come from CloudTrail management events through
 * EventBridge, which requires a logging trail in the region (the environment layer's audit trail is
 * multi-region).
 */

/** KMS API calls that make a key unusable now or after the waiting period. */
export const KMS_KEY_STATE_EVENTS = ["DisableKey", "ScheduleKeyDeletion"] as const;

/** EventBridge pattern of {@link KMS_KEY_STATE_EVENTS} for any key of the account in the region. */
export function kmsKeyStatePattern(): Record<string, unknown> {
  return {
    source: ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: { eventSource: ["kms.amazonaws.com"], eventName: [...KMS_KEY_STATE_EVENTS] },
  };
}

/** The e-mail text of a KMS key state event (EventBridge input transformer for the SNS target). */
export const KMS_KEY_STATE_MESSAGE = {
  inputPaths: {
    eventName: "$.detail.eventName",
    keyId: "$.detail.requestParameters.keyId",
    actor: "$.detail.userIdentity.arn",
    account: "$.account",
    region: "$.region",
    time: "$.time",
  },
  inputTemplate:
    '"[<account> <region>] KMS <eventName> on key <keyId> by <actor> at <time>. Everything the key encrypts ' +
    "becomes unreadable once it is disabled or deleted (EKS secrets, EBS volumes, backups, log groups). " +
    'Unless this was planned: EnableKey, or CancelKeyDeletion within the waiting period."',
} as const;

/**
 * Lowest GuardDuty severity raised into the alert topic: Medium and above (GuardDuty's levels are
 * Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0). Low findings stay in the
 * GuardDuty console; a page for each would train people to ignore the topic.
 */
export const GUARD_DUTY_MIN_SEVERITY = 4;

/**
 * EventBridge pattern of GuardDuty findings in the region (the cluster layer's Runtime Monitoring
 * among them), Medium severity and above. GuardDuty publishes a new finding at once and updates of
 * an active one at the detector's `findingPublishingFrequency` (GuardDuty user guide, "Processing
 * GuardDuty findings with Amazon EventBridge").
 */
export function guardDutyFindingPattern(): Record<string, unknown> {
  return {
    source: ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    detail: { severity: [{ numeric: [">=", GUARD_DUTY_MIN_SEVERITY] }] },
  };
}

/** The e-mail text of a GuardDuty finding (EventBridge input transformer for the SNS target). */
export const GUARD_DUTY_FINDING_MESSAGE = {
  inputPaths: {
    type: "$.detail.type",
    severity: "$.detail.severity",
    title: "$.detail.title",
    resourceType: "$.detail.resource.resourceType",
    findingId: "$.detail.id",
    account: "$.account",
    region: "$.region",
    time: "$.time",
  },
  inputTemplate:
    '"[<account> <region>] GuardDuty finding <type> (severity <severity>) on <resourceType> at <time>: <title>. ' +
    'Finding id <findingId>: open it in the GuardDuty console of the region, contain the workload if it is confirmed (isolate the pod with a deny-all NetworkPolicy, cordon the node), then follow the incident response procedure."',
} as const;

/**
 * Policy of the alert topic: the account manages and publishes (the default topic policy's scope,
 * which a topic policy replaces), CloudWatch alarms of the account publish, and only the given
 * EventBridge rules publish for the events service.
 */
export function alertTopicPolicy(
  partition: string,
  accountId: string,
  dnsSuffix: string,
  topicArn: string,
  ruleArns: readonly string[],
): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountManagesTheTopic",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: [
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:AddPermission",
          "sns:RemovePermission",
          "sns:DeleteTopic",
          "sns:Subscribe",
          "sns:ListSubscriptionsByTopic",
          "sns:Publish",
        ],
        Resource: topicArn,
      },
      {
        Sid: "CloudWatchAlarmsOfThisAccount",
        Effect: "Allow",
        Principal: { Service: `cloudwatch.${dnsSuffix}` },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
      {
        Sid: "EventBridgeRulesOfThisLayer",
        Effect: "Allow",
        Principal: { Service: `events.${dnsSuffix}` },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
      },
    ],
  };
}

/**
 * EventBridge pattern of the state changes (into ALARM and back to OK) of the alarms whose names
 * start with `alarmNamePrefix`: the edge layer's health-check alarms, which it creates without
 * actions because the alert topic is this layer's. CloudWatch delivers alarm state changes to
 * EventBridge itself (source `aws.cloudwatch`, detail-type `CloudWatch Alarm State Change`,
 * guaranteed delivery: EventBridge events reference, "Amazon CloudWatch events"), so the routing
 * needs no action on the alarm and covers an alarm the next edge deploy adds.
 */
export function alarmStatePattern(alarmNamePrefix: string): Record<string, unknown> {
  return {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: {
      alarmName: [{ prefix: alarmNamePrefix }],
      state: { value: ["ALARM", "OK"] },
    },
  };
}

/** The e-mail text of an edge alarm state change (EventBridge input transformer for the SNS target). */
export const EDGE_ALARM_MESSAGE = {
  inputPaths: {
    alarmName: "$.detail.alarmName",
    state: "$.detail.state.value",
    previous: "$.detail.previousState.value",
    reason: "$.detail.state.reason",
    description: "$.detail.configuration.description",
    account: "$.account",
    region: "$.region",
    time: "$.time",
  },
  inputTemplate:
    '"[<account> <region>] <alarmName>: <previous> -> <state> at <time>. <description>. <reason> ' +
    "While a PRIMARY target is unhealthy Route 53 answers with the DR region, whose application serves " +
    'read-only until the region is promoted (a human decision): docs/runbooks/dr.md."',
} as const;
