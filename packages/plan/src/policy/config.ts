import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { type ConfigProblem, ConfigError, type EnvironmentTopology } from "@hcp/platform";
import type { EnforcementLevel, PackInfo, PolicyConfiguration } from "./analyzer";

/**
 * Policy pack configuration in the `--policy-pack-config` file format: each key is a policy name
 * (or `all`), each value an enforcement level or `{ enforcementLevel?, ...properties }`. As the CLI
 * does, it is merged over the pack's own defaults and every policy's properties are validated against
 * that policy's `configSchema`.
 */

/** The file format of `--policy-pack-config`. */
export type PolicyConfigFile = Readonly<Record<string, EnforcementLevel | Readonly<Record<string, unknown>>>>;

const LEVELS: readonly string[] = ["advisory", "mandatory", "disabled", "remediate"];

/**
 * The environment's policy configuration, generated from its definition by the pack's own
 * `policyConfigFor` (one source of truth: `Pulumi.<env>.yaml`), if the pack provides one.
 */
export function packConfigFor(packDir: string, topology: EnvironmentTopology): PolicyConfigFile {
  for (const candidate of ["src/lib.ts", "src/config.ts"]) {
    const file = path.join(packDir, candidate);
    if (fs.existsSync(file)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(file) as { policyConfigFor?: (t: EnvironmentTopology) => PolicyConfigFile };
      if (typeof mod.policyConfigFor === "function") {
        return mod.policyConfigFor(topology);
      }
    }
  }
  return {};
}

/** Reads a `--policy-pack-config` JSON file. */
export function readPolicyConfigFile(file: string): PolicyConfigFile {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyConfigFile;
  } catch (e) {
    throw new ConfigError(file, [
      {
        path: "(file)",
        received: (e as Error).message,
        allowed: "a JSON object of policy name -> enforcement level or { enforcementLevel, ...properties }",
        fix: "fix the JSON (see policies/healthcare/README.md for the keys)",
      },
    ]);
  }
}

/** Applies `over` on top of `base`, policy by policy. */
export function mergeConfig(base: PolicyConfigFile, over: PolicyConfigFile): PolicyConfigFile {
  const out: Record<string, EnforcementLevel | Readonly<Record<string, unknown>>> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    out[k] =
      typeof v === "object" && typeof prev === "object"
        ? { ...prev, ...v }
        : typeof v === "string" && typeof prev === "object"
          ? { ...prev, enforcementLevel: v }
          : v;
  }
  return out;
}

/**
 * Resolves the configuration for every policy of the pack and validates it; throws a
 * {@link ConfigError} listing every problem.
 */
export function resolveConfig(info: PackInfo, file: PolicyConfigFile, source: string): PolicyConfiguration {
  const problems: ConfigProblem[] = [];
  const known = new Set([...info.policies.map((p) => p.name), "all"]);
  for (const key of Object.keys(file)) {
    if (!known.has(key)) {
      problems.push({
        path: key,
        received: "a policy name",
        allowed: `a policy of ${info.name}: ${[...known].join(", ")}`,
        fix: "correct or remove the key",
      });
    }
  }
  const all = file["all"];
  const ajv = new Ajv({ allErrors: true, strict: false });
  const out: Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }> = {};
  for (const policy of info.policies) {
    const initial = info.initialConfig[policy.name];
    const entry = file[policy.name];
    const fromEntry =
      typeof entry === "string"
        ? entry
        : typeof entry?.["enforcementLevel"] === "string"
          ? entry["enforcementLevel"]
          : undefined;
    const level =
      fromEntry ??
      (typeof all === "string" ? all : undefined) ??
      initial?.enforcementLevel ??
      policy.enforcementLevel;
    if (!LEVELS.includes(level)) {
      problems.push({
        path: `${policy.name}.enforcementLevel`,
        received: JSON.stringify(level),
        allowed: LEVELS.join(", "),
        fix: "use one of the enforcement levels",
      });
      continue;
    }
    const props: Record<string, unknown> = { ...(initial?.properties ?? {}) };
    if (typeof entry === "object") {
      for (const [k, v] of Object.entries(entry)) {
        if (k !== "enforcementLevel") {
          props[k] = v;
        }
      }
    }
    if (policy.configSchema) {
      const validate = ajv.compile({
        type: "object",
        properties: policy.configSchema.properties,
        required: [...policy.configSchema.required],
      });
      if (!validate(props)) {
        for (const err of validate.errors ?? []) {
          problems.push({
            path: `${policy.name}${err.instancePath.replace(/\//g, ".")}`,
            received: JSON.stringify(err.params),
            allowed: err.message ?? "a value matching the policy's configSchema",
            fix: `see the configSchema of ${policy.name} in policies/healthcare/README.md`,
          });
        }
      }
    }
    out[policy.name] = { enforcementLevel: level as EnforcementLevel, properties: props };
  }
  if (problems.length > 0) {
    throw new ConfigError(source, problems);
  }
  return out;
}
