import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmDefinition } from "../awsAlarms";

/** Arguments of {@link CloudWatchAlarms}. */
export interface CloudWatchAlarmsArgs {
  /** The alarms (`natGatewayAlarms`, `loadBalancerAlarms` of `src/awsAlarms.ts`). */
  readonly alarms: ReadonlyArray<AlarmDefinition<pulumi.Input<string>>>;
  /** Topic notified when an alarm goes to ALARM and back to OK (the region's alert topic). */
  readonly alertTopicArn: pulumi.Input<string>;
}

/**
 * CloudWatch metric alarms with the alert topic as alarm and OK action (people learn that it is over
 * too). One child per definition, named `<name>-<key>`.
 */
export class CloudWatchAlarms extends pulumi.ComponentResource {
  readonly alarms: Readonly<Record<string, aws.cloudwatch.MetricAlarm>>;

  constructor(name: string, args: CloudWatchAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:observability:CloudWatchAlarms", name, {}, opts);
    this.alarms = Object.fromEntries(
      args.alarms.map((a) => [
        a.key,
        new aws.cloudwatch.MetricAlarm(
          `${name}-${a.key}`,
          {
            name: a.name,
            alarmDescription: a.description,
            comparisonOperator: a.comparisonOperator,
            threshold: a.threshold,
            evaluationPeriods: a.evaluationPeriods,
            datapointsToAlarm: a.datapointsToAlarm,
            treatMissingData: a.treatMissingData,
            ...(a.metric
              ? {
                  namespace: a.metric.namespace,
                  metricName: a.metric.metricName,
                  dimensions: { ...a.metric.dimensions },
                  statistic: a.metric.statistic,
                  period: a.metric.period,
                }
              : {}),
            ...(a.metricQueries
              ? {
                  metricQueries: a.metricQueries.map((q) => ({
                    id: q.id,
                    returnData: q.returnData,
                    ...(q.label !== undefined ? { label: q.label } : {}),
                    ...(q.expression !== undefined ? { expression: q.expression } : {}),
                    ...(q.metric
                      ? {
                          metric: {
                            namespace: q.metric.namespace,
                            metricName: q.metric.metricName,
                            dimensions: { ...q.metric.dimensions },
                            stat: q.metric.stat,
                            period: q.metric.period,
                          },
                        }
                      : {}),
                  })),
                }
              : {}),
            alarmActions: [args.alertTopicArn],
            okActions: [args.alertTopicArn],
          },
          { parent: this },
        ),
      ]),
    );
    this.registerOutputs({});
  }
}
