import * as assert from "node:assert/strict";
import { alertingTable } from "../src/alertingStats";

describe("alertingStats", () => {
  const bounds = { failover: "ttl 20 s", scrape: "≤ 15 s", evaluation: "≤ 15 s", for: "0s", notify: "10 s" };
  const run = (failover: number, scrape: number, evaluation: number, notify: number) => ({
    failoverMs: failover,
    scrapeMs: scrape,
    evaluationMs: evaluation,
    forMs: 0,
    notifyMs: notify,
    totalMs: failover + scrape + evaluation + notify,
  });

  it("prints min / median / max per part, shares of the summed total and the ratio to the target", () => {
    const text = alertingTable(
      [run(20_000, 5_000, 5_000, 10_000), run(18_000, 10_000, 2_000, 10_000)],
      bounds,
      60_000,
    );
    assert.match(
      text,
      /\| failover \(kill → a member leads\) \| 18\.0 \/ \*\*19\.0\*\* \/ 20\.0 \| 48 % \| ttl 20 s \|/,
    );
    assert.match(
      text,
      /\| group wait \+ delivery \(→ webhook\) \| 10\.0 \/ \*\*10\.0\*\* \/ 10\.0 \| 25 % \| 10 s \|/,
    );
    assert.match(text, /\*\*kill → notification\*\* \| 40\.0 \/ \*\*40\.0\*\* \/ 40\.0 \| 100 %/);
    assert.match(text, /median 0\.67x, max 0\.67x \(2 of 2 run\(s\) within it\)/);
  });

  it("counts the runs over the target", () => {
    const text = alertingTable([run(20_000, 15_000, 15_000, 20_000)], bounds, 60_000);
    assert.match(text, /median 1\.17x, max 1\.17x \(0 of 1 run\(s\) within it\)/);
  });
});
