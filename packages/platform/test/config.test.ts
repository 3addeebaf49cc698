import * as fs from "node:fs";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import {
  ConfigError,
  type ConfigProblem,
  formatProblems,
  parseEnvironmentConfig,
  type RawStackConfig,
  readStackConfigFile,
} from "../src";

/** The repository's production definition, as a mutable raw config. */
function production(): { values: Record<string, unknown>; secretKeys: Set<string> } {
  const raw = readStackConfigFile(path.join(__dirname, "..", "..", "..", "Pulumi.production.yaml"));
  return {
    values: structuredClone(raw.values),
    secretKeys: new Set(raw.secretKeys),
  };
}

// Inside EKS standard support of the repository's cluster version, so only the rule under test fires.
const NOW = new Date("2026-06-01T00:00:00Z");

function regions(c: { values: Record<string, unknown> }): Array<Record<string, unknown>> {
  return c.values["healthcare-platform:regions"] as Array<Record<string, unknown>>;
}

function ns(c: { values: Record<string, unknown> }, key: string): Record<string, unknown> {
  return c.values[`healthcare-platform:${key}`] as Record<string, unknown>;
}

function problems(config: RawStackConfig, name = "production"): readonly ConfigProblem[] {
  try {
    parseEnvironmentConfig(name, config, "Pulumi.production.yaml", { now: NOW });
  } catch (e) {
    assert.ok(ConfigError.isInstance(e), `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  return [];
}

function only(config: RawStackConfig): ConfigProblem {
  const found = problems(config);
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${formatProblems("x", found)}`);
  return found[0];
}

describe("environment config", () => {
  it("accepts every repository environment", () => {
    const envs = fs
      .readdirSync(path.join(__dirname, "..", "..", ".."))
      .flatMap((f) => /^Pulumi\.([a-z][a-z0-9]*)\.yaml$/.exec(f)?.[1] ?? []);
    assert.ok(envs.includes("production") && envs.includes("staging"), envs.join(", "));
    for (const env of envs) {
      const raw = readStackConfigFile(path.join(__dirname, "..", "..", "..", `Pulumi.${env}.yaml`));
      const parsed = parseEnvironmentConfig(env, raw, `Pulumi.${env}.yaml`, { now: NOW });
      assert.equal(parsed.name, env);
      assert.equal(parsed.regions.filter((r) => r.role === "primary").length, 1);
    }
  });

  it("applies documented defaults", () => {
    const c = production();
    delete regions(c)[0]["serviceCidr"];
    const parsed = parseEnvironmentConfig("production", c, "x", { now: NOW });
    assert.equal(parsed.regions[0].serviceCidr, "172.20.0.0/16");
  });

  it("rejects VPC CIDRs that overlap across regions", () => {
    const c = production();
    regions(c)[1]["vpcCidr"] = "10.20.128.0/17";
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regions[1].vpcCidr",
      received: '"10.20.128.0/17"',
      allowed:
        "a block that overlaps no other region's VPC; it overlaps regions[0].vpcCidr 10.20.0.0/16, and peered VPCs cannot route overlapping ranges",
      fix: "move one of them, e.g. 10.0.0.0/17",
    });
  });

  it("rejects a Service CIDR that overlaps its region's VPC", () => {
    const c = production();
    regions(c)[0]["serviceCidr"] = "10.20.64.0/18";
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regions[0].serviceCidr",
      received: '"10.20.64.0/18"',
      allowed: "a block that does not overlap this region's vpcCidr 10.20.0.0/16",
      fix: "use 172.20.0.0/16 (the default) or another block outside the VPC",
    });
  });

  it("rejects an environment without a primary region", () => {
    const c = production();
    regions(c)[0]["role"] = "dr";
    const found = problems(c);
    assert.deepEqual(
      found.find((p) => p.path === "healthcare-platform:regions"),
      {
        path: "healthcare-platform:regions",
        received: "no region with role primary",
        allowed: "exactly one region with role primary; the others dr",
        fix: "set role: primary on the region that holds the writer (sa-east-1 by default)",
      },
    );
  });

  it("rejects two primary regions", () => {
    const c = production();
    regions(c)[1]["role"] = "primary";
    assert.deepEqual(
      problems(c).find((p) => p.path === "healthcare-platform:regions"),
      {
        path: "healthcare-platform:regions",
        received: "2 primary regions (regions[0], regions[1])",
        allowed: "exactly one region with role primary; the others dr",
        fix: "keep role: primary on one region and set role: dr on the others",
      },
    );
  });

  it("rejects an unknown region and names the valid ones", () => {
    const c = production();
    regions(c)[1]["name"] = "us-east-7";
    ns(c, "residency")["allowedRegions"] = ["sa-east-1", "us-east-7"];
    const found = problems(c).filter((p) => p.path === "healthcare-platform:regions[1].name");
    assert.equal(found.length, 1);
    assert.equal(found[0].received, '"us-east-7"');
    assert.match(found[0].allowed, /^an AWS region code: .*sa-east-1.*us-east-1/);
    assert.equal(
      found[0].fix,
      "use the region code (e.g. sa-east-1), not a display name or an Availability Zone",
    );
  });

  it("rejects more Availability Zones than the region offers", () => {
    const c = production();
    regions(c)[0]["azCount"] = 4;
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regions[0].azCount",
      received: "4",
      allowed: "at most 3 (the Availability Zones sa-east-1 offers a new account)",
      fix: "set azCount to 3 or fewer",
    });
  });

  it("rejects audit retention below seven years", () => {
    const c = production();
    ns(c, "retention")["auditYears"] = 6;
    assert.deepEqual(only(c), {
      path: "healthcare-platform:retention.auditYears",
      received: "6",
      allowed: "7 or more years",
      fix: "set auditYears to 7",
    });
  });

  it("rejects 2555 days (not a CloudWatch value) and names 2557", () => {
    const c = production();
    (ns(c, "retention")["logs"] as Record<string, unknown>)["audit"] = 2555;
    assert.deepEqual(only(c), {
      path: "healthcare-platform:retention.logs.audit",
      received: "2555",
      allowed:
        "a CloudWatch retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (and at least 2557 for audit logs)",
      fix: "use 2557 (7 years is 2557 days, not 2555)",
    });
  });

  it("rejects a valid CloudWatch value below seven years for security logs", () => {
    const c = production();
    (ns(c, "retention")["logs"] as Record<string, unknown>)["security"] = 1827;
    assert.deepEqual(only(c), {
      path: "healthcare-platform:retention.logs.security",
      received: "1827",
      allowed: "at least 2557 days (7 years) for security logs",
      fix: "set it to 2557",
    });
  });

  it("rejects a DR region in another country without an LGPD Art. 33 transfer basis", () => {
    const c = production();
    ns(c, "residency")["internationalTransfers"] = [];
    assert.deepEqual(only(c), {
      path: "healthcare-platform:residency.internationalTransfers",
      received: "no transfer basis for US (regions[1] us-east-1 is a dr region in US)",
      allowed: "an LGPD Art. 33 basis for every country outside BR that receives copies of patient data",
      fix: "add { destinationCountry: US, basis: standard-contractual-clauses, reference: <contract or DPIA id> } approved by your DPO, or choose a region in BR",
    });
  });

  it("rejects a region that residency does not allow", () => {
    const c = production();
    ns(c, "residency")["allowedRegions"] = ["sa-east-1"];
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regions[1].name",
      received: '"us-east-1"',
      allowed: "a region listed in residency.allowedRegions (sa-east-1)",
      fix: "add us-east-1 to residency.allowedRegions after your DPO approves it, or choose an allowed region",
    });
  });

  it("rejects a secret-looking key in plain config without showing its value", () => {
    const c = production();
    c.values["healthcare-platform:pagerdutyToken"] = "u+0123456789abcdef";
    const found = problems(c).filter((p) => p.path === "healthcare-platform:pagerdutyToken");
    assert.deepEqual(found[0], {
      path: "healthcare-platform:pagerdutyToken",
      received: "a plain-text value (18 characters, not shown)",
      allowed: "a Pulumi secret: keys named like credentials must not hold plain text",
      fix: "remove it from the stack file and run: pulumi config set --secret --path 'healthcare-platform:pagerdutyToken' <value> (or generate it with random.RandomPassword)",
    });
    for (const p of problems(c)) {
      assert.doesNotMatch(`${p.received} ${p.allowed} ${p.fix}`, /0123456789abcdef/);
    }
  });

  it("accepts the same key when Pulumi holds it as a secret", () => {
    const c = production();
    c.values["aws:secretKey"] = "[secret]";
    c.secretKeys.add("aws:secretKey");
    assert.deepEqual(problems(c), []);
  });

  it("rejects credential-shaped values under innocent keys", () => {
    const c = production();
    c.values["aws:profile"] = "AKIAABCDEFGHIJKLMNOP";
    const [p] = problems(c);
    assert.equal(p.path, "aws:profile");
    assert.equal(p.allowed, "no credentials in plain config (this value looks like an AWS access key id)");
    assert.doesNotMatch(JSON.stringify(p), /AKIA/);
  });

  it("names a misspelt key and suggests the right one", () => {
    const c = production();
    c.values["healthcare-platform:regoins"] = c.values["healthcare-platform:regions"];
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regoins",
      received: problems(c)[0].received,
      allowed:
        "only the keys tier, owner, regions, retention, residency, dns, access, ecr, cluster, data, dr, workloads, observability",
      fix: "rename it to regions",
    });
  });

  it("reports an invalid enum with the allowed values", () => {
    const c = production();
    regions(c)[0]["natGateways"] = "perZone";
    assert.deepEqual(only(c), {
      path: "healthcare-platform:regions[0].natGateways",
      received: '"perZone"',
      allowed: 'one of "perAz", "single"',
      fix: `use one of "perAz", "single" (perAz in production (losing one zone must not cut the other zones' egress); single is acceptable outside production)`,
    });
  });

  it("reports a missing key with what to add", () => {
    const c = production();
    delete c.values["healthcare-platform:owner"];
    assert.deepEqual(only(c), {
      path: "healthcare-platform:owner",
      received: "nothing (the key is missing)",
      allowed: "a value of type string",
      fix: "add the key (the owning team, used as the Owner tag)",
    });
  });

  it("rejects an environment name that cannot be part of a stack name", () => {
    const found = problems(production(), "Prod-1");
    assert.equal(found[0].path, "(stack name)");
    assert.equal(found[0].fix, "rename the stack and its Pulumi.Prod-1.yaml, e.g. to prod1");
  });

  it("enforces loop_wait + 2 * retry_timeout <= ttl", () => {
    const c = production();
    Object.assign(ns(c, "data")["patroni"] as Record<string, unknown>, {
      ttlSeconds: 20,
      loopWaitSeconds: 10,
      retryTimeoutSeconds: 10,
    });
    assert.deepEqual(only(c), {
      path: "healthcare-platform:data.patroni",
      received: '{"ttlSeconds":20,"loopWaitSeconds":10,"retryTimeoutSeconds":10}',
      allowed:
        "loopWaitSeconds + 2 * retryTimeoutSeconds <= ttlSeconds (Patroni demotes the leader otherwise)",
      fix: "raise ttlSeconds to 30 or lower loopWaitSeconds/retryTimeoutSeconds",
    });
  });

  it("lists every problem of a file at once (the three acceptance problems)", () => {
    const c = production();
    regions(c)[1]["vpcCidr"] = "10.20.0.0/16";
    (ns(c, "retention")["logs"] as Record<string, unknown>)["audit"] = 2555;
    ns(c, "residency")["internationalTransfers"] = [];
    const paths = problems(c).map((p) => p.path);
    assert.deepEqual(paths.sort(), [
      "healthcare-platform:regions[1].vpcCidr",
      "healthcare-platform:residency.internationalTransfers",
      "healthcare-platform:retention.logs.audit",
    ]);
    try {
      parseEnvironmentConfig("production", c, "Pulumi.production.yaml", { now: NOW });
      assert.fail("expected a ConfigError");
    } catch (e) {
      assert.match(
        (e as Error).message,
        /^Invalid configuration in Pulumi\.production\.yaml \(3 problems\):/,
      );
    }
  });
});
