import * as assert from "node:assert/strict";
import {
  ALB_5XX_MIN_PER_MINUTE,
  ALB_5XX_PERCENT,
  loadBalancerAlarms,
  NAT_DROP_MINUTES,
  NAT_DROP_PERCENT,
  natGatewayAlarms,
} from "../src/awsAlarms";

const prefix = "hcp-production-sa-east-1";

describe("NAT gateway alarms", () => {
  const gateways = [
    { availabilityZone: "sa-east-1a", id: "nat-0aaa" },
    { availabilityZone: "sa-east-1b", id: "nat-0bbb" },
  ];

  it("gives every gateway a port-allocation and a packet-drop alarm, named by its zone", () => {
    const alarms = natGatewayAlarms(prefix, gateways);
    assert.deepEqual(
      alarms.map((a) => a.name),
      [
        `${prefix}-nat-sa-east-1a-port-allocation`,
        `${prefix}-nat-sa-east-1a-packet-drops`,
        `${prefix}-nat-sa-east-1b-port-allocation`,
        `${prefix}-nat-sa-east-1b-packet-drops`,
      ],
    );
    assert.deepEqual(
      alarms.map((a) => a.key),
      alarms.map((a) => a.name.slice(prefix.length + 1)),
    );
    assert.deepEqual(natGatewayAlarms(prefix, []), []);
  });

  it("alarms on any ErrorPortAllocation (Sum) in a minute of the last five, per NatGatewayId", () => {
    const [port] = natGatewayAlarms(prefix, gateways.slice(0, 1));
    const { description, ...rest } = port;
    assert.deepEqual(rest, {
      key: "nat-sa-east-1a-port-allocation",
      name: `${prefix}-nat-sa-east-1a-port-allocation`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
      treatMissingData: "notBreaching",
      metric: {
        namespace: "AWS/NATGateway",
        metricName: "ErrorPortAllocation",
        dimensions: { NatGatewayId: "nat-0aaa" },
        statistic: "Sum",
        period: 60,
      },
    });
    assert.match(description, /sa-east-1a/);
    assert.match(description, /README\.md#cloudwatch-alarms/);
  });

  it("alarms on dropped packets as a share of the received ones, sustained", () => {
    const drops = natGatewayAlarms(prefix, gateways.slice(1))[1];
    assert.equal(drops.metric, undefined);
    assert.equal(drops.threshold, NAT_DROP_PERCENT);
    assert.equal(NAT_DROP_PERCENT, 0.01);
    assert.equal(drops.evaluationPeriods, NAT_DROP_MINUTES);
    assert.equal(drops.datapointsToAlarm, NAT_DROP_MINUTES);
    assert.equal(drops.treatMissingData, "notBreaching");
    const queries = drops.metricQueries!;
    assert.deepEqual(
      queries.filter((q) => q.metric).map((q) => [q.id, q.metric!.metricName, q.returnData]),
      [
        ["drops", "PacketsDropCount", false],
        ["fromSource", "PacketsInFromSource", false],
        ["fromDestination", "PacketsInFromDestination", false],
      ],
    );
    for (const q of queries.filter((x) => x.metric)) {
      assert.deepEqual(q.metric, {
        namespace: "AWS/NATGateway",
        metricName: q.metric!.metricName,
        dimensions: { NatGatewayId: "nat-0bbb" },
        stat: "Sum",
        period: 60,
      });
    }
    const returned = queries.filter((q) => q.returnData);
    assert.deepEqual(
      returned.map((q) => q.expression),
      [
        "IF((FILL(fromSource, 0) + FILL(fromDestination, 0)) > 0, " +
          "100 * FILL(drops, 0) / (FILL(fromSource, 0) + FILL(fromDestination, 0)), 0)",
      ],
    );
  });

  it("keeps the dimension value as given (a stack-reference output in the program)", () => {
    const marker = { output: "nat id" };
    const [port] = natGatewayAlarms(prefix, [{ availabilityZone: "us-east-1a", id: marker }]);
    assert.equal(port.metric!.dimensions["NatGatewayId"], marker);
  });
});

describe("ALB 5xx alarms", () => {
  const suffix = "app/k8s-hcpapp-0123456789/0123456789abcdef";

  it("alarms on the load balancer's and the services' 5xx, each as a share of the requests", () => {
    const alarms = loadBalancerAlarms(prefix, suffix);
    assert.deepEqual(
      alarms.map((a) => [a.key, a.name, a.metricQueries!.find((q) => q.id === "errors")!.metric!.metricName]),
      [
        ["alb-elb-5xx", `${prefix}-alb-elb-5xx`, "HTTPCode_ELB_5XX_Count"],
        ["alb-target-5xx", `${prefix}-alb-target-5xx`, "HTTPCode_Target_5XX_Count"],
      ],
    );
    for (const a of alarms) {
      assert.equal(a.metric, undefined);
      assert.equal(a.comparisonOperator, "GreaterThanThreshold");
      assert.equal(a.threshold, ALB_5XX_PERCENT);
      assert.deepEqual([a.datapointsToAlarm, a.evaluationPeriods], [3, 5]);
      assert.equal(a.treatMissingData, "notBreaching");
      const metrics = a.metricQueries!.filter((q) => q.metric);
      assert.deepEqual(
        metrics.map((q) => q.id),
        ["errors", "requests"],
      );
      for (const q of metrics) {
        assert.equal(q.returnData, false);
        assert.deepEqual(q.metric!.dimensions, { LoadBalancer: suffix });
        assert.equal(q.metric!.namespace, "AWS/ApplicationELB");
        assert.deepEqual([q.metric!.stat, q.metric!.period], ["Sum", 60]);
      }
      assert.equal(metrics[1].metric!.metricName, "RequestCount");
      const returned = a.metricQueries!.filter((q) => q.returnData);
      assert.deepEqual(
        returned.map((q) => q.expression),
        [
          `IF(FILL(errors, 0) >= ${ALB_5XX_MIN_PER_MINUTE}, 100 * FILL(errors, 0) / ` +
            "IF(FILL(requests, 0) > FILL(errors, 0), FILL(requests, 0), FILL(errors, 0)), 0)",
        ],
      );
      assert.match(a.description, /README\.md#cloudwatch-alarms/);
    }
  });
});
