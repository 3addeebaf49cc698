import * as assert from "node:assert/strict";
import {
  checkContract,
  drRegions,
  edgeContract,
  primaryRegion,
  stackId,
  workloadsContract,
} from "@hcp/platform";
import {
  assertConventions,
  at,
  ofType,
  producerValue,
  type ProgramRun,
  repoTopology,
  runLayer,
} from "@hcp/testing";
import { failoverPlans, ROUTE53_METRICS_REGION } from "../src/failover";

const T = {
  record: "aws:route53/record:Record",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

for (const env of ["production", "staging"]) {
  const topology = repoTopology(env);
  const primary = primaryRegion(topology).name;
  const dr = drRegions(topology)[0].name;

  describe(`hcp-edge ${env}`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runLayer({ layer: "edge", topology });
    });

    it("follows the conventions and exports the edge contract", () => {
      assertConventions(run, { tier: topology.tier });
      checkContract(edgeContract, stackId("edge", env), run.outputs.edge);
    });

    it("puts the primary's ALB as PRIMARY and the DR region's as SECONDARY of every public host name", async () => {
      const out = checkContract(edgeContract, stackId("edge", env), run.outputs.edge);
      const primaryOut = await producerValue(workloadsContract, topology, primary);
      assert.deepEqual(
        out.failoverRecords.map((r) => r.hostname).sort(),
        primaryOut.publicEndpoints.map((e) => e.hostname).sort(),
      );
      for (const record of out.failoverRecords) {
        assert.deepEqual(
          record.targets.map((t) => [t.region, t.failover]),
          [
            [primary, "PRIMARY"],
            [dr, "SECONDARY"],
          ],
        );
      }
      const records = ofType(run.resources, T.record);
      for (const r of records) {
        const kind = (r.inputs.failoverRoutingPolicies as Array<{ type: string }>)[0].type;
        assert.equal(r.inputs.setIdentifier, kind === "PRIMARY" ? primary : dr);
        assert.ok(r.inputs.healthCheckId, "conditioned on a health check");
        assert.equal(at(r.inputs, "aliases.0.evaluateTargetHealth"), true);
      }
    });

    it("checks each region's own host name over HTTPS on the readiness path, with an alarm in us-east-1", () => {
      const out = checkContract(edgeContract, stackId("edge", env), run.outputs.edge);
      const checks = ofType(run.resources, T.healthCheck);
      assert.equal(checks.length, out.healthChecks.length);
      for (const c of checks) {
        assert.equal(c.inputs.type, "HTTPS");
        assert.equal(c.inputs.enableSni, true);
        assert.match(String(c.inputs.fqdn), new RegExp(`^[a-z0-9-]+\\.(${primary}|${dr})\\.`));
      }
      const readiness = topology.workloads.services.find((s) => s.ingress)!.probes!.readiness.path;
      assert.ok(out.healthChecks.every((h) => h.resourcePath === readiness));
      const alarms = ofType(run.resources, T.alarm);
      assert.equal(alarms.length, checks.length);
      for (const a of alarms) {
        assert.equal(a.inputs.namespace, "AWS/Route53");
        assert.equal(a.inputs.metricName, "HealthCheckStatus");
        assert.equal(a.inputs.period, 60);
        assert.match(String(a.provider), new RegExp(`aws-${ROUTE53_METRICS_REGION}`));
      }
      assert.ok(
        out.healthChecks.every(
          (h) =>
            h.alarmRegion === ROUTE53_METRICS_REGION && h.alarmArn.includes(`:${ROUTE53_METRICS_REGION}:`),
        ),
      );
    });
  });
}

describe("failoverPlans", () => {
  const endpoint = (region: string) => ({
    hostname: "app.example.com",
    regionalHostname: `app.${region}.example.com`,
    service: "app",
    loadBalancerDnsName: `lb.${region}.elb.amazonaws.com`,
    loadBalancerZoneId: "Z1",
    healthCheckPath: "/health/ready",
  });

  it("orders the primary first and refuses two DR regions or a missing primary", () => {
    const plans = failoverPlans([
      { region: "r2", role: "dr", endpoint: endpoint("r2") },
      { region: "r1", role: "primary", endpoint: endpoint("r1") },
    ]);
    assert.deepEqual(
      plans[0].targets.map((t) => [t.region, t.failover]),
      [
        ["r1", "PRIMARY"],
        ["r2", "SECONDARY"],
      ],
    );
    assert.throws(
      () =>
        failoverPlans([
          { region: "r1", role: "primary", endpoint: endpoint("r1") },
          { region: "r2", role: "dr", endpoint: endpoint("r2") },
          { region: "r3", role: "dr", endpoint: endpoint("r3") },
        ]),
      /2 DR regions \(r2, r3\)/,
    );
    assert.throws(
      () => failoverPlans([{ region: "r2", role: "dr", endpoint: endpoint("r2") }]),
      /0 primary regions/,
    );
  });
});
