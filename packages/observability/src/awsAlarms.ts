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

/**
 * CloudWatch metric alarms on what only AWS measures: the region's NAT gateways and its ALB. Plain
 * data (the dimension value's type is a parameter, so the program can pass a stack-reference output
 * and tests a string); `CloudWatchAlarms` creates them with the alert topic as alarm and OK action.
 */

/** One metric of a metric-math alarm, or the expression combining them. */
export interface AlarmQuery<D> {
  /** Lower-case id the expression refers to. */
  readonly id: string;
  readonly label?: string;
  /** Exactly one query of an alarm returns data: the value compared with the threshold. */
  readonly returnData: boolean;
  readonly expression?: string;
  readonly metric?: {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Readonly<Record<string, D>>;
    readonly stat: "Sum";
    readonly period: number;
  };
}

/** A CloudWatch metric alarm without its actions. */
export interface AlarmDefinition<D> {
  /** Child name suffix (unique in the stack). */
  readonly key: string;
  /** Alarm name, `<prefix>-...`. */
  readonly name: string;
  readonly description: string;
  readonly comparisonOperator: "GreaterThanThreshold";
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: "notBreaching";
  /** A single metric (`namespace` / `metricName` / `dimensions` / `statistic` / `period`)... */
  readonly metric?: {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Readonly<Record<string, D>>;
    readonly statistic: "Sum";
    readonly period: number;
  };
  /** ...or metric math over several. */
  readonly metricQueries?: ReadonlyArray<AlarmQuery<D>>;
}

/** A NAT gateway of the `network` contract. */
export interface NatGatewayRef<D> {
  readonly availabilityZone: string;
  readonly id: D;
}

/**
 * Percentage of the packets a NAT gateway receives that it may drop, sustained over
 * {@link NAT_DROP_MINUTES} minutes, before people are told: the 0.01 % AWS's own guidance uses
 * ("If this value exceeds 0.01 percent of the total traffic on the NAT gateway, check the AWS
 * Service Health dashboard"). A few dropped packets are a transient the VPC guide describes as
 * normal; a sustained share means the gateway (or its zone) is impaired.
 */
export const NAT_DROP_PERCENT = 0.01;
/** Consecutive one-minute periods above {@link NAT_DROP_PERCENT}. */
export const NAT_DROP_MINUTES = 5;

/**
 * Two alarms per NAT gateway (`AWS/NATGateway`, dimension `NatGatewayId`, one datapoint a minute;
 * VPC user guide, "Monitor NAT gateways with Amazon CloudWatch"):
 *
 * - `<prefix>-nat-<zone>-port-allocation`: `ErrorPortAllocation` (Sum) > 0 in any minute of the last
 *   five. Each error is a connection from the private subnets that failed (more than 55,000
 *   simultaneous connections to one destination); it clears after five clean minutes.
 * - `<prefix>-nat-<zone>-packet-drops`: `PacketsDropCount` as a percentage of the packets the
 *   gateway received (`PacketsInFromSource` + `PacketsInFromDestination`, all Sum) above
 *   {@link NAT_DROP_PERCENT} for {@link NAT_DROP_MINUTES} minutes. A ratio, because a raw count
 *   grows with traffic; no traffic is 0 %.
 *
 * Missing data is `notBreaching` on both: a minute without a datapoint had no error and no drop to
 * report, and a gateway that is gone altogether is the network stack's drift (and its private
 * subnets' lost egress), not something these two metrics can say.
 */
export function natGatewayAlarms<D>(
  namePrefix: string,
  gateways: ReadonlyArray<NatGatewayRef<D>>,
): Array<AlarmDefinition<D>> {
  return gateways.flatMap((g) => {
    const dimensions = { NatGatewayId: g.id };
    const metric = (id: string, metricName: string): AlarmQuery<D> => ({
      id,
      returnData: false,
      metric: { namespace: "AWS/NATGateway", metricName, dimensions, stat: "Sum", period: 60 },
    });
    const received = "(FILL(fromSource, 0) + FILL(fromDestination, 0))";
    return [
      {
        key: `nat-${g.availabilityZone}-port-allocation`,
        name: `${namePrefix}-nat-${g.availabilityZone}-port-allocation`,
        description:
          `NAT gateway of ${g.availabilityZone} could not allocate a source port (ErrorPortAllocation > 0): ` +
          "connections from the private subnets to one destination are failing (over 55,000 simultaneous). " +
          "What to do: packages/observability/README.md#cloudwatch-alarms",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 5,
        datapointsToAlarm: 1,
        treatMissingData: "notBreaching",
        metric: {
          namespace: "AWS/NATGateway",
          metricName: "ErrorPortAllocation",
          dimensions,
          statistic: "Sum",
          period: 60,
        },
      },
      {
        key: `nat-${g.availabilityZone}-packet-drops`,
        name: `${namePrefix}-nat-${g.availabilityZone}-packet-drops`,
        description:
          `NAT gateway of ${g.availabilityZone} dropped more than ${NAT_DROP_PERCENT} % of its packets for ` +
          `${NAT_DROP_MINUTES} minutes: check the AWS Health dashboard for the zone. What to do: packages/observability/README.md#cloudwatch-alarms`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: NAT_DROP_PERCENT,
        evaluationPeriods: NAT_DROP_MINUTES,
        datapointsToAlarm: NAT_DROP_MINUTES,
        treatMissingData: "notBreaching",
        metricQueries: [
          metric("drops", "PacketsDropCount"),
          metric("fromSource", "PacketsInFromSource"),
          metric("fromDestination", "PacketsInFromDestination"),
          {
            id: "dropPercent",
            label: "Packets dropped (% of received)",
            returnData: true,
            expression: `IF(${received} > 0, 100 * FILL(drops, 0) / ${received}, 0)`,
          },
        ],
      },
    ];
  });
}

