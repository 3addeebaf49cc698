import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KmsKey, LOG_CLASSES, type LogClass } from "@hcp/platform";
import {
  alarmStatePattern,
  alertTopicPolicy,
  EDGE_ALARM_MESSAGE,
  GUARD_DUTY_FINDING_MESSAGE,
  guardDutyFindingPattern,
  KMS_KEY_STATE_MESSAGE,
  kmsKeyStatePattern,
} from "../awsAlarms";
import { alertingKeyStatements, logsKeyStatements } from "../values";

/** Arguments of {@link AlertingFoundation}. */
export interface AlertingFoundationArgs {
  /** `<env>-<region>` prefix of names. */
  readonly namePrefix: string;
  /** Alias prefix of the keys, e.g. `hcp/production/sa-east-1`. */
  readonly aliasPrefix: string;
  readonly region: string;
  /** Retention in days per log class (config `retention.logs`). */
  readonly logRetentionDays: Readonly<Record<LogClass, number>>;
  /** E-mail addresses subscribed to the alert topic. */
  readonly emailAddresses: readonly string[];
  /**
   * Seconds without a Watchdog publication before the dead man's switch alarm fires.
   * @default 300 - five missed heartbeats
   */
  readonly heartbeatTimeoutSeconds?: number;
  /** Protect keys, log groups and topics (production). */
  readonly protect: boolean;
  /**
   * Route the state changes of the alarms whose names start with this (the edge layer's health-check
   * alarms, `edgeAlarmNamePrefix` of `@hcp/platform`) to the alert topic through an EventBridge rule.
   * Set only in the region those alarms live in (`ROUTE53_METRICS_REGION`): an SNS target must be in
   * the rule's region.
   * @default - no alarm of another layer is routed here
   */
  readonly routedAlarmNamePrefix?: string;
}

/**
 * The AWS side of the layer: a CloudWatch Logs key and one log group per log class, an alerting key,
 * the KMS-encrypted alert topic (e-mail subscribers) and heartbeat topic, the dead man's switch (an
 * alarm on the heartbeat topic's missing publications), EventBridge rules on KMS keys of the
 * account disabled or scheduled for deletion, on GuardDuty findings of Medium severity and above
 * (the cluster layer's Runtime Monitoring) and, in the edge alarms' region, on the state changes of
 * the edge layer's health-check alarms, all routed to the alert topic.
 */
export class AlertingFoundation extends pulumi.ComponentResource {
  readonly logsKey: KmsKey;
  readonly alertingKey: KmsKey;
  readonly logGroups: Record<LogClass, aws.cloudwatch.LogGroup>;
  readonly alertTopic: aws.sns.Topic;
  readonly heartbeatTopic: aws.sns.Topic;
  readonly kmsKeyStateRule: aws.cloudwatch.EventRule;
  readonly guardDutyFindingsRule: aws.cloudwatch.EventRule;
  /** The rule routing another layer's alarms (see {@link AlertingFoundationArgs.routedAlarmNamePrefix}). */
  readonly routedAlarmsRule?: aws.cloudwatch.EventRule;

