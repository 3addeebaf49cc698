import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { NAME_RULES, type NameKind, namePrefix, physicalName, shortHash } from "../src";

describe("naming", () => {
  it("keeps a valid name as is", () => {
    assert.equal(physicalName("iamRole", "hcp-production", "ci-deploy"), "hcp-production-ci-deploy");
    assert.equal(
      physicalName("eksCluster", namePrefix("production", "sa-east-1")),
      "hcp-production-sa-east-1",
    );
    assert.equal(namePrefix("staging"), "hcp-staging");
  });

  it("cuts a long name and keeps it distinct with a hash of the full name", () => {
    const long = "x".repeat(80);
    const name = physicalName("iamRole", "hcp-production-sa-east-1", long);
    assert.equal(name.length, 64);
    assert.ok(name.endsWith(`-${shortHash(`hcp-production-sa-east-1-${long}`)}`));
  });

  it("lower-cases and replaces characters S3 does not accept", () => {
    assert.equal(
      physicalName("s3Bucket", "HCP_Production", "audit.logs"),
      `hcp-production-audit-logs-${shortHash("hcp_production-audit.logs")}`,
    );
  });

  it("refuses parts with nothing usable", () => {
    assert.throws(() => physicalName("s3Bucket", "___"), /nothing usable/);
  });

  const kinds = Object.keys(NAME_RULES) as NameKind[];
  const parts = fc.array(fc.string({ minLength: 1, maxLength: 90 }), { minLength: 1, maxLength: 4 });
  const usable = (ps: string[]) => ps.some((p) => /[a-z0-9]/i.test(p));

  it("property: names fit the service's length and character rules", () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), parts, (kind, ps) => {
        fc.pre(usable(ps));
        const name = physicalName(kind, ...ps);
        const rule = NAME_RULES[kind];
        assert.ok(name.length > 0 && name.length <= rule.max, `${name.length} > ${rule.max}`);
        assert.equal(name.replace(rule.allowed, ""), name, `invalid character in ${name}`);
        if (rule.lower) {
          assert.equal(name, name.toLowerCase());
        }
      }),
    );
  });

  it("property: different inputs give different names (no collision from cutting or cleaning)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), parts, parts, (kind, a, b) => {
        fc.pre(usable(a) && usable(b));
        const rule = NAME_RULES[kind];
        const norm = (ps: string[]) => {
          const joined = ps.filter((p) => p.length > 0).join("-");
          return rule.lower ? joined.toLowerCase() : joined;
        };
        fc.pre(norm(a) !== norm(b));
        assert.notEqual(physicalName(kind, ...a), physicalName(kind, ...b));
      }),
    );
  });

  it("property: deterministic", () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), parts, (kind, ps) => {
        fc.pre(usable(ps));
        assert.equal(physicalName(kind, ...ps), physicalName(kind, ...ps));
      }),
    );
  });
});
