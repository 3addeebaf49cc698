import * as assert from "node:assert/strict";
import { BenchOptions, type OptionSpec } from "../src/args";

const SPECS: readonly OptionSpec[] = [
  { flag: "--runs", value: "N>=1" },
  { flag: "--variants", value: "a,b" },
  { flag: "--seconds", value: "S>0" },
  { flag: "--json", value: "file" },
];

function parse(argv: readonly string[]) {
  const o = new BenchOptions("demo", argv, SPECS);
  const runs = o.integer("--runs", 3, 1, undefined);
  const variants = o.list("--variants", ["a", "b"] as const, ["a"]);
  const seconds = o.number("--seconds", 30, 0, "exclusive");
  return { o, runs, variants, seconds, json: o.text("--json") };
}

describe("bench options", () => {
  it("defaults when nothing is given, values when given", () => {
    const d = parse([]);
    d.o.check();
    assert.deepEqual([d.runs, d.variants, d.seconds, d.json], [3, ["a"], 30, undefined]);
    const g = parse(["--runs", "5", "--variants", "b,a", "--seconds", "0.5", "--json", "out.json"]);
    g.o.check();
    assert.deepEqual([g.runs, g.variants, g.seconds, g.json], [5, ["b", "a"], 0.5, "out.json"]);
  });

  it("the fallback (HCP_BENCH_RUNS) applies only when the flag is absent", () => {
    const o = new BenchOptions("demo", [], SPECS);
    assert.equal(o.integer("--runs", 3, 1, "7"), 7);
    const p = new BenchOptions("demo", ["--runs", "2"], SPECS);
    assert.equal(p.integer("--runs", 3, 1, "7"), 2);
  });

  it("reports every problem at once with the flag, the bad value, what is allowed and the usage", () => {
    const { o } = parse(["--runs", "0", "--variants", "a,c", "--seconds", "-1", "--rnus", "2"]);
    assert.throws(
      () => o.check(),
      (e: Error) => {
        assert.match(e.message, /^demo: /);
        assert.match(e.message, /unknown argument '--rnus'/);
        assert.doesNotMatch(e.message, /'2'/);
        assert.match(e.message, /--runs is a whole number >= 1, not '0'/);
        assert.match(e.message, /--variants: unknown 'c'; allowed: a, b/);
        assert.match(e.message, /--seconds is a number > 0, not '-1'/);
        assert.match(
          e.message,
          /usage: demo \[--runs N>=1\] \[--variants a,b\] \[--seconds S>0\] \[--json file\]/,
        );
        return true;
      },
    );
  });

  it("a flag without a value, a repeated flag, a fractional count and an empty list are problems", () => {
    assert.throws(() => parse(["--runs"]).o.check(), /--runs needs a value \(N>=1\)/);
    assert.throws(() => parse(["--json", "--runs", "2"]).o.check(), /--json needs a value \(file\)/);
    assert.throws(() => parse(["--runs", "2", "--runs", "3"]).o.check(), /--runs is given twice/);
    assert.throws(() => parse(["--runs", "1.5"]).o.check(), /--runs is a whole number >= 1, not '1.5'/);
    assert.throws(() => parse(["--variants", ","]).o.check(), /--variants lists nothing/);
    assert.throws(() => parse(["5"]).o.check(), /unknown argument '5'/);
  });

  it("list items may also match a pattern; require records a command's own rule", () => {
    const o = new BenchOptions("plan", ["--variants", "shared,ref:HEAD~1"], SPECS);
    const v = o.list("--variants", ["shared", "per-stack"], ["shared"], {
      regex: /^ref:\S+$/,
      describe: "ref:<git revision>",
    });
    o.check();
    assert.deepEqual(v, ["shared", "ref:HEAD~1"]);
    const bad = new BenchOptions("plan", ["--variants", "ref:"], SPECS);
    bad.list("--variants", ["shared"], ["shared"], { regex: /^ref:\S+$/, describe: "ref:<git revision>" });
    bad.require(false, "--baseline x is not among --variants ref:");
    assert.throws(
      () => bad.check(),
      /unknown 'ref:'; allowed: shared, ref:<git revision>; --baseline x is not/,
    );
  });
});