  constructor(name: string, args: AlertingFoundationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:observability:AlertingFoundation", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child);
    this.logsKey = new KmsKey(
      `${name}-logs-key`,
      {
        description: `CloudWatch Logs of ${args.namePrefix}`,
        alias: `${args.aliasPrefix}/logs`,
        serviceStatements: (p, account) =>
          partition.dnsSuffix.apply((dns) => logsKeyStatements(p, account, args.region, dns)),
        protect: args.protect,
      },
      child,
    );
    this.alertingKey = new KmsKey(
      `${name}-alerting-key`,
      {
        description: `Alert topics, notification secrets and the AMP workspace of ${args.namePrefix}`,
        alias: `${args.aliasPrefix}/alerting`,
        serviceStatements: (p, account) =>
          partition.dnsSuffix.apply((dns) => alertingKeyStatements(p, account, dns)),
        protect: args.protect,
      },
      child,
    );
    const stateful = { parent: this, protect: args.protect };
    this.logGroups = Object.fromEntries(
      LOG_CLASSES.map((c) => [
        c,
        new aws.cloudwatch.LogGroup(
          `${name}-logs-${c}`,
          {
            name: `/hcp/${args.namePrefix}/${c}`,
            retentionInDays: args.logRetentionDays[c],
            kmsKeyId: this.logsKey.arn,
            // The policy pack reads the class (and its minimum retention) from this tag.
            tags: { LogClass: c },
          },
          stateful,
        ),
      ]),
    ) as Record<LogClass, aws.cloudwatch.LogGroup>;
    this.alertTopic = new aws.sns.Topic(
      `${name}-alerts`,
      { name: `${args.namePrefix}-alerts`, kmsMasterKeyId: this.alertingKey.arn },
      stateful,
    );
    this.heartbeatTopic = new aws.sns.Topic(
      `${name}-heartbeat`,
      { name: `${args.namePrefix}-heartbeat`, kmsMasterKeyId: this.alertingKey.arn },
      stateful,
    );
    args.emailAddresses.forEach((address) => {
      new aws.sns.TopicSubscription(
        `${name}-email-${address.replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase()}`,
        { topic: this.alertTopic.arn, protocol: "email", endpoint: address },
        child,
      );
    });
    const timeout = args.heartbeatTimeoutSeconds ?? 300;
    new aws.cloudwatch.MetricAlarm(
      `${name}-watchdog-missing`,
      {
        name: `${args.namePrefix}-watchdog-missing`,
        alarmDescription:
          "Alertmanager stopped publishing the Watchdog: the alerting pipeline (Prometheus, Alertmanager or their AWS access) is broken. Runbook: docs/runbooks/alerts.md#watchdog",
        namespace: "AWS/SNS",
        metricName: "NumberOfMessagesPublished",
        dimensions: { TopicName: this.heartbeatTopic.name },
        statistic: "Sum",
        period: timeout,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        // No publication at all is the failure this alarm exists for.
        treatMissingData: "breaching",
        alarmActions: [this.alertTopic.arn],
        okActions: [this.alertTopic.arn],
      },
      child,
    );
    // Prometheus cannot see a key being disabled or scheduled for deletion (src/awsAlarms.ts).
    this.kmsKeyStateRule = new aws.cloudwatch.EventRule(
      `${name}-kms-key-state`,
      {
        name: `${args.namePrefix}-kms-key-state`,
        description:
          "A KMS key of this account and region was disabled or scheduled for deletion (CloudTrail): alert topic",
        eventPattern: JSON.stringify(kmsKeyStatePattern()),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-kms-key-state`,
      {
        rule: this.kmsKeyStateRule.name,
        arn: this.alertTopic.arn,
        inputTransformer: {
          inputPaths: { ...KMS_KEY_STATE_MESSAGE.inputPaths },
          inputTemplate: KMS_KEY_STATE_MESSAGE.inputTemplate,
        },
      },
      child,
    );
    // GuardDuty findings (runtime threats on the cluster's nodes and pods among them) reach people
    // through the same topic as everything else.
    this.guardDutyFindingsRule = new aws.cloudwatch.EventRule(
      `${name}-guardduty-findings`,
      {
        name: `${args.namePrefix}-guardduty-findings`,
        description:
          "GuardDuty findings of Medium severity and above in this account and region (EKS Runtime Monitoring among them): alert topic",
        eventPattern: JSON.stringify(guardDutyFindingPattern()),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-guardduty-findings`,
      {
        rule: this.guardDutyFindingsRule.name,
        arn: this.alertTopic.arn,
        inputTransformer: {
          inputPaths: { ...GUARD_DUTY_FINDING_MESSAGE.inputPaths },
          inputTemplate: GUARD_DUTY_FINDING_MESSAGE.inputTemplate,
        },
      },
      child,
    );
    if (args.routedAlarmNamePrefix !== undefined) {
      this.routedAlarmsRule = new aws.cloudwatch.EventRule(
        `${name}-edge-alarms`,
        {
          name: `${args.namePrefix}-edge-alarms`,
          description: `State changes of the edge layer's health-check alarms (${args.routedAlarmNamePrefix}*): alert topic`,
          eventPattern: JSON.stringify(alarmStatePattern(args.routedAlarmNamePrefix)),
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-edge-alarms`,
        {
          rule: this.routedAlarmsRule.name,
          arn: this.alertTopic.arn,
          inputTransformer: {
            inputPaths: { ...EDGE_ALARM_MESSAGE.inputPaths },
            inputTemplate: EDGE_ALARM_MESSAGE.inputTemplate,
          },
        },
        child,
      );
    }
    const ruleArns = [
      this.kmsKeyStateRule.arn,
      this.guardDutyFindingsRule.arn,
      ...(this.routedAlarmsRule ? [this.routedAlarmsRule.arn] : []),
    ];
    const account = aws.getCallerIdentityOutput({}, child);
    new aws.sns.TopicPolicy(
      `${name}-alerts-policy`,
      {
        arn: this.alertTopic.arn,
        policy: pulumi
          .all([
            partition.partition,
            account.accountId,
            partition.dnsSuffix,
            this.alertTopic.arn,
            pulumi.all(ruleArns),
          ])
          .apply(([p, accountId, dns, topicArn, rules]) =>
            JSON.stringify(alertTopicPolicy(p, accountId, dns, topicArn, rules)),
          ),
      },
      child,
    );
    this.registerOutputs({});
  }
}
