import * as assert from "node:assert/strict";
import { SECRET_NAME } from "../src/secrets";
import { runCase } from "./case";
import { ALL_CASES } from "./cases";
import { CANARY_PASSWORD, CANARY_TOKEN } from "./cases/other";
import type { Fixture } from "./harness";
import { Analyzer } from "./harness";

/**
 * Violation messages never include property values that could be secret: every string in a failing
 * fixture that sits under a secret-looking key, or looks like a secret itself, must not appear in
 * any diagnostic of the case (of any rule of the pack).
 */

const SECRET_LOOKING = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /:\/\/[^\s:/@]+:[^\s@/]+@/,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
];

function secretValues(value: unknown, key: string, out: Set<string>): void {
  if (typeof value === "string") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    if (
      (SECRET_NAME.test(key) && value.length >= 6) ||
      SECRET_LOOKING.some((p) => p.test(value) || p.test(decoded))
    ) {
      out.add(value);
      for (const line of `${value}\n${decoded}`.split("\n")) {
        const m = /[:=]\s*(\S{6,})\s*$/.exec(line);
        if (m) {
          out.add(m[1]);
        }
      }
    }
    for (const line of value.split("\n")) {
      const m = /^\s*-?\s*([A-Za-z0-9_.-]+)\s*[:=]\s*(\S{6,})\s*$/.exec(line);
      if (m && SECRET_NAME.test(m[1])) {
        out.add(m[2]);
      }
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v) => secretValues(v, key, out));
    return;
  }
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    // An env var { name, value }: the value is secret if the name is.
    const name = typeof obj["name"] === "string" ? obj["name"] : undefined;
    for (const [k, v] of Object.entries(obj)) {
      secretValues(v, k === "value" && name ? name : k, out);
    }
  }
}

function fixtureSecrets(fixtures: readonly Fixture[]): Set<string> {
  const out = new Set<string>();
  for (const f of fixtures) {
    secretValues(f.props, "", out);
  }
  return out;
}

describe("violation messages", () => {
  it("never contain a secret-looking value of a failing fixture", async () => {
    const analyzer = await Analyzer.start();
    const failing = ALL_CASES.filter((c) => c.expect.outcome === "violation");
    const checked = new Set<string>();
    for (const c of failing) {
      const secrets = fixtureSecrets(c.resource ? [c.resource] : (c.stack ?? []));
      const { result } = await runCase(analyzer, c);
      for (const d of result.diagnostics) {
        for (const s of secrets) {
          checked.add(s);
          assert.ok(
            !d.message.includes(s),
            `${c.rule} / ${c.title}: message of ${d.policyName} contains a secret value`,
          );
        }
      }
    }
    await analyzer.configure({});
    // The detector found the canaries, so the assertion above ran on them.
    assert.ok(checked.has(CANARY_PASSWORD), "the password canary was checked");
    assert.ok(checked.has(CANARY_TOKEN), "the token canary was checked");
  });
});