/** Share of the ALB's requests answered with a 5xx, in percent, that alarms. */
export const ALB_5XX_PERCENT = 5;
/** Fewer 5xx than this in a minute never alarm (a single error of three requests at night). */
export const ALB_5XX_MIN_PER_MINUTE = 5;

/**
 * Two alarms on the region's ALB (`AWS/ApplicationELB`, dimension `LoadBalancer` = the ARN suffix
 * `app/<name>/<id>`, Sum over one minute; ELB user guide, "CloudWatch metrics for your Application
 * Load Balancer"), each firing when 5xx are more than {@link ALB_5XX_PERCENT} % of the requests in 3
 * of 5 minutes, and only from {@link ALB_5XX_MIN_PER_MINUTE} errors a minute:
 *
 * - `<prefix>-alb-elb-5xx`: `HTTPCode_ELB_5XX_Count`, answered by the load balancer itself (no
 *   healthy target, target connection failures or timeouts): what no metric inside the cluster
 *   sees, since the requests never reach a pod.
 * - `<prefix>-alb-target-5xx`: `HTTPCode_Target_5XX_Count`, answered by the services.
 *
 * A ratio against `RequestCount` rather than a raw count: the same number of errors is an outage at
 * night and noise at peak, and the staging ALB sees a fraction of production's traffic. The
 * denominator is the larger of `RequestCount` and the error count, because `RequestCount` counts only
 * requests for which the load balancer could choose a target (the reference's definition), so a 503
 * with no healthy target is in the errors but not in the requests; when every request fails that way
 * the ratio is 100 % instead of a division by zero.
 *
 * The 5xx counts are reported only when non-zero and nothing at all is reported without traffic, so
 * missing values are filled with 0 and missing data is `notBreaching`: silence is no traffic or no
 * errors. An ALB that is gone or unreachable is what the edge layer's health-check alarms (routed
 * to the same topic) report.
 */
export function loadBalancerAlarms<D>(
  namePrefix: string,
  loadBalancerArnSuffix: D,
): Array<AlarmDefinition<D>> {
  const dimensions = { LoadBalancer: loadBalancerArnSuffix };
  const metric = (id: string, metricName: string): AlarmQuery<D> => ({
    id,
    returnData: false,
    metric: { namespace: "AWS/ApplicationELB", metricName, dimensions, stat: "Sum", period: 60 },
  });
  const alarm = (kind: "elb" | "target", metricName: string, origin: string): AlarmDefinition<D> => ({
    key: `alb-${kind}-5xx`,
    name: `${namePrefix}-alb-${kind}-5xx`,
    description:
      `More than ${ALB_5XX_PERCENT} % of the ALB's requests got a 5xx from ${origin} (${metricName}) in 3 of 5 minutes. ` +
      "What to do: packages/observability/README.md#cloudwatch-alarms",
    comparisonOperator: "GreaterThanThreshold",
    threshold: ALB_5XX_PERCENT,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: "notBreaching",
    metricQueries: [
      metric("errors", metricName),
      metric("requests", "RequestCount"),
      {
        id: "errorPercent",
        label: `${metricName} (% of requests)`,
        returnData: true,
        expression:
          `IF(FILL(errors, 0) >= ${ALB_5XX_MIN_PER_MINUTE}, 100 * FILL(errors, 0) / ` +
          "IF(FILL(requests, 0) > FILL(errors, 0), FILL(requests, 0), FILL(errors, 0)), 0)",
      },
    ],
  });
  return [
    alarm("elb", "HTTPCode_ELB_5XX_Count", "the load balancer itself"),
    alarm("target", "HTTPCode_Target_5XX_Count", "the services"),
  ];
}
