import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  alertmanagerConfig,
  alertmanagerYaml,
  NOTIFICATION_SECRET,
  notificationKeys,
} from "../src/alertmanager";
import { TEAMS } from "../src/rules";
import { requireTool, run, tempDir } from "./tools";

const inputs = {
  alertTopicArn: "arn:aws:sns:sa-east-1:111122223333:hcp-production-alerts",
  heartbeatTopicArn: "arn:aws:sns:sa-east-1:111122223333:hcp-production-heartbeat",
  region: "sa-east-1",
  environment: "production",
};

describe("alertmanager configuration", function () {
  let work: ReturnType<typeof tempDir>;
  let config: string;

  before(function () {
    requireTool(this, "amtool", "prometheus-alertmanager");
    work = tempDir("am");
    config = path.join(work.dir, "alertmanager.yml");
    fs.writeFileSync(config, alertmanagerYaml(inputs));
  });
  after(() => work?.cleanup());

  it("passes amtool check-config", () => {
    const r = run("amtool", ["check-config", config]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  /** Where each severity must go (the routing policy, stated independently of the renderer). */
  const expected: Array<[string, (team: string) => string]> = [
    ["critical", (t) => `pagerduty-${t}`],
    ["warning", (t) => `slack-${t}`],
    ["info", () => "sns-email"],
    ["none", () => "blackhole"],
  ];
  for (const [severity, receiver] of expected) {
    for (const team of TEAMS) {
      it(`routes severity=${severity} team=${team} to ${receiver(team)} (amtool config routes test)`, () => {
        const r = run("amtool", [
          "config",
          "routes",
          "test",
          `--config.file=${config}`,
          `--verify.receivers=${receiver(team)}`,
          "alertname=Example",
          `severity=${severity}`,
          `team=${team}`,
        ]);
        assert.equal(r.code, 0, r.output);
      });
    }
  }

  it("sends the Watchdog to the heartbeat topic whatever its labels, and unknown teams' pages to e-mail", () => {
    for (const [labels, receiver] of [
      [["alertname=Watchdog", "severity=none", "team=platform"], "heartbeat"],
      [["alertname=Example", "severity=critical", "team=unknown"], "sns-email"],
    ] as const) {
      const r = run("amtool", [
        "config",
        "routes",
        "test",
        `--config.file=${config}`,
        `--verify.receivers=${receiver}`,
        ...labels,
      ]);
      assert.equal(r.code, 0, r.output);
    }
  });

  it("fails a wrong expectation (the routes test can fail)", () => {
    const r = run("amtool", [
      "config",
      "routes",
      "test",
      `--config.file=${config}`,
      "--verify.receivers=slack-data",
      "severity=critical",
      "team=data",
    ]);
    assert.notEqual(r.code, 0, r.output);
  });

  it("reads every key from a mounted Secret file, never inline", () => {
    const text = alertmanagerYaml(inputs);
    assert.doesNotMatch(text, /routing_key:|api_url:|service_key:/);
    const files = [...text.matchAll(/_file: (\S+)/g)].map((m) => path.basename(m[1]));
    assert.deepEqual([...new Set(files)].sort(), notificationKeys().sort());
    assert.ok(text.includes(`/etc/alertmanager/secrets/${NOTIFICATION_SECRET}/`));
  });

  it("inhibits warnings by a critical alert of the same namespace and data-tier symptoms by a leaderless cluster", () => {
    const rules = alertmanagerConfig(inputs)["inhibit_rules"] as Array<Record<string, unknown>>;
    assert.ok(
      rules.some(
        (r) =>
          String(r["source_matchers"]) === 'severity="critical"' &&
          (r["equal"] as string[]).includes("namespace"),
      ),
    );
    assert.ok(rules.some((r) => String(r["source_matchers"]) === 'alertname="PatroniNoLeader"'));
  });
});
