import * as assert from "node:assert/strict";
import * as path from "node:path";
import {
  GUARD_DUTY_DEFAULTS,
  type GuardDutyOwner,
  guardDutyOwnershipProblems,
} from "../src/config/guardDuty";
import { readStackConfigFile } from "../src/config/load";
import { keyPath, NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { ConfigError } from "../src/config/problems";

const repoRoot = path.resolve(__dirname, "../../..");

/** The production file's values with `cluster.guardDuty` replaced (or removed when `undefined`). */
function productionWith(guardDuty: unknown): Record<string, unknown> {
  const { values } = readStackConfigFile(path.join(repoRoot, "Pulumi.production.yaml"));
  const copy = structuredClone(values) as Record<string, unknown>;
  const cluster = copy[`${NAMESPACE}:cluster`] as Record<string, unknown>;
  if (guardDuty === undefined) {
    delete cluster["guardDuty"];
  } else {
    cluster["guardDuty"] = guardDuty;
  }
  return copy;
}

function parse(values: Record<string, unknown>) {
  return parseEnvironmentConfig("production", { values, secretKeys: new Set() }, "Pulumi.production.yaml");
}

describe("cluster.guardDuty", () => {
  it("defaults to a managed detector publishing updates every 15 minutes", () => {
    assert.deepEqual(parse(productionWith(undefined)).cluster.guardDuty, GUARD_DUTY_DEFAULTS);
    assert.deepEqual(GUARD_DUTY_DEFAULTS, {
      detector: "managed",
      findingPublishingFrequency: "FIFTEEN_MINUTES",
    });
  });

  it("accepts an existing detector and another publishing frequency", () => {
    const parsed = parse(productionWith({ detector: "existing", findingPublishingFrequency: "ONE_HOUR" }));
    assert.deepEqual(parsed.cluster.guardDuty, {
      detector: "existing",
      findingPublishingFrequency: "ONE_HOUR",
    });
  });

  it("refuses an unknown mode and an unknown key with their key paths", () => {
    let error: unknown;
    try {
      parse(productionWith({ detector: "disabled", runtimeMonitoring: false }));
    } catch (e) {
      error = e;
    }
    assert.ok(ConfigError.isInstance(error), String(error));
    const mode = error.problems.find((p) => p.path === keyPath("cluster", "guardDuty", "detector"));
    assert.ok(mode, error.message);
    assert.match(mode.received, /disabled/);
    assert.match(mode.allowed, /managed/);
    assert.match(mode.allowed, /existing/);
    assert.ok(
      error.problems.some(
        (p) =>
          p.path.startsWith(keyPath("cluster", "guardDuty")) && /runtimeMonitoring/.test(p.received + p.path),
      ),
      error.message,
    );
  });
});

describe("guardDutyOwnershipProblems", () => {
  const owner = (
    environment: string,
    accountId: string,
    regions: string[],
    detector: GuardDutyOwner["detector"],
  ) => ({
    environment,
    accountId,
    regions,
    detector,
  });

  it("accepts environments in separate accounts, or one owner per account and region", () => {
    assert.deepEqual(
      guardDutyOwnershipProblems([
        owner("production", "111122223333", ["sa-east-1", "us-east-1"], "managed"),
        owner("staging", "444455556666", ["sa-east-1", "us-east-1"], "managed"),
      ]),
      [],
    );
    assert.deepEqual(
      guardDutyOwnershipProblems([
        owner("production", "111122223333", ["sa-east-1", "us-east-1"], "managed"),
        owner("staging", "111122223333", ["sa-east-1", "us-east-1"], "existing"),
      ]),
      [],
    );
    assert.deepEqual(
      guardDutyOwnershipProblems([
        owner("production", "111122223333", ["sa-east-1"], "managed"),
        owner("staging", "111122223333", ["us-east-1"], "managed"),
      ]),
      [],
    );
  });

  it("reports the second managed owner of each shared account and region, with the first one named", () => {
    const problems = guardDutyOwnershipProblems([
      owner("production", "111122223333", ["sa-east-1", "us-east-1"], "managed"),
      owner("staging", "111122223333", ["sa-east-1", "us-west-2"], "managed"),
      owner("qa", "111122223333", ["sa-east-1"], "managed"),
    ]);
    assert.deepEqual(
      problems.map((p) => [p.path, p.received]),
      [
        [
          "Pulumi.staging.yaml healthcare-platform:cluster.guardDuty.detector",
          '"managed" (account 111122223333, region sa-east-1)',
        ],
        [
          "Pulumi.qa.yaml healthcare-platform:cluster.guardDuty.detector",
          '"managed" (account 111122223333, region sa-east-1)',
        ],
      ],
    );
    for (const p of problems) {
      assert.match(p.allowed, /environment production already creates/);
      assert.match(p.fix, /detector: existing/);
    }
  });
});
