import * as aws from "@pulumi/aws";
import {
  awsProvider,
  edgeAlarmName,
  edgeContract,
  environmentContract,
  environmentLayerContext,
  exportContract,
  readContractValue,
  stackId,
  workloadsContract,
} from "@hcp/platform";
import { failoverPlans, ROUTE53_METRICS_REGION, targetId } from "./failover";

/**
 * Program of `hcp-edge` (one stack per environment, named after it): Route 53 failover records for
 * every public host name (PRIMARY: the primary region's ALB, SECONDARY: the DR region's), each
 * conditioned on an HTTPS health check of that region's own host name on the readiness path, and a
 * CloudWatch alarm per health check in us-east-1 (where Route 53 publishes the metric), routed by
 * the observability layer. Wiring only: `./failover` holds the grouping rules.
 */
export = async () => {
  const ctx = await environmentLayerContext("edge");
  const { topology } = ctx;
  const env = await readContractValue(environmentContract, stackId("environment", ctx.environment));
  const regions = await Promise.all(
    topology.regions.map(async (r) => ({
      region: r,
      workloads: await readContractValue(workloadsContract, stackId("workloads", ctx.environment, r.name)),
    })),
  );
  const plans = failoverPlans(
    regions.flatMap(({ region, workloads }) =>
      workloads.publicEndpoints.map((endpoint) => ({ region: region.name, role: region.role, endpoint })),
    ),
  );

  // Route 53 is global; its API is reached through the primary region's provider.
  const dns = ctx.aws();
  const metrics = topology.regions.some((r) => r.name === ROUTE53_METRICS_REGION)
    ? ctx.aws(ROUTE53_METRICS_REGION)
    : awsProvider(`aws-${ROUTE53_METRICS_REGION}`, {
        region: ROUTE53_METRICS_REGION,
        accountId: topology.access.accountId,
        tags: { ...ctx.tags, Region: ROUTE53_METRICS_REGION },
      });

  const healthChecks = plans.flatMap((plan) =>
    plan.targets.map((t) => {
      const id = targetId(plan.hostname, t.region);
      const check = new aws.route53.HealthCheck(
        `health-${id}`,
        {
          type: "HTTPS",
          fqdn: t.endpoint.regionalHostname,
          port: 443,
          resourcePath: t.endpoint.healthCheckPath,
          enableSni: true,
          requestInterval: 30,
          failureThreshold: 3,
          measureLatency: true,
          tags: { Name: `${t.endpoint.regionalHostname}${t.endpoint.healthCheckPath}` },
        },
        { provider: dns },
      );
      const alarmName = edgeAlarmName(ctx.environment, id);
      const alarm = new aws.cloudwatch.MetricAlarm(
        `alarm-${id}`,
        {
          name: alarmName,
          alarmDescription: `Route 53 health check of https://${t.endpoint.regionalHostname}${t.endpoint.healthCheckPath} (${t.failover} of ${plan.hostname}) is failing`,
          namespace: "AWS/Route53",
          metricName: "HealthCheckStatus",
          dimensions: { HealthCheckId: check.id },
          statistic: "Minimum",
          period: 60,
          evaluationPeriods: 2,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
        },
        { provider: metrics },
      );
      new aws.route53.Record(
        `failover-${id}`,
        {
          zoneId: env.dns.zoneId,
          name: plan.hostname,
          type: "A",
          setIdentifier: t.region,
          failoverRoutingPolicies: [{ type: t.failover }],
          healthCheckId: check.id,
          aliases: [
            {
              name: t.endpoint.loadBalancerDnsName,
              zoneId: t.endpoint.loadBalancerZoneId,
              evaluateTargetHealth: true,
            },
          ],
        },
        { provider: dns },
      );
      return { plan, target: t, check, alarm, alarmName };
    }),
  );

  return exportContract(edgeContract, {
    zoneId: env.dns.zoneId,
    failoverRecords: plans.map((plan) => ({
      hostname: plan.hostname,
      targets: healthChecks
        .filter((h) => h.plan === plan)
        .map((h) => ({
          region: h.target.region,
          failover: h.target.failover,
          healthCheckId: h.check.id,
          loadBalancerDnsName: h.target.endpoint.loadBalancerDnsName,
        })),
    })),
    healthChecks: healthChecks.map((h) => ({
      id: h.check.id,
      region: h.target.region,
      hostname: h.plan.hostname,
      fqdn: h.target.endpoint.regionalHostname,
      resourcePath: h.target.endpoint.healthCheckPath,
      alarmArn: h.alarm.arn,
      alarmName: h.alarmName,
      alarmRegion: ROUTE53_METRICS_REGION,
    })),
  });
};
