import * as assert from "node:assert/strict";
import { parseMachineStat, parseProcStat, usageBetween, type CpuSample } from "../src/cpu";
import { percentile, spread } from "../src/stats";

describe("stats", () => {
  it("spread: min / median / max, the median of an even count is the mean of the middle two", () => {
    assert.deepEqual(spread([3, 1, 2]), { min: 1, median: 2, max: 3 });
    assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4 });
    assert.ok(Number.isNaN(spread([]).median));
  });

  it("percentile: nearest rank over ascending values", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile([10, 20, 30], 50), 20);
    assert.equal(percentile([10, 20, 30], 95), 30);
    assert.equal(percentile([7], 1), 7);
    assert.ok(Number.isNaN(percentile([], 95)));
    assert.throws(() => percentile([2, 1], 50), /ascending/);
    assert.throws(() => percentile([1], 0), /outside/);
  });
});

describe("CPU accounting from /proc", () => {
  it("reads utime + stime after the command name, even when it contains spaces and parentheses", () => {
    const line =
      "4242 (pg (x) y) S 1 4242 4242 0 -1 4194560 200 0 0 0 150 25 0 0 20 0 1 0 987654 10000000 500 18446744073709551615";
    assert.deepEqual(parseProcStat(line), { state: "S", ppid: 1, cpuTicks: 175, startTime: 987654 });
    assert.throws(() => parseProcStat("garbage"), /not a \/proc/);
  });

  it("reads busy and total ticks of the machine (idle and iowait are not busy)", () => {
    const stat = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n";
    assert.deepEqual(parseMachineStat(stat), { busy: 160, total: 1000 });
    assert.throws(() => parseMachineStat("intr 1 2 3\n"), /no aggregate cpu line/);
  });

  it("usage between two instants is the difference of the samples inside them", () => {
    const samples: CpuSample[] = [
      { t: 0, groups: { pgbouncer: 0, postgres: 0 }, machineBusy: 0 },
      { t: 1000, groups: { pgbouncer: 50, postgres: 100 }, machineBusy: 180 },
      { t: 3000, groups: { pgbouncer: 250, postgres: 300 }, machineBusy: 560 },
      { t: 4000, groups: { pgbouncer: 260, postgres: 310 }, machineBusy: 600 },
    ];
    const u = usageBetween(samples, 500, 3500, 100, 2);
    assert.deepEqual(u, {
      wallSeconds: 2,
      groups: { pgbouncer: 2, postgres: 2 },
      machineBusySeconds: 3.8,
      cpus: 2,
    });
    assert.throws(() => usageBetween(samples, 1500, 2500, 100, 2), /fewer than 2 CPU samples/);
  });
});
