import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  cidrProblem,
  contains,
  formatCidr,
  isPrivate,
  maxVpcPrefix,
  overlaps,
  parseCidr,
  planSubnets,
  SUBNET_TIERS,
} from "../src";

describe("cidr", () => {
  it("parses and formats canonical blocks", () => {
    assert.deepEqual(parseCidr("10.20.0.0/16"), { network: (10 << 24) + (20 << 16), prefix: 16 });
    assert.equal(formatCidr(parseCidr("192.168.4.0/22")), "192.168.4.0/22");
  });

  it("explains why a string is not a usable block", () => {
    assert.equal(cidrProblem("10.20.0.0/16"), undefined);
    assert.equal(cidrProblem("10.20.0.0"), "is not in a.b.c.d/n notation");
    assert.equal(cidrProblem("10.300.0.0/16"), "has an octet above 255");
    assert.equal(cidrProblem("10.20.0.0/33"), "has a prefix length above 32");
    assert.equal(cidrProblem("10.20.1.0/16"), "has host bits set (the network address of /16 is 10.20.0.0)");
  });

  it("knows the private ranges", () => {
    assert.ok(isPrivate(parseCidr("172.16.0.0/12")));
    assert.ok(isPrivate(parseCidr("10.200.0.0/16")));
    assert.ok(!isPrivate(parseCidr("172.32.0.0/16")));
    assert.ok(!isPrivate(parseCidr("8.8.8.0/24")));
  });

  it("plans a /16 with three zones exactly", () => {
    assert.deepEqual(
      planSubnets("10.20.0.0/16", 3).map((s) => `${s.tier}:${s.azIndex}:${s.cidr}`),
      [
        "public:0:10.20.128.0/20",
        "public:1:10.20.144.0/20",
        "public:2:10.20.160.0/20",
        "private:0:10.20.0.0/19",
        "private:1:10.20.32.0/19",
        "private:2:10.20.64.0/19",
        "database:0:10.20.192.0/20",
        "database:1:10.20.208.0/20",
        "database:2:10.20.224.0/20",
      ],
    );
  });

  it("keeps existing subnets where they are when zones are added, up to four", () => {
    for (const [from, to] of [
      [2, 3],
      [3, 4],
      [2, 4],
    ] as const) {
      const before = planSubnets("10.30.0.0/16", from);
      const after = planSubnets("10.30.0.0/16", to).filter((s) => s.azIndex < from);
      assert.deepEqual(after, before, `${from} -> ${to} zones moved a subnet`);
    }
  });

  it("refuses a VPC too small for its zones", () => {
    assert.throws(
      () => planSubnets("10.0.0.0/25", 3),
      /cannot hold 3 zones of subnets: the prefix must be \/16 to \/24/,
    );
  });

  const vpc = fc
    .record({
      azCount: fc.integer({ min: 1, max: 6 }),
      range: fc.constantFrom("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
      seed: fc.nat(),
    })
    .chain(({ azCount, range, seed }) => {
      const parent = parseCidr(range);
      const low = Math.max(16, parent.prefix);
      return fc.integer({ min: low, max: maxVpcPrefix(azCount) }).map((prefix) => {
        const blocks = 2 ** (prefix - parent.prefix);
        const network = parent.network + (seed % blocks) * 2 ** (32 - prefix);
        return { azCount, cidr: formatCidr({ network: network >>> 0, prefix }) };
      });
    });

  it("property: every subnet lies inside the VPC, none overlap, all tiers per zone", () => {
    fc.assert(
      fc.property(vpc, ({ azCount, cidr }) => {
        const plan = planSubnets(cidr, azCount);
        const parent = parseCidr(cidr);
        assert.equal(plan.length, SUBNET_TIERS.length * azCount);
        for (const s of plan) {
          const block = parseCidr(s.cidr);
          assert.ok(contains(parent, block), `${s.cidr} outside ${cidr}`);
          assert.ok(block.prefix <= 28, `${s.cidr} smaller than AWS allows`);
        }
        for (let i = 0; i < plan.length; i++) {
          for (let j = i + 1; j < plan.length; j++) {
            assert.ok(
              !overlaps(parseCidr(plan[i].cidr), parseCidr(plan[j].cidr)),
              `${plan[i].cidr} overlaps ${plan[j].cidr}`,
            );
          }
        }
        for (const tier of SUBNET_TIERS) {
          assert.deepEqual(
            plan.filter((s) => s.tier === tier).map((s) => s.azIndex),
            [...Array(azCount).keys()],
          );
        }
      }),
    );
  });

  it("property: the plan is deterministic", () => {
    fc.assert(
      fc.property(vpc, ({ azCount, cidr }) =>
        assert.deepEqual(planSubnets(cidr, azCount), planSubnets(cidr, azCount)),
      ),
    );
  });

  it("property: overlap is symmetric and a block overlaps itself", () => {
    const block = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 }))
      .map(([a, p]) =>
        formatCidr({ network: (a & (p === 0 ? 0 : (~0 << (32 - p)) >>> 0)) >>> 0, prefix: p }),
      );
    fc.assert(
      fc.property(block, block, (a, b) => {
        const [x, y] = [parseCidr(a), parseCidr(b)];
        assert.equal(overlaps(x, y), overlaps(y, x));
        assert.ok(overlaps(x, x));
        assert.equal(overlaps(x, y), contains(x, y) || contains(y, x));
      }),
    );
  });
});
